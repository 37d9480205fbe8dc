package io.vitscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.weights.NpyArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Per-patch weights and rollout computed here from PyTorch's attention ({@code attn.npy}) against the same quantities
 * computed by PyTorch ({@code scripts/attention_analysis.py}): the analysis alone, no model in between.
 */
class GoldenParityTest {

    /** float32's unit roundoff. */
    static final double U = Math.pow(2, -24);

    /**
     * Asserts |actual − expected| ≤ rel·|expected| elementwise (plus float32's underflow threshold, for zeros), returns
     * the largest |error| / allowance. Every quantity here is built from non-negative attention weights by sums,
     * means, products and divisions, and for non-negative data floating-point arithmetic has componentwise relative
     * error bounds (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1 and §3.5: a sum or dot product of
     * n non-negative terms is within γ_n ≈ n·u of the exact value, relatively): so the tolerances are relative,
     * rigorous to first order, and independent of the machine.
     */
    static double assertRelative(float[] actual, float[] expected, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            double allowed = rel * Math.abs(expected[i]) + Float.MIN_NORMAL;
            double ratio = Math.abs((double) actual[i] - expected[i]) / allowed;
            assertTrue(ratio <= 1, what + ": element " + i + " is " + actual[i] + ", PyTorch's " + expected[i]
                    + ", beyond the relative bound " + rel);
            worst = Math.max(worst, ratio);
        }
        return worst;
    }

    /** attn.npy is [block, B, N, T, T]: one image's (N, T, T) for one block. */
    static float[][][] attention(NpyArray attn, int block, int image) {
        long[] s = attn.shape();
        int n = (int) s[2];
        int t = (int) s[3];
        float[] all = attn.floats();
        int per = n * t * t;
        int offset = (int) ((block * s[1] + image) * per);
        float[][][] out = new float[n][t][t];
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(all, offset + (h * t + i) * t, out[h][i], 0, t);
            }
        }
        return out;
    }

    /** Row {@code index} of length {@code len} of a golden array, in C order. */
    static float[] slice(NpyArray a, int index, int len) {
        return Arrays.copyOfRange(a.floats(), index * len, (index + 1) * len);
    }

    static float[] flatten(float[][] rows) {
        int len = rows[0].length;
        float[] out = new float[rows.length * len];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * len, len);
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny, MEAN, patch_mean.npy", "tiny, CLS, patch_cls.npy", "tiny_rect, MEAN, patch_mean.npy"})
    void patchWeightsMatchPyTorch(String folder, PatchWeights.Mode mode, String file) {
        NpyArray attn = Golden.npy(folder + "/attn.npy");          // [blocks, B, N, T, T]
        NpyArray expected = Golden.npy(folder + "/" + file);        // [blocks, B, N, L]
        long[] s = attn.shape();
        int heads = (int) s[2];
        int l = (int) s[3] - 1;
        double worst = 0;
        for (int b = 0; b < s[0]; b++) {
            for (int i = 0; i < s[1]; i++) {
                float[][] w = PatchWeights.of(attention(attn, b, i), mode); // (N, L)
                float[] want = slice(expected, (int) (b * s[1] + i), heads * l);
                // PyTorch's float32 mean of T non-negative weights is within (T + 1)·u of the exact mean, relatively;
                // ours is a double mean rounded once to float (u); CLS is a copy (exact on both sides).
                double rel = (l + 1 + 1 + 1) * U;
                worst = Math.max(worst, assertRelative(flatten(w), want, rel, folder + " block " + b + " image " + i));
            }
        }
        System.out.printf("parity %s patch weights %s: %.1f%% of the bound%n", folder, mode, 100 * worst);
    }

    @ParameterizedTest(name = "{0} {1} discard {2}")
    @CsvSource({"tiny, MEAN, 0, rollout_mean.npy", "tiny, MAX, 0, rollout_max.npy", "tiny, MIN, 0, rollout_min.npy",
            "tiny, MEAN, 0.5, rollout_mean_discard0.5.npy", "tiny_rect, MEAN, 0, rollout_mean.npy"})
    void rolloutMatchesPyTorch(String folder, Fusion fusion, double discard, String file) {
        NpyArray attn = Golden.npy(folder + "/attn.npy");          // [blocks, B, N, T, T]
        NpyArray expected = Golden.npy(folder + "/" + file);        // [blocks, B, L]: entry i rolls through 0..i
        long[] s = attn.shape();
        int l = (int) s[3] - 1;
        double worst = 0;
        for (int last = 0; last < s[0]; last++) {
            for (int i = 0; i < s[1]; i++) {
                List<float[][][]> blocks = new ArrayList<>();
                for (int b = 0; b <= last; b++) {
                    blocks.add(attention(attn, b, i));
                }
                float[] r = AttentionRollout.rollout(blocks, fusion, discard); // (L)
                // Per block, in PyTorch's float32: the head mean (γ_N), the row sum and division of a + I (γ_T + u),
                // the product of non-negative matrices (γ_T); relative errors add over the blocks. Ours: the fused
                // mean rounded to float (u), the normalisation and product in double, the result rounded (u) — at
                // most 2u per block plus u. Their sum bounds |ours − PyTorch's| relatively (first order).
                int heads = (int) s[2];
                int t = (int) s[3];
                int depth = last + 1;
                double rel = (depth * (heads + 2.0 * t + 2) + 2.0 * depth + 1) * U;
                worst = Math.max(worst, assertRelative(r, slice(expected, (int) (last * s[1] + i), l), rel,
                        folder + " " + fusion + " discard " + discard + " through block " + last + " image " + i));
            }
        }
        System.out.printf("parity %s rollout %s discard %s: %.1f%% of the bound%n", folder, fusion, discard, 100 * worst);
    }

    @ParameterizedTest
    @CsvSource({"tiny, 4, 4", "tiny_rect, 3, 5"})
    void gridIsThePatchOrderOfTheGoldenFiles(String folder, int gh, int gw) {
        // The golden patch axis is PatchEmbed's flatten(2): row-major over the G_h × G_w grid, non-square included.
        NpyArray attn = Golden.npy(folder + "/attn.npy");
        float[][][] a = attention(attn, 0, 0);
        float[][] flat = PatchWeights.of(a, PatchWeights.Mode.MEAN);   // (N, L)
        float[][][] grid = PatchWeights.grid(a, PatchWeights.Mode.MEAN, gh, gw); // (N, G_h, G_w)
        for (int r = 0; r < gh; r++) {
            assertArrayEquals(Arrays.copyOfRange(flat[0], r * gw, (r + 1) * gw), grid[0][r], 0f); // a copy, exact
        }
    }
}
