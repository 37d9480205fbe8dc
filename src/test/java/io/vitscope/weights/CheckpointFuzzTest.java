package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.vitscope.InvalidInputException;
import io.vitscope.checkpoint.Inspection;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds malformed checkpoints to the readers: the only acceptable failure is an {@link InvalidInputException}
 * (an OutOfMemoryError, IndexOutOfBoundsException, NumberFormatException or a JVM abort fails the run).
 *
 * <p>{@code mvn -q -o test -Dtest=CheckpointFuzzTest -Dvitscope.fuzz.iterations=100000} for a long run
 * ({@code -Dvitscope.fuzz.seed=N} for another sequence). A failing input is kept under
 * {@code target/fuzz-failures/} with the seed and mutation in the assertion message.
 */
@Tag("fuzz")
class CheckpointFuzzTest {

    private static final int ITERATIONS = Integer.getInteger("vitscope.fuzz.iterations", 5_000);
    private static final long SEED = Long.getLong("vitscope.fuzz.seed", 20240601L);
    /** Every this many accepted files, tensors also go through DJL, where a BF16 would abort the JVM. */
    private static final int DJL_EVERY = 25;

    private static NDManager manager;

    @TempDir
    Path dir;

    @BeforeAll
    static void startEngine() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void stopEngine() {
        manager.close();
    }

    // ------------------------------------------------------------------------------------------ seeds

