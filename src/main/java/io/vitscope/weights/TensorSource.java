package io.vitscope.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * A tensor that is read only when asked for: its name and shape are known, its float32 data is produced on demand.
 *
 * <p>Checkpoint converters map names to sources without touching data, so a 340 MB checkpoint is materialised once,
 * tensor by tensor, when the model copies it into its parameters.
 */
public interface TensorSource {

    /** Its name: as stored in the file, or the name a converter gave it (e.g. timm's name of an HF tensor). */
    String name();

    /** Dimensions, outermost first. */
    long[] shape();

    /** The file the data comes from, for error messages; null for data held in memory. */
    Path file();

    /**
     * The element type it is stored as; its data is always handed out as float32. A loader of weights refuses
     * integer and BOOL tensors by this, before their values (which convert to float32 without complaint) do harm.
     */
    default DType dtype() {
        return DType.F32;
    }

    /**
     * Writes the tensor as {@code size() * 4} bytes of little-endian float32 at {@code dst}'s position and advances
     * it. {@code dst} needs that much room.
     */
    void readInto(ByteBuffer dst);

    /** Number of elements. */
    default long size() {
        return Shapes.size(shape());
    }

    /** A new direct little-endian buffer holding the tensor as float32, position 0. */
    default ByteBuffer read() {
        ByteBuffer buf = allocate(this);
        readInto(buf);
        return buf.flip();
    }

    /** A new direct little-endian buffer with room for {@code source} as float32; an error past 2 GiB. */
    static ByteBuffer allocate(TensorSource source) {
        long bytes = source.size() * Float.BYTES;
        if (bytes > Integer.MAX_VALUE) {
            throw new io.vitscope.InvalidInputException(source.file(), "tensor '" + source.name() + "' "
                    + Shapes.format(source.shape()) + " is larger than 2 GiB as float32, more than one buffer can hold");
        }
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The tensor as floats (a view of a new direct buffer). */
    default FloatBuffer readFloats() {
        return read().asFloatBuffer();
    }

    /** The tensor as a float32 array copied to the heap; for small tensors and tests. */
    default float[] toFloatArray() {
        FloatBuffer fb = readFloats();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    /**
     * The tensor as a float32 {@link NDArray} of {@code manager}. The PyTorch engine wraps the direct buffer without
     * copying it, so loading costs one copy of the data in total.
     */
    default NDArray toNDArray(NDManager manager) {
        NDArray array = manager.create(read(), new Shape(shape()), DataType.FLOAT32);
        array.setName(name());
        return array;
    }

    /** A source over floats held in memory (row-major). */
    static TensorSource of(String name, long[] shape, float[] data) {
        long[] s = shape.clone();
        if (Shapes.checkedByteSize(s, 1) != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Shapes.format(s) + " needs "
                    + Shapes.checkedByteSize(s, 1) + " values, got " + data.length);
        }
        float[] d = data.clone();
        return derived(name, s, null, name + " float32 " + Shapes.format(s) + " (in memory)", dst -> {
            ByteBuffer le = dst.order() == ByteOrder.LITTLE_ENDIAN ? dst : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (float v : d) {
                le.putFloat(v);
            }
            if (le != dst) {
                dst.position(le.position());
            }
        });
    }

    /**
     * A source whose float32 data {@code reader} writes on demand: the building block of in-memory and derived
     * tensors (a renamed one, q/k/v stacked into qkv).
     *
     * @param description what {@code toString} says, for messages and debugging
     */
    static TensorSource derived(String name, long[] shape, Path file, String description,
                                java.util.function.Consumer<ByteBuffer> reader) {
        return derived(name, shape, file, DType.F32, description, reader);
    }

    /** A derived source of data stored as {@code dtype} (a renamed or stacked tensor keeps its source's type). */
    static TensorSource derived(String name, long[] shape, Path file, DType dtype, String description,
                                java.util.function.Consumer<ByteBuffer> reader) {
        return new Derived(name, shape.clone(), file, dtype, description, reader);
    }

    /** See {@link #derived}. */
    record Derived(String name, long[] shape, Path file, DType dtype, String description,
                   java.util.function.Consumer<ByteBuffer> reader) implements TensorSource {
        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public void readInto(ByteBuffer dst) {
            reader.accept(dst);
        }

        @Override
        public String toString() {
            return description;
        }
    }
}
