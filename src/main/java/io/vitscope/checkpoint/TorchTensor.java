package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.DType;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import net.razorvine.pickle.PickleException;

/**
 * A tensor of a PyTorch checkpoint as {@code torch._utils._rebuild_tensor_v2} describes it: a view of a storage
 * with an element offset, a size and strides. Transposed views (strides not row-major) and tensors sharing one
 * storage are read element by element through their strides; every type is widened to float32 here in Java (BF16
 * never reaches DJL, which aborts the JVM on it).
 */
public final class TorchTensor implements TensorSource {

    private final String name;
    private final TorchStorage storage;
    private final long offset;
    private final long[] shape;
    private final long[] stride;
    private final Path file;

    private TorchTensor(String name, TorchStorage storage, long offset, long[] shape, long[] stride, Path file) {
        this.name = name;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.stride = stride;
        this.file = file;
    }

    /** Checks that the view stays inside its storage; a {@link PickleException} (the file is corrupt) otherwise. */
    static TorchTensor of(TorchStorage storage, long offset, long[] shape, long[] stride) {
        if (shape.length != stride.length) {
            throw new PickleException("a tensor has " + shape.length + " sizes but " + stride.length + " strides");
        }
        if (offset < 0) {
            throw new PickleException("a tensor starts at the negative storage offset " + offset);
        }
        long last = offset;
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || stride[i] < 0) {
                throw new PickleException("a tensor has a negative size or stride: size " + Arrays.toString(shape)
                        + ", stride " + Arrays.toString(stride));
            }
            empty |= shape[i] == 0;
            if (shape[i] > 0) {
                last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
        }
        Shapes.size(shape);
        if (!empty && last >= storage.numel()) {
            throw new PickleException("a tensor of size " + Arrays.toString(shape) + ", stride "
                    + Arrays.toString(stride) + " at offset " + offset + " reaches element " + last
                    + " of a storage of " + storage.numel());
        }
        return new TorchTensor("", storage, offset, shape.clone(), stride.clone(), null);
    }

    TorchTensor named(String n, Path f) {
        return new TorchTensor(n, storage, offset, shape, stride, f);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long[] stride() {
        return stride.clone();
    }

    @Override
    public Path file() {
        return file;
    }

    /** The element type stored in the file. */
    public DType dtype() {
        return storage.dtype();
    }

    /** The storage key this tensor views (tensors with the same key share their data). */
    public String storageKey() {
        return storage.key();
    }

    /** Whether the strides are row-major (a plain tensor rather than a transposed or strided view). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    @Override
    public void readInto(ByteBuffer dst) {
        ByteBuffer src;
        try {
            src = storage.bytes().get().order(ByteOrder.LITTLE_ENDIAN);
        } catch (InvalidInputException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InvalidInputException(file, "cannot read storage " + storage.key() + " of tensor '" + name
                    + "': " + e.getMessage(), e);
        }
        long bytes = storage.byteLength();
        if (src.remaining() < bytes) {
            throw new InvalidInputException(file, "storage " + storage.key() + " of tensor '" + name + "' holds "
                    + src.remaining() + " bytes, its header says " + bytes);
        }
        ByteBuffer out = dst.order() == ByteOrder.LITTLE_ENDIAN ? dst : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        DType t = storage.dtype();
        int item = t.itemSize();
        long n = size();
        if (isContiguous()) {
            for (long i = 0; i < n; i++) {
                out.putFloat(element(src, (int) ((offset + i) * item), t));
            }
        } else {
            int rank = shape.length;
            long[] idx = new long[rank];
            long pos = offset;
            for (long i = 0; i < n; i++) {
                out.putFloat(element(src, (int) (pos * item), t));
                for (int d = rank - 1; d >= 0; d--) { // odometer over the shape, row-major
                    idx[d]++;
                    pos += stride[d];
                    if (idx[d] < shape[d]) {
                        break;
                    }
                    pos -= idx[d] * stride[d];
                    idx[d] = 0;
                }
            }
        }
        if (out != dst) {
            dst.position(out.position());
        }
    }

    private static float element(ByteBuffer b, int at, DType t) {
        return switch (t) {
            case F32 -> b.getFloat(at);
            case F64 -> (float) b.getDouble(at);
            case F16 -> DType.halfToFloat(b.getShort(at));
            case BF16 -> DType.bfloat16ToFloat(b.getShort(at));
            case I64 -> b.getLong(at);
            case I32 -> b.getInt(at);
            case I16 -> b.getShort(at);
            case I8 -> b.get(at);
            case U8, BOOL -> b.get(at) & 0xFF;
            default -> throw new IllegalStateException("no storage of type " + t);
        };
    }

    @Override
    public String toString() {
        return name + " " + storage.dtype().numpyName() + " " + Shapes.format(shape)
                + (isContiguous() ? "" : " stride " + Arrays.toString(stride)) + " <- storage " + storage.key()
                + (offset == 0 ? "" : " @" + offset);
    }
}
