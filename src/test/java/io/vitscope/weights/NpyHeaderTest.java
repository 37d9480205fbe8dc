package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@code .npy} header parsing edge cases, following numpy's format specification (NEP 1, {@code numpy.lib.format}):
 * versions 1.0 (2-byte header length), 2.0 and 3.0 (4-byte length; 3.0 is UTF-8), the Python-literal header dict,
 * byte orders and exact data lengths. Every refusal is an {@link InvalidInputException} naming the problem.
 */
class NpyHeaderTest {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private static byte[] npy(int major, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.write(major);
        out.write(0);
        int n = header.length;
        out.write(n & 0xFF);
        out.write(n >>> 8 & 0xFF);
        if (major > 1) {
            out.write(n >>> 16 & 0xFF);
            out.write(n >>> 24 & 0xFF);
        }
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] npy(String header, byte[] data) {
        return npy(1, header.getBytes(StandardCharsets.ISO_8859_1), data);
    }

    private static NpyArray parse(byte[] b) {
        try {
            return Npy.parse(new ByteArrayInputStream(b), b.length, null, "");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String refused(byte[] b) {
        return assertThrows(InvalidInputException.class, () -> parse(b)).getMessage();
    }

    private static void refusedWith(byte[] b, String part) {
        String m = refused(b);
        assertTrue(m.contains(part), () -> "expected '" + part + "' in: " + m);
    }

    private static String dict(String descr, String fortran, String shape) {
        return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
    }

    @Test
    void prefixTruncation() {
        assertEquals("is 5 bytes long, too short for a .npy file", refused(Arrays.copyOf(MAGIC, 5)));
        assertEquals("is truncated inside its version field", refused(MAGIC));
        assertEquals("is truncated inside its version field",
                refused(Arrays.copyOf(npy(dict("'<f4'", "False", "()"), new byte[4]), 7)));
        assertEquals("is truncated inside its header length field",
                refused(Arrays.copyOf(npy(dict("'<f4'", "False", "()"), new byte[4]), 9)));
        assertEquals("has .npy format version 4.0; readable versions are 1.0, 2.0 and 3.0",
                refused(npy(4, new byte[0], new byte[0])));
    }

    @Test
    void headerLengthLimitAndExactFit() {
        // version 2.0: a 4-byte length; 2^20 bytes is the largest header accepted
        byte[] limit = Arrays.copyOf(npy(2, new byte[0], new byte[0]), 12);
        limit[8] = 0;
        limit[9] = 0;
        limit[10] = 0x10; // 1 << 20
        assertEquals("declares a header of 1048576 bytes but only 0 bytes follow: the file is truncated", refused(limit));
        limit[8] = 1; // (1 << 20) + 1
        assertEquals("declares a header of 1048577 bytes, more than any .npy header needs", refused(limit));
        // the header ends exactly at the end of the file, and the array is empty
        NpyArray empty = parse(npy(dict("'<f4'", "False", "(0,)"), new byte[0]));
        assertEquals(0, empty.size());
        assertArrayEquals(new long[] {0}, empty.shape());
    }

    @Test
    void dataLengthExactAndShort() {
        byte[] exact = npy(dict("'<i2'", "False", "(2,)"), new byte[] {1, 0, (byte) 0xFF, (byte) 0xFF});
        assertArrayEquals(new long[] {1, -1}, parse(exact).longs());
        assertEquals("shape (2,) of int16 needs 4 bytes of data but only 3 follow the header: the file is truncated",
                refused(Arrays.copyOf(exact, exact.length - 1)));
        // the stream ends before the length its caller announced
        byte[] shortStream = Arrays.copyOf(exact, exact.length - 1);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Npy.parse(new ByteArrayInputStream(shortStream), exact.length, null, "entry 'a.npy': "));
        assertEquals("entry 'a.npy': shape (2,) needs 4 bytes of data but the stream ended after 3: the file is truncated",
                e.getMessage());
    }

    @Test
    void byteOrders() {
        byte[] be = {0x01, 0x02, (byte) 0xFF, (byte) 0xFE};
        assertArrayEquals(new long[] {0x0102, -2}, parse(npy(dict("'>i2'", "False", "(2,)"), be)).longs());
        assertArrayEquals(new long[] {0x0201, -257}, parse(npy(dict("'<i2'", "False", "(2,)"), be)).longs());
        // no byte-order mark: native order, as numpy reads it (this machine is little-endian)
        assertArrayEquals(new long[] {0x0201, -257}, parse(npy(dict("'i2'", "False", "(2,)"), be)).longs());
        assertArrayEquals(new long[] {0x0201, -257}, parse(npy(dict("'=i2'", "False", "(2,)"), be)).longs());
        byte[] f4 = {0x3F, (byte) 0x80, 0, 0, (byte) 0xC0, 0, 0, 0}; // 1.0f, -2.0f big-endian
        assertArrayEquals(new float[] {1f, -2f}, parse(npy(dict("'>f4'", "False", "(2,)"), f4)).floats());
        assertArrayEquals(new long[] {1, 255}, parse(npy(dict("'>u1'", "False", "(2,)"), new byte[] {1, -1})).longs());
    }

    @Test
    void shapesAndFortranOrder() {
        assertArrayEquals(new long[] {0, 3}, parse(npy(dict("'<f4'", "False", "(0, 3)"), new byte[0])).shape());
        // a 1-D array reads the same in Fortran and C order
        assertArrayEquals(new float[] {0f, 0f}, parse(npy(dict("'<f4'", "True", "(2,)"), new byte[8])).floats());
        refusedWith(npy(dict("'<f4'", "True", "(2, 1)"), new byte[8]), "holds a Fortran-order (column-major) array");
        assertEquals("header's shape must hold non-negative integers, found [2, -1]",
                refused(npy(dict("'<f4'", "False", "(2, -1)"), new byte[0])));
        assertArrayEquals(new long[] {2}, parse(npy(dict("'<f4'", "False", "[2]"), new byte[8])).shape(), "a list works too");
    }

    @Test
    void dimensionsUpTo64() {
        StringBuilder s64 = new StringBuilder("(");
        for (int i = 0; i < 64; i++) {
            s64.append("1, ");
        }
        s64.append(")");
        assertEquals(64, parse(npy(dict("'<f4'", "False", s64.toString()), new byte[4])).ndim());
        StringBuilder s65 = new StringBuilder("(");
        for (int i = 0; i < 65; i++) {
            s65.append("1, ");
        }
        s65.append(")");
        // 65 was accepted before (the check ran before the 65th value was added); PIT's surviving boundary mutant
        // pointed at it.
        refusedWith(npy(dict("'<f4'", "False", s65.toString()), new byte[4]), "more than 64 dimensions");
    }

    @Test
    void integersInTheHeader() {
        // 19 digits still parse (then the size check refuses them); 20 digits are refused by the parser
        assertEquals("shape (1000000000000000000,) of uint8 needs 1000000000000000000 bytes of data but only 0 follow the"
                + " header: the file is truncated", refused(npy(dict("'|u1'", "False", "(1000000000000000000,)"), new byte[0])));
        refusedWith(npy(dict("'|u1'", "False", "(10000000000000000000,)"), new byte[0]),
                "bad or too large integer '10000000000000000000'");
        refusedWith(npy(dict("'|u1'", "False", "(9999999999999999999,)"), new byte[0]), "does not fit in 64 bits");
        // Python 2's long suffix
        assertArrayEquals(new long[] {2, 3}, parse(npy(dict("'|u1'", "False", "(2L, 3l)"), new byte[6])).shape());
        refusedWith(npy(dict("'|u1'", "False", "(-,)"), new byte[0]), "bad or too large integer '-'");
    }

    @Test
    void headerTextEndingEarly() {
        // a value, word or string running to the end of the header text
        refusedWith(npy("{'descr': '<f4', 'fortran_order': False, 'shape': 3", new byte[0]), "unexpected end of header");
        refusedWith(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L", new byte[0]), "unexpected end of header");
        refusedWith(npy("{'descr': '<f4', 'fortran_order': False", new byte[0]), "unexpected end of header");
        refusedWith(npy("{'descr': '<f4', 'fortran_order': Fal", new byte[0]), "unexpected word 'Fal'");
        refusedWith(npy("{'descr", new byte[0]), "unterminated string");
        refusedWith(npy("{'descr': '<f4' 'x': 1}", new byte[0]), "expected ',' or '}' at offset 16");
        refusedWith(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4)}", new byte[0]),
                "expected ',' or ')' at offset");
    }

