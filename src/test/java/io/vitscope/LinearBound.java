package io.vitscope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;

/**
 * How far a float32 product {@code x·Wᵀ + b} computed one way may lie from libtorch's: both are dot products of length
 * K accumulated in some order, each within γ_K·Σ|x||w| of the exact value (Higham, Theorem 3.5, with
 * γ_K = K·u/(1 − K·u)), so they differ by at most 2·γ_K·Σ|x||w|, plus the bias add's rounding, u·|y| each.
 */
public final class LinearBound {

    private static final double U = Math.ulp(1.0f) / 2; // float32 unit roundoff, 2^-24

    private LinearBound() {}

    /**
     * Asserts {@code got} (..., n) lies within the bound of libtorch's {@code linear(x, w, b)} elementwise.
     *
     * @return the largest share of the bound used, for the test's log
     */
    public static double check(NDArray got, NDArray x, NDArray w, NDArray b, String what) {
        NDArray want = x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
        assertEquals(want.getShape(), got.getShape(), what + ": shape");
        long k = w.getShape().get(1);
        float[] g = got.toFloatArray();
        float[] r = want.toFloatArray();
        float[] scale = x.abs().matMul(w.abs().transpose()).toFloatArray(); // Σ|x||w| per element
        double gamma = k * U / (1 - k * U);
        double worst = 0;
        for (int i = 0; i < g.length; i++) {
            double bound = 2 * gamma * scale[i] + 2 * U * Math.abs(r[i]) + Float.MIN_NORMAL;
            double d = Math.abs(g[i] - r[i]);
            assertTrue(d <= bound, what + ", element " + i + ": " + g[i] + " vs " + r[i] + " (bound " + bound + ")");
            worst = Math.max(worst, d / bound);
        }
        return worst;
    }
}