    static byte[] validSafetensors() throws IOException {
        Random r = new Random(7);
        float[] w = new float[6 * 4];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        byte[] bf16 = new byte[2 * 5];
        byte[] f16 = new byte[2 * 3];
        for (int i = 0; i < 5; i++) {
            int bits = Float.floatToIntBits((float) r.nextGaussian()) >>> 16;
            bf16[2 * i] = (byte) bits;
            bf16[2 * i + 1] = (byte) (bits >>> 8);
        }
        for (int i = 0; i < 3; i++) {
            f16[2 * i + 1] = 0x3C; // 1.0
        }
        ByteBuffer i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(-2);
        Path tmp = Files.createTempFile("seed", ".safetensors");
        try {
            new SafetensorsWriter().metadata("format", "pt")
                    .add("blocks.0.attn.qkv.weight", new long[] {6, 4}, w)
                    .add("cls_token", new long[] {1, 1, 2}, new float[] {0.5f, -0.5f})
                    .addRaw("bf", DType.BF16, new long[] {5}, bf16)
                    .addRaw("half", DType.F16, new long[] {1, 3}, f16)
                    .addRaw("ids", DType.I64, new long[] {2}, i64.array())
                    .addRaw("mask", DType.BOOL, new long[] {2}, new byte[] {1, 0})
                    .addRaw("scalar", DType.F64, new long[0], new byte[8])
                    .write(tmp);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static List<byte[]> validNpys() {
        return List.of(
                Npy.encode(NpyArray.ofFloats(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})),
                Npy.encode(NpyArray.scalar(42L)),
                Npy.encode(NpyArray.ofBooleans(new long[] {3}, new boolean[] {true, false, true})),
                Npy.encode(NpyArray.ofDoubles(new long[] {1, 1, 2}, new double[] {0.25, -1})),
                Npy.encode(NpyArray.ofInts(new long[] {0, 5}, new int[0])));
    }

    // ------------------------------------------------------------------------------------------ mutations

    private record Mutant(String how, byte[] bytes) {}

    static Mutant mutateSafetensors(byte[] valid, Random r) {
        long headerLength = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(valid, 8, (int) headerLength, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(valid, 8 + (int) headerLength, valid.length);
        int kind = r.nextInt(10);
        switch (kind) {
            case 0 -> { // the length field
                long[] choices = {0, 1, 7, headerLength - 1, headerLength + 1, headerLength + data.length,
                        headerLength + data.length + 1, Safetensors.MAX_HEADER_BYTES, Safetensors.MAX_HEADER_BYTES + 1,
                        Long.MAX_VALUE, Long.MIN_VALUE, -1, Integer.MAX_VALUE, 0xFFFF_FFFFL, r.nextLong()};
                long n = choices[r.nextInt(choices.length)];
                byte[] out = valid.clone();
                ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
                return new Mutant("length field = " + n, out);
            }
            case 1, 2, 3 -> { // structured JSON edits, length kept right
                JsonObject root = JsonParser.parseString(header).getAsJsonObject();
                String how = mutateJson(root, r);
                String text = root.toString();
                if (r.nextInt(4) == 0) {
                    text += " ".repeat(r.nextInt(9));
                }
                return new Mutant("json: " + how, assemble(text.getBytes(StandardCharsets.UTF_8), data, r, false));
            }
            case 4 -> { // text-level corruption of the header
                StringBuilder s = new StringBuilder(header);
                int edits = 1 + r.nextInt(4);
                for (int e = 0; e < edits; e++) {
                    int at = r.nextInt(s.length() + 1);
                    switch (r.nextInt(4)) {
                        case 0 -> s.insert(at, pick(r, "{}[]\",:-0123456789.eE \\nul\u00e9\u0000"));
                        case 1 -> { if (at < s.length()) s.deleteCharAt(at); }
                        case 2 -> s.setLength(at);
                        default -> { if (at < s.length()) s.setCharAt(at, (char) r.nextInt(128)); }
                    }
                }
                return new Mutant("header text edits", assemble(s.toString().getBytes(StandardCharsets.UTF_8), data, r,
                        r.nextBoolean()));
            }
            case 5 -> { // random bytes anywhere
                byte[] out = valid.clone();
                int flips = 1 + r.nextInt(8);
                for (int f = 0; f < flips; f++) {
                    out[r.nextInt(out.length)] = (byte) r.nextInt(256);
                }
                return new Mutant(flips + " random bytes", out);
            }
            case 6 -> { // truncation or extension
                int len = r.nextInt(valid.length + 16);
                byte[] out = Arrays.copyOf(valid, len);
                for (int i = valid.length; i < len; i++) {
                    out[i] = (byte) r.nextInt(256);
                }
                return new Mutant("length " + len + " of " + valid.length, out);
            }
            case 7 -> { // pure noise, sometimes behind a plausible length
                byte[] out = new byte[r.nextInt(200)];
                r.nextBytes(out);
                if (out.length >= 8 && r.nextBoolean()) {
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, r.nextInt(out.length));
                    if (out.length > 8) {
                        out[8] = '{';
                    }
                }
                return new Mutant("noise", out);
            }
            case 8 -> { // deep or wide JSON
                String v = r.nextBoolean() ? "[".repeat(1 + r.nextInt(3000)) : "{\"a\":".repeat(1 + r.nextInt(3000));
                String text = "{\"x\":" + v + "}";
                return new Mutant("deep json", assemble(text.getBytes(StandardCharsets.UTF_8), data, r, false));
            }
            default -> { // several JSON edits and data corruption together
                JsonObject root = JsonParser.parseString(header).getAsJsonObject();
                String how = mutateJson(root, r) + "; " + mutateJson(root, r);
                byte[] d = data.clone();
                if (d.length > 0) {
                    d[r.nextInt(d.length)] = (byte) 0xFF; // may make a NaN
                }
                return new Mutant("json: " + how + " + data", assemble(root.toString().getBytes(StandardCharsets.UTF_8),
                        d, r, r.nextInt(3) == 0));
            }
        }
    }

    private static char pick(Random r, String chars) {
        return chars.charAt(r.nextInt(chars.length()));
    }

    private static byte[] assemble(byte[] header, byte[] data, Random r, boolean wrongLength) {
        long n = wrongLength ? header.length + r.nextInt(17) - 8 : header.length;
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(n).put(header).put(data).array();
    }

    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32",
        "U64", "BOOL", "F8_E4M3", "f32", "", "F32 ", "complex64", "\u0000"};

