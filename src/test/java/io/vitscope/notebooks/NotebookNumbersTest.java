package io.vitscope.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The numbers the notebooks print, against PyTorch: {@code scripts/make_notebook_goldens.py} runs the embedded model
 * on the notebooks' demo image independently of vitscope and writes each quantity with its float32 error bound
 * ({@code golden/notebooks/embedded.json}). NotebooksTest checks that a fresh run prints what is stored; this test
 * checks that what is stored is right: each printed number within its bound plus half a unit of its last printed
 * digit. (Without it, the stored outputs were only snapshots of the Java code itself.)
 */
class NotebookNumbersTest {

    static final Path NOTEBOOKS = Path.of("notebooks");
    static JsonObject golden;
    static List<String> labels;

    @BeforeAll
    static void read() throws IOException {
        golden = JsonParser.parseString(Files.readString(Golden.file("notebooks/embedded.json"))).getAsJsonObject();
        labels = new ArrayList<>();
        golden.getAsJsonArray("labels").forEach(l -> labels.add(l.getAsString()));
    }

    /** Everything the notebook's code cells printed, in order. */
    static String printed(String notebook) {
        StringBuilder out = new StringBuilder();
        for (Notebook.CodeCell cell : Notebook.read(NOTEBOOKS.resolve(notebook)).codeCells()) {
            JsonArray outputs = cell.json().getAsJsonArray("outputs");
            if (outputs == null) {
                continue;
            }
            for (Output o : Output.fromJson(outputs)) {
                if (o instanceof Output.Stream s) {
                    out.append(s.text());
                }
            }
        }
        return out.toString();
    }

    static JsonObject factor(double f) {
        for (var e : golden.getAsJsonArray("factors")) {
            if (e.getAsJsonObject().get("factor").getAsDouble() == f) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no factor " + f + " in embedded.json: re-run scripts/make_notebook_goldens.py");
    }

    /** Asserts a number printed with {@code decimals} places is PyTorch's {@code value} within {@code bound}. */
    static void near(String printed, double value, double bound, String what) {
        int dot = printed.indexOf('.');
        int decimals = dot < 0 ? 0 : printed.length() - dot - 1;
        double allowed = 0.5 * Math.pow(10, -decimals) + bound + 1e-12;
        double got = Double.parseDouble(printed);
        assertTrue(Math.abs(got - value) <= allowed, what + ": the notebook prints " + printed + ", PyTorch gives "
                + value + " (± " + allowed + ": half the last digit plus the float32 bound " + bound + ")");
    }

    static void near(String printed, JsonObject pair, int index, String what) {
        double v = index < 0 ? pair.get("value").getAsDouble() : pair.getAsJsonArray("value").get(index).getAsDouble();
        double e = index < 0 ? pair.get("bound").getAsDouble() : pair.getAsJsonArray("bound").get(index).getAsDouble();
        near(printed, v, e, what);
    }

    /** The five "  label  0.1234" lines after {@code header}: PyTorch's top-5, in order, with their probabilities. */
    static void topFive(String text, String header, double f) {
        int at = text.indexOf(header);
        assertTrue(at >= 0, "the notebook no longer prints '" + header + "'");
        String[] lines = text.substring(at + header.length()).strip().split("\n");
        JsonObject probs = factor(f).getAsJsonObject("probabilities");
        JsonArray p = probs.getAsJsonArray("value");
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < p.size(); k++) {
            order.add(k);
        }
        order.sort((a, b) -> Double.compare(p.get(b).getAsDouble(), p.get(a).getAsDouble()));
        for (int r = 0; r < 5; r++) {
            Matcher m = Pattern.compile("^\\s*(.+?)\\s+([0-9.]+)$").matcher(lines[r]);
            assertTrue(m.matches(), lines[r]);
            assertEquals(labels.get(order.get(r)), m.group(1), header + " rank " + (r + 1));
            near(m.group(2), probs, order.get(r), header + " " + m.group(1));
        }
    }

