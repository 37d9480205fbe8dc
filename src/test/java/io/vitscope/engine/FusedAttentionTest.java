package io.vitscope.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.Golden;
import io.vitscope.Prerequisites;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link FusedAttention}: the attention core in one native step lies within float32's error bound of the exact
 * result (computed in float64 from the same inputs), as libtorch's statement-by-statement float32 result does; the
 * model takes it only where no breakpoint stops inside, and captures still see the probabilities.
 */
class FusedAttentionTest {

    private static final double U = Math.ulp(1.0f) / 2; // float32 unit roundoff, 2^-24
    /** The exponential's relative error: within 2 ulp (measured 1.24 over [-87, 0.5]), i.e. at most 4u. */
    private static final double EXP = 4 * U;

    private int threads;

    @BeforeEach
    void needsTheNativeLibrary() {
        Prerequisites.require(FusedAttention.available(), "the fused attention of libvitscope_mklfix.so",
                "apt-get install gcc libc6-dev, then mvn compile");
        threads = JniUtils.getNumThreads();
    }

    @AfterEach
    void restore() {
        JniUtils.setNumThreads(threads);
        FusedAttention.setEnabled(true);
        FusedAttention.setVectorized(true);
    }

    /**
     * Each output element against the exact value, with the bound built step by step as the kernel rounds: the scaled
     * logits Ŝ within δ = scale·γ_Dh·Σ|q||k| + u·|S| of S; each probability's relative error at most
     * r = 2(e^ρ − 1) + γ_N + 2u, where ρ = 2·max δ + u·|Ŝ − max Ŝ| + 4u covers the logits, the subtraction of the
     * row maximum and the exponential (the sum adds γ_N, the reciprocal and the product u each); the output then
     * within Σ_j r·P_ij·|v_jd| + γ_N·Σ_j P_ij·|v_jd|. libtorch's own float32 statements are held to the same bound.
     */
    @ParameterizedTest(name = "B={0} N={1} heads={2} Dh={3}, {4} threads, vectorized {5}")
    @CsvSource({"1, 197, 12, 64, 2, true", "2, 17, 4, 8, 2, true", "3, 13, 2, 5, 3, true", "1, 50, 3, 16, 1, true",
        "2, 16, 2, 8, 2, true", "2, 5, 2, 4, 1, true", "1, 197, 12, 64, 2, false", "3, 13, 2, 5, 3, false"})
    void withinTheFloat32BoundOfTheExactAttention(int b, int n, int heads, int dh, int t, boolean vectorized) {
        JniUtils.setNumThreads(t);
        FusedAttention.setVectorized(vectorized); // false: the loop CPUs without AVX2 run
        int c = heads * dh;
        float scale = (float) Math.pow(dh, -0.5);
        try (NDManager m = NDManager.newBaseManager()) {
            Random r = new Random(b * 1000L + n);
            float[] data = new float[b * n * 3 * c];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) (r.nextGaussian() * 2); // logits of a few units, as in a trained ViT
            }
            NDArray qkv = m.create(data, new Shape(b, n, 3 * c));
            FusedAttention.Result fused = FusedAttention.apply(qkv, heads, scale, true);
            assertNotNull(fused, "float32, contiguous: fused");
            double[] bound = new double[b * n * c];
            double[] probs = new double[b * heads * n * n];
            double[] probBound = new double[probs.length];
            double[] exact = exact(data, b, n, heads, dh, scale, bound, probs, probBound);
            double used = check(fused.x().toFloatArray(), exact, bound, "fused");
            // libtorch's statements, as Attention runs them unfused, against the same bound
            NDArray q = qkv.reshape(b, n, 3, heads, dh).transpose(2, 0, 3, 1, 4);
            NDArray attn = q.get(0).matMul(q.get(1).transpose(0, 1, 3, 2)).mul(scale).softmax(-1);
            NDArray x = attn.matMul(q.get(2)).transpose(0, 2, 1, 3).reshape(b, n, c);
            double usedTorch = check(x.toFloatArray(), exact, bound, "libtorch");
            check(fused.attn().toFloatArray(), probs, probBound, "fused probabilities");
            check(attn.toFloatArray(), probs, probBound, "libtorch's probabilities");
            System.out.printf("fused attention B=%d N=%d H=%d Dh=%d, vectorized %s: %.2f%% of the bound (libtorch's "
                    + "%.2f%%)%n", b, n, heads, dh, vectorized, 100 * used, 100 * usedTorch);
        }
    }

    /**
     * Exact attention output (B, N, C) in double, the bound of each element in {@code bound}, and the exact
     * probabilities (B, H, N, N) with theirs in {@code probs} and {@code probBound}.
     */
    private static double[] exact(float[] qkv, int b, int n, int heads, int dh, float scale, double[] bound,
            double[] probs, double[] probBound) {
        int c = heads * dh;
        double gammaD = dh * U / (1 - dh * U);
        double gammaN = n * U / (1 - n * U);
        double[] out = new double[b * n * c];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double[] delta = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    double maxDelta = 0;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        double abs = 0;
                        for (int d = 0; d < dh; d++) {
                            double qv = qkv[(bi * n + i) * 3 * c + h * dh + d];
                            double kv = qkv[(bi * n + j) * 3 * c + c + h * dh + d];
                            dot += qv * kv;
                            abs += Math.abs(qv * kv);
                        }
                        s[j] = dot * scale;
                        delta[j] = scale * gammaD * abs + U * Math.abs(s[j]);
                        max = Math.max(max, s[j]);
                        maxDelta = Math.max(maxDelta, delta[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    double worstRho = 0;
                    for (int j = 0; j < n; j++) {
                        worstRho = Math.max(worstRho, 2 * maxDelta + U * Math.abs(Math.log(s[j])) + EXP);
                    }
                    double rel = 2 * Math.expm1(worstRho) + gammaN + 2 * U;
                    for (int j = 0; j < n; j++) {
                        int at = ((bi * heads + h) * n + i) * n + j;
                        probs[at] = s[j] / sum;
                        probBound[at] = rel * probs[at] + Float.MIN_NORMAL;
                    }
                    for (int d = 0; d < dh; d++) {
                        double o = 0;
                        double spread = 0;
                        for (int j = 0; j < n; j++) {
                            double p = s[j] / sum;
                            double v = qkv[(bi * n + j) * 3 * c + 2 * c + h * dh + d];
                            o += p * v;
                            spread += p * Math.abs(v);
                        }
                        int at = (bi * n + i) * c + h * dh + d;
                        out[at] = o;
                        bound[at] = (rel * (1 + rel) + gammaN) * spread + Float.MIN_NORMAL;
                    }
                }
            }
        }
        return out;
    }

    private static double check(float[] got, double[] exact, double[] bound, String what) {
        assertEquals(exact.length, got.length);
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs(got[i] - exact[i]);
            assertTrue(d <= bound[i], what + ", element " + i + ": " + got[i] + " vs exact " + exact[i] + " (bound "
                    + bound[i] + ")");
            worst = Math.max(worst, d / bound[i]);
        }
        return worst;
    }

    @Test
    void declinesWhatItDoesNotHandle() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray qkv = m.randomNormal(new Shape(1, 5, 24));
            assertNotNull(FusedAttention.apply(qkv, 2, 0.5f, false), "the control");
            assertNull(FusedAttention.apply(qkv.toType(DataType.FLOAT64, false), 2, 0.5f, false), "float64");
            assertNull(FusedAttention.apply(qkv, 5, 0.5f, false), "24 is not 3 × heads × an integer head size");
            assertNull(FusedAttention.apply(m.randomNormal(new Shape(1, 24, 5)).transpose(0, 2, 1), 2, 0.5f, false),
                    "not contiguous");
            assertNull(FusedAttention.apply(qkv.reshape(5, 24), 2, 0.5f, false), "not (B, N, 3C)");
            FusedAttention.setEnabled(false);
            assertNull(FusedAttention.apply(qkv, 2, 0.5f, false), "turned off");
        }
    }

    /** Non-finite logits stay non-finite (a NaN is never clamped into a number) so the forward can report them. */
    @Test
    void aNanInTheInputGivesNanRows() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] data = new float[1 * 9 * 3 * 8];
            for (int i = 0; i < data.length; i++) {
                data[i] = (i % 7) / 7f;
            }
            data[3 * 8 + 8 + 1] = Float.NaN; // k of token 1, head 0: every query of head 0 sees it
            FusedAttention.Result r = FusedAttention.apply(m.create(data, new Shape(1, 9, 24)), 2, 0.5f, true);
            float[] x = r.x().toFloatArray();
            for (int i = 0; i < 9; i++) {
                for (int d = 0; d < 4; d++) {
                    assertTrue(Float.isNaN(x[i * 8 + d]), "token " + i + ", head 0, element " + d + ": " + x[i * 8 + d]);
                }
                for (int d = 4; d < 8; d++) {
                    assertTrue(Float.isFinite(x[i * 8 + d]), "head 1 does not see the NaN");
                }
            }
        }
    }

    /**
     * In the model: a breakpoint inside the attention (×3 before the softmax) runs the statements on libtorch, and
     * gives the same logits as with the fused step turned off; a disabled one leaves the fused step in place (the
     * same logits as no probe at all); a capture sees the probabilities of the fused step.
     */
    @Test
    void theModelFusesOnlyWhereNoBreakpointStopsInside() {
        try (VisionTransformer model = Golden.model("tiny", "timm.safetensors"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            NDArray input = Golden.npy("tiny/input.npy").toNDArray(m);
            float[] fusedPlain = model.forward(input).toFloatArray();
            FusedAttention.setEnabled(false);
            float[] unfusedPlain = model.forward(input).toFloatArray();
            var x3 = LogitScaling.install(probe, 3);
            probe.start();
            float[] unfusedScaled = model.forward(input).toFloatArray();
            FusedAttention.setEnabled(true);
            float[] scaled = model.forward(input).toFloatArray();
            assertArrayEquals(unfusedScaled, scaled, "a breakpoint inside: libtorch's statements, fused or not");
            x3.disable();
            assertArrayEquals(fusedPlain, model.forward(input).toFloatArray(), "a disabled breakpoint: still fused");
            probe.stop();
            io.vitscope.Bound.of("tiny/logits").check(fusedPlain, "fused logits");
            io.vitscope.Bound.of("tiny/logits").check(unfusedPlain, "unfused logits");
            try (CallCapture c = Probe.captureCalls(model, "blocks.*.attn")) {
                model.forward(input).close();
                NDArray attn = c.all().get(0).tensor("attn");
                assertEquals(new Shape(2, 4, 17, 17), attn.getShape(), "the probabilities, (B, H, N, N)");
                float[] rowSums = attn.sum(new int[] {-1}).toFloatArray();
                for (float s : rowSums) {
                    assertEquals(1, s, 1e-5, "each row of probabilities sums to 1");
                }
            }
        }
    }
}
