package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.vitscope.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path dir;

    /** A .npy file with the given version, header text (padded as numpy pads it) and data. */
    static byte[] npy(int major, String dict, byte[] data) {
        int lenBytes = major == 1 ? 2 : 4;
        int hlen = dict.length() + 1;
        int pad = 64 - ((6 + 2 + lenBytes + hlen) % 64);
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(8 + lenBytes + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) h.length);
        } else {
            b.putInt(h.length);
        }
        return b.put(h).put(data).array();
    }

    static String dict(String descr, String fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
    }

    Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "a", ".npy");
        Files.write(p, bytes);
        return p;
    }

    void expectInvalid(byte[] bytes, String... fragments) throws IOException {
        Path p = file(bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    static byte[] le(int itemSize, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * itemSize).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (itemSize) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void floatArrayRoundTripAndNumpyByteLayout() throws IOException {
        Path p = dir.resolve("x.npy");
        float[] data = {1, 2, 3, 4, 5, 6};
        Npy.write(p, new long[] {2, 3}, data);
        byte[] bytes = Files.readAllBytes(p);
        // As numpy 1.x writes it: version 1.0, header padded with spaces and a newline to a 64-byte boundary.
        assertEquals(128 + 24, bytes.length); // 10-byte preamble + 118-byte header, then 6 floats
        String header = new String(bytes, 10, bytes.length - 10 - 24, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
        assertTrue(header.endsWith(" \n"));
        NpyArray a = Npy.read(p);
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals("float32", a.dtypeName());
        assertArrayEquals(data, a.floats(), 0f);
    }

    @Test
    void oneDimensionalAndZeroDimensionalShapesUsePythonTupleSyntax() throws IOException {
        Path p = dir.resolve("v.npy");
        Npy.write(p, new long[] {3}, new float[] {1, 2, 3});
        assertTrue(Files.readString(p, StandardCharsets.ISO_8859_1).contains("'shape': (3,), }"));
        Path s = dir.resolve("s.npy");
        Npy.writeScalar(s, 1234567890123L);
        assertTrue(Files.readString(s, StandardCharsets.ISO_8859_1).contains("'descr': '<i8'"));
        assertTrue(Files.readString(s, StandardCharsets.ISO_8859_1).contains("'shape': (), }"));
        NpyArray a = Npy.read(s);
        assertEquals(0, a.ndim());
        assertEquals(1234567890123L, a.longValue());
        assertEquals("int64", a.dtypeName());
    }

    @Test
    void everyDtypeReadsAgainstValuesComputedInJava() throws IOException {
        // float16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF (max), 2^-24 = 0x0001 (smallest subnormal)
        NpyArray h = Npy.read(file(npy(1, dict("<f2", "False", "(4,)"), le(2, 0x3C00, 0xC000, 0x7BFF, 0x0001))));
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, h.floats(), 0f);
        assertEquals("float16", h.dtypeName());
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3.5);
        NpyArray f8 = Npy.read(file(npy(1, dict("<f8", "False", "(2,)"), d.array())));
        assertArrayEquals(new double[] {0.1, -3.5}, f8.doubles(), 0.0);
        assertArrayEquals(new float[] {0.1f, -3.5f}, f8.floats(), 0f);
        NpyArray i4 = Npy.read(file(npy(1, dict("<i4", "False", "(2, 1)"), le(4, -5, Integer.MAX_VALUE))));
        assertArrayEquals(new int[] {-5, Integer.MAX_VALUE}, i4.ints());
        assertArrayEquals(new long[] {2, 1}, i4.shape());
        NpyArray i8 = Npy.read(file(npy(1, dict("<i8", "False", "(2,)"), le(8, Long.MIN_VALUE, 7))));
        assertArrayEquals(new long[] {Long.MIN_VALUE, 7}, i8.longs());
        assertThrows(ArithmeticException.class, i8::ints);
        NpyArray b1 = Npy.read(file(npy(1, dict("|b1", "False", "(3,)"), new byte[] {1, 0, 1})));
        assertArrayEquals(new long[] {1, 0, 1}, b1.longs());
        assertArrayEquals(new float[] {1, 0, 1}, b1.floats(), 0f);
        NpyArray u1 = Npy.read(file(npy(1, dict("|u1", "False", "(1,)"), new byte[] {(byte) 200})));
        assertArrayEquals(new long[] {200}, u1.longs());
        // Big-endian data is swapped on read.
        ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-2f);
        assertArrayEquals(new float[] {1.5f, -2f}, Npy.read(file(npy(1, dict(">f4", "False", "(2,)"), be.array())))
                .floats(), 0f);
        // Versions 2.0 and 3.0 differ only in a 4-byte header length.
        assertArrayEquals(new float[] {3f}, Npy.read(file(npy(2, dict("<f4", "False", "(1,)"),
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(3f).array()))).floats(), 0f);
        assertArrayEquals(new float[] {4f}, Npy.read(file(npy(3, dict("<f4", "False", "(1,)"),
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(4f).array()))).floats(), 0f);
        // Fortran order is the same layout for 0-d and 1-d arrays, so those are accepted.
        assertEquals(9, Npy.read(file(npy(1, dict("<i8", "True", "()"), le(8, 9)))).longValue());
        // Python 2 wrote 'L' after long integers in the shape.
        assertArrayEquals(new long[] {2L}, Npy.read(file(npy(1, dict("<i8", "False", "(2L,)"), le(8, 1, 2)))).shape());
    }

    @Test
    void floatArraysRefuseIntegerAccess() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NpyArray.ofFloats(new long[] {1}, new float[] {1}).longs());
        assertTrue(e.getMessage().contains("use floats()"));
    }

    @Test
    void ndArraysRoundTrip() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray f = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            Path p = dir.resolve("f.npy");
            Npy.write(p, f);
            NpyArray a = Npy.read(p);
            assertArrayEquals(new float[] {1, 2, 3, 4}, a.floats(), 0f);
            NDArray back = a.toNDArray(m);
            assertEquals(DataType.FLOAT32, back.getDataType());
            assertTrue(back.contentEquals(f));
            NDArray l = m.create(new long[] {5, -6});
            Path q = dir.resolve("l.npy");
            Npy.write(q, l);
            assertEquals("int64", Npy.read(q).dtypeName());
            assertEquals(DataType.INT64, Npy.read(q).toNDArray(m).getDataType());
            assertArrayEquals(new long[] {5, -6}, Npy.read(q).longs());
        }
    }

    @Test
    void npzRoundTripKeepsOrderAndSlashedNames() throws IOException {
        LinkedHashMap<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("blocks.0/attn", NpyArray.ofFloats(new long[] {2}, new float[] {1, 2}));
        arrays.put("step", NpyArray.scalar(3L));
        arrays.put("a", NpyArray.ofInts(new long[] {1, 1}, new int[] {7}));
        Path p = dir.resolve("x.npz");
        Npz.write(p, arrays);
        LinkedHashMap<String, NpyArray> back = Npz.read(p);
        assertEquals(List.copyOf(arrays.keySet()), List.copyOf(back.keySet()));
        for (String k : arrays.keySet()) {
            assertEquals(arrays.get(k), back.get(k), k);
        }
    }

    @Test
    void npzReadsCompressedEntries() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("w.npy"));
            zip.write(Npy.encode(NpyArray.ofFloats(new long[] {3}, new float[] {1, 2, 3})));
            zip.closeEntry();
        }
        Path p = dir.resolve("c.npz");
        Files.write(p, bytes.toByteArray());
        assertArrayEquals(new float[] {1, 2, 3}, Npz.read(p).get("w").floats(), 0f);
    }

    @Test
    void npzErrors() throws IOException {
        Path p = dir.resolve("bad.npz");
        Files.writeString(p, "not a zip");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npz.read(p));
        assertTrue(e.getMessage().contains("not a readable .npz"), e.getMessage());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("w.npy"));
            zip.write(new byte[] {1, 2, 3});
            zip.closeEntry();
        }
        Files.write(p, bytes.toByteArray());
        e = assertThrows(InvalidInputException.class, () -> Npz.read(p));
        assertTrue(e.getMessage().contains("entry 'w.npy': is 3 bytes long"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> Npz.read(dir.resolve("none.npz")));
        assertTrue(e.getMessage().contains("no such file"));
    }

    // ------------------------------------------------------------------------------------------ errors

    @Test
    void badMagic() throws IOException {
        byte[] b = npy(1, dict("<f4", "False", "(1,)"), new byte[4]);
        b[1] = 'X';
        expectInvalid(b, "does not start with numpy's magic string");
        expectInvalid(new byte[] {(byte) 0x93, 'N'}, "2 bytes long, too short");
    }

    @Test
    void badVersion() throws IOException {
        byte[] b = npy(1, dict("<f4", "False", "(1,)"), new byte[4]);
        b[6] = 4;
        expectInvalid(b, "format version 4.0", "1.0, 2.0 and 3.0");
    }

    @Test
    void badHeaders() throws IOException {
        expectInvalid(npy(1, "{'descr': '<f4', 'shape': (1,), }", new byte[4]), "exactly the keys");
        expectInvalid(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", new byte[4]), "malformed header");
        expectInvalid(npy(1, dict("<f4", "False", "(-1,)"), new byte[4]), "non-negative integers");
        expectInvalid(npy(1, dict("<f4", "Maybe", "(1,)"), new byte[4]), "malformed header", "Maybe");
        expectInvalid(npy(1, dict("<f4", "0", "(1,)"), new byte[4]), "fortran_order must be True or False");
        expectInvalid(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]),
                "malformed header");
        expectInvalid(npy(1, dict("<c8", "False", "(1,)"), new byte[8]), "dtype '<c8'", "not supported");
        expectInvalid(npy(1, dict("<U3", "False", "(1,)"), new byte[12]), "dtype '<U3'");
        expectInvalid(npy(1, dict("<f4", "False", "(99999999999999999999,)"), new byte[4]), "too large integer");
        expectInvalid(npy(1, dict("<f4", "False", "(4294967296, 4294967296)"), new byte[4]), "overflows");
    }

    @Test
    void fortranOrderIsRefusedWithTheFix() throws IOException {
        expectInvalid(npy(1, dict("<f4", "True", "(2, 2)"), new byte[16]), "Fortran-order",
                "np.ascontiguousarray");
    }

    @Test
    void truncation() throws IOException {
        expectInvalid(npy(1, dict("<f4", "False", "(3,)"), new byte[8]), "needs 12 bytes of data but only 8",
                "truncated");
        byte[] b = npy(1, dict("<f4", "False", "(1,)"), new byte[4]);
        expectInvalid(java.util.Arrays.copyOf(b, 40), "declares a header of 118 bytes but only 30 bytes follow");
        expectInvalid(java.util.Arrays.copyOf(b, 9), "truncated inside its header length field");
        // A header claiming 4 GB of data in a 100-byte file is refused before anything is allocated.
        expectInvalid(npy(1, dict("<f8", "False", "(500000000,)"), new byte[8]), "needs 4000000000 bytes");
    }

    @Test
    void hugeHeaderLengthIsRefused() throws IOException {
        byte[] b = npy(2, dict("<f4", "False", "(1,)"), new byte[4]);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0x7FFF_FFFF);
        expectInvalid(b, "more than any .npy header needs");
    }

    @Test
    void missingFile() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(dir.resolve("n.npy")));
        assertTrue(e.getMessage().contains("no such file"));
    }
}
