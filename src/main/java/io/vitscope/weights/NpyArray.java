package io.vitscope.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A numpy array held in memory: shape, element type and little-endian data in C order. Values can be taken as
 * floats, doubles, longs or ints whatever the stored type (integers only from integer or bool arrays).
 */
public final class NpyArray {

    private final long[] shape;
    private final DType dtype;
    private final ByteBuffer data; // little-endian, position 0, limit = size * itemSize

    NpyArray(long[] shape, DType dtype, ByteBuffer littleEndian) {
        this.shape = shape.clone();
        this.dtype = dtype;
        this.data = littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (Shapes.size(shape) * dtype.itemSize() != data.remaining()) {
            throw new IllegalArgumentException(dtype.numpyName() + " " + Shapes.format(shape) + " needs "
                    + Shapes.size(shape) * dtype.itemSize() + " bytes, got " + data.remaining());
        }
        if (dtype.numpyDescr() == null) {
            throw new IllegalArgumentException(dtype + " has no numpy equivalent");
        }
    }

    public static NpyArray ofFloats(long[] shape, float[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new NpyArray(shape, DType.F32, b);
    }

    public static NpyArray ofDoubles(long[] shape, double[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return new NpyArray(shape, DType.F64, b);
    }

    public static NpyArray ofLongs(long[] shape, long[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new NpyArray(shape, DType.I64, b);
    }

    public static NpyArray ofInts(long[] shape, int[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        return new NpyArray(shape, DType.I32, b);
    }

    public static NpyArray ofBooleans(long[] shape, boolean[] values) {
        checkCount(shape, values.length);
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (values[i] ? 1 : 0);
        }
        return new NpyArray(shape, DType.BOOL, ByteBuffer.wrap(b));
    }

    /** A 0-d int64 array, as {@code np.int64(value)} saves. */
    public static NpyArray scalar(long value) {
        return ofLongs(new long[0], new long[] {value});
    }

    /** A 0-d float32 array. */
    public static NpyArray scalar(float value) {
        return ofFloats(new long[0], new float[] {value});
    }

    /**
     * A copy of an array's values: float32 for floating-point arrays (float64 kept as float64), int64 / int32 /
     * int8 / uint8 / bool as they are.
     */
    public static NpyArray of(NDArray array) {
        long[] shape = array.getShape().getShape();
        DataType t = array.getDataType();
        return switch (t) {
            case FLOAT64 -> ofDoubles(shape, array.toDoubleArray());
            case INT64 -> ofLongs(shape, array.toLongArray());
            case INT32 -> ofInts(shape, array.toIntArray());
            case BOOLEAN -> ofBooleans(shape, array.toBooleanArray());
            case INT8 -> new NpyArray(shape, DType.I8, ByteBuffer.wrap(array.toByteArray()));
            case UINT8 -> new NpyArray(shape, DType.U8, ByteBuffer.wrap(array.toByteArray()));
            case FLOAT32 -> ofFloats(shape, array.toFloatArray());
            default -> {
                try (NDArray f = array.toType(DataType.FLOAT32, true)) {
                    yield ofFloats(shape, f.toFloatArray());
                }
            }
        };
    }

    private static void checkCount(long[] shape, int count) {
        long n = Shapes.checkedByteSize(shape, 1);
        if (n != count) {
            throw new IllegalArgumentException("shape " + Shapes.format(shape) + " needs " + n + " values, got " + count);
        }
    }

    public long[] shape() {
        return shape.clone();
    }

    public int ndim() {
        return shape.length;
    }

    /** Number of elements (1 for a 0-d array). */
    public int size() {
        return (int) Shapes.size(shape);
    }

    public DType dtype() {
        return dtype;
    }

    /** numpy's name of the element type ({@code float32}, {@code int64}, {@code bool}). */
    public String dtypeName() {
        return dtype.numpyName();
    }

    /** The values as float32 (float64 rounded, integers converted, bool as 0 / 1). */
    public float[] floats() {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dtype.readFloat(b);
        }
        return out;
    }

    /** The values as doubles (exact for every stored type but 64-bit integers beyond 2^53). */
    public double[] doubles() {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dtype.readDouble(b);
        }
        return out;
    }

    /** The values of an integer or bool array, exactly; an {@link IllegalStateException} for float arrays. */
    public long[] longs() {
        if (dtype.isFloatingPoint()) {
            throw new IllegalStateException("a " + dtype.numpyName() + " array has no exact integer values: use floats()");
        }
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dtype.readLong(b);
        }
        return out;
    }

    /** Like {@link #longs} but as ints; an {@link ArithmeticException} if a value does not fit. */
    public int[] ints() {
        long[] l = longs();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = Math.toIntExact(l[i]);
        }
        return out;
    }

    /** The single value of a 0-d or one-element integer array. */
    public long longValue() {
        requireSingle();
        return longs()[0];
    }

    /** The single value of a 0-d or one-element array, as a float. */
    public float floatValue() {
        requireSingle();
        return floats()[0];
    }

    private void requireSingle() {
        if (size() != 1) {
            throw new IllegalStateException("array of shape " + Shapes.format(shape) + " has " + size() + " values, not one");
        }
    }

    /** The stored bytes, little-endian (read-only view). */
    public ByteBuffer rawData() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The array in {@code manager}: float32 for floating-point types, int64 for integers, bool for bool. */
    public NDArray toNDArray(NDManager manager) {
        Shape s = new Shape(shape);
        if (dtype.isFloatingPoint()) {
            return manager.create(floats(), s);
        }
        if (dtype == DType.BOOL) {
            boolean[] b = new boolean[size()];
            ByteBuffer d = data.duplicate();
            for (int i = 0; i < b.length; i++) {
                b[i] = d.get() != 0;
            }
            return manager.create(b, s);
        }
        return manager.create(longs(), s);
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype.numpyName() + " " + Shapes.format(shape) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && a.dtype == dtype && Arrays.equals(a.shape, shape) && a.data.equals(data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + data.hashCode();
    }
}
