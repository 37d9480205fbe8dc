package io.vitscope.analysis;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Turns a captured attention tensor into the plain arrays the analyses work on, and checks its shape.
 *
 * <p>The analyses in this package compute on Java arrays rather than NDArrays: one image's attention is at most
 * N × T × T = 12 × 197 × 197 floats, the loops are short and exact, and tests can state inputs by hand. The NDArray
 * entry points copy the tensor out once through {@link #perImage(NDArray, int)} or {@link #of(NDArray)}.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}) (the class token at index 0).
 */
public final class AttentionMaps {

    private AttentionMaps() {
    }

    /**
     * One image's attention of one block, as captured at {@code attn = attn.softmax(dim=-1)}.
     *
     * @param attn (N, T, T), or (1, N, T, T) for a batch of one
     * @return (N, T, T) as a Java array
     */
    public static float[][][] of(NDArray attn) {
        Shape s = attn.getShape();
        if (s.dimension() == 4) {
            if (s.get(0) != 1) {
                throw new IllegalArgumentException("attention of shape " + s + " holds " + s.get(0)
                        + " images: pick one with AttentionMaps.perImage(attn, b)");
            }
            return perImage(attn, 0);
        }
        if (s.dimension() != 3) {
            throw new IllegalArgumentException("attention must be (N, T, T) or (B, N, T, T), got shape " + s);
        }
        return split(floats(attn), (int) s.get(0), (int) s.get(1), (int) s.get(2));
    }

    /**
     * Image {@code b} of a batch's attention.
     *
     * @param attn (B, N, T, T)
     * @param b index of the image in the batch
     * @return (N, T, T)
     */
    public static float[][][] perImage(NDArray attn, int b) {
        Shape s = attn.getShape();
        if (s.dimension() != 4) {
            throw new IllegalArgumentException("attention must be (B, N, T, T) to pick an image, got shape " + s);
        }
        if (b < 0 || b >= s.get(0)) {
            throw new IllegalArgumentException("image index " + b + " is outside the batch of " + s.get(0));
        }
        try (NDArray one = attn.get(b)) { // (N, T, T)
            return split(floats(one), (int) s.get(1), (int) s.get(2), (int) s.get(3));
        }
    }

    static float[] floats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = a.toType(DataType.FLOAT32, false)) {
            return f.toFloatArray();
        }
    }

    private static float[][][] split(float[] flat, int n, int rows, int cols) {
        float[][][] out = new float[n][rows][cols];
        int p = 0;
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(flat, p, out[h][i], 0, cols);
                p += cols;
            }
        }
        return out;
    }

    /**
     * Checks that {@code attn} is (N, T, T) with N ≥ 1 and T ≥ 2 and returns T.
     *
     * @param what names the tensor in the message, e.g. "blocks.4.attn" or "block 3"
     */
    static int requireSquare(float[][][] attn, String what) {
        if (attn == null || attn.length == 0) {
            throw new IllegalArgumentException(what + ": attention must be (N, T, T) with at least one head, got none");
        }
        int t = attn[0].length;
        if (t < 2) {
            throw new IllegalArgumentException(what + ": attention needs T >= 2 tokens (class token + patches), got T = "
                    + t);
        }
        for (int h = 0; h < attn.length; h++) {
            if (attn[h].length != t) {
                throw new IllegalArgumentException(what + ": head " + h + " has " + attn[h].length
                        + " query rows but head 0 has " + t + "; attention must be (N, T, T)");
            }
            for (int i = 0; i < t; i++) {
                if (attn[h][i].length != t) {
                    throw new IllegalArgumentException(what + ": attention must be square (N, T, T), but head " + h
                            + " row " + i + " has " + attn[h][i].length + " keys for T = " + t + " queries");
                }
            }
        }
        return t;
    }

    /** Checks that T − 1 patches fill a G_h × G_w grid. */
    static void requireGrid(int t, int gridH, int gridW, String what) {
        if (gridH <= 0 || gridW <= 0) {
            throw new IllegalArgumentException("patch grid must be positive, got " + gridH + "x" + gridW);
        }
        if ((long) gridH * gridW != t - 1) {
            throw new IllegalArgumentException(what + ": " + (t - 1) + " patches (T - 1) do not fill a " + gridH + "x"
                    + gridW + " grid (" + (gridH * gridW) + " patches); pass the model's grid (image size / patch size)");
        }
    }

    /**
     * Lays patch weights out on the patch grid in row-major order, as timm's {@code PatchEmbed} flattens them.
     *
     * @param weights (panels, L)
     * @return (panels, G_h, G_w)
     */
    public static float[][][] toGrid(float[][] weights, int gridH, int gridW) {
        float[][][] out = new float[weights.length][][];
        for (int p = 0; p < weights.length; p++) {
            out[p] = toGrid(weights[p], gridH, gridW);
        }
        return out;
    }

    /**
     * @param weights (L)
     * @return (G_h, G_w)
     */
    public static float[][] toGrid(float[] weights, int gridH, int gridW) {
        requireGrid(weights.length + 1, gridH, gridW, "patch weights");
        float[][] g = new float[gridH][gridW];
        for (int r = 0; r < gridH; r++) {
            System.arraycopy(weights, r * gridW, g[r], 0, gridW);
        }
        return g;
    }
}
