package io.vitscope.analysis;

import ai.djl.ndarray.NDArray;

/**
 * How much attention each patch receives in one block, per head: the quantity NoPdb's ViT tutorial plots as a
 * brightness mask over the image.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}): the class token at index 0, then
 * the L patches row by row.
 */
public final class PatchWeights {

    /** Which query rows a patch's weight is read from. */
    public enum Mode {
        /**
         * Mean over all T query rows (class token included) of the attention paid to the patch, {@code
         * attn[h, :, 1:].mean(0)}: what the patch contributes to the block's output on average (NoPdb tutorial).
         */
        MEAN,
        /**
         * The class token's row only, {@code attn[h, 0, 1:]}: what the token that feeds the classifier head reads.
         */
        CLS
    }

    private PatchWeights() {
    }

    /**
     * Per-head patch weights.
     *
     * @param attn one image's post-softmax attention, (N, T, T)
     * @return (N, L) with L = T − 1
     * @throws IllegalArgumentException if {@code attn} is not (N, T, T)
     */
    public static float[][] of(float[][][] attn, Mode mode) {
        int t = AttentionMaps.requireSquare(attn, "patch weights");
        int n = attn.length;
        int l = t - 1;
        float[][] out = new float[n][l]; // (N, L)
        for (int h = 0; h < n; h++) {
            if (mode == Mode.CLS) {
                System.arraycopy(attn[h][0], 1, out[h], 0, l);
                continue;
            }
            double[] sum = new double[l]; // double so that the mean over 197 rows is the correctly rounded float
            for (int i = 0; i < t; i++) {
                float[] row = attn[h][i];
                for (int j = 0; j < l; j++) {
                    sum[j] += row[j + 1];
                }
            }
            for (int j = 0; j < l; j++) {
                out[h][j] = (float) (sum[j] / t);
            }
        }
        return out;
    }

    /**
     * Per-head patch weights laid out on the patch grid, ready for {@code io.vitscope.plot.AttentionGrid}.
     *
     * @param attn (N, T, T)
     * @return (N, G_h, G_w)
     * @throws IllegalArgumentException if {@code attn} is not (N, T, T) or T − 1 ≠ G_h × G_w
     */
    public static float[][][] grid(float[][][] attn, Mode mode, int gridH, int gridW) {
        int t = AttentionMaps.requireSquare(attn, "patch weights");
        AttentionMaps.requireGrid(t, gridH, gridW, "patch weights");
        return AttentionMaps.toGrid(of(attn, mode), gridH, gridW);
    }

    /**
     * @param attn (N, T, T) or (1, N, T, T), e.g. the capture of {@code blocks.4.attn}'s local {@code attn}
     * @return (N, L)
     */
    public static float[][] of(NDArray attn, Mode mode) {
        return of(AttentionMaps.of(attn), mode);
    }

    /**
     * @param attn (N, T, T) or (1, N, T, T)
     * @return (N, G_h, G_w)
     */
    public static float[][][] grid(NDArray attn, Mode mode, int gridH, int gridW) {
        return grid(AttentionMaps.of(attn), mode, gridH, gridW);
    }
}
