package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Element types: sizes and numpy names as numpy defines them, and the bulk float32 conversion against the
 * per-element reader on values chosen to expose sign and width mistakes (negative integers, unsigned values above
 * the signed range, halves and bfloat16s with known float values).
 */
class DTypeTest {

    @Test
    void itemSizesAndNumpyTypeStrings() {
        // numpy: np.dtype('<f8').itemsize == 8 ... ; one-byte types carry '|' (no byte order)
        Object[][] expected = {
            {DType.F64, 8, "<f8", "float64"}, {DType.F32, 4, "<f4", "float32"}, {DType.F16, 2, "<f2", "float16"},
            {DType.BF16, 2, null, "bfloat16"}, {DType.I64, 8, "<i8", "int64"}, {DType.I32, 4, "<i4", "int32"},
            {DType.I16, 2, "<i2", "int16"}, {DType.I8, 1, "|i1", "int8"}, {DType.U64, 8, "<u8", "uint64"},
            {DType.U32, 4, "<u4", "uint32"}, {DType.U16, 2, "<u2", "uint16"}, {DType.U8, 1, "|u1", "uint8"},
            {DType.BOOL, 1, "|b1", "bool"},
        };
        assertEquals(DType.values().length, expected.length);
        for (Object[] row : expected) {
            DType t = (DType) row[0];
            assertEquals(row[1], t.itemSize(), t.name());
            assertEquals(row[2], t.numpyDescr(), t.name());
            assertEquals(row[3], t.numpyName(), t.name());
            assertEquals(t, DType.fromSafetensors(t.name()));
            if (row[2] != null) {
                assertEquals(t, DType.fromNumpyCode(((String) row[2]).substring(1).toUpperCase()));
            }
        }
        assertNull(DType.fromSafetensors("f32"), "safetensors names are upper case");
        assertNull(DType.fromSafetensors("F8_E4M3"));
        assertNull(DType.fromNumpyCode("c8"), "complex64 is not supported");
        assertTrue(DType.BF16.isFloatingPoint());
        assertTrue(DType.F16.isFloatingPoint());
        assertFalse(DType.BOOL.isFloatingPoint());
        assertFalse(DType.U64.isFloatingPoint());
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Converts with toFloat32 (after a one-element offset in both buffers) and with readFloat, and compares both. */
    private static void converts(DType t, ByteBuffer values, float... expected) {
        int n = expected.length;
        ByteBuffer src = le(t.itemSize() * (n + 1));
        src.position(t.itemSize());
        src.put(values.flip());
        src.position(t.itemSize());
        ByteBuffer dst = le(4 * (n + 2));
        dst.position(4);
        t.toFloat32(src, dst, n);
        assertEquals(t.itemSize() * (n + 1), src.position(), t + ": the source advances by count elements");
        assertEquals(4 * (n + 1), dst.position(), t + ": the target advances by count floats");
        dst.flip().position(4);
        float[] got = new float[n];
        dst.asFloatBuffer().get(got);
        assertArrayEquals(expected, got, t + " toFloat32");
        assertEquals(0, dst.getFloat(0), "the bytes before the target position are untouched");
        src.position(t.itemSize());
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], t.readFloat(src), t + " readFloat " + i);
        }
    }

    @Test
    void everyTypeConvertsToFloat32() {
        converts(DType.F32, le(12).putFloat(1.5f).putFloat(-0.0f).putFloat(Float.MAX_VALUE), 1.5f, -0.0f, Float.MAX_VALUE);
        converts(DType.F64, le(16).putDouble(0.1).putDouble(-3e300), 0.1f, Float.NEGATIVE_INFINITY);
        // binary16 0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24 (smallest subnormal), 0x7BFF = 65504
        converts(DType.F16, le(8).putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001)
                .putShort((short) 0x7BFF), 1f, -2f, 0x1p-24f, 65504f);
        // bfloat16 0x3F80 = 1, 0xC0A0 = -5
        converts(DType.BF16, le(4).putShort((short) 0x3F80).putShort((short) 0xC0A0), 1f, -5f);
        converts(DType.I64, le(16).putLong(-7).putLong(1L << 40), -7f, 0x1p40f);
        converts(DType.I32, le(8).putInt(-70000).putInt(Integer.MAX_VALUE), -70000f, 2147483647f);
        converts(DType.I16, le(4).putShort((short) -300).putShort((short) 32767), -300f, 32767f);
        converts(DType.I8, le(2).put((byte) -128).put((byte) 127), -128f, 127f);
        converts(DType.U64, le(16).putLong(-1L).putLong(5), 0x1p64f, 5f);
        converts(DType.U32, le(8).putInt(-1).putInt(3), 4294967295f, 3f);
        converts(DType.U16, le(4).putShort((short) -1).putShort((short) 9), 65535f, 9f);
        converts(DType.U8, le(2).put((byte) -1).put((byte) 200), 255f, 200f);
        converts(DType.BOOL, le(2).put((byte) 1).put((byte) 0), 1f, 0f);
    }

    @Test
    void zeroCountConvertsNothing() {
        for (DType t : DType.values()) {
            ByteBuffer src = le(8);
            ByteBuffer dst = le(4);
            t.toFloat32(src, dst, 0);
            assertEquals(0, src.position(), t.name());
            assertEquals(0, dst.position(), t.name());
        }
    }

    @Test
    void doublesAndLongsAreExact() {
        assertEquals(0.1, DType.F64.readDouble(le(8).putDouble(0.1).flip()));
        // 2^64 - 1 and 2^63 + 2048 as unsigned: doubles of exactly those magnitudes (the latter is representable)
        assertEquals(18446744073709551615.0, DType.U64.readDouble(le(8).putLong(-1L).flip()));
        assertEquals(0x1p63 + 2048, DType.U64.readDouble(le(8).putLong(Long.MIN_VALUE + 2048).flip()));
        assertEquals(0x1p62, DType.U64.readDouble(le(8).putLong(1L << 62).flip()));
        assertEquals(0.0, DType.U64.readDouble(le(8).putLong(0).flip()));
        assertEquals((float) 0.1, DType.F32.readDouble(le(4).putFloat(0.1f).flip()));
        assertEquals(-1L, DType.U64.readLong(le(8).putLong(-1L).flip()), "U64 above Long.MAX_VALUE wraps");
        assertEquals(4294967295L, DType.U32.readLong(le(4).putInt(-1).flip()));
        assertEquals(65535L, DType.U16.readLong(le(2).putShort((short) -1).flip()));
        assertEquals(-1L, DType.I16.readLong(le(2).putShort((short) -1).flip()));
        assertEquals(-1L, DType.I8.readLong(le(1).put((byte) -1).flip()));
        assertEquals(255L, DType.U8.readLong(le(1).put((byte) -1).flip()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DType.F16.readLong(le(2)));
        assertEquals("F16 is not an integer type", e.getMessage());
    }

    @Test
    void halfSpecialValues() {
        assertEquals(Float.POSITIVE_INFINITY, DType.halfToFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, DType.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(DType.halfToFloat((short) 0x7E00)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(DType.halfToFloat((short) 0x8000)));
        assertEquals(-0x1p-24f, DType.halfToFloat((short) 0x8001));
        assertEquals(0x1p-14f, DType.halfToFloat((short) 0x0400), "smallest normal");
        assertNotEquals(DType.halfToFloat((short) 0x3C01), 1f);
    }
}
