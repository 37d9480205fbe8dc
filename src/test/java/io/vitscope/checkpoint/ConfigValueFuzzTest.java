package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.vitscope.image.DataConfig;
import io.vitscope.InvalidInputException;
import io.vitscope.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config values, one key at a time (issue 11, "habits"): the golden tiny model's timm {@code config.json}, Hugging
 * Face {@code config.json} and {@code preprocessor_config.json}, with one value replaced by a hostile one (0, −1,
 * 1e-9, 1e10, 12.7, "twelve", null, NaN, lists, objects, control characters...), removed, or one list element
 * replaced. Unlike {@code ModelLoadFuzzTest}, which accepts any named error, this one asserts the outcome:
 *
 * <ul>
 *   <li>the unmutated configs load and run;</li>
 *   <li>a mutated config either loads (and a forward runs, with a data config that fits the network) or fails with
 *       an {@link InvalidInputException} — never a bare {@code IllegalArgumentException}, {@code ClassCastException},
 *       Gson's or Java's own text;</li>
 *   <li>the rejection names the mutated file and the mutated key — or, for a value that is well-formed but does not
 *       fit the checkpoint (another class count, say), names the weights file and lists the tensors that do not
 *       fit.</li>
 * </ul>
 *
 * <p>Iterations from {@code -Dvitscope.fuzz.iterations} (default 600), seed from {@code -Dvitscope.fuzz.seed}.
 */
@Tag("fuzz")
class ConfigValueFuzzTest {

    private static final long CASE_TIMEOUT_MS = 20_000;
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    @TempDir
    Path tmp;

    /** Which of the three configs a case mutates. */
    private enum Target { TIMM, HF_CONFIG, HF_PREPROCESSOR }

    private static JsonElement hostile(Random r) {
        Object[] values = {0, -1, 1, 2, 3, 7, 12.7, 1e-9, 1e-4, 1e-3, 0.5, 1e10, 2147483647, 2147483648L,
            -2147483648, 1e308, "twelve", "", "bogus", "center", "squash", "bicubic", "bilinear", null, true, false,
            "[]", "[1]", "[1, 2]", "[3, 32, 32]", "[null, null, null]", "{}", "{\"a\": 1}", Double.NaN,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, "a\tb\nc", "\uFEFFx"};
        Object v = values[r.nextInt(values.length)];
        if (v == null) {
            return JsonNull.INSTANCE;
        }
        if (v instanceof String s && (s.startsWith("[") || s.startsWith("{"))) {
            return JsonParser.parseString(s);
        }
        if (v instanceof String s) {
            return new JsonPrimitive(s);
        }
        if (v instanceof Boolean b) {
            return new JsonPrimitive(b);
        }
        return new JsonPrimitive((Number) v);
    }

    /** A mutated object and the key path (dotted, the leaf last) that was changed. */
    private record Mutation(String text, String path, String leaf) {}

    private static Mutation mutate(String text, Random r) {
        JsonObject root = JsonParser.parseString(text).getAsJsonObject();
        JsonObject target = root;
        List<String> keys = new ArrayList<>(root.keySet());
        String key = keys.get(r.nextInt(keys.size()));
        String path = key;
        JsonElement el = root.get(key);
        if (el.isJsonObject() && el.getAsJsonObject().size() > 0 && r.nextBoolean()) {
            target = el.getAsJsonObject();
            List<String> inner = new ArrayList<>(target.keySet());
            key = inner.get(r.nextInt(inner.size()));
            path += "." + key;
            el = target.get(key);
        }
        String leaf = key;
        int how = r.nextInt(8);
        String described;
        if (how == 0) {
            target.remove(key);
            described = path + " removed";
        } else if (how == 1 && el.isJsonArray() && el.getAsJsonArray().size() > 0) {
            JsonArray a = el.getAsJsonArray();
            int i = r.nextInt(a.size());
            JsonElement v = hostile(r);
            a.set(i, v);
            described = path + "[" + i + "] = " + v;
        } else {
            JsonElement v = hostile(r);
            target.add(key, v);
            described = path + " = " + v;
        }
        return new Mutation(GSON.toJson(root), described, leaf);
    }

