package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Golden;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ablate}, {@code patch}, {@code lens}, {@code dla} and {@code predict --effect} end to end on the golden tiny
 * model, against scripts/make_intervention_goldens.py, and their one-line refusals of bad arguments (exit 2).
 *
 * <p>The commands load the Hugging Face copy of the golden model ({@code tiny/hf}, LayerNorm eps 1e-12 where the
 * reference used 1e-6: ~5e-6 on logits, see AttentionCommandTest), so the library tests' tolerances (1e-4 per logit,
 * InterventionParityTest) apply with that added — still 1e-4 per logit with room.
 */
class InterventionCommandsTest {

    static final double LOGIT = 1e-4;
    static final String HF = Golden.dir("tiny/hf").toString();

    @TempDir
    Path dir;

    Path image0;
    Path image1;

    /** input.npy's two images as files of their own, [1, 3, 32, 32]. */
    @BeforeEach
    void split() throws IOException {
        NpyArray all = Golden.npy("tiny/input.npy");
        float[] f = all.floats();
        int per = f.length / 2;
        image0 = dir.resolve("image0.npy");
        image1 = dir.resolve("image1.npy");
        Npy.write(image0, new long[] {1, 3, 32, 32}, Arrays.copyOfRange(f, 0, per));
        Npy.write(image1, new long[] {1, 3, 32, 32}, Arrays.copyOfRange(f, per, 2 * per));
    }

