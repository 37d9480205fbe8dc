package io.vitscope.analysis;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Mean Shannon entropy (natural log, in nats) of the attention distributions of a block: each query row of each head
 * of each image is one distribution over the T keys. A sharp head (attending to one token) scores near 0; a uniform
 * one scores ln T (5.28 for T = 197). The logit-scaling experiment uses it to show attention sharpening as the
 * logits are multiplied up. {@code 0 · ln 0} counts as 0.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 */
public final class AttentionEntropy {

    private AttentionEntropy() {
    }

    /**
     * @param attn one image's attention, (N, T, T)
     * @return the mean over heads and query rows of −Σ_j p_j ln p_j
     */
    public static double mean(float[][][] attn) {
        int t = AttentionMaps.requireSquare(attn, "attention entropy");
        double total = 0;
        for (float[][] head : attn) {
            for (int i = 0; i < t; i++) {
                total += rowEntropy(head[i], 0, t);
            }
        }
        return total / ((double) attn.length * t);
    }

    /**
     * @param attn a block's attention, (B, N, T, T) or (N, T, T)
     * @return the mean over batch, heads and query rows
     */
    public static double mean(NDArray attn) {
        Shape s = attn.getShape();
        int d = s.dimension();
        if (d != 3 && d != 4) {
            throw new IllegalArgumentException("attention entropy: attention must be (B, N, T, T) or (N, T, T), got "
                    + "shape " + s);
        }
        long t = s.get(d - 1);
        if (s.get(d - 2) != t || t < 1) {
            throw new IllegalArgumentException("attention entropy: attention must be square in its last two axes, got "
                    + "shape " + s);
        }
        float[] flat = AttentionMaps.floats(attn);
        int rows = (int) (flat.length / t);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += rowEntropy(flat, r * (int) t, (int) t);
        }
        return total / rows;
    }

    /**
     * @param blocks one attention per block, each (B, N, T, T) or (N, T, T)
     * @return one mean entropy per block, in the list's order
     */
    public static double[] perBlock(List<NDArray> blocks) {
        double[] out = new double[blocks.size()];
        for (int b = 0; b < out.length; b++) {
            out[b] = mean(blocks.get(b));
        }
        return out;
    }

    private static double rowEntropy(float[] p, int from, int t) {
        double h = 0;
        for (int j = from; j < from + t; j++) {
            double v = p[j];
            if (v > 0) {
                h -= v * Math.log(v);
            } else if (v < 0 || Double.isNaN(v)) {
                throw new IllegalArgumentException("attention entropy: weight " + v + " is not a probability; pass the "
                        + "attention after the softmax");
            }
        }
        return h;
    }
}
