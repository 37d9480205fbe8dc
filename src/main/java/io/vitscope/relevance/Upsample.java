package io.vitscope.relevance;

/**
 * Bilinear upsampling of a patch map to the input size, as PyTorch's
 * {@code F.interpolate(map, size=(H, W), mode="bilinear", align_corners=False)} computes it on the CPU, in float:
 * source coordinate {@code max(0, (dst + 0.5) · in/out − 0.5)}, the lower neighbour its floor, the upper one clamped to
 * the last row or column, and {@code out = λ0_h (λ0_w x00 + λ1_w x01) + λ1_h (λ0_w x10 + λ1_w x11)}
 * (aten's {@code UpSampleKernel.cpp}, {@code compute_source_index_and_lambda}). The result agrees with aten's to a
 * few float ulps, not bit for bit (aten's summation order differs between its kernels); border pixels, whose value is
 * mathematically one map value, are that value exactly, so the perturbation test's ties are ties here as in aten.
 */
public final class Upsample {

    private Upsample() {}

    /**
     * @param map (G_h · G_w) row-major
     * @return (H · W) row-major
     */
    public static float[] bilinear(float[] map, int gridH, int gridW, int height, int width) {
        if ((long) gridH * gridW != map.length) {
            throw new IllegalArgumentException(map.length + " values do not fill a " + gridH + "x" + gridW + " grid");
        }
        int[] y0 = new int[height];
        int[] y1 = new int[height];
        float[] ly = new float[height];
        axis(gridH, height, y0, y1, ly);
        int[] x0 = new int[width];
        int[] x1 = new int[width];
        float[] lx = new float[width];
        axis(gridW, width, x0, x1, lx);
        float[] out = new float[height * width];
        for (int y = 0; y < height; y++) {
            float h1 = ly[y];
            float h0 = 1f - h1;
            int r0 = y0[y] * gridW;
            int r1 = y1[y] * gridW;
            for (int x = 0; x < width; x++) {
                float w1 = lx[x];
                float w0 = 1f - w1;
                float top = map[r0 + x0[x]] * w0 + map[r0 + x1[x]] * w1;
                float bottom = map[r1 + x0[x]] * w0 + map[r1 + x1[x]] * w1;
                out[y * width + x] = top * h0 + bottom * h1;
            }
        }
        return out;
    }

    private static void axis(int in, int out, int[] i0, int[] i1, float[] lambda1) {
        float scale = (float) in / out;
        for (int d = 0; d < out; d++) {
            float src = (float) (scale * (d + 0.5) - 0.5);  // aten: float scale times (int64 + 0.5) in double
            if (src < 0) {
                src = 0;
            }
            int lo = (int) src;
            i0[d] = lo;
            i1[d] = lo + (lo < in - 1 ? 1 : 0);
            // Past the last row or column both neighbours are the same value: weight 0 on the second keeps the border
            // exactly constant, so pixels that tie mathematically tie in float too (aten's output ties there as well).
            lambda1[d] = i1[d] == lo ? 0f : Math.min(src - lo, 1f);
        }
    }
}
