package io.vitscope.checkpoint;

import io.vitscope.weights.DType;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * One storage of a PyTorch checkpoint: a flat run of {@code numel} elements of one type that one or more tensors
 * view (with an offset and strides). Its bytes are read only when a tensor asks for them.
 *
 * @param key its name in the file ({@code archive/data/KEY} in a zip checkpoint, a storage key in a legacy one)
 * @param bytes reads the {@code numel × itemSize} bytes, little-endian, position 0
 */
record TorchStorage(String key, DType dtype, long numel, Supplier<ByteBuffer> bytes) {

    long byteLength() {
        return Math.multiplyExact(numel, dtype.itemSize());
    }
}