    @Test
    void everyRejectedConfigValueIsNamedByFileAndKey() throws Exception {
        int iterations = Integer.getInteger("vitscope.fuzz.iterations", 600);
        long seed = Long.getLong("vitscope.fuzz.seed", 20261130L);
        Path hf = Golden.dir("tiny/hf");
        String timmConfig = ModelsTest.TIMM_HUB_CONFIG;
        String hfConfig = Files.readString(hf.resolve("config.json"));
        String hfPre = Files.readString(hf.resolve("preprocessor_config.json"));

        for (Target t : Target.values()) {
            Path dir = write(tmp.resolve("seed-" + t), t, t == Target.TIMM ? timmConfig : hfConfig, hfPre);
            assertEquals("ok", runOne(dir), "the unmutated " + t + " config loads");
        }

        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "config-value-fuzz");
            th.setDaemon(true);
            return th;
        });
        try {
            for (int it = 0; it < iterations; it++) {
                Random rnd = new Random(seed * 1_000_003L + it);
                Target t = Target.values()[rnd.nextInt(3)];
                String original = switch (t) {
                    case TIMM -> timmConfig;
                    case HF_CONFIG -> hfConfig;
                    case HF_PREPROCESSOR -> hfPre;
                };
                Mutation m = mutate(original, rnd);
                String mutatedFile = t == Target.HF_PREPROCESSOR ? "preprocessor_config.json" : "config.json";
                Path dir = tmp.resolve("case-" + it);
                write(dir, t, t == Target.HF_PREPROCESSOR ? hfConfig : m.text(), t == Target.HF_PREPROCESSOR ? m.text() : hfPre);
                String label = "case " + it + " (seed " + seed + ", " + t + ": " + m.path() + ")";
                Future<String> f = pool.submit(() -> runOne(dir));
                String outcome;
                try {
                    outcome = f.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    throw new AssertionError(label + " ran longer than " + CASE_TIMEOUT_MS + " ms");
                } catch (ExecutionException e) {
                    failures.add(label + " threw " + e.getCause());
                    continue;
                }
                if (!outcome.equals("ok")) {
                    String problem = checkNamed(label, outcome, dir.resolve(mutatedFile), dir.resolve("model.safetensors"),
                            m.leaf());
                    if (problem != null) {
                        failures.add(problem);
                    }
                    outcome = "refused";
                }
                outcomes.merge(t + " " + outcome, 1, Integer::sum);
            }
        } finally {
            pool.shutdownNow();
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + iterations + " cases failed:\n" + String.join("\n",
                    failures.subList(0, Math.min(40, failures.size()))));
        }
        System.out.printf("config-value fuzz: %d cases, outcomes %s%n", iterations, outcomes);
    }

    /** A refusal must name the mutated file and key, or the weights file with the tensors that do not fit it. */
    private static String checkNamed(String label, String outcome, Path file, Path weights, String key) {
        if (outcome.startsWith(weights + ": the checkpoint does not fit")) {
            return null;
        }
        if (outcome.contains(file.getFileName() + "'s " + key)) {
            return null;       // a value that contradicts another file's, named there ("config.json's image_size")
        }
        if (!outcome.startsWith(file + ": ")) {
            return label + " was refused without naming " + file.getFileName() + ": " + outcome;
        }
        if (!outcome.contains(key)) {
            return label + " was refused without naming the key '" + key + "': " + outcome;
        }
        return null;
    }

    private static Path write(Path dir, Target t, String config, String preprocessor) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config);
        if (t == Target.TIMM) {
            Files.copy(Golden.file("tiny/timm.safetensors"), dir.resolve("model.safetensors"));
        } else {
            Files.writeString(dir.resolve("preprocessor_config.json"), preprocessor);
            Files.copy(Golden.dir("tiny/hf").resolve("model.safetensors"), dir.resolve("model.safetensors"));
        }
        return dir;
    }

    /** "ok", or the message of the InvalidInputException; any other exception propagates and fails the run. */
    private static String runOne(Path dir) {
        try (LoadedModel loaded = Models.load(null, dir); NDManager m = NDManager.newBaseManager()) {
            VitConfig v = loaded.config();
            DataConfig d = loaded.dataConfig();
            if (d.inChans() != v.inChans() || d.height() != v.imgHeight() || d.width() != v.imgWidth()) {
                throw new AssertionError("loaded a data config that does not fit the network: " + d + " vs " + v);
            }
            for (String label : loaded.labels()) {
                if (label.chars().anyMatch(ch -> ch == '\n' || ch == '\r' || ch == '\t')) {
                    throw new AssertionError("a class name spans lines or columns: '" + label + "'");
                }
            }
            NDArray x = m.zeros(new Shape(1, v.inChans(), v.imgHeight(), v.imgWidth()));    // (B, C, H, W)
            assertArrayEquals(new long[] {1, v.numClasses()}, loaded.model().forward(x).getShape().getShape());
            return "ok";
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
    }
}
