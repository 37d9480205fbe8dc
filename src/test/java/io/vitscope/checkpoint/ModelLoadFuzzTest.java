package io.vitscope.checkpoint;

import io.vitscope.image.DataConfig;
import io.vitscope.model.Presets;
import io.vitscope.model.VitConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.vitscope.Golden;
import io.vitscope.VitscopeException;
import io.vitscope.weights.DType;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.SafetensorsWriter;
import io.vitscope.weights.TensorInfo;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole model-loading path under malformed input: mutated copies of the golden tiny model — as a Hugging Face
 * folder ({@code config.json}, {@code preprocessor_config.json}, {@code model.safetensors}) and as a timm hub folder
 * ({@code config.json} with {@code model_args} / {@code pretrained_cfg} / {@code label_names}, timm-named weights)
 * — through {@link Models#load}, and when a model loads, one forward. The only acceptable failures are
 * {@link VitscopeException} (including {@code InvalidInputException}) and {@link IllegalArgumentException}, each
 * with a message; an OutOfMemoryError, IndexOutOfBounds, NullPointerException, a case slower than
 * {@link #CASE_TIMEOUT_MS} or a JVM abort fails the run.
 *
 * <p>The byte-level safetensors parser has its own fuzz ({@code CheckpointFuzzTest}); here the checkpoints are
 * mostly well-formed files with the wrong content — renamed, dropped, re-shaped, re-typed or non-finite tensors —
 * which get past the parser into layout detection, HF→timm conversion and strict loading, and the configs carry
 * extreme or ill-typed values.
 *
 * <p>Iterations from {@code -Dvitscope.fuzz.iterations} (default 1,000, about 16 s on 2 cores); the long run is in
 * {@code docs/robustness.md}:
 * <pre>
 * mvn -o test -Dtest=ModelLoadFuzzTest -Dvitscope.fuzz.iterations=100000 -Dvitscope.fuzz.seed=1
 * </pre>
 * A failing case's files are kept under {@code target/fuzz-failures/model-load-<case>/}.
 */
@Tag("fuzz")
class ModelLoadFuzzTest {

    private static final long CASE_TIMEOUT_MS = 20_000;
    /** {@code -Dvitscope.fuzz.dryRun=true}: only generate the mutations (checks the harness itself, quickly). */
    private static final boolean DRY_RUN = Boolean.getBoolean("vitscope.fuzz.dryRun");
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    @TempDir
    Path tmp;

    /** A tensor in memory: name, shape, float32 values. */
    private record Tensor(String name, long[] shape, float[] values) {}

    /** One model folder before it is written: config texts (null = absent) and tensors. */
    private static final class Case {
        final boolean hf;
        String config;
        String preprocessor;
        List<Tensor> tensors;
        byte[] rawWeights; // when set, written instead of the tensors
        DType storeAs = DType.F32;
        String arch; // passed to Models.load
        boolean weightsFile; // load the file (config beside it) rather than the folder
        final List<String> how = new ArrayList<>();

        Case(boolean hf) {
            this.hf = hf;
        }
    }

    private static List<Tensor> tensors(Path file) {
        List<Tensor> out = new ArrayList<>();
        try (Safetensors st = Safetensors.open(file)) {
            for (TensorInfo t : st.tensors()) {
                FloatBuffer fb = st.readFloats(t.name());
                float[] v = new float[fb.remaining()];
                fb.get(v);
                out.add(new Tensor(t.name(), t.shape(), v));
            }
        }
        return out;
    }

    /** timm's hub config.json for the golden tiny model (the format Models reads beside timm weights). */
    private static String timmHubConfig() throws IOException {
        JsonObject golden = JsonParser.parseString(Files.readString(Golden.dir("tiny").resolve("config.json")))
                .getAsJsonObject();
        JsonObject args = new JsonObject();
        for (String k : new String[] {"img_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
            "mlp_ratio", "qkv_bias", "layer_norm_eps"}) {
            args.add(k, golden.get(k));
        }
        JsonObject cfg = new JsonObject();
        JsonArray input = new JsonArray();
        input.add(3);
        input.add(32);
        input.add(32);
        cfg.add("input_size", input);
        for (String k : new String[] {"mean", "std", "crop_pct", "interpolation"}) {
            cfg.add(k, golden.get(k));
        }
        cfg.addProperty("crop_mode", "center");
        JsonObject c = new JsonObject();
        c.addProperty("architecture", "vit_golden_tiny");
        c.addProperty("num_classes", golden.get("num_classes").getAsInt());
        c.add("model_args", args);
        c.add("pretrained_cfg", cfg);
        JsonArray labels = new JsonArray();
        for (String l : Files.readAllLines(Golden.dir("tiny").resolve("labels.txt"))) {
            labels.add(l);
        }
        c.add("label_names", labels);
        return GSON.toJson(c);
    }

    @BeforeAll
    static void quietPoolerWarning() {
        // Every HF case with a 'vit.pooler.*' tensor would log that it is ignored: thousands of lines in a long run.
        System.setProperty("org.slf4j.simpleLogger.log.io.vitscope.checkpoint.HfVitLayout", "error");
    }

    @Test
    void malformedModelsFailOnlyWithNamedErrors() throws Exception {
        int iterations = Integer.getInteger("vitscope.fuzz.iterations", 1_000);
        long seed = Long.getLong("vitscope.fuzz.seed", 20240607L);
        Path hfDir = Golden.dir("tiny/hf");
        String hfConfig = Files.readString(hfDir.resolve("config.json"));
        String hfPre = Files.readString(hfDir.resolve("preprocessor_config.json"));
        List<Tensor> hfTensors = tensors(hfDir.resolve("model.safetensors"));
        String timmConfig = timmHubConfig();
        List<Tensor> timmTensors = tensors(Golden.dir("tiny").resolve("timm.safetensors"));

        // The unmutated seeds must load: otherwise every case would fail for the same dull reason.
        for (boolean hf : new boolean[] {true, false}) {
            Case c = new Case(hf);
            c.config = hf ? hfConfig : timmConfig;
            c.preprocessor = hf ? hfPre : null;
            c.tensors = hf ? hfTensors : timmTensors;
            String outcome = runOne(write(c, tmp.resolve(hf ? "seed-hf" : "seed-timm")), c);
            if (!outcome.equals("ok")) {
                fail("the unmutated " + (hf ? "HF" : "timm") + " seed does not load: " + outcome);
            }
        }

        Map<String, Integer> outcomes = new TreeMap<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "model-load-fuzz");
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        long worstMs = 0;
        try {
            for (int it = 0; it < iterations; it++) {
                Random rnd = new Random(seed * 1_000_003L + it);
                boolean hf = rnd.nextBoolean();
                Case c = new Case(hf);
                c.config = hf ? hfConfig : timmConfig;
                c.preprocessor = hf ? hfPre : null;
                c.tensors = new ArrayList<>(hf ? hfTensors : timmTensors);
                int mutations = 1 + (rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(2) : 0);
                for (int m = 0; m < mutations; m++) {
                    mutate(c, rnd);
                }
                if (DRY_RUN) {
                    continue;
                }
                String label = "case " + it + " (seed " + seed + ", " + (hf ? "HF" : "timm") + ": "
                        + String.join("; ", c.how) + ")";
                Path dir = tmp.resolve("case");
                deleteTree(dir);
                Path model = write(c, dir);
                long t0 = System.nanoTime();
                Future<String> f = pool.submit(() -> runOne(model, c));
                try {
                    String outcome = f.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    if (outcome.equals("ok") && !c.storeAs.isFloatingPoint() && c.rawWeights == null && c.tensors != null
                            && !c.tensors.isEmpty()) {
                        keep(dir, it);
                        fail(label + " loaded " + c.storeAs + " tensors as weights");
                    }
                    outcomes.merge(outcome, 1, Integer::sum);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    keep(dir, it);
                    fail(label + " ran longer than " + CASE_TIMEOUT_MS + " ms");
                } catch (ExecutionException e) {
                    keep(dir, it);
                    throw new AssertionError(label + " threw " + e.getCause(), e.getCause());
                }
                worstMs = Math.max(worstMs, (System.nanoTime() - t0) / 1_000_000);
                if ((it + 1) % 10_000 == 0) {
                    System.out.printf("model-load fuzz: %d cases, %.0f s%n", it + 1, (System.nanoTime() - start) / 1e9);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("model-load fuzz: %d cases in %.1f s, slowest %d ms, outcomes %s%n", iterations,
                (System.nanoTime() - start) / 1e9, worstMs, outcomes);
        if (!DRY_RUN) {
            // Many mutations keep a loadable model (a value changed inside a tensor, an unused config key, a
            // permitted alternative spelling): about a third of cases at the default seed. A loader that refused
            // everything would otherwise pass a run that checks only the kind of failure; 10% is well clear of both.
            int ok = outcomes.getOrDefault("ok", 0);
            assertTrue(ok >= 0.10 * iterations, "only " + ok + " of " + iterations + " mutated models loaded: "
                    + outcomes);
        }
    }

    /** "ok", or a short class of the named error; anything else propagates and fails the run. */
    private static String runOne(Path model, Case c) {
        try {
            // vitscope inspect on the same model (issue 18): a report or a named error, never anything else.
            Inspection.of(model).text();
        } catch (VitscopeException | IllegalArgumentException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("inspect: " + e.getClass().getSimpleName() + " without a message", e);
            }
        }
        try (LoadedModel loaded = Models.load(c.arch, model); NDManager m = NDManager.newBaseManager()) {
            VitConfig v = loaded.config();
            DataConfig d = loaded.dataConfig();
            if (d.inChans() != v.inChans() || d.height() != v.imgHeight() || d.width() != v.imgWidth()) {
                // A data config that does not fit its model would fail every prediction later, far from the cause.
                throw new AssertionError("loaded a model whose data config (" + d.inChans() + "x" + d.height() + "x"
                        + d.width() + ") does not fit the network (" + v.inChans() + "x" + v.imgHeight() + "x"
                        + v.imgWidth() + ")");
            }
            NDArray x = m.zeros(new Shape(1, v.inChans(), v.imgHeight(), v.imgWidth()));  // (B, C, H, W)
            NDArray logits = loaded.model().forward(x);                                   // (B, K)
            assertArrayEquals(new long[] {1, v.numClasses()}, logits.getShape().getShape());
            return "ok";
        } catch (VitscopeException e) {
            String msg = e.getMessage();
            if (msg == null || msg.isBlank()) {
                throw new AssertionError(e.getClass().getSimpleName() + " without a message", e);
            }
            // the problem's first words, without the file, quoted names, numbers and tensor names
            String problem = msg.replace(model.getParent().toString(), "").replaceAll("^[^:]*: ", "")
                    .replaceAll("'[^']*'", "").replaceAll("\\S*[.0-9]\\S*", "");
            String[] words = problem.trim().split("[ :'\"]+");
            return e.getClass().getSimpleName() + ": " + String.join(" ", Arrays.copyOf(words, Math.min(3, words.length)));
        }
    }

    // ------------------------------------------------------------------------------------------ writing

    private static Path write(Case c, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (c.config != null) {
            Files.writeString(dir.resolve("config.json"), c.config);
        }
        if (c.preprocessor != null) {
            Files.writeString(dir.resolve("preprocessor_config.json"), c.preprocessor);
        }
        Path weights = dir.resolve("model.safetensors");
        if (c.rawWeights != null) {
            Files.write(weights, c.rawWeights);
        } else if (c.tensors != null) {
            encode(c).write(weights);
        }
        return c.weightsFile ? weights : dir;
    }

    private static SafetensorsWriter encode(Case c) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Tensor t : c.tensors) {
            if (c.storeAs == DType.F32) {
                w.add(t.name(), t.shape(), t.values());
            } else {
                ByteBuffer b = ByteBuffer.allocate(c.storeAs.itemSize() * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : t.values()) {
                    switch (c.storeAs) {
                        case F16 -> b.putShort(toHalf(v));
                        case BF16 -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                        case I64 -> b.putLong((long) v);
                        case I8 -> b.put((byte) v);
                        case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
                        default -> throw new IllegalStateException("no encoder for " + c.storeAs);
                    }
                }
                w.addRaw(t.name(), c.storeAs, t.shape(), b.array());
            }
        }
        return w;
    }

    /** float32 → IEEE half, rounding to nearest (Java 17 has no Float.floatToFloat16). */
    static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int val = (bits & 0x7fffffff) + 0x1000;
        if (val >= 0x47800000) {
            if ((bits & 0x7fffffff) >= 0x47800000) {
                return (short) (val < 0x7f800000 ? sign | 0x7c00 : sign | 0x7c00 | 0x200); // inf, or a NaN
            }
            return (short) (sign | 0x7bff);
        }
        if (val >= 0x38800000) {
            return (short) (sign | (val - 0x38000000) >>> 13);
        }
        if (val < 0x33000000) {
            return (short) sign;
        }
        val = (bits & 0x7fffffff) >>> 23;
        return (short) (sign | ((bits & 0x7fffff | 0x800000) + (0x800000 >>> (val - 102)) >>> (126 - val)));
    }

    private static byte[] bytes(Case c) throws IOException {
        Path f = Files.createTempFile("fuzz", ".safetensors");
        try {
            encode(c).write(f);
            return Files.readAllBytes(f);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    private static void keep(Path dir, int it) {
        try {
            Path to = Path.of("target", "fuzz-failures", "model-load-" + it);
            Files.createDirectories(to);
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.copy(p, to.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException ignored) {
            // the assertion message has the seed and mutation needed to reproduce the case anyway
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    // ------------------------------------------------------------------------------------------ mutations

    private static void mutate(Case c, Random r) throws IOException {
        switch (r.nextInt(10)) {
            case 0, 1, 2 -> c.config = mutateJsonText(c.config, r, c.how, "config.json");
            case 3 -> {
                if (c.hf) {
                    c.preprocessor = mutateJsonText(c.preprocessor, r, c.how, "preprocessor_config.json");
                } else {
                    c.config = mutateJsonText(c.config, r, c.how, "config.json");
                }
            }
            case 4 -> corruptText(c, r);
            case 5, 6 -> mutateTensors(c, r);
            case 7 -> {
                DType[] types = {DType.F16, DType.BF16, DType.I64, DType.I8, DType.BOOL};
                c.storeAs = types[r.nextInt(types.length)];
                c.how.add("weights stored as " + c.storeAs);
            }
            case 8 -> { // raw bytes of the checkpoint: truncation, flips
                if (c.rawWeights == null && c.tensors == null) {
                    return;
                }
                byte[] b = c.rawWeights != null ? c.rawWeights : bytes(c);
                if (b.length == 0) {
                    return;
                }
                if (r.nextBoolean()) {
                    int len = r.nextInt(b.length);
                    b = Arrays.copyOf(b, len);
                    c.how.add("weights truncated to " + len);
                } else {
                    int n = 1 + r.nextInt(6);
                    for (int i = 0; i < n; i++) {
                        b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                    c.how.add("weights: " + n + " bit flips");
                }
                c.rawWeights = b;
            }
            default -> { // how the model is named
                switch (r.nextInt(5)) {
                    case 0 -> {
                        c.config = null;
                        c.how.add("no config.json");
                    }
                    case 1 -> {
                        c.preprocessor = null;
                        c.how.add("no preprocessor_config.json");
                    }
                    case 2 -> {
                        c.tensors = null;
                        c.rawWeights = null;
                        c.how.add("no model.safetensors");
                    }
                    case 3 -> {
                        List<String> names = new ArrayList<>(Presets.names());
                        c.arch = names.get(r.nextInt(names.size()));
                        c.how.add("--model " + c.arch);
                    }
                    default -> {
                        c.weightsFile = true;
                        c.how.add("the weights file instead of the folder");
                    }
                }
            }
        }
    }

    /** Replaces, removes or adds one value somewhere in a JSON object (one level of nesting included). */
    private static String mutateJsonText(String text, Random r, List<String> how, String file) {
        if (text == null) {
            return null;
        }
        JsonObject root;
        try {
            root = JsonParser.parseString(text).getAsJsonObject();
        } catch (RuntimeException e) {
            return text; // already corrupted by an earlier mutation
        }
        JsonObject target = root;
        String path = file + ":";
        List<String> keys = new ArrayList<>(root.keySet());
        if (keys.isEmpty()) {
            root.add("hidden_size", weirdValue(r));
            how.add(path + " add hidden_size");
            return GSON.toJson(root);
        }
        String key = keys.get(r.nextInt(keys.size()));
        JsonElement el = root.get(key);
        if (el.isJsonObject() && el.getAsJsonObject().size() > 0 && r.nextInt(3) > 0) {
            target = el.getAsJsonObject();
            path += key + ".";
            List<String> inner = new ArrayList<>(target.keySet());
            key = inner.get(r.nextInt(inner.size()));
            el = target.get(key);
        }
        switch (r.nextInt(6)) {
            case 0 -> {
                target.remove(key);
                how.add(path + key + " removed");
            }
            case 1 -> {
                if (el.isJsonArray() && el.getAsJsonArray().size() > 0) {
                    JsonArray a = el.getAsJsonArray();
                    int i = r.nextInt(a.size());
                    JsonElement v = weirdValue(r);
                    a.set(i, v);
                    how.add(path + key + "[" + i + "] = " + v);
                } else {
                    JsonElement v = weirdValue(r);
                    target.add(key, v);
                    how.add(path + key + " = " + v);
                }
            }
            case 2 -> { // a plausible but wrong number: the golden value scaled
                if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isNumber()) {
                    double v = el.getAsDouble();
                    double[] factors = {0, -1, 0.5, 2, 3, 7, 1e3, 1e6, 1e9};
                    double f = factors[r.nextInt(factors.length)];
                    JsonPrimitive nv = Math.rint(v) == v ? new JsonPrimitive((long) (v * f)) : new JsonPrimitive(v * f);
                    target.add(key, nv);
                    how.add(path + key + " = " + nv);
                } else {
                    JsonElement v = weirdValue(r);
                    target.add(key, v);
                    how.add(path + key + " = " + v);
                }
            }
            default -> {
                JsonElement v = weirdValue(r);
                target.add(key, v);
                how.add(path + key + " = " + v);
            }
        }
        return GSON.toJson(root);
    }

    private static JsonElement weirdValue(Random r) {
        return switch (r.nextInt(20)) {
            case 0 -> new JsonPrimitive(0);
            case 1 -> new JsonPrimitive(-1);
            case 2 -> new JsonPrimitive(1);
            case 3 -> new JsonPrimitive(Integer.MAX_VALUE);
            case 4 -> new JsonPrimitive(1L << 31);
            case 5 -> new JsonPrimitive(Long.MAX_VALUE);
            case 6 -> new JsonPrimitive(new BigDecimal("1e400"));
            case 7 -> new JsonPrimitive(1e-300);
            case 8 -> new JsonPrimitive(Double.NaN);
            case 9 -> new JsonPrimitive(Double.POSITIVE_INFINITY);
            case 10 -> new JsonPrimitive(0.5);
            case 11 -> new JsonPrimitive("32");
            case 12 -> new JsonPrimitive("");
            case 13 -> JsonNull.INSTANCE;
            case 14 -> new JsonPrimitive(true);
            case 15 -> new JsonArray();
            case 16 -> new JsonObject();
            case 17 -> {
                JsonArray a = new JsonArray();
                int n = r.nextInt(5);
                for (int i = 0; i < n; i++) {
                    a.add(r.nextInt(4) == 0 ? 1_000_000_000 : r.nextInt(64));
                }
                yield a;
            }
            case 18 -> new JsonPrimitive(r.nextInt(100_000));
            default -> new JsonPrimitive(r.nextInt(64));
        };
    }

    /** Text-level damage to one of the JSON files: truncation, a deleted or inserted character, deep nesting. */
    private static void corruptText(Case c, Random r) {
        boolean pre = c.hf && r.nextBoolean() && c.preprocessor != null;
        String s = pre ? c.preprocessor : c.config;
        if (s == null) {
            return;
        }
        StringBuilder b = new StringBuilder(s);
        String what;
        switch (r.nextInt(5)) {
            case 0 -> {
                int at = r.nextInt(b.length() + 1);
                b.setLength(at);
                what = "truncated to " + at + " chars";
            }
            case 1 -> {
                if (b.length() == 0) {
                    return;
                }
                int at = r.nextInt(b.length());
                b.deleteCharAt(at);
                what = "char " + at + " deleted";
            }
            case 2 -> {
                int at = r.nextInt(b.length() + 1);
                char ch = "{}[]\",:-0123456789.eE \\nul\u00e9\u0000".charAt(r.nextInt(27));
                b.insert(at, ch);
                what = "'" + ch + "' inserted at " + at;
            }
            case 3 -> {
                b.setLength(0);
                b.append("[".repeat(1 + r.nextInt(5000)));
                what = "deep nesting";
            }
            default -> {
                b.setLength(0);
                b.append(new String[] {"", "null", "[]", "42", "\"vit\"", "{}", "\u00ef\u00bb\u00bf{}"}[r.nextInt(7)]);
                what = "replaced by '" + b + "'";
            }
        }
        if (pre) {
            c.preprocessor = b.toString();
        } else {
            c.config = b.toString();
        }
        c.how.add((pre ? "preprocessor_config.json" : "config.json") + " " + what);
    }

    private static final String[] NAME_PARTS = {"vit.encoder.layer.7.attention.attention.query.weight",
        "vit.encoder.layer.-1.output.dense.bias", "vit.encoder.layer.99999999999.intermediate.dense.weight",
        "blocks.3.attn.qkv.weight", "blocks.x.mlp.fc1.weight", "blocks..norm1.weight", "vit.embeddings.cls_token",
        "classifier.weight", "head.weight", "vit.pooler.dense.weight", "patch_embed.proj.weight", "", "pos_embed",
        "vit.layernorm.weight", "vit.encoder.layer.0.attention.attention.key.bias", "\u00e9"};

    /** Well-formed checkpoints with the wrong content. */
    private static void mutateTensors(Case c, Random r) {
        if (c.tensors == null || c.tensors.isEmpty()) {
            return;
        }
        List<Tensor> ts = new ArrayList<>(c.tensors);
        int i = r.nextInt(ts.size());
        Tensor t = ts.get(i);
        switch (r.nextInt(7)) {
            case 0 -> {
                ts.remove(i);
                c.how.add("dropped " + t.name());
            }
            case 1 -> { // renamed (never onto an existing name: the writer refuses duplicates)
                String name = NAME_PARTS[r.nextInt(NAME_PARTS.length)];
                if (ts.stream().noneMatch(x -> x.name().equals(name))) {
                    ts.set(i, new Tensor(name, t.shape(), t.values()));
                    c.how.add("renamed " + t.name() + " to '" + name + "'");
                }
            }
            case 2 -> { // same values, another shape
                long n = t.values().length;
                long[][] shapes = {{n}, {1, n}, {n, 1}, reversed(t.shape()), {}};
                long[] s = shapes[r.nextInt(shapes.length)];
                if (s.length == 0 && n != 1) {
                    s = new long[] {n};
                }
                ts.set(i, new Tensor(t.name(), s, t.values()));
                c.how.add(t.name() + " reshaped to " + Arrays.toString(s));
            }
            case 3 -> { // one dimension changed, values cut or padded
                long[] s = t.shape().clone();
                if (s.length == 0) {
                    return;
                }
                int d = r.nextInt(s.length);
                s[d] = new long[] {0, 1, s[d] + 1, Math.max(0, s[d] - 1), s[d] * 2}[r.nextInt(5)];
                long n = 1;
                for (long x : s) {
                    n *= x;
                }
                ts.set(i, new Tensor(t.name(), s, Arrays.copyOf(t.values(), (int) n)));
                c.how.add(t.name() + " resized to " + Arrays.toString(s));
            }
            case 4 -> { // non-finite or extreme values
                float[] v = t.values().clone();
                if (v.length == 0) {
                    return;
                }
                float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, 1e30f};
                float b = bad[r.nextInt(bad.length)];
                v[r.nextInt(v.length)] = b;
                ts.set(i, new Tensor(t.name(), t.shape(), v));
                c.how.add(t.name() + " holds " + b);
            }
            case 5 -> { // an extra tensor
                String name = NAME_PARTS[r.nextInt(NAME_PARTS.length)];
                if (ts.stream().noneMatch(x -> x.name().equals(name))) {
                    ts.add(new Tensor(name, t.shape(), t.values()));
                    c.how.add("extra " + name);
                }
            }
            default -> { // tensors of the other layout mixed in, or all of them gone
                if (r.nextBoolean()) {
                    ts.clear();
                    c.how.add("no tensors");
                } else {
                    Map<String, Tensor> byName = new LinkedHashMap<>();
                    ts.forEach(x -> byName.put(x.name(), x));
                    String other = c.hf ? "blocks.0.attn.qkv.weight" : "vit.encoder.layer.0.attention.attention.query.weight";
                    byName.putIfAbsent(other, new Tensor(other, t.shape(), t.values()));
                    ts = new ArrayList<>(byName.values());
                    c.how.add("mixed layouts");
                }
            }
        }
        c.tensors = ts;
        c.rawWeights = null;
    }

    private static long[] reversed(long[] s) {
        long[] out = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[s.length - 1 - i];
        }
        return out;
    }
}