    @Test
    void dissectingVitPrintsPyTorchsNumbers() {
        String text = printed("dissecting-vit.ipynb");
        assertTrue(text.contains("the embedded model"), "the stored outputs are the embedded model's");
        topFive(text, "top-5:", 1);
        topFive(text, "Top-5 with attention logits x 3:", 3);
        Matcher plain = Pattern.compile("mean entropy of block 4's attention rows: ([0-9.]+) nats \\(").matcher(text);
        assertTrue(plain.find(), "block 4's entropy line");
        near(plain.group(1), factor(1).getAsJsonObject("entropy"), 4, "block 4 entropy");
        Matcher x3 = Pattern.compile("attention rows: ([0-9.]+) nats, was ([0-9.]+)").matcher(text);
        assertTrue(x3.find(), "block 4's entropy with x3");
        near(x3.group(1), factor(3).getAsJsonObject("entropy"), 4, "block 4 entropy, x3");
        near(x3.group(2), factor(1).getAsJsonObject("entropy"), 4, "block 4 entropy, x3 line's 'was'");
    }

    @Test
    void attentionRolloutPrintsPyTorchsNumbers() {
        String text = printed("attention-rollout.ipynb");
        Matcher top = Pattern.compile("top-1: (\\S+) \\(([0-9.]+)\\)").matcher(text);
        assertTrue(top.find());
        JsonObject p1 = factor(1).getAsJsonObject("probabilities");
        near(top.group(2), p1, labels.indexOf(top.group(1)), "top-1");

        // The entropy table: one row per factor, every block's mean entropy, then the top-1.
        Matcher row = Pattern.compile("(?m)^(\\d+\\.\\d+)\\s+((?:\\d\\.\\d{3}\\s+)+)\\s*(\\S+) \\(([0-9.]+)\\)$").matcher(text);
        int rows = 0;
        while (row.find()) {
            JsonObject f = factor(Double.parseDouble(row.group(1)));
            String[] h = row.group(2).trim().split("\\s+");
            assertEquals(f.getAsJsonObject("entropy").getAsJsonArray("value").size(), h.length, "blocks");
            for (int b = 0; b < h.length; b++) {
                near(h[b], f.getAsJsonObject("entropy"), b, "factor " + row.group(1) + " block " + b + " entropy");
            }
            near(row.group(4), f.getAsJsonObject("probabilities"), labels.indexOf(row.group(3)),
                    "factor " + row.group(1) + " top-1 " + row.group(3));
            rows++;
        }
        assertEquals(5, rows, "one entropy row per factor");

        Matcher share = Pattern.compile("× (\\d+\\.\\d+)\\s+on the patches ([0-9.]+)").matcher(text);
        int shares = 0;
        while (share.find()) {
            near(share.group(2), factor(Double.parseDouble(share.group(1))).getAsJsonObject("rollout_patch_share"), -1,
                    "rollout share at x" + share.group(1));
            shares++;
        }
        assertEquals(5, shares, "one rollout share per factor");

        Matcher all = Pattern.compile("After all \\d+ blocks, ([0-9.]+) of").matcher(text);
        assertTrue(all.find());
        near(all.group(1), factor(1).getAsJsonObject("rollout_patch_share"), -1, "rollout share");

        Matcher variant = Pattern.compile("(mean|max|min), discard ([0-9.]+)\\s+on the patches ([0-9.]+), strongest "
                + "patch \\(row \\d+, col \\d+\\) ([0-9.]+)").matcher(text);
        int variants = 0;
        while (variant.find()) {
            JsonObject v = null;
            for (var e : factor(1).getAsJsonArray("rollout_variants")) {
                JsonObject o = e.getAsJsonObject();
                if (o.get("fusion").getAsString().equals(variant.group(1))
                        && o.get("discard").getAsDouble() == Double.parseDouble(variant.group(2))) {
                    v = o;
                }
            }
            assertTrue(v != null, "no golden for " + variant.group());
            near(variant.group(3), v.getAsJsonObject("patch_share"), -1, variant.group(1) + " " + variant.group(2));
            near(variant.group(4), v.getAsJsonObject("strongest_patch"), -1, variant.group(1) + " " + variant.group(2));
            variants++;
        }
        assertEquals(6, variants, "the six fusion/discard variants");
    }
}
