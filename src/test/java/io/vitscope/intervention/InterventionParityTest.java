package io.vitscope.intervention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Golden;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.intervention.ActivationPatching.Act;
import io.vitscope.image.DataConfig;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.weights.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every intervention against scripts/make_intervention_goldens.py, which implements the definitions again in PyTorch
 * (one unbatched forward per cell, float64) on the golden models tiny (RGB, 3 blocks × 4 heads) and tiny_gray
 * (grey, 2 × 3).
 *
 * <p>Tolerances start from the project's logits parity (ModelParityTest): a float32 forward of these models is within
 * {@link #LOGIT} = 1e-4 of PyTorch's (observed: a few 1e-6), and each quantity here is a short linear combination of
 * logits (or of the same activations), so its tolerance is that combination's worst case, stated at each assertion.
 */
class InterventionParityTest {

    /** The project's float32 logits tolerance (ModelParityTest). */
    static final double LOGIT = 1e-4;

    static LoadedModel tiny;
    static LoadedModel gray;
    static NDManager manager;

    @BeforeAll
    static void load() {
        DataConfig rgb = DataConfig.rgb(32, 0.875, DataConfig.Interpolation.BICUBIC, DataConfig.IMAGENET_DEFAULT_MEAN,
                DataConfig.IMAGENET_DEFAULT_STD);
        tiny = new LoadedModel("tiny", Golden.model("tiny"), rgb,
                Models.readLabels(Golden.file("tiny/labels.txt"), 10), "golden");
        DataConfig grey = new DataConfig(1, 28, 28, 1.0, DataConfig.Interpolation.BILINEAR,
                DataConfig.CropMode.CENTER, new double[] {0.286}, new double[] {0.353});
        gray = new LoadedModel("tiny_gray", Golden.model("tiny_gray"), grey, Models.defaultLabels(10), "golden");
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        tiny.close();
        gray.close();
        manager.close();
    }

    static LoadedModel model(String folder) {
        return folder.equals("tiny") ? tiny : gray;
    }

    /** Image i of the folder's input.npy, (1, C, H, W). */
    static NDArray image(String folder, int i) {
        NDArray all = Golden.npy(folder + "/input.npy").toNDArray(manager);
        return all.get(new NDIndex().addSliceDim(i, i + 1));
    }

    static JsonObject meta(String folder) {
        try {
            return JsonParser.parseString(Files.readString(Golden.file(folder + "/interventions/meta.json")))
                    .getAsJsonObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static NpyArray golden(String folder, String name) {
        return Golden.npy(folder + "/interventions/" + name);
    }

    static double maxDiff(float[][] actual, NpyArray expected) {
        int cols = actual[0].length;
        assertArrayEquals(new long[] {actual.length, cols}, expected.shape(), "shape");
        return Golden.maxAbsDiff(Runs.flatten(actual), expected.floats());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny_gray"})
    void headAblationMatchesPyTorch(String folder) {
        LoadedModel m = model(folder);
        int target = meta(folder).get("target").getAsInt();
        for (HeadAblation.Mode mode : HeadAblation.Mode.values()) {
            HeadAblation.Result r = HeadAblation.run(m, image(folder, 0), mode, -1, 5, n -> { });
            assertEquals(target, r.target(), "the clean top-1 is the target");
            double diff = maxDiff(r.delta(), golden(folder, "ablation_" + mode.name().toLowerCase() + ".npy"));
            // A difference of two logits (ablated − clean): 2 × LOGIT.
            assertTrue(within(folder + " ablation " + mode, diff, 2 * LOGIT), mode + ": max |diff| = " + diff);
        }
    }

    @Test
    void batchSizeDoesNotChangeTheAblation() {
        HeadAblation.Result one = HeadAblation.run(tiny, image("tiny", 0), HeadAblation.Mode.MEAN, 3, 1, n -> { });
        HeadAblation.Result all = HeadAblation.run(tiny, image("tiny", 0), HeadAblation.Mode.MEAN, 3, 12, n -> { });
        // The same forward at batch 1 and 12: only the GEMM's blocking differs, within LOGIT per logit, 2 × per delta.
        double diff = Golden.maxAbsDiff(Runs.flatten(one.delta()), Runs.flatten(all.delta()));
        assertTrue(within("tiny ablation batch 1 vs 12", diff, 2 * LOGIT));
        assertEquals(12, one.effects().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny_gray"})
    void activationPatchingMatchesPyTorch(String folder) {
        LoadedModel m = model(folder);
        JsonObject meta = meta(folder);
        int[] classes = {meta.get("c_clean").getAsInt(), meta.get("c_corrupt").getAsInt()};
        double den = Math.abs(meta.get("ld_clean").getAsDouble() - meta.get("ld_corrupt").getAsDouble());
        for (Act act : Act.values()) {
            ActivationPatching.Result r = ActivationPatching.run(m, image(folder, 0), image(folder, 1), act, null, null,
                    meta.get("classes_given").isJsonNull() ? null : classes, 7, n -> { });
            NpyArray expected = golden(folder, "patching_" + act.id() + ".npy");
            double diff = maxDiff(r.metric(), expected);
            // (LD_p − LD_c) / (LD_clean − LD_c), every LD a difference of two logits (≤ 2 LOGIT off): the numerator
            // is ≤ 4 LOGIT off, the denominator too, so |Δmetric| ≤ 4 LOGIT (1 + max|metric|) / |LD_clean − LD_c|
            // to first order.
            double tol = 4 * LOGIT * (1 + maxAbs(expected.floats())) / den;
            assertTrue(within(folder + " patching " + act.id(), diff, tol), act + ": max |diff| = " + diff + " > " + tol);
            assertEquals(meta.get("ld_clean").getAsDouble(), r.ldClean(), 2 * LOGIT);
        }
    }

    @Test
    void patchingKeepsTheGivenOrderOfBlocksAndPositions() {
        JsonObject meta = meta("tiny_gray");
        int[] blocks = ints(meta.getAsJsonArray("subset_blocks"));
        int[] positions = ints(meta.getAsJsonArray("subset_positions"));
        ActivationPatching.Result r = ActivationPatching.run(gray, image("tiny_gray", 0), image("tiny_gray", 1),
                Act.RESID_PRE, blocks, positions, null, 4, n -> { });
        double den = Math.abs(meta.get("ld_clean").getAsDouble() - meta.get("ld_corrupt").getAsDouble());
        NpyArray expected = golden("tiny_gray", "patching_resid_pre_subset.npy");
        double diff = maxDiff(r.metric(), expected);
        // As in activationPatchingMatchesPyTorch.
        assertTrue(within("tiny_gray patching subset", diff, 4 * LOGIT * (1 + maxAbs(expected.floats())) / den));
        assertArrayEquals(blocks, r.blocks());
        assertArrayEquals(positions, r.columns());
    }

    @Test
    void patchingRefusesWhatHasNoAnswer() {
        // tiny's two images share their top-1 class: LD would be 0 for both runs.
        var same = assertThrows(IllegalArgumentException.class, () -> ActivationPatching.run(tiny, image("tiny", 0),
                image("tiny", 1), Act.RESID_PRE, null));
        assertTrue(same.getMessage().contains("same top-1 class"), same.getMessage());
        var twice = assertThrows(IllegalArgumentException.class, () -> ActivationPatching.run(tiny, image("tiny", 0),
                image("tiny", 0), Act.RESID_PRE, new int[] {5, 0}));
        assertTrue(twice.getMessage().contains("are the same"), twice.getMessage());
        var block = assertThrows(IllegalArgumentException.class, () -> ActivationPatching.run(tiny, image("tiny", 0),
                image("tiny", 1), Act.MLP_OUT, new int[] {3}, null, new int[] {5, 0}, 8, n -> { }));
        assertTrue(block.getMessage().startsWith("block 3 is out of range: use 0..2"), block.getMessage());
        var position = assertThrows(IllegalArgumentException.class, () -> ActivationPatching.run(tiny,
                image("tiny", 0), image("tiny", 1), Act.MLP_OUT, null, new int[] {17}, new int[] {5, 0}, 8, n -> { }));
        assertTrue(position.getMessage().startsWith("position 17 is out of range: use 0..16"), position.getMessage());
        var cls = assertThrows(IllegalArgumentException.class, () -> ActivationPatching.run(tiny, image("tiny", 0),
                image("tiny", 1), Act.Z, new int[] {5, 10}));
        assertTrue(cls.getMessage().startsWith("class 10 is out of range"), cls.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny_gray"})
    void logitLensMatchesPyTorchAndEndsAtTheLogits(String folder) {
        LoadedModel m = model(folder);
        LogitLens.Result r = LogitLens.run(m, image(folder, 0), -1, true, LogitLens.Norm.RECOMPUTE);
        // Each row is the model's head on another residual: LOGIT, as the logits.
        double diff = maxDiff(r.logits(), golden(folder, "logit_lens.npy"));
        assertTrue(within(folder + " logit lens", diff, LOGIT), "max |diff| = " + diff);
        NpyArray patches = golden(folder, "logit_lens_patches.npy");
        float[][][] p = r.patchLogits();
        assertArrayEquals(new long[] {p.length, p[0].length, p[0][0].length}, patches.shape());
        float[] flat = new float[p.length * p[0].length * p[0][0].length];
        int i = 0;
        for (float[][] row : p) {
            float[] f = Runs.flatten(row);
            System.arraycopy(f, 0, flat, i, f.length);
            i += f.length;
        }
        assertTrue(within(folder + " logit lens patches", Golden.maxAbsDiff(flat, patches.floats()), LOGIT));
        LogitLens.Result scaled = LogitLens.run(m, image(folder, 0), -1, false, LogitLens.Norm.FINAL_SCALE);
        assertTrue(within(folder + " logit lens final scale",
                maxDiff(scaled.logits(), golden(folder, "logit_lens_final_scale.npy")), LOGIT));

        try (NDManager s = manager.newSubManager()) {
            float[] logits = m.model().forward(image(folder, 0)).toFloatArray();
            // Row L is head(norm(r_L)) with the model's own LayerNorm and linear ops on the same float32 input; only
            // the GEMM's blocking may differ with the row count: ≤ D·u·Σ|n_d W_kd| ≈ 32 · 6e-8 · 5 ≈ 1e-5 here.
            double last = Golden.maxAbsDiff(r.logits()[r.blocks()], logits);
            assertTrue(within(folder + " lens row L vs logits", last, 1e-5), "last row vs logits: " + last);
        }
        // The lens only reads: the probed forward is the unprobed one, bit for bit.
        assertEquals(0.0, r.effect().kl());
        assertEquals(0.0, r.effect().deltaLogit());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny_gray"})
    void directLogitAttributionMatchesPyTorchAndAddsUp(String folder) {
        LoadedModel m = model(folder);
        JsonObject dla = meta(folder).getAsJsonObject("dla");
        DirectLogitAttribution.Result r = DirectLogitAttribution.run(m, image(folder, 0), -1);
        // Each component is a projection of float32 activations no further from exact than the logits: LOGIT.
        assertTrue(within(folder + " dla heads", maxDiff(r.headsFloat(), golden(folder, "dla_heads.npy")), LOGIT));
        float[] mlp = new float[r.mlp().length];
        for (int l = 0; l < mlp.length; l++) {
            mlp[l] = (float) r.mlp()[l];
        }
        assertTrue(within(folder + " dla mlp", Golden.maxAbsDiff(mlp, golden(folder, "dla_mlp.npy").floats()), LOGIT));
        assertEquals(dla.get("embed").getAsDouble(), r.embed(), LOGIT);
        assertEquals(dla.get("constant").getAsDouble(), r.constant(), 1e-6, "parameters only: float32 products");
        assertEquals(dla.get("logit").getAsDouble(), r.logit(), LOGIT);
        // Adding up: the residual is within the run's own rounding bound (run() throws otherwise), and in float32
        // well under 1e-4 of the logit (see DirectLogitAttribution for the bound and why it is loose).
        assertTrue(within(folder + " dla residual vs bound", Math.abs(r.residual()), r.bound()));
        assertTrue(within(folder + " dla residual / |logit|", r.relativeResidual(), 1e-4));
        assertEquals(0.0, r.effect().kl());
    }

    @Test
    void theEffectOfScalingMatchesPyTorch() {
        JsonObject e = meta("tiny").getAsJsonObject("effect_scaled3");
        Effect effect = Effect.measure(tiny, image("tiny", 0), -1, p -> LogitScaling.install(p, 3));
        assertEquals(e.get("top1_clean").getAsInt(), effect.top1Clean());
        assertEquals(e.get("top1_probed").getAsInt(), effect.top1Probed());
        // Δ logit: two logits, 2 × LOGIT. Δ probability: softmax is 1/2-Lipschitz per logit in each output, so
        // ≤ LOGIT. KL = Σ p (ln p − ln q) moves by at most 2 × max|Δ logit| per unit of p, both runs: 4 × LOGIT.
        assertEquals(e.get("delta_logit").getAsDouble(), effect.deltaLogit(), 2 * LOGIT);
        assertEquals(e.get("delta_probability").getAsDouble(), effect.deltaProbability(), LOGIT);
        assertEquals(e.get("kl").getAsDouble(), effect.kl(), 4 * LOGIT);
        JsonArray dh = e.getAsJsonArray("delta_entropy");
        for (int l = 0; l < dh.size(); l++) {
            // Mean entropy over 4 × 17 rows of float32 probabilities (≤ 1e-5 off each, |ln p + 1| ≤ ~20 for the
            // p that matter): ≤ 2e-4 per run; two runs.
            assertEquals(dh.get(l).getAsDouble(), effect.deltaEntropy()[l], 4e-4, "block " + l);
        }
    }

    @Test
    void classIndexBeyondTheModelIsRefusedByName() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> HeadAblation.run(tiny, image("tiny", 0), HeadAblation.Mode.ZERO, 10));
        assertEquals("target 10 is out of range: tiny has 10 classes, numbered 0..9", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DirectLogitAttribution.run(tiny, image("tiny", 0), 10));
        assertThrows(IllegalArgumentException.class, () -> LogitLens.run(tiny, image("tiny", 0), -2));
    }

    /** Prints each comparison, so a run's log shows the margins, not only pass or fail. */
    static boolean within(String what, double diff, double tol) {
        System.out.printf(java.util.Locale.ROOT, "parity %-40s max |diff| = %.3g (tolerance %.3g)%n", what, diff, tol);
        return diff <= tol;
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

}
