package io.vitscope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.util.Arrays;
import java.util.Map;

/**
 * A golden's exact value and the tolerance of a float32 (or float64) result, from the {@code <name>_f64.npy} and
 * {@code <name>_bound.npy} files that {@code scripts/make_goldens.py} writes next to a golden.
 *
 * <p>The bound is derived, not observed: {@code scripts/error_bounds.py} propagates the variance of float32 rounding
 * errors through the forward statement by statement (Higham &amp; Mary's probabilistic model of rounding errors:
 * independent, mean zero, at most u = 2^-24 relative), and takes 10 standard deviations plus float32's underflow
 * threshold. It is elementwise, so relative where magnitudes vary, and it grows where the computation amplifies error
 * (a ×3 on the pre-softmax logits makes the softmax three times as sensitive, and its bound three times as wide). Any
 * BLAS, summation order or vector width stays inside it; PyTorch's own float32 results use 1% to 16% of it.
 *
 * <p>In float64 every term of the bound scales with the unit roundoff, by 2^-29; doubled for the float64 reference's
 * own error, {@link #FLOAT64_SCALE} times the bound is the tolerance of a float64 result. That is about 1e-12 on
 * these logits — six orders of magnitude below a LayerNorm eps of 1e-5 instead of 1e-6 (a ~1e-5 relative change),
 * which the float32 bound, at the level of float32 noise, cannot separate from rounding.
 */
public final class Bound {

    /** 2 · 2^-53 / 2^-24: the float32 bound rescaled to float64's unit roundoff, doubled for the reference's error. */
    public static final double FLOAT64_SCALE = 2 * Math.pow(2, -29);

    private final String name;
    private final long[] shape;
    private final double[] exact;
    private final double[] bound;

    private Bound(String name, long[] shape, double[] exact, double[] bound) {
        this.name = name;
        this.shape = shape;
        this.exact = exact;
        this.bound = bound;
    }

    /** The bound of golden {@code name}, e.g. {@code "tiny/logits"} for {@code tiny/logits_f64.npy}. */
    public static Bound of(String name) {
        NpyArray v = Golden.npy(name + "_f64.npy");
        NpyArray e = Golden.npy(name + "_bound.npy");
        assertArrayEquals(v.shape(), e.shape(), name);
        return new Bound(name, v.shape(), v.doubles(), e.doubles());
    }

    /** Entry {@code key} of a golden {@code .npz} pair ({@code name_f64.npz}, {@code name_bound.npz}). */
    public static Bound ofNpz(String name, String key) {
        Map<String, NpyArray> v = Npz.read(Golden.file(name + "_f64.npz"));
        Map<String, NpyArray> e = Npz.read(Golden.file(name + "_bound.npz"));
        NpyArray a = v.get(key);
        return new Bound(name + "[" + key + "]", a.shape(), a.doubles(), e.get(key).doubles());
    }

    public long[] shape() {
        return shape.clone();
    }

    /**
     * This bound widened by a relative term: {@code bound + rel·|exact|}, for a result computed from this quantity by
     * code with its own rounding (an analysis in double rounded to float, say).
     */
    public Bound plusRelative(double rel) {
        double[] wider = new double[bound.length];
        for (int i = 0; i < wider.length; i++) {
            wider[i] = bound[i] + rel * Math.abs(exact[i]);
        }
        return new Bound(name, shape, exact, wider);
    }

    /** The elementwise float32 bounds, C order. */
    public double[] bounds() {
        return bound.clone();
    }

    /** The sub-array at a leading index ({@code at(2)} of a (3, B, N, T, T) attention is block 2's (B, N, T, T)). */
    public Bound at(int index) {
        int n = exact.length / (int) shape[0];
        return new Bound(name + "[" + index + "]", Arrays.copyOfRange(shape, 1, shape.length),
                Arrays.copyOfRange(exact, index * n, (index + 1) * n), Arrays.copyOfRange(bound, index * n, (index + 1) * n));
    }

    /** The sub-array at index {@code index} of axis 1 ({@code atAxis1(0)} of (B, T, D) features: the class tokens). */
    public Bound atAxis1(int index) {
        int outer = (int) shape[0];
        int inner = exact.length / outer / (int) shape[1];
        double[] v = new double[outer * inner];
        double[] e = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            int from = (o * (int) shape[1] + index) * inner;
            System.arraycopy(exact, from, v, o * inner, inner);
            System.arraycopy(bound, from, e, o * inner, inner);
        }
        long[] s = new long[shape.length - 1];
        s[0] = shape[0];
        System.arraycopy(shape, 2, s, 1, shape.length - 2);
        return new Bound(name + "[:, " + index + "]", s, v, e);
    }

    /**
     * Asserts that a float32 result lies within the bound of every element; returns the largest |error| / bound (a
     * measure of how much of the tolerance was used).
     */
    public double check(float[] actual, String what) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = actual[i];
        }
        return check(a, 1, what);
    }

    public double check(NDArray actual, String what) {
        assertArrayEquals(shape, actual.getShape().getShape(), what + ": shape");
        if (actual.getDataType() == DataType.FLOAT64) {
            return check(actual.toDoubleArray(), FLOAT64_SCALE, what + " (float64)");
        }
        return check(actual.toFloatArray(), what);
    }

    /** As {@link #check(float[], String)} for a float64 result: the bound times {@link #FLOAT64_SCALE}. */
    public double check64(double[] actual, String what) {
        return check(actual, FLOAT64_SCALE, what + " (float64)");
    }

    private double check(double[] actual, double scale, String what) {
        assertEquals(exact.length, actual.length, what + ": number of values vs " + name);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - exact[i]);
            double ratio = err / (scale * bound[i]);
            if (!(ratio <= worst)) { // NaN counts as a failure
                worst = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
                at = i;
            }
        }
        if (at >= 0) {
            double err = Math.abs(actual[at] - exact[at]);
            assertTrue(worst <= 1, String.format("%s: element %d is %s, the exact value %s: |error| %.3g exceeds its "
                    + "derived bound %.3g (%s, see scripts/error_bounds.py)", what, at, actual[at], exact[at], err,
                    scale * bound[at], name));
        }
        return worst;
    }
}
