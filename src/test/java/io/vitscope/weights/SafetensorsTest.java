package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------ helpers

    /** A file made of an explicit header length field, header text and data bytes. */
    static byte[] rawFile(long headerLength, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(headerLength).put(h).put(data).array();
    }

    static byte[] rawFile(String header, byte[] data) {
        return rawFile(header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    /** Opens the file and reads every tensor, expecting an error whose message contains every fragment. */
    InvalidInputException expectInvalid(byte[] bytes, String... fragments) throws IOException {
        Path p = file(bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> {
            try (Safetensors st = Safetensors.open(p)) {
                for (TensorInfo t : st.tensors()) {
                    st.read(t.name());
                }
            }
        });
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        assertEquals(p, e.file());
        return e;
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    static float[] toArray(FloatBuffer fb) {
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void writerRoundTripKeepsNamesShapesValuesAndMetadata() throws IOException {
        Path p = dir.resolve("w.safetensors");
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {-0.5f};
        new SafetensorsWriter()
                .metadata("format", "pt")
                .add("zeta", new long[] {2, 3}, a)
                .add("alpha/β", new long[0], b)
                .add("empty", new long[] {0, 4}, new float[0])
                .write(p);
        try (Safetensors st = Safetensors.open(p)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            // Same element size: sorted by name, as the reference writer does.
            assertEquals(List.of("alpha/β", "empty", "zeta"), st.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new long[] {2, 3}, st.info("zeta").shape());
            assertEquals(DType.F32, st.info("zeta").dtype());
            assertArrayEquals(a, toArray(st.readFloats("zeta")), 0f);
            assertArrayEquals(b, toArray(st.readFloats("alpha/β")), 0f);
            assertArrayEquals(new long[0], st.info("alpha/β").shape());
            assertEquals(0, st.readFloats("empty").remaining());
            ByteBuffer raw = st.read("zeta");
            assertTrue(raw.isDirect());
            assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
        }
        // No temporary file is left behind.
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList());
        }
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEightLikeTheReferenceWriter() throws IOException {
        Path p = dir.resolve("pad.safetensors");
        new SafetensorsWriter().metadata("format", "pt").add("a", new long[] {2}, new float[] {1, 2}).write(p);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        assertEquals(8 + n + 8, bytes.length);
    }

    @Test
    void writerPutsWiderElementsFirstAndOverwritesAtomically() throws IOException {
        Path p = dir.resolve("o.safetensors");
        Files.writeString(p, "old");
        new SafetensorsWriter()
                .addRaw("b_small", DType.U8, new long[] {3}, new byte[] {1, 2, 3})
                .addRaw("a_half", DType.F16, new long[] {1}, new byte[] {0, 0x3C})
                .add("c_float", new long[] {1}, new float[] {7})
                .addRaw("d_long", DType.I64, new long[] {1}, new byte[8])
                .write(p);
        try (Safetensors st = Safetensors.open(p)) {
            assertEquals(List.of("d_long", "c_float", "a_half", "b_small"),
                    st.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new float[] {1}, toArray(st.readFloats("a_half")), 0f);
            assertArrayEquals(new long[] {1, 2, 3}, st.readLongs("b_small"));
        }
    }

    /** Every one of the 65,536 half-precision patterns, against IEEE 754's definition evaluated in double. */
    @Test
    void f16WidensExactlyForEveryBitPattern() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(65536 * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 65536; i++) {
            b.putShort((short) i);
        }
        Path p = dir.resolve("f16.safetensors");
        new SafetensorsWriter().addRaw("h", DType.F16, new long[] {256, 256}, b.array()).write(p);
        try (Safetensors st = Safetensors.open(p, false)) {
            float[] got = toArray(st.readFloats("h"));
            for (int i = 0; i < 65536; i++) {
                double sign = (i >> 15) == 1 ? -1.0 : 1.0;
                int exp = (i >> 10) & 0x1F;
                int mant = i & 0x3FF;
                double expected;
                if (exp == 0) {
                    expected = sign * mant * Math.pow(2, -24);
                } else if (exp == 31) {
                    expected = mant == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
                } else {
                    expected = sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
                }
                if (Double.isNaN(expected)) {
                    assertTrue(Float.isNaN(got[i]), "pattern " + i);
                } else {
                    assertEquals((float) expected, got[i], 0f, "pattern " + i); // exact: every half is a float
                    assertEquals(Float.floatToIntBits((float) expected), Float.floatToIntBits(got[i]), "sign of " + i);
                }
            }
        }
        // With the check on (the default), the NaN and Inf patterns are reported with the tensor's name.
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> {
            try (Safetensors st = Safetensors.open(p)) {
                st.read("h");
            }
        });
        // 2 × 1023 NaN patterns and ±Inf; the first is +Inf at 0x7C00.
        assertTrue(e.getMessage().contains("tensor 'h' holds 2046 NaN and 2 infinite values"), e.getMessage());
        assertTrue(e.getMessage().contains("first at flat index 31744"), e.getMessage());
    }

    /** Every one of the 65,536 bfloat16 patterns: sign, 8-bit exponent, 7-bit mantissa. */
    @Test
    void bf16WidensExactlyForEveryBitPattern() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(65536 * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 65536; i++) {
            b.putShort((short) i);
        }
        Path p = dir.resolve("bf16.safetensors");
        new SafetensorsWriter().addRaw("w", DType.BF16, new long[] {65536}, b.array()).write(p);
        try (Safetensors st = Safetensors.open(p, false)) {
            float[] got = toArray(st.readFloats("w"));
            for (int i = 0; i < 65536; i++) {
                double sign = (i >> 15) == 1 ? -1.0 : 1.0;
                int exp = (i >> 7) & 0xFF;
                int mant = i & 0x7F;
                double expected;
                if (exp == 0) {
                    expected = sign * mant * Math.pow(2, -133); // subnormal: mant/128 × 2^-126
                } else if (exp == 255) {
                    expected = mant == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
                } else {
                    expected = sign * (1 + mant / 128.0) * Math.pow(2, exp - 127);
                }
                if (Double.isNaN(expected)) {
                    assertTrue(Float.isNaN(got[i]), "pattern " + i);
                } else {
                    assertEquals(Float.floatToIntBits((float) expected), Float.floatToIntBits(got[i]), "pattern " + i);
                }
            }
        }
    }

    @Test
    void bf16ReachesDjlOnlyAsFloat32() throws IOException {
        // 1.0, -2.5 and 0.15625 are exact in bfloat16: 0x3F80, 0xC020, 0x3E20.
        byte[] raw = {(byte) 0x80, 0x3F, 0x20, (byte) 0xC0, 0x20, 0x3E};
        Path p = dir.resolve("bf.safetensors");
        new SafetensorsWriter().addRaw("x", DType.BF16, new long[] {1, 3}, raw).write(p);
        try (Safetensors st = Safetensors.open(p); NDManager m = NDManager.newBaseManager()) {
            NDArray a = st.readNDArray("x", m);
            assertEquals(DataType.FLOAT32, a.getDataType());
            assertArrayEquals(new long[] {1, 3}, a.getShape().getShape());
            assertArrayEquals(new float[] {1f, -2.5f, 0.15625f}, a.toFloatArray(), 0f);
            assertEquals("x", a.getName());
            // In-place ops work (the data is a private direct buffer, not a read-only mapping).
            a.addi(1);
            assertArrayEquals(new float[] {2f, -1.5f, 1.15625f}, a.toFloatArray(), 0f);
        }
    }

    @Test
    void floatAndIntegerTypesConvertToFloat32AndIntegersReadExactly() throws IOException {
        Path p = dir.resolve("types.safetensors");
        ByteBuffer f64 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-1e300 * 0)
                .putDouble(123456789.123);
        ByteBuffer i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE).putLong(42);
        ByteBuffer i32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-7).putInt(Integer.MAX_VALUE);
        ByteBuffer i16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) -300).putShort((short) 300);
        ByteBuffer u16 = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFF);
        ByteBuffer u32 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0xFFFF_FFFF);
        ByteBuffer u64 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        new SafetensorsWriter()
                .addRaw("f64", DType.F64, new long[] {3}, f64.array())
                .addRaw("i64", DType.I64, new long[] {2}, i64.array())
                .addRaw("i32", DType.I32, new long[] {2}, i32.array())
                .addRaw("i16", DType.I16, new long[] {2}, i16.array())
                .addRaw("u16", DType.U16, new long[] {1}, u16.array())
                .addRaw("u32", DType.U32, new long[] {1}, u32.array())
                .addRaw("u64", DType.U64, new long[] {1}, u64.array())
                .addRaw("i8", DType.I8, new long[] {2}, new byte[] {-128, 127})
                .addRaw("u8", DType.U8, new long[] {2}, new byte[] {(byte) 255, 0})
                .addRaw("bool", DType.BOOL, new long[] {2}, new byte[] {1, 0})
                .write(p);
        try (Safetensors st = Safetensors.open(p)) {
            assertArrayEquals(new float[] {0.1f, -0f, 123456789.123f}, toArray(st.readFloats("f64")), 0f);
            assertArrayEquals(new float[] {Long.MIN_VALUE, 42}, toArray(st.readFloats("i64")), 0f);
            assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, st.readLongs("i64"));
            assertArrayEquals(new long[] {-7, Integer.MAX_VALUE}, st.readLongs("i32"));
            assertArrayEquals(new float[] {-7, Integer.MAX_VALUE}, toArray(st.readFloats("i32")), 0f);
            assertArrayEquals(new long[] {-300, 300}, st.readLongs("i16"));
            assertArrayEquals(new long[] {65535}, st.readLongs("u16"));
            assertArrayEquals(new long[] {0xFFFF_FFFFL}, st.readLongs("u32"));
            assertArrayEquals(new float[] {0x1p64f}, toArray(st.readFloats("u64")), 0f);
            assertArrayEquals(new long[] {-128, 127}, st.readLongs("i8"));
            assertArrayEquals(new float[] {255, 0}, toArray(st.readFloats("u8")), 0f);
            assertArrayEquals(new long[] {1, 0}, st.readLongs("bool"));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> st.readLongs("f64"));
            assertTrue(e.getMessage().contains("not an integer type"), e.getMessage());
        }
    }

    @Test
    void f64BeyondFloatRangeIsReportedAsInfiniteAfterNarrowing() throws IOException {
        Path p = dir.resolve("big.safetensors");
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1).putDouble(1e300);
        new SafetensorsWriter().addRaw("d", DType.F64, new long[] {2}, f64.array()).write(p);
        InvalidInputException e = expectInvalid(Files.readAllBytes(p), "tensor 'd'", "1 infinite", "narrowing F64");
        assertTrue(e.getMessage().contains("index 1"), e.getMessage());
    }

    @Test
    void tensorLargerThanTheConversionChunkIsConvertedWhole() throws IOException {
        int n = 300_000; // 600 KB of F16: several 256 KB chunks
        ByteBuffer b = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort((short) (i % 2048)); // positive subnormals and small normals: all finite
        }
        Path p = dir.resolve("chunks.safetensors");
        new SafetensorsWriter().addRaw("h", DType.F16, new long[] {n}, b.array()).write(p);
        try (Safetensors st = Safetensors.open(p)) {
            FloatBuffer f = st.readFloats("h");
            assertEquals(n, f.remaining());
            for (int i = 0; i < n; i += 997) {
                assertEquals(DType.halfToFloat((short) (i % 2048)), f.get(i), 0f);
            }
        }
    }

    @Test
    void sourcesAreLazyAndReadIntoAGivenBuffer() throws IOException {
        Path p = dir.resolve("s.safetensors");
        new SafetensorsWriter().add("a", new long[] {2}, new float[] {1, 2}).add("b", new long[] {1}, new float[] {3})
                .write(p);
        try (Safetensors st = Safetensors.open(p)) {
            Map<String, TensorSource> src = st.sources();
            assertEquals(List.of("a", "b"), List.copyOf(src.keySet()));
            ByteBuffer dst = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
            dst.putFloat(9);
            src.get("b").readInto(dst);
            src.get("a").readInto(dst);
            assertEquals(16, dst.position());
            assertArrayEquals(new float[] {9, 3, 1, 2}, toArray(dst.flip().asFloatBuffer()), 0f);
        }
    }

    @Test
    void arraysAreCheckedForNanAndInfinityToo() throws IOException {
        // toNDArray checks with one libtorch sum, then the exact Java check only when the sum is not finite: the
        // messages must be the exact check's, and finite values whose sum overflows must still load.
        float big = Float.MAX_VALUE;
        Path p = dir.resolve("checked.safetensors");
        new SafetensorsWriter().add("nan", new long[] {3}, new float[] {1, 2, Float.NaN})
                .add("inf", new long[] {2, 2}, new float[] {0, Float.NEGATIVE_INFINITY, 0, Float.POSITIVE_INFINITY})
                .add("huge", new long[] {3}, new float[] {big, big, big}).write(p);
        try (Safetensors st = Safetensors.open(p); NDManager m = NDManager.newBaseManager()) {
            InvalidInputException nan = assertThrows(InvalidInputException.class, () -> st.readNDArray("nan", m));
            assertTrue(nan.getMessage().contains("tensor 'nan' holds 1 NaN and 0 infinite values, the first at flat "
                    + "index 2"), nan.getMessage());
            InvalidInputException inf = assertThrows(InvalidInputException.class,
                    () -> st.sources().get("inf").toNDArray(m));
            assertTrue(inf.getMessage().contains("holds 0 NaN and 2 infinite values, the first at flat index 1"),
                    inf.getMessage());
            NDArray huge = st.readNDArray("huge", m); // the sum is +Inf, every value is finite
            assertArrayEquals(new float[] {big, big, big}, huge.toFloatArray(), 0f);
        }
        try (Safetensors st = Safetensors.open(p, false); NDManager m = NDManager.newBaseManager()) {
            assertTrue(Float.isNaN(st.readNDArray("nan", m).toFloatArray()[2]));
        }
    }

    @Test
    void nanCheckCanBeTurnedOff() throws IOException {
        byte[] bytes = rawFile("{\"n\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                floats(1, Float.NaN));
        expectInvalid(bytes, "tensor 'n' holds 1 NaN and 0 infinite values", "index 1", "checkFinite=false");
        try (Safetensors st = Safetensors.open(file(bytes), false)) {
            assertTrue(Float.isNaN(st.readFloats("n").get(1)));
        }
    }

    @Test
    void unknownTensorNameIsAnInvalidInput() throws IOException {
        Path p = dir.resolve("u.safetensors");
        new SafetensorsWriter().add("a", new long[] {1}, new float[] {1}).write(p);
        try (Safetensors st = Safetensors.open(p)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> st.info("b"));
            assertTrue(e.getMessage().contains("no tensor named 'b'"));
            assertFalse(st.contains("b"));
        }
    }

    // ------------------------------------------------------------------------------------------ errors

    static final String OK_ENTRY = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void missingFile() {
        Path p = dir.resolve("nope.safetensors");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Safetensors.open(p));
        assertTrue(e.getMessage().contains("no such file"));
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        expectInvalid(new byte[0], "0 bytes long", "shorter than the 8-byte header length");
        expectInvalid(new byte[7], "7 bytes long");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        expectInvalid(rawFile(1000, "{}", new byte[0]), "header length 1000 runs past the end of the file (10 bytes)");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        expectInvalid(rawFile(200_000_000L, "{}", new byte[0]), "header length 200000000 exceeds the 100000000-byte limit");
        expectInvalid(rawFile(-1L, "{}", new byte[0]), "header length 18446744073709551615 exceeds");
    }

    @Test
    void headerNotJson() throws IOException {
        expectInvalid(rawFile("{\"a\": ", new byte[0]), "header is not valid JSON");
        expectInvalid(rawFile("{'a': 1}", new byte[0]), "header is not valid JSON"); // strict: no single quotes
        expectInvalid(rawFile("{\"a\":" + OK_ENTRY + "} x", floats(1, 2)), "header");
        expectInvalid(rawFile(new byte[] {'{', (byte) 0xC3, '}'}.length, new String(new byte[] {'{'}), new byte[] {
                (byte) 0xFF, '}'}), "not valid UTF-8");
        expectInvalid(rawFile("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", new byte[0]), "not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        expectInvalid(rawFile("[1, 2]   ", new byte[0]), "does not start with '{'");
        expectInvalid(rawFile("{\"a\": 5}", new byte[0]), "tensor 'a'", "must be a JSON object", "the number 5");
    }

    @Test
    void wrongFieldTypes() throws IOException {
        expectInvalid(rawFile("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a'", "dtype must be a string", "the number 7");
        expectInvalid(rawFile("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a'", "dtype must be a string, found nothing");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a': shape must be an array of integers");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a': shape must hold plain integers", "2.0");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a': shape must hold integers");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", floats(1, 2)),
                "tensor 'a': data_offsets must be [begin, end]");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}", floats(1, 2)),
                "tensor 'a': data_offsets must be an array");
        expectInvalid(rawFile("{\"__metadata__\":{\"k\":1}," + "\"a\":" + OK_ENTRY + "}", floats(1, 2)),
                "__metadata__ value of 'k' must be a string");
        expectInvalid(rawFile("{\"__metadata__\":[]}", new byte[0]), "__metadata__ must be a JSON object");
    }

    @Test
    void duplicateNames() throws IOException {
        expectInvalid(rawFile("{\"a\":" + OK_ENTRY + ",\"a\":" + OK_ENTRY + "}", floats(1, 2)), "names 'a' twice");
    }

    @Test
    void unknownDtype() throws IOException {
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]),
                "tensor 'a'", "unknown dtype 'F8_E4M3'", "BF16");
    }

    @Test
    void negativeOrOverflowingShapes() throws IOException {
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a': shape has a negative value -2");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
                floats(1, 2)), "tensor 'a': shape (4294967296, 4294967296) overflows");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}",
                floats(1, 2)), "tensor 'a': shape must hold plain integers below 2^63");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,8]}}",
                floats(1, 2)), "does not fit in 64 bits");
    }

    @Test
    void offsetsOutOfRangeReversedOrNotMatchingTheShape() throws IOException {
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", floats(1, 2)),
                "tensor 'a': data_offsets [0, 16] run past the end of the data section (8 bytes)");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", floats(1, 2)),
                "tensor 'a': data_offsets [8, 0] end before they begin");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", floats(1, 2)),
                "tensor 'a': data_offsets [0, 8] span 8 bytes but shape (3,) of F32 needs 12");
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-1,7]}}", floats(1, 2)),
                "tensor 'a': data_offsets has a negative value -1");
    }

    @Test
    void overlappingTensors() throws IOException {
        expectInvalid(rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floats(1, 2)),
                "tensor 'b': data_offsets [4, 8] overlap those of tensor 'a' [0, 8]");
    }

    @Test
    void truncatedDataIsCaughtAtOpenNotAtRead() throws IOException {
        Path p = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("a", new long[] {4}, new float[] {1, 2, 3, 4}).write(p);
        byte[] bytes = Files.readAllBytes(p);
        byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 3);
        Path q = file(cut);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Safetensors.open(q));
        assertTrue(e.getMessage().contains("tensor 'a'") && e.getMessage().contains("truncated"), e.getMessage());
    }
}
