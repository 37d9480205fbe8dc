package io.vitscope.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.function.ToIntFunction;

/**
 * A libtorch tensor's own memory as a direct buffer, for the native products ({@link SlicedGemm}, {@link PackedGemm}),
 * without the copy DJL would make behind the caller's back.
 *
 * <p>DJL's {@code toByteBuffer(true)} answers a non-contiguous tensor (a transposed view, say) with a contiguous copy
 * that it attaches to the tensor's manager: right for reading, but a weight's copy would live as long as the model's
 * manager, one more per call. DJL keeps its contiguity check ({@code torchIsContiguous}) package-private, so it is
 * reached here by a method handle looked up once; where that fails, every tensor counts as not contiguous and the
 * callers fall back to libtorch's own products.
 */
final class TensorMemory {

    private static final MethodHandle IS_CONTIGUOUS = contiguityCheck();

    private TensorMemory() {}

    private static MethodHandle contiguityCheck() {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(library, MethodHandles.lookup());
            Object instance = lookup.findStaticGetter(library, "LIB", library).invoke();
            return lookup.findVirtual(library, "torchIsContiguous", MethodType.methodType(boolean.class, long.class))
                    .bindTo(instance);
        } catch (Throwable e) { // a DJL without it: no tensor qualifies
            return null;
        }
    }

    /**
     * A new float32 tensor of {@code shape} in {@code manager}, written by {@code fill} through its memory; null (and
     * the tensor freed) when {@code fill} reports failure with a non-zero code, or the tensor's memory is not reachable.
     */
    static NDArray filled(NDManager manager, Shape shape, ToIntFunction<ByteBuffer> fill) {
        NDArray y = manager.create(shape, DataType.FLOAT32);
        ByteBuffer memory = of(y);
        if (memory == null || fill.applyAsInt(memory) != 0) {
            y.close();
            return null;
        }
        return y;
    }

    /** The tensor's own float memory, or null when it is not a contiguous libtorch tensor in CPU memory. */
    static ByteBuffer of(NDArray array) {
        if (IS_CONTIGUOUS == null || !(array instanceof PtNDArray pt) || !array.getDevice().equals(ai.djl.Device.cpu())) {
            return null;
        }
        try {
            if (!(boolean) IS_CONTIGUOUS.invokeExact((long) pt.getHandle())) {
                return null;
            }
        } catch (Throwable e) {
            return null;
        }
        ByteBuffer b = pt.toByteBuffer(true); // contiguous: the tensor's own memory, not a copy
        return b.isDirect() ? b : null;
    }
}