    @Test
    void whitespaceAnywhereNumpyPutsIt() {
        String header = "  { 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , ) , }   \n";
        NpyArray a = parse(npy(header, new byte[8]));
        assertArrayEquals(new long[] {2}, a.shape());
    }

    @Test
    void headerValuesAreQuotedAsPythonWould() {
        assertEquals("header's descr must be a type string like '<f4', found True (structured arrays are not supported)",
                refused(npy(dict("True", "False", "()"), new byte[4])));
        assertEquals("header's descr must be a type string like '<f4', found False (structured arrays are not supported)",
                refused(npy(dict("False", "False", "()"), new byte[4])));
        assertEquals("header's descr must be a type string like '<f4', found 3 (structured arrays are not supported)",
                refused(npy(dict("3", "False", "()"), new byte[4])));
        assertEquals("header's fortran_order must be True or False, found 'False'",
                refused(npy(dict("'<f4'", "'False'", "()"), new byte[4])));
        assertEquals("header's fortran_order must be True or False, found None",
                refused(npy(dict("'<f4'", "None", "()"), new byte[4])));
        assertEquals("header's shape must be a tuple of integers, found 'x'",
                refused(npy(dict("'<f4'", "False", "'x'"), new byte[4])));
    }

    @Test
    void dtypeStrings() {
        assertEquals("has dtype '|', which is not supported (readable: float16, float32, float64, int8-64, uint8-64, bool)",
                refused(npy(dict("''", "False", "()"), new byte[4])));
        // a dtype string is shown up to 120 characters, longer ones clipped to 117 and "..."
        String d119 = "x".repeat(119);
        refusedWith(npy(dict("'" + d119 + "'", "False", "()"), new byte[4]), "'|" + d119 + "'");
        String d120 = "x".repeat(120);
        refusedWith(npy(dict("'" + d120 + "'", "False", "()"), new byte[4]), "'|" + "x".repeat(116) + "...'");
    }

    @Test
    void version3HeadersAreUtf8() {
        byte[] header = dict("'\u00e9'", "False", "()").getBytes(StandardCharsets.UTF_8);
        refusedWith(npy(3, header, new byte[4]), "has dtype '|\u00e9'");
        refusedWith(npy(1, header, new byte[4]), "has dtype '|\u00c3\u00a9'");
        NpyArray v2 = parse(npy(2, dict("'<f4'", "False", "(1,)").getBytes(StandardCharsets.ISO_8859_1), new byte[4]));
        assertEquals(1, v2.size());
    }
}
