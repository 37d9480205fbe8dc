package io.vitscope.analysis;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Attention rollout of the class token over the patches: how much of the class token's representation after block
 * I flows, through the attention of blocks 0..I and the residual connections, from each input patch.
 *
 * <p>From Abnar &amp; Zuidema 2020, "Quantifying Attention Flow in Transformers" (ACL), Eq. 1: the residual is
 * modelled as half identity, {@code A = 0.5 W_att + 0.5 I}, and the layers compose by matrix product,
 * {@code Ã(l_i) = A(l_i) Ã(l_{i-1})}. The head fusion and the discard of the weakest entries follow Jacob Gildenblat's
 * {@code vit-explain} ({@code vit_rollout.py}, {@code rollout()}), which made the method popular for ViTs. Exactly,
 * per block b = 0..I:
 * <pre>
 *   fused  = fuse over heads of attn_b                    // (T, T): mean (default), max or min
 *   if discard &gt; 0: zero the k = (int)(T·T·discard) smallest entries of fused, except entry 0 (cls → cls)
 *   a      = fused + I, each row divided by its sum       // (T, T), rows sum to 1 (the ½ cancels)
 *   result = a · result                                   // (T, T), result starts as I
 * </pre>
 * and the answer is {@code result[0, 1:]}, (L), with no normalisation for display.
 *
 * <p>The discard picks the k smallest entries of the flattened fused matrix ordered by value, ties broken by the lower
 * flat index (row-major {@code i·T + j}), so the result does not depend on a sort's stability. As in vit-explain, index
 * 0 counts among the k when it is one of the smallest, but is left as it is: then only k − 1 entries are zeroed.
 *
 * <p>Everything after the fusion is computed in double; the fused matrix is rounded to float, as PyTorch holds it, so
 * that the discard ranks the same values a float32 reference ranks.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}) (the class token at index 0).
 */
public final class AttentionRollout {

    /** How the heads of one block are combined into one T × T matrix. */
    public enum Fusion {
        MEAN, MAX, MIN
    }

    private AttentionRollout() {
    }

    /**
     * How many of the T·T fused entries a discard ratio zeroes: {@code int(T·T·ratio)}, floored as the reference's
     * {@code int()} does (9 × 0.3 = 2.6999999999999997 gives 2, not 3).
     */
    static int discardCount(int t, double discardRatio) {
        return (int) ((double) t * t * discardRatio);
    }

    /**
     * Rollout with mean fusion and no discard, the form of the paper.
     *
     * @param blocks one image's attention of blocks 0..I in order, each (N, T, T)
     * @return (L)
     */
    public static float[] rollout(List<float[][][]> blocks) {
        return rollout(blocks, Fusion.MEAN, 0);
    }

    /**
     * @param blocks one image's attention of blocks 0..I in order, each (N, T, T); N may differ between blocks
     * @param fusion how heads are combined
     * @param discardRatio fraction of the fused entries to zero, in [0, 1)
     * @return (L), the class token's row of the rolled-out attention without the class token's own column
     * @throws IllegalArgumentException for an empty list, a non-square attention, T differing between blocks, a
     *                                  non-finite weight, or a discard ratio outside [0, 1)
     */
    public static float[] rollout(List<float[][][]> blocks, Fusion fusion, double discardRatio) {
        if (!(discardRatio >= 0 && discardRatio < 1)) {
            throw new InvalidArgumentException("discard", "discard ratio must be in [0, 1), got " + discardRatio);
        }
        if (blocks == null || blocks.isEmpty()) {
            throw new IllegalArgumentException("rollout needs the attention of at least one block (blocks 0..I)");
        }
        int t = AttentionMaps.requireSquare(blocks.get(0), "rollout block 0");
        double[][] result = Matrices.identity(t); // (T, T)
        for (int b = 0; b < blocks.size(); b++) {
            float[][][] attn = blocks.get(b); // (N, T, T)
            int tb = AttentionMaps.requireSquare(attn, "rollout block " + b);
            if (tb != t) {
                throw new IllegalArgumentException("rollout block " + b + " has T = " + tb + " tokens but block 0 has "
                        + t + "; all blocks must come from the same image and model");
            }
            float[] fused = fuse(attn, fusion, b); // (T·T)
            discard(fused, discardCount(t, discardRatio));
            double[][] a = new double[t][t]; // (T, T)
            for (int i = 0; i < t; i++) {
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    a[i][j] = fused[i * t + j] + (i == j ? 1.0 : 0.0);
                    sum += a[i][j];
                }
                for (int j = 0; j < t; j++) {
                    a[i][j] /= sum; // sum >= 1 thanks to the identity, as weights are non-negative
                }
            }
            result = Matrices.multiply(a, result); // (T, T)
        }
        float[] out = new float[t - 1]; // (L)
        for (int j = 1; j < t; j++) {
            out[j - 1] = (float) result[0][j];
        }
        return out;
    }

    /**
     * @param blocks one image's attention of blocks 0..I, each (N, T, T) or (1, N, T, T)
     * @return (L)
     */
    public static float[] rolloutOf(List<NDArray> blocks, Fusion fusion, double discardRatio) {
        List<float[][][]> arrays = new ArrayList<>(blocks.size());
        for (NDArray a : blocks) {
            arrays.add(AttentionMaps.of(a));
        }
        return rollout(arrays, fusion, discardRatio);
    }

    /**
     * Head fusion of one block.
     *
     * @param attn (N, T, T)
     * @return (T·T) row-major
     */
    static float[] fuse(float[][][] attn, Fusion fusion, int block) {
        int n = attn.length;
        int t = attn[0].length;
        float[] out = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                double acc = fusion == Fusion.MEAN ? 0 : attn[0][i][j];
                for (int h = 0; h < n; h++) {
                    float v = attn[h][i][j];
                    if (!Float.isFinite(v)) {
                        throw new IllegalArgumentException("rollout block " + block + ": attention weight is " + v
                                + " at head " + h + ", query " + i + ", key " + j);
                    }
                    switch (fusion) {
                        case MEAN -> acc += v;
                        case MAX -> acc = Math.max(acc, v);
                        case MIN -> acc = Math.min(acc, v);
                    }
                }
                out[i * t + j] = (float) (fusion == Fusion.MEAN ? acc / n : acc);
            }
        }
        return out;
    }

    /** Zeroes the k smallest entries (value, then lower index), leaving index 0 alone. */
    static void discard(float[] fused, int k) {
        if (k <= 0) {
            return;
        }
        // Sort (value, index) pairs as longs: a float's bits, made order-preserving as a signed int, in the high half.
        long[] keys = new long[fused.length];
        for (int i = 0; i < fused.length; i++) {
            int bits = Float.floatToIntBits(fused[i]);
            bits ^= (bits >> 31) & 0x7fffffff;
            keys[i] = ((long) bits << 32) | i;
        }
        Arrays.sort(keys);
        for (int r = 0; r < k; r++) {
            int index = (int) keys[r];
            if (index != 0) {
                fused[index] = 0f;
            }
        }
    }
}