    static Cli run(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, 1);
        all[1] = "--weights";
        all[2] = HF;
        System.arraycopy(args, 1, all, 3, args.length - 1);
        return Cli.run(all);
    }

    static double maxDiff(Path file, String golden) {
        NpyArray a = Npy.read(file);
        NpyArray e = Golden.npy("tiny/interventions/" + golden);
        assertArrayEquals(e.shape(), a.shape(), file.toString());
        return Golden.maxAbsDiff(a.floats(), e.floats());
    }

    static JsonObject json(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    @Test
    void ablateWritesPyTorchsNumbersTheEffectsAndAFigure() throws IOException {
        Path out = dir.resolve("ablate");
        Cli r = run("ablate", image0.toString(), "--out", out.toString(), "--mode", "mean", "--batch", "5");
        assertEquals(0, r.code(), r.err());
        // Two logits per entry: 2 × LOGIT.
        assertTrue(maxDiff(out.resolve("ablation.npy"), "ablation_mean.npy") <= 2 * LOGIT);
        assertEquals(12, json(out.resolve("effects.json")).getAsJsonArray("effects").size());
        assertTrue(Files.size(out.resolve("ablation.png")) > 1000);
        assertTrue(r.out().startsWith("target fjord (5)"), r.out());
    }

    @Test
    void lensWritesTheLensWhoseLastRowIsTheLogits() throws IOException {
        Path out = dir.resolve("lens");
        Cli r = run("lens", image0.toString(), "--out", out.toString(), "--patches");
        assertEquals(0, r.code(), r.err());
        // Each row is a head applied to a residual: LOGIT.
        assertTrue(maxDiff(out.resolve("logit_lens.npy"), "logit_lens.npy") <= LOGIT);
        assertTrue(maxDiff(out.resolve("logit_lens_patches.npy"), "logit_lens_patches.npy") <= LOGIT);
        float[] lens = Npy.read(out.resolve("logit_lens.npy")).floats();
        float[] logits = Golden.npy("tiny/logits.npy").floats();
        // Row L against the model's logits of the golden forward: LOGIT.
        assertTrue(Golden.maxAbsDiff(Arrays.copyOfRange(lens, 30, 40), Arrays.copyOfRange(logits, 0, 10)) <= LOGIT);
        assertTrue(Files.size(out.resolve("logit_lens_table.png")) > 1000);
        assertTrue(Files.size(out.resolve("logit_lens_target.png")) > 1000);
        assertEquals(0.0, json(out.resolve("effects.json")).getAsJsonArray("effects").get(0).getAsJsonObject()
                .get("kl_clean_probed").getAsDouble(), "the lens only reads");
    }

    @Test
    void dlaAddsUpAndSaysSo() throws IOException {
        Path out = dir.resolve("dla");
        Cli r = run("dla", image0.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        // Each component: LOGIT (InterventionParityTest).
        assertTrue(maxDiff(out.resolve("dla_heads.npy"), "dla_heads.npy") <= LOGIT);
        assertTrue(maxDiff(out.resolve("dla_mlp.npy"), "dla_mlp.npy") <= LOGIT);
        JsonObject d = json(out.resolve("dla.json"));
        assertTrue(Math.abs(d.get("residual").getAsDouble()) <= d.get("bound").getAsDouble());
        assertEquals(d.get("logit").getAsDouble(), d.get("sum").getAsDouble(), d.get("bound").getAsDouble());
        assertTrue(r.out().contains("adds up: residual"), r.out());
    }

    @Test
    void patchWritesTheGridInTheOrderGiven() throws IOException {
        Path out = dir.resolve("patch");
        Cli r = run("patch", image0.toString(), image1.toString(), "--out", out.toString(), "--act", "z",
                "--classes", "5,0", "--batch", "3");
        assertEquals(0, r.code(), r.err());
        JsonObject meta = JsonParser.parseString(Files.readString(Golden.file("tiny/interventions/meta.json")))
                .getAsJsonObject();
        double den = Math.abs(meta.get("ld_clean").getAsDouble() - meta.get("ld_corrupt").getAsDouble());
        NpyArray expected = Golden.npy("tiny/interventions/patching_z.npy");
        double max = 0;
        for (float v : expected.floats()) {
            max = Math.max(max, Math.abs(v));
        }
        // As InterventionParityTest: 4 LOGIT (1 + max|metric|) / |LD_clean − LD_corrupt|.
        assertTrue(maxDiff(out.resolve("patching.npy"), "patching_z.npy") <= 4 * LOGIT * (1 + max) / den);
        assertEquals(12, json(out.resolve("effects.json")).getAsJsonArray("effects").size());

        Path sub = dir.resolve("sub");
        Cli s = run("patch", image0.toString(), image1.toString(), "--out", sub.toString(), "--blocks", "2,0",
                "--positions", "16,0,2", "--classes", "5,0");
        assertEquals(0, s.code(), s.err());
        assertArrayEquals(new long[] {2, 3}, Npy.read(sub.resolve("patching.npy")).shape());
        JsonObject p = json(sub.resolve("patching.json"));
        assertEquals("[2,0]", p.get("blocks").toString());
        assertEquals("[16,0,2]", p.get("positions").toString());
    }

    @Test
    void predictEffectReportsWhatTheScalingDid() throws IOException {
        Cli r = run("predict", image0.toString(), "--scale-attn-logits", "3", "--effect");
        assertEquals(0, r.code(), r.err());
        JsonObject e = JsonParser.parseString(Files.readString(Golden.file("tiny/interventions/meta.json")))
                .getAsJsonObject().getAsJsonObject("effect_scaled3");
        Matcher m = Pattern.compile("KL\\(clean \\|\\| probed\\) = (\\S+) nats").matcher(r.out());
        assertTrue(m.find(), r.out());
        // KL: 4 × LOGIT (InterventionParityTest), printed to 6 significant digits.
        assertEquals(e.get("kl").getAsDouble(), Double.parseDouble(m.group(1)), 4 * LOGIT);
        assertTrue(r.out().contains("delta attention entropy per block"), r.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ablate IMG --target 10|--target 10 is out of range: hf has 10 classes, use 0..9",
        "lens IMG --target 10|--target 10 is out of range",
        "dla IMG --target -1|--target -1 is out of range",
        "ablate IMG --batch 0|--batch must be at least 1",
        "patch IMG IMG|CLEAN and CORRUPT are the same file",
        "patch IMG IMG1 --blocks 3 --classes 5,0|--blocks 3 is out of range: use 0..2",
        "patch IMG IMG1 --positions 0,17 --classes 5,0|--positions 17 is out of range: use 0..16",
        "patch IMG IMG1 --classes 5,10|--classes 10 is out of range",
        "patch IMG IMG1|same top-1 class (fjord, 5), so LD = logit[c_clean] − logit[c_corrupt] is 0: give the two "
            + "classes to compare explicitly (--classes A,B)",
        "patch IMG IMG1 --act z --positions 1 --classes 5,0|--positions does not apply to --act z",
        "predict IMG --effect|--effect reports what --scale-attn-logits changed"})
    void badArgumentsAreOneLineUsageErrors(String line, String message) {
        String[] args = line.split(" ");
        for (int i = 0; i < args.length; i++) {
            args[i] = args[i].equals("IMG") ? image0.toString() : args[i].equals("IMG1") ? image1.toString() : args[i];
        }
        String[] withOut = Arrays.copyOf(args, args.length + 2);
        withOut[args.length] = "--out";
        withOut[args.length + 1] = dir.resolve("out").toString();
        Cli r = run(args[0].equals("predict") ? args : withOut);
        String err = r.failsWithOneLine(Main.USAGE);
        assertTrue(err.contains(message), err);
    }
}
