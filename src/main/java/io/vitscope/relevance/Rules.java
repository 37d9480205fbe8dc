package io.vitscope.relevance;

import io.vitscope.analysis.AttentionRollout;
import io.vitscope.analysis.Matrices;
import io.vitscope.analysis.PatchWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * The relevance rules as maths on one image's attention and its gradient: no engine, exact loops, double accumulation.
 *
 * <p>Abbreviations: L blocks (l = 0..L−1) in the block lists, N heads, T tokens (class token at 0), T − 1 patches.
 */
public final class Rules {

    private Rules() {}

    /**
     * Chefer, Gur &amp; Wolf 2021, "Generic Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder
     * Transformers" (ICCV), Eq. 5–6 for self-attention, as their ViT notebook computes it:
     * <pre>
     *   R = I                                       // (T, T)
     *   for l = 0..L−1:  Ā = mean_h((∇A_l ⊙ A_l)⁺);  R ← R + Ā · R
     *   map = R[0, 1:]
     * </pre>
     */
    public static float[] chefer(Gradients.AttentionGradients g) {
        int t = tokens(g);
        double[][] r = Matrices.identity(t);
        for (int l = 0; l < g.attention().size(); l++) {
            double[][] bar = headMean(g.attention().get(l), g.grad().get(l), true);
            double[][] update = Matrices.multiply(bar, r);
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    r[i][j] += update[i][j];
                }
            }
        }
        return clsRow(r);
    }

    /**
     * Gradient rollout (Gildenblat's {@code vit-explain}, {@code grad_rollout()}), corrected: block l's attention is
     * weighted by block l's own gradient (vit-explain's list is in backward order, its issue #6), fused as
     * {@code fused_l = mean_h(A_l ⊙ ∇A_l)} with negatives set to 0, then rolled out exactly as
     * {@link AttentionRollout#rollout} does (identity added, each row divided by its sum — the row axis, vit-explain's
     * issue #16 — and the discard).
     *
     * @param discardRatio fraction of each block's smallest fused weights to zero, in [0, 1)
     */
    public static float[] gradRollout(Gradients.AttentionGradients g, double discardRatio) {
        List<float[][][]> fused = new ArrayList<>();
        for (int l = 0; l < g.attention().size(); l++) {
            double[][] m = headMean(g.attention().get(l), g.grad().get(l), false);
            int t = m.length;
            float[][][] one = new float[1][t][t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    one[0][i][j] = (float) Math.max(0, m[i][j]);
                }
            }
            fused.add(one);
        }
        return AttentionRollout.rollout(fused, AttentionRollout.Fusion.MEAN, discardRatio);
    }

    /**
     * Grad-CAM on the last block's attention, Chefer et al.'s baseline ({@code baselines/ViT/ViT_explanation_generator.py},
     * {@code generate_cam_attn}): {@code w_h = mean_j ∇A_L[h, 0, 1:]}, map = ReLU(mean_h(w_h · A_L[h, 0, 1:])).
     */
    public static float[] attnGradcam(Gradients.AttentionGradients g) {
        int last = g.attention().size() - 1;
        float[][][] a = g.attention().get(last);
        float[][][] d = g.grad().get(last);
        int n = a.length;
        int l = a[0].length - 1;
        double[] acc = new double[l];
        for (int h = 0; h < n; h++) {
            double w = 0;
            for (int j = 1; j <= l; j++) {
                w += d[h][0][j];
            }
            w /= l;
            for (int j = 1; j <= l; j++) {
                acc[j - 1] += w * a[h][0][j];
            }
        }
        float[] out = new float[l];
        for (int j = 0; j < l; j++) {
            out[j] = (float) Math.max(0, acc[j] / n);
        }
        return out;
    }

    /** Attention rollout through every block, mean fusion, no discard. */
    public static float[] rollout(List<float[][][]> attention) {
        return AttentionRollout.rollout(attention, AttentionRollout.Fusion.MEAN, 0);
    }

    /** Last block: {@code attn[h, :, 1:]} averaged over the queries ({@link PatchWeights.Mode#MEAN}), then the heads. */
    public static float[] mean(List<float[][][]> attention) {
        return headAverage(PatchWeights.of(attention.get(attention.size() - 1), PatchWeights.Mode.MEAN));
    }

    /** Last block: the class token's row {@code attn[h, 0, 1:]} averaged over heads. */
    public static float[] cls(List<float[][][]> attention) {
        return headAverage(PatchWeights.of(attention.get(attention.size() - 1), PatchWeights.Mode.CLS));
    }

    private static float[] headAverage(float[][] perHead) {
        int l = perHead[0].length;
        float[] out = new float[l];
        for (int j = 0; j < l; j++) {
            double s = 0;
            for (float[] h : perHead) {
                s += h[j];
            }
            out[j] = (float) (s / perHead.length);
        }
        return out;
    }

    /** mean_h of A ⊙ ∇A, each product clamped at 0 first when {@code positivePart}. */
    private static double[][] headMean(float[][][] a, float[][][] d, boolean positivePart) {
        int n = a.length;
        int t = a[0].length;
        if (d.length != n || d[0].length != t) {
            throw new IllegalArgumentException("attention (" + n + ", " + t + ", " + t + ") and its gradient ("
                    + d.length + ", " + d[0].length + ", …) differ in shape");
        }
        double[][] out = new double[t][t];
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                float[] ai = a[h][i];
                float[] di = d[h][i];
                double[] oi = out[i];
                for (int j = 0; j < t; j++) {
                    double v = (double) ai[j] * di[j];
                    if (!Double.isFinite(v)) {
                        throw new IllegalArgumentException("attention or gradient is not finite at head " + h
                                + ", query " + i + ", key " + j);
                    }
                    oi[j] += positivePart ? Math.max(0, v) : v;
                }
            }
        }
        for (double[] row : out) {
            for (int j = 0; j < t; j++) {
                row[j] /= n;
            }
        }
        return out;
    }

    private static int tokens(Gradients.AttentionGradients g) {
        if (g.attention().isEmpty() || g.attention().size() != g.grad().size()) {
            throw new IllegalArgumentException("need the attention and gradient of every block, got "
                    + g.attention().size() + " and " + g.grad().size());
        }
        return g.attention().get(0)[0].length;
    }

    private static float[] clsRow(double[][] r) {
        float[] out = new float[r.length - 1];
        for (int j = 1; j < r.length; j++) {
            out[j - 1] = (float) r[0][j];
        }
        return out;
    }
}
