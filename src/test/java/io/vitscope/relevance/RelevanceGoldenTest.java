package io.vitscope.relevance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.model.VisionTransformer;
import io.vitscope.weights.NpyArray;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ∂y/∂A, ∂y/∂x and every map against PyTorch ({@code scripts/make_relevance_goldens.py}) on the golden models.
 *
 * <p>The tolerance, derived: both sides compute in float32 (unit roundoff u = 2⁻²⁴ ≈ 6e-8) with different summation
 * orders. A value of the backward pass is reached through at most 2·depth + 3 matrix products (forward and backward,
 * depth ≤ 3 here) of inner length n ≤ 3·D = 96, and the classic bound for a dot product is n·u relative to
 * Σ|aᵢbᵢ|, so the accumulated rounding is ≲ 9 · 96 · u ≈ 5e-5 of the tensor's magnitude scale; the softmax, GELU and
 * LayerNorm backward add a few u each. Hence {@link #REL} = 2e-4 of the tensor's largest magnitude (for the gradients
 * and the attention-based maps) — relative, as magnitudes differ by orders between tensors. Integrated gradients sum
 * signed terms that cancel, so its bound is relative to the sum of the terms' magnitudes per patch
 * ({@code ig_abs.npy}), not to the map.
 */
class RelevanceGoldenTest {

    static final double REL = 2e-4;

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny_rect"})
    void gradientsAndMapsMatchPyTorch(String folder) {
        String dir = "relevance/" + folder + "/";
        try (VisionTransformer model = Golden.model(folder)) {
            NpyArray input = Golden.npy(folder + "/input.npy");
            long[] targetsL = Golden.npy(dir + "targets.npy").longs();
            int[] targets = Arrays.stream(targetsL).mapToInt(v -> (int) v).toArray();
            float[] x = input.floats();
            Gradients.Capture g = Gradients.of(model, x, targets, true, true);
            assertArrayEquals(targets, g.targets());

            float[] attn = Golden.npy(dir + "attn.npy").floats();          // (depth, B, N, T, T)
            float[] grad = Golden.npy(dir + "attn_grad.npy").floats();
            int depth = g.attention().size();
            int per = attn.length / depth;
            for (int l = 0; l < depth; l++) {
                float[] ea = Arrays.copyOfRange(attn, l * per, (l + 1) * per);
                float[] eg = Arrays.copyOfRange(grad, l * per, (l + 1) * per);
                assertClose(g.attention().get(l), ea, REL, folder + " A_" + l);
                assertClose(g.attentionGrad().get(l), eg, REL, folder + " dy/dA_" + l);
            }
            assertClose(g.inputGrad(), Golden.npy(dir + "input_grad.npy").floats(), REL, folder + " dy/dx");

            int b = targets.length;
            for (Method m : new Method[] {Method.CHEFER, Method.GRAD_ROLLOUT, Method.ATTN_GRADCAM}) {
                String file = m == Method.CHEFER ? "chefer" : m == Method.GRAD_ROLLOUT ? "grad_rollout" : "attn_gradcam";
                float[] expected = Golden.npy(dir + file + ".npy").floats();
                int l = expected.length / b;
                for (int i = 0; i < b; i++) {
                    float[] e = Arrays.copyOfRange(expected, i * l, (i + 1) * l);
                    float[] one = Arrays.copyOfRange(x, i * (x.length / b), (i + 1) * (x.length / b));
                    RelevanceMap map = Relevance.of(m, model, one, targets[i]);
                    assertEquals(targets[i], map.target());
                    assertClose(map.values(), e, REL, folder + " " + m + " image " + i);
                }
            }

            float[] ig = Golden.npy(dir + "integrated_gradients.npy").floats();
            float[] igAbs = Golden.npy(dir + "ig_abs.npy").floats();
            float[] ends = Golden.npy(dir + "ig_ends.npy").floats();
            int l = ig.length / b;
            for (int i = 0; i < b; i++) {
                float[] one = Arrays.copyOfRange(x, i * (x.length / b), (i + 1) * (x.length / b));
                RelevanceMap map = Relevance.integratedGradients(model, one, targets[i]);
                double sumAbs = 0;
                double expectedSum = 0;
                for (int j = 0; j < l; j++) {
                    double tol = REL * igAbs[i * l + j] + 1e-6;
                    double d = Math.abs(map.values()[j] - ig[i * l + j]);
                    assertTrue(d <= tol, folder + " IG image " + i + " patch " + j + ": " + map.values()[j] + " vs "
                            + ig[i * l + j] + " (|diff| " + d + " > " + tol + ")");
                    sumAbs += igAbs[i * l + j];
                    expectedSum += ig[i * l + j];
                }
                double expectedGap = expectedSum - ((double) ends[2 * i] - ends[2 * i + 1]);
                // The gap is Σ IG minus a logit difference: the same bound on Σ IG, plus the two logits' 1e-4 (as
                // ModelParityTest).
                double tol = REL * sumAbs + 2e-4;
                assertTrue(Math.abs(map.completenessGap() - expectedGap) <= tol, folder + " IG completeness gap "
                        + map.completenessGap() + " vs PyTorch's " + expectedGap);
                System.out.printf("%s image %d: IG completeness gap %.3e (PyTorch %.3e)%n", folder, i,
                        map.completenessGap(), expectedGap);
            }
        }
    }

    /** max |a − e| ≤ rel · max |e|, reported with the figures. */
    static void assertClose(float[] actual, float[] expected, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double max = Golden.maxAbsDiff(actual, expected);
        System.out.printf("%-28s max|diff| %.3e, max|ref| %.3e, ratio %.2e (tolerance %.0e)%n", what, max, scale,
                scale == 0 ? 0 : max / scale, rel);
        assertTrue(max <= rel * scale, what + ": max |diff| " + max + " > " + rel + " × " + scale);
    }
}
