package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** In-memory numpy arrays and safetensors header entries: factories, accessors, value semantics and refusals. */
class NpyArrayTest {

    @Test
    void factoriesCheckTheValueCount() {
        long[] shape = {2, 3};
        assertEquals("shape (2, 3) needs 6 values, got 5",
                assertThrows(IllegalArgumentException.class, () -> NpyArray.ofFloats(shape, new float[5])).getMessage());
        assertEquals("shape (2, 3) needs 6 values, got 7",
                assertThrows(IllegalArgumentException.class, () -> NpyArray.ofDoubles(shape, new double[7])).getMessage());
        assertEquals("shape (2, 3) needs 6 values, got 1",
                assertThrows(IllegalArgumentException.class, () -> NpyArray.ofLongs(shape, new long[1])).getMessage());
        assertEquals("shape (2, 3) needs 6 values, got 0",
                assertThrows(IllegalArgumentException.class, () -> NpyArray.ofInts(shape, new int[0])).getMessage());
        assertEquals("shape (2, 3) needs 6 values, got 2",
                assertThrows(IllegalArgumentException.class, () -> NpyArray.ofBooleans(shape, new boolean[2])).getMessage());
    }

    @Test
    void theConstructorChecksByteCountAndNumpyType() {
        assertEquals("float32 (2,) needs 8 bytes, got 7", assertThrows(IllegalArgumentException.class,
                () -> new NpyArray(new long[] {2}, DType.F32, ByteBuffer.allocate(7))).getMessage());
        assertEquals("BF16 has no numpy equivalent", assertThrows(IllegalArgumentException.class,
                () -> new NpyArray(new long[] {2}, DType.BF16, ByteBuffer.allocate(4))).getMessage());
    }

    @Test
    void doublesKeepFloat64() {
        NpyArray a = NpyArray.ofDoubles(new long[] {3}, new double[] {0.1, -2.5, 1e300});
        assertEquals(DType.F64, a.dtype());
        assertEquals("float64", a.dtypeName());
        assertArrayEquals(new double[] {0.1, -2.5, 1e300}, a.doubles());
        assertArrayEquals(new float[] {0.1f, -2.5f, Float.POSITIVE_INFINITY}, a.floats());
        assertEquals(24, a.rawData().remaining());
        assertEquals(0.1, a.rawData().getDouble(0), "little-endian storage");
    }

    @Test
    void booleansAreZeroOrOneBytes() {
        NpyArray a = NpyArray.ofBooleans(new long[] {2, 2}, new boolean[] {true, false, false, true});
        assertEquals(DType.BOOL, a.dtype());
        assertEquals("bool", a.dtypeName());
        assertArrayEquals(new long[] {1, 0, 0, 1}, a.longs());
        ByteBuffer raw = a.rawData();
        assertArrayEquals(new byte[] {1, 0, 0, 1}, new byte[] {raw.get(0), raw.get(1), raw.get(2), raw.get(3)});
        assertEquals(2, a.ndim());
        assertArrayEquals(new long[] {2, 2}, a.shape());
    }

    @Test
    void scalarsAreZeroDimensional() {
        NpyArray f = NpyArray.scalar(2.5f);
        assertEquals(0, f.ndim());
        assertEquals(1, f.size());
        assertEquals(DType.F32, f.dtype());
        assertEquals(2.5f, f.floatValue());
        NpyArray l = NpyArray.scalar(1L << 40);
        assertEquals(0, l.ndim());
        assertEquals(1L << 40, l.longValue());
        assertEquals(DType.I64, l.dtype());
        assertEquals("NpyArray[int64 ()]", l.toString());
        assertEquals("NpyArray[float32 (2, 3)]", NpyArray.ofFloats(new long[] {2, 3}, new float[6]).toString());
    }

    @Test
    void singleValueAccessorsRefuseSeveralValues() {
        NpyArray ints = NpyArray.ofInts(new long[] {2}, new int[] {4, 5});
        assertEquals("array of shape (2,) has 2 values, not one",
                assertThrows(IllegalStateException.class, ints::longValue).getMessage());
        NpyArray floats = NpyArray.ofFloats(new long[] {1, 2}, new float[] {4, 5});
        assertEquals("array of shape (1, 2) has 2 values, not one",
                assertThrows(IllegalStateException.class, floats::floatValue).getMessage());
        assertEquals(7L, NpyArray.ofInts(new long[] {1, 1}, new int[] {7}).longValue());
        assertEquals("a float32 array has no exact integer values: use floats()",
                assertThrows(IllegalStateException.class, floats::longs).getMessage());
        assertArrayEquals(new int[] {4, 5}, ints.ints());
        assertThrows(ArithmeticException.class, () -> NpyArray.ofLongs(new long[] {1}, new long[] {1L << 31}).ints());
    }

    @Test
    void equalityIsTypeShapeAndBytes() {
        NpyArray a = NpyArray.ofInts(new long[] {2}, new int[] {1, 2});
        NpyArray same = NpyArray.ofInts(new long[] {2}, new int[] {1, 2});
        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        assertNotEquals(a, NpyArray.ofInts(new long[] {2}, new int[] {1, 3}), "values");
        assertNotEquals(a, NpyArray.ofInts(new long[] {1, 2}, new int[] {1, 2}), "shape");
        assertNotEquals(a, NpyArray.ofFloats(new long[] {2}, new float[] {Float.intBitsToFloat(1), Float.intBitsToFloat(2)}),
                "same bytes, other type");
        assertNotEquals(a, "not an array");
        // hash: Arrays.hashCode(shape) * 31 + data.hashCode()
        NpyArray b = NpyArray.ofInts(new long[] {2}, new int[] {1, 2});
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(2).flip();
        assertEquals(java.util.Arrays.hashCode(new long[] {2}) * 31 + bytes.hashCode(), b.hashCode());
    }

    // ------------------------------------------------------------------ TensorInfo

    @Test
    void tensorInfoValueSemantics() {
        TensorInfo t = new TensorInfo("w", DType.F16, new long[] {2, 3}, 8, 20);
        assertEquals(12, t.byteLength());
        assertEquals(6, t.size());
        assertEquals("w F16 (2, 3) @[8, 20)", t.toString());
        TensorInfo same = new TensorInfo("w", DType.F16, new long[] {2, 3}, 8, 20);
        assertEquals(t, same);
        assertEquals(t.hashCode(), same.hashCode());
        assertEquals("w".hashCode() * 31 + java.util.Arrays.hashCode(new long[] {2, 3}), t.hashCode());
        assertNotEquals(t, new TensorInfo("v", DType.F16, new long[] {2, 3}, 8, 20));
        assertNotEquals(t, new TensorInfo("w", DType.BF16, new long[] {2, 3}, 8, 20));
        assertNotEquals(t, new TensorInfo("w", DType.F16, new long[] {3, 2}, 8, 20));
        assertNotEquals(t, new TensorInfo("w", DType.F16, new long[] {2, 3}, 9, 20));
        assertNotEquals(t, new TensorInfo("w", DType.F16, new long[] {2, 3}, 8, 21));
        assertNotEquals(t, (Object) "w");
        long[] shape = {4};
        TensorInfo copy = new TensorInfo("c", DType.U8, shape, 0, 4);
        shape[0] = 5;
        assertArrayEquals(new long[] {4}, copy.shape(), "the shape is copied in");
        copy.shape()[0] = 6;
        assertArrayEquals(new long[] {4}, copy.shape(), "and copied out");
        assertEquals(1, new TensorInfo("s", DType.F32, new long[0], 0, 4).size());
    }
}
