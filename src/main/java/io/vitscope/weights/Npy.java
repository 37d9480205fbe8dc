package io.vitscope.weights;

import ai.djl.ndarray.NDArray;
import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * numpy's {@code .npy} files (format: numpy's {@code lib/format.py}): a magic string, a version, a header that is a
 * Python dict literal ({@code descr}, {@code fortran_order}, {@code shape}), then the raw data. Versions 1.0, 2.0 and
 * 3.0 are read; C-order arrays of float16/32/64, (u)int8–64 and bool, either byte order. Files are written as numpy
 * writes them (version 1.0, header padded to 64 bytes, little-endian), under a temporary name and renamed into place.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ARRAY_ALIGN = 64;
    /** numpy itself refuses headers above 10,000 bytes unless told otherwise; anything near 1 MB is not a header. */
    private static final int MAX_HEADER_BYTES = 1 << 20;
    /** Python's None in a parsed header. */
    private static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private Npy() {}

    /** Reads a {@code .npy} file; every problem is an {@link InvalidInputException} naming the file. */
    public static NpyArray read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, Files.size(file), file, "");
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read: " + e, e);
        }
    }

    public static void write(Path file, long[] shape, float[] data) throws IOException {
        write(file, NpyArray.ofFloats(shape, data));
    }

    /** Writes a copy of the array's values (see {@link NpyArray#of(NDArray)} for the stored type). */
    public static void write(Path file, NDArray array) throws IOException {
        write(file, NpyArray.of(array));
    }

    /** Writes a 0-d int64 array, as {@code np.save(file, np.int64(value))} does. */
    public static void writeScalar(Path file, long value) throws IOException {
        write(file, NpyArray.scalar(value));
    }

    public static void write(Path file, NpyArray array) throws IOException {
        byte[] bytes = encode(array);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** The complete {@code .npy} encoding of an array. */
    static byte[] encode(NpyArray array) {
        byte[] h = header(array.dtype(), array.shape());
        ByteBuffer data = array.rawData();
        ByteBuffer out = ByteBuffer.allocate(h.length + data.remaining());
        out.put(h).put(data);
        return out.array();
    }

    /**
     * Everything before the data: magic, version 1.0, header length and the header dict of a C-order little-endian
     * array, padded with spaces so that the data starts on a 64-byte boundary.
     */
    static byte[] header(DType dtype, long[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        s.append(shape.length == 1 ? ",)" : ")");
        // format.py's _write_array_header: keys sorted, each "'key': repr(value), ", padded so that the data
        // starts on a 64-byte boundary, ending with a newline.
        String dict = "{'descr': '" + dtype.numpyDescr() + "', 'fortran_order': False, 'shape': " + s + ", }";
        int hlen = dict.length() + 1;
        int pad = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ARRAY_ALIGN);
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h);
        return out.array();
    }

    /**
     * Reads one array from a stream of {@code available} bytes (a file, or a zip entry); {@code where} prefixes
     * error messages (e.g. {@code "entry 'x.npy': "}).
     */
    static NpyArray parse(InputStream in, long available, Path file, String where) throws IOException {
        byte[] pre = in.readNBytes(MAGIC.length + 2);
        if (pre.length < MAGIC.length) {
            throw bad(file, where, "is " + pre.length + " bytes long, too short for a .npy file");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre[i] != MAGIC[i]) {
                throw bad(file, where, "does not start with numpy's magic string \\x93NUMPY: not a .npy file");
            }
        }
        if (pre.length < MAGIC.length + 2) {
            throw bad(file, where, "is truncated inside its version field");
        }
        int major = pre[6] & 0xFF;
        int minor = pre[7] & 0xFF;
        if (!(major >= 1 && major <= 3 && minor == 0)) {
            throw bad(file, where, "has .npy format version " + major + "." + minor
                    + "; readable versions are 1.0, 2.0 and 3.0");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] lenField = in.readNBytes(lengthBytes);
        if (lenField.length < lengthBytes) {
            throw bad(file, where, "is truncated inside its header length field");
        }
        ByteBuffer lb = ByteBuffer.wrap(lenField).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = major == 1 ? lb.getShort() & 0xFFFF : lb.getInt() & 0xFFFF_FFFFL;
        long prefix = MAGIC.length + 2 + lengthBytes;
        if (headerLength > MAX_HEADER_BYTES) {
            throw bad(file, where, "declares a header of " + headerLength + " bytes, more than any .npy header needs");
        }
        if (prefix + headerLength > available) {
            throw bad(file, where, "declares a header of " + headerLength + " bytes but only "
                    + Math.max(0, available - prefix) + " bytes follow: the file is truncated");
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw bad(file, where, "is truncated inside its header");
        }
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new LiteralParser(header).dict();
        } catch (IllegalArgumentException e) {
            throw bad(file, where, "has a malformed header (" + e.getMessage() + "): " + clip(header.strip()));
        }
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw bad(file, where, "header must have exactly the keys descr, fortran_order and shape, found "
                    + dict.keySet());
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw bad(file, where, "header's descr must be a type string like '<f4', found " + literal(dict.get("descr"))
                    + " (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw bad(file, where, "header's fortran_order must be True or False, found " + literal(dict.get("fortran_order")));
        }
        if (!(dict.get("shape") instanceof List<?> dims)) {
            throw bad(file, where, "header's shape must be a tuple of integers, found " + literal(dict.get("shape")));
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw bad(file, where, "header's shape must hold non-negative integers, found " + dims);
            }
            shape[i] = d;
        }
        if (fortran && shape.length > 1) {
            throw bad(file, where, "holds a Fortran-order (column-major) array, which is not supported: save it in C "
                    + "order with np.save(path, np.ascontiguousarray(a))");
        }
        if (descr.isEmpty() || "<>|=".indexOf(descr.charAt(0)) < 0) {
            descr = "|" + descr; // numpy accepts 'f4' without a byte-order mark as native order
        }
        char order = descr.charAt(0);
        DType dtype = DType.fromNumpyCode(descr.substring(1));
        if (dtype == null) {
            throw bad(file, where, "has dtype '" + clip(descr) + "', which is not supported "
                    + "(readable: float16, float32, float64, int8-64, uint8-64, bool)");
        }
        boolean bigEndian = order == '>' || (order == '=' && ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN);
        long dataBytes = Shapes.checkedByteSize(shape, dtype.itemSize());
        if (dataBytes < 0) {
            throw bad(file, where, "shape " + Shapes.format(shape) + " overflows: its size in bytes does not fit in 64 bits");
        }
        long remaining = available - prefix - headerLength;
        if (dataBytes > remaining) {
            throw bad(file, where, "shape " + Shapes.format(shape) + " of " + dtype.numpyName() + " needs " + dataBytes
                    + " bytes of data but only " + remaining + " follow the header: the file is truncated");
        }
        if (dataBytes > Integer.MAX_VALUE - 16) {
            throw bad(file, where, "holds " + dataBytes + " bytes of data, more than one Java array can hold");
        }
        byte[] data = in.readNBytes((int) dataBytes);
        if (data.length < dataBytes) {
            throw bad(file, where, "shape " + Shapes.format(shape) + " needs " + dataBytes + " bytes of data but the "
                    + "stream ended after " + data.length + ": the file is truncated");
        }
        if (bigEndian && dtype.itemSize() > 1) {
            swapBytes(data, dtype.itemSize());
        }
        return new NpyArray(shape, dtype, ByteBuffer.wrap(data));
    }

    /** A parsed header value as Python would print it, so that 'False' (a string) and False differ. */
    private static String literal(Object v) {
        if (v instanceof String s) {
            return "'" + clip(s) + "'";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return String.valueOf(v);
    }

    private static void swapBytes(byte[] data, int item) {
        for (int i = 0; i < data.length; i += item) {
            for (int a = i, b = i + item - 1; a < b; a++, b--) {
                byte t = data[a];
                data[a] = data[b];
                data[b] = t;
            }
        }
    }

    private static InvalidInputException bad(Path file, String where, String problem) {
        return new InvalidInputException(file, where + problem);
    }

    private static String clip(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    /**
     * The subset of Python literals a {@code .npy} header uses: a dict of string keys whose values are strings,
     * True / False / None, integers (optionally with Python 2's {@code L}) and tuples or lists of those.
     */
    private static final class LiteralParser {
        private final String s;
        private int i;

        LiteralParser(String s) {
            this.s = s;
        }

        Map<String, Object> dict() {
            skipSpace();
            expect('{');
            Map<String, Object> out = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    i++;
                    break;
                }
                Object key = value();
                if (!(key instanceof String k)) {
                    throw new IllegalArgumentException("dict keys must be strings");
                }
                skipSpace();
                expect(':');
                skipSpace();
                if (out.put(k, value()) != null) {
                    throw new IllegalArgumentException("key '" + k + "' appears twice");
                }
                skipSpace();
                if (peek() == ',') {
                    i++;
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at offset " + i);
                }
            }
            skipSpace();
            if (i != s.length()) {
                throw new IllegalArgumentException("text after the dict at offset " + i);
            }
            return out;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') {
                return string(c);
            }
            if (c == '(' || c == '[') {
                return sequence(c == '(' ? ')' : ']');
            }
            if (c == '-' || Character.isDigit(c)) {
                return integer();
            }
            if (Character.isLetter(c)) {
                int start = i;
                while (i < s.length() && Character.isLetterOrDigit(s.charAt(i))) {
                    i++;
                }
                String word = s.substring(start, i);
                return switch (word) {
                    case "True" -> Boolean.TRUE;
                    case "False" -> Boolean.FALSE;
                    case "None" -> NONE;
                    default -> throw new IllegalArgumentException("unexpected word '" + clip(word) + "'");
                };
            }
            throw new IllegalArgumentException("unexpected character '" + c + "' at offset " + i);
        }

        private List<Object> sequence(char close) {
            i++;
            List<Object> out = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == close) {
                    i++;
                    return out;
                }
                if (out.size() >= 64) { // a 65th value is about to be read
                    throw new IllegalArgumentException("more than 64 dimensions");
                }
                Object v = value();
                if (!(v instanceof Long)) {
                    // Nested sequences only occur in structured dtypes, which are refused anyway.
                    throw new IllegalArgumentException("only integers are expected in a tuple");
                }
                out.add(v);
                skipSpace();
                if (peek() == ',') {
                    i++;
                } else if (peek() != close) {
                    throw new IllegalArgumentException("expected ',' or '" + close + "' at offset " + i);
                }
            }
        }

        private Long integer() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            String digits = s.substring(start, i);
            if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) {
                i++;
            }
            if (digits.isEmpty() || digits.equals("-") || digits.length() > 19) {
                throw new IllegalArgumentException("bad or too large integer '" + clip(digits) + "'");
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("integer '" + digits + "' does not fit in 64 bits");
            }
        }

        private String string(char quote) {
            i++;
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw new IllegalArgumentException("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == quote) {
                    return b.toString();
                }
                if (c == '\\') {
                    throw new IllegalArgumentException("escapes in strings are not expected");
                }
                b.append(c);
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw new IllegalArgumentException("unexpected end of header");
            }
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "expected '%c' at offset %d", c, i));
            }
            i++;
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