    private static JsonElement weirdNumber(Random r) {
        return switch (r.nextInt(12)) {
            case 0 -> new JsonPrimitive(-1 - r.nextInt(10));
            case 1 -> new JsonPrimitive(Long.MAX_VALUE);
            case 2 -> new JsonPrimitive(new BigInteger("18446744073709551617"));
            case 3 -> new JsonPrimitive(1.5);
            case 4 -> new JsonPrimitive("4");
            case 5 -> new JsonPrimitive(1L << (20 + r.nextInt(43)));
            case 6 -> new JsonPrimitive(new java.math.BigDecimal("1e400"));
            case 7 -> new JsonArray();
            case 8 -> com.google.gson.JsonNull.INSTANCE;
            case 9 -> new JsonPrimitive(true);
            default -> new JsonPrimitive(r.nextInt(64));
        };
    }

    private static String mutateJson(JsonObject root, Random r) {
        List<String> names = new ArrayList<>(root.keySet());
        String name = names.get(r.nextInt(names.size()));
        JsonElement el = root.get(name);
        if (name.equals("__metadata__") || !el.isJsonObject()) {
            switch (r.nextInt(3)) {
                case 0 -> root.add(name, weirdNumber(r));
                case 1 -> {
                    JsonObject m = new JsonObject();
                    m.add("k", weirdNumber(r));
                    root.add(name, m);
                }
                default -> root.remove(name);
            }
            return "replace " + name;
        }
        JsonObject t = el.getAsJsonObject();
        switch (r.nextInt(9)) {
            case 0 -> t.addProperty("dtype", DTYPES[r.nextInt(DTYPES.length)]);
            case 1 -> t.add("dtype", weirdNumber(r));
            case 2 -> { // one shape dimension
                JsonArray s = array(t, "shape");
                if (s.size() > 0) {
                    s.set(r.nextInt(s.size()), weirdNumber(r));
                } else {
                    s.add(weirdNumber(r));
                }
            }
            case 3 -> { // shape rank
                JsonArray s = array(t, "shape");
                if (r.nextBoolean() && s.size() > 0) {
                    s.remove(s.size() - 1);
                } else {
                    s.add(r.nextInt(4));
                }
            }
            case 4 -> { // one offset, nudged or replaced
                JsonArray o = array(t, "data_offsets");
                if (o.size() == 0) {
                    o.add(0);
                }
                int i = r.nextInt(o.size());
                JsonElement v = o.get(i);
                boolean nudge = r.nextBoolean() && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber();
                o.set(i, nudge ? new JsonPrimitive(v.getAsJsonPrimitive().getAsLong() + r.nextInt(17) - 8)
                        : weirdNumber(r));
            }
            case 5 -> { // offsets of another tensor (overlap)
                JsonElement other = root.get(names.get(r.nextInt(names.size())));
                if (other != null && other.isJsonObject() && other.getAsJsonObject().has("data_offsets")) {
                    t.add("data_offsets", other.getAsJsonObject().get("data_offsets").deepCopy());
                }
            }
            case 6 -> { // offsets rank
                JsonArray o = array(t, "data_offsets");
                if (r.nextBoolean() || o.size() == 0) {
                    o.add(r.nextInt(100));
                } else {
                    o.remove(0);
                }
            }
            case 7 -> t.remove(new String[] {"dtype", "shape", "data_offsets"}[r.nextInt(3)]);
            default -> root.add(name, weirdNumber(r));
        }
        return name + " " + t;
    }

    /** The array under {@code key}, replacing whatever else an earlier mutation left there. */
    private static JsonArray array(JsonObject t, String key) {
        JsonElement e = t.get(key);
        if (e != null && e.isJsonArray()) {
            return e.getAsJsonArray();
        }
        JsonArray a = new JsonArray();
        t.add(key, a);
        return a;
    }

