package io.vitscope.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;

/**
 * The core of a ViT attention call in a grad-free forward, from the qkv projection to the merged heads, as one native
 * step on libtorch's OpenMP threads (see {@code src/main/native/mklfix.c}): per image and head,
 * {@code softmax(q·kᵀ · scale)·v}, with q, k and v read in place from the projection and the result written straight
 * in (B, N, C) layout.
 *
 * <p>Why: libtorch runs these statements as eight operations, three of them copies (q, k and v made contiguous for its
 * batched products, then the merge of the heads), each handing work to the threads and back; at batch 1 of ViT-B/16
 * those hand-offs and copies cost more than the arithmetic (docs/benchmarks.md, "Where batch-1 time goes").
 *
 * <p>The steps round as libtorch's do (the product, then the scale, then max-subtracted exponentials normalised by the
 * reciprocal of their sum); the exponential is a polynomial within 2 ulp where libtorch uses SLEEF's within 1, so the
 * probabilities differ from libtorch's by a few units in the last place. Callers use it only with grad mode off, for
 * float32 CPU tensors, and only when no breakpoint stops between the statements it replaces
 * ({@code Attention}: the attention probabilities are then still handed to captures). {@code -Dvitscope.fused=false}
 * turns it off.
 */
public final class FusedAttention {

    private static final Once AVAILABLE =
            new Once(() -> !MklFastPath.switchedOff("fused") && SlicedGemm.ready());
    private static volatile boolean enabled = true;
    private static volatile boolean vectorized = true; // false: the softmax's plain loop with libm's expf (tests)

    private FusedAttention() {}

    /**
     * Turns the fused step on or off for this process from now on (on by default): off, every attention call runs its
     * statements on libtorch. For comparing the two, as {@code vitscope bench} does; forwards already running are not
     * affected.
     */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /** Whether this process can fuse: the native library is built and libtorch exports MKL and OpenMP as needed. */
    public static boolean available() {
        return AVAILABLE.get();
    }

    /** The merged heads {@code x} (B, N, C) and, when asked for, the attention probabilities (B, H, N, N). */
    public record Result(NDArray x, NDArray attn) {}

    /**
     * {@code x = (softmax((q @ kᵀ) · scale) @ v).transpose(1, 2).reshape(B, N, C)} for {@code qkv} (B, N, 3C) as the
     * projection returns it ({@code [q | k | v]}, each {@code heads} heads of C / heads), float32, contiguous;
     * null when it does not qualify (the caller then runs the statements on libtorch). The results belong to
     * {@code qkv}'s manager.
     *
     * @param keepAttn whether to return the probabilities too (for a capture), at the cost of writing them out
     */
    public static Result apply(NDArray qkv, int heads, float scale, boolean keepAttn) {
        Shape s = qkv.getShape();
        if (!enabled || !available() || s.dimension() != 3 || qkv.getDataType() != DataType.FLOAT32 || heads < 1
                || s.get(2) % (3L * heads) != 0) {
            return null;
        }
        long b = s.get(0);
        long n = s.get(1);
        long c = s.get(2) / 3;
        if (b < 1 || n < 1 || c < heads || b * heads * n * n > Integer.MAX_VALUE) {
            return null;
        }
        ByteBuffer in = TensorMemory.of(qkv);
        if (in == null) {
            return null;
        }
        NDManager m = qkv.getManager();
        NDArray x = m.create(new Shape(b, n, c), DataType.FLOAT32);
        NDArray attn = keepAttn ? m.create(new Shape(b, heads, n, n), DataType.FLOAT32) : null;
        ByteBuffer xb = TensorMemory.of(x);
        ByteBuffer ab = attn == null ? null : TensorMemory.of(attn);
        if (xb == null || (attn != null && ab == null) || attention(in, (int) b, (int) n, heads, (int) (c / heads),
                scale, xb, ab, Math.max(1, JniUtils.getNumThreads()), vectorized) != 0) {
            x.close();
            if (attn != null) {
                attn.close();
            }
            return null;
        }
        return new Result(x, attn);
    }

    private static native int attention(ByteBuffer qkv, int b, int n, int heads, int headDim, float scale,
            ByteBuffer out, ByteBuffer attn, int threads, boolean vectorized);

    /**
     * Whether the softmax uses its AVX2 loop where the CPU has AVX2 and FMA (default), or the plain loop with libm's
     * {@code expf} that CPUs without them run: for tests of that loop on machines that have them.
     */
    static void setVectorized(boolean on) {
        vectorized = on;
    }
}