    static Mutant mutateNpy(List<byte[]> valid, Random r) {
        byte[] base = valid.get(r.nextInt(valid.size()));
        int headerLength = ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xFFFF;
        String header = new String(base, 10, headerLength, StandardCharsets.ISO_8859_1);
        byte[] data = Arrays.copyOfRange(base, 10 + headerLength, base.length);
        switch (r.nextInt(7)) {
            case 0 -> { // magic, version and length bytes
                byte[] out = base.clone();
                int i = r.nextInt(10);
                out[i] = (byte) r.nextInt(256);
                return new Mutant("preamble byte " + i, out);
            }
            case 1, 2 -> { // header value rewrites
                String[] descrs = {"<f4", ">f4", "<f2", "<f8", "|b1", "<i8", "<i4", "|u1", "|i1", "<u8", "<c8", "<U5",
                    "O", "<V4", "f4", "", "<f16", "<i0"};
                String[] shapes = {"()", "(1,)", "(6,)", "(2, 3)", "(3, 2)", "(-1,)", "(0,)", "(4294967296, 4294967296)",
                    "(99999999999999999999,)", "(2L, 3L)", "(2, 3, 1, 1)", "[2, 3]", "(1000000000,)", "(2,,)", "(x,)"};
                String[] orders = {"False", "True", "0", "None", "'False'"};
                String dict = "{'descr': '" + descrs[r.nextInt(descrs.length)] + "', 'fortran_order': "
                        + orders[r.nextInt(orders.length)] + ", 'shape': " + shapes[r.nextInt(shapes.length)] + ", }";
                if (r.nextInt(5) == 0) {
                    dict = dict.replace("'shape'", "'shapes'");
                }
                return new Mutant("header " + dict, npy(dict, data, r.nextInt(4) == 0 ? r.nextInt(200) : -1));
            }
            case 3 -> { // header text edits
                StringBuilder s = new StringBuilder(header);
                for (int e = 0; e < 1 + r.nextInt(3); e++) {
                    int at = r.nextInt(s.length());
                    s.setCharAt(at, pick(r, "{}()[]',:- 0123456789TFLx\n\\\""));
                }
                return new Mutant("header text " + s, npy(s.toString(), data, -1));
            }
            case 4 -> { // truncation / extension
                int len = r.nextInt(base.length + 8);
                return new Mutant("length " + len, Arrays.copyOf(base, len));
            }
            case 5 -> { // random bytes
                byte[] out = base.clone();
                for (int f = 0; f < 1 + r.nextInt(6); f++) {
                    out[r.nextInt(out.length)] = (byte) r.nextInt(256);
                }
                return new Mutant("random bytes", out);
            }
            default -> { // noise after a valid magic
                byte[] out = new byte[r.nextInt(100)];
                r.nextBytes(out);
                System.arraycopy(base, 0, out, 0, Math.min(out.length, 6 + r.nextInt(5)));
                return new Mutant("noise", out);
            }
        }
    }

    /** A version 1.0 .npy with the given header text; a non-negative {@code lengthField} overrides its length. */
    private static byte[] npy(String header, byte[] data, int lengthField) {
        byte[] h = (header + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.putShort((short) (lengthField >= 0 ? lengthField : h.length));
        return b.put(h).put(data).array();
    }

    // ------------------------------------------------------------------------------------------ runs

    /** Counts of what happened, printed at the end of a run. */
    private static final class Tally {
        int accepted;
        int rejected;
        final Map<String, Integer> reasons = new LinkedHashMap<>();

        void reject(InvalidInputException e) {
            rejected++;
            String m = e.getMessage();
            String reason = m.substring(m.indexOf(": ") + 2).replaceAll("'[^']*'", "'…'").replaceAll("[0-9]+", "N");
            reason = reason.length() > 60 ? reason.substring(0, 60) : reason;
            reasons.merge(reason, 1, Integer::sum);
        }

        String summary(String what, long nanos) {
            StringBuilder s = new StringBuilder(String.format("%s: %d inputs in %.1f s, %d accepted, %d rejected; "
                    + "%d distinct messages, the most frequent:%n", what, accepted + rejected, nanos / 1e9, accepted,
                    rejected, reasons.size()));
            reasons.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(12)
                    .forEach(e -> s.append(String.format("  %6d  %s%n", e.getValue(), e.getKey())));
            return s.toString();
        }
    }

    /**
     * At least this share of mutated inputs must still be accepted: the mutators change a few bytes of a valid file,
     * and a change inside tensor data or an unused header byte leaves a readable file (2–6% of cases at the default
     * seed). A reader that rejected everything would otherwise pass a run that only asserts the exception type.
     */
    private static final double MIN_ACCEPTED_SHARE = 0.01;

    private void run(String what, List<byte[]> unmutated, Function<Random, Mutant> mutate, ReadCheck read)
            throws IOException {
        Path input = dir.resolve("input");
        for (byte[] valid : unmutated) {
            Files.write(input, valid);
            read.read(input, true); // the unmutated seeds must load, through DJL too: any exception fails the test
        }
        Tally tally = new Tally();
        long start = System.nanoTime();
        for (int i = 0; i < ITERATIONS; i++) {
            long seed = SEED * 1_000_003L + i;
            Random r = new Random(seed);
            Mutant m = mutate.apply(r);
            Files.write(input, m.bytes);
            try {
                try {
                    read.read(input, i % DJL_EVERY == 0);
                    tally.accepted++;
                } catch (InvalidInputException e) {
                    tally.reject(e);
                }
                inspectCleanly(input);
            } catch (Throwable t) {
                Path kept = Path.of("target", "fuzz-failures", what + "-" + seed);
                Files.createDirectories(kept.getParent());
                Files.write(kept, m.bytes);
                fail(what + " iteration " + i + " (seed " + seed + ", " + m.how + ", kept in " + kept + ") threw "
                        + t, t);
            }
        }
        System.out.print(tally.summary(what, System.nanoTime() - start));
        assertTrue(tally.accepted >= MIN_ACCEPTED_SHARE * ITERATIONS, what + ": only " + tally.accepted + " of "
                + ITERATIONS + " mutated inputs were accepted (at least " + MIN_ACCEPTED_SHARE * 100 + "% expected)");
    }

    /** {@code vitscope inspect} on the same input: a report or a named error, nothing else (issue 18). */
    private static void inspectCleanly(Path input) {
        try {
            Inspection.of(input).text();
        } catch (InvalidInputException e) {
            // a clear, named error: what the CLI prints with exit status 3
        }
    }

    private interface ReadCheck {
        void read(Path file, boolean throughDjl) throws IOException;
    }

    @Test
    void safetensorsReaderRejectsMalformedFilesCleanly() throws IOException {
        byte[] valid = validSafetensors();
        run("safetensors", List.of(valid), r -> mutateSafetensors(valid, r), (file, djl) -> {
            try (Safetensors st = Safetensors.open(file, !djl)) {
                st.metadata();
                for (TensorInfo t : st.tensors()) {
                    if (djl) {
                        NDArray a = st.readNDArray(t.name(), manager);
                        a.close();
                    } else {
                        st.readFloats(t.name());
                    }
                    if (!t.dtype().isFloatingPoint()) {
                        st.readLongs(t.name());
                    }
                }
            }
        });
    }

    @Test
    void npyReaderRejectsMalformedFilesCleanly() throws IOException {
        List<byte[]> valid = validNpys();
        run("npy", valid, r -> mutateNpy(valid, r), (file, djl) -> {
            NpyArray a = Npy.read(file);
            a.floats();
            a.doubles();
            if (!a.dtype().isFloatingPoint()) {
                a.longs();
            }
            if (djl) {
                a.toNDArray(manager).close();
            }
        });
    }

    @Test
    void npzReaderRejectsMalformedArchivesCleanly() throws IOException {
        LinkedHashMap<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("a/b", NpyArray.ofFloats(new long[] {2, 2}, new float[] {1, 2, 3, 4}));
        arrays.put("n", NpyArray.scalar(5L));
        Path seed = dir.resolve("seed.npz");
        Npz.write(seed, arrays);
        byte[] valid = Files.readAllBytes(seed);
        run("npz", List.of(valid), r -> {
            byte[] out = r.nextInt(4) == 0 ? Arrays.copyOf(valid, r.nextInt(valid.length + 1)) : valid.clone();
            int flips = 1 + r.nextInt(4);
            for (int f = 0; f < flips && out.length > 0; f++) {
                out[r.nextInt(out.length)] = (byte) r.nextInt(256);
            }
            return new Mutant(flips + " random bytes", out);
        }, (file, djl) -> Npz.read(file).values().forEach(NpyArray::floats));
    }
}
