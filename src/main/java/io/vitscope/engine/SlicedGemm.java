package io.vitscope.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;

/**
 * The product {@code x·Wᵀ + b} of a linear layer in a grad-free forward, with the weight's rows (the output columns)
 * split between libtorch's intra-op threads, each running MKL single-threaded on its own slice (see
 * {@code src/main/native/mklfix.c}).
 *
 * <p>Why: libtorch's {@code linear} hands the product to MKL's threaded {@code sgemm}, which with few rows splits the
 * rows between threads, so every thread packs the whole weight for itself. At batch 1 of ViT-B/16 (197 rows) that
 * left the linear layers at ≈ 170 GFLOP/s where ONNX Runtime's reach ≈ 205 on the same machine; split by columns,
 * each thread reads and packs only its slice (measured in docs/benchmarks.md, "Where batch-1 time goes"). With many
 * rows both ways run at the same rate, so the split is used only up to {@link #MAX_ROWS} rows, where it was measured
 * to help, and only when every thread gets at least {@link #MIN_COLUMNS} columns.
 *
 * <p>The weight is read in place: no copy, no extra memory; tensors that are not contiguous are declined. Results
 * differ from libtorch's product only in rounding (MKL's summation order inside a slice). Not for gradients: the
 * product runs outside libtorch's autograd, so callers use it only with grad mode off. {@code -Dvitscope.sliced=false}
 * turns it off.
 */
public final class SlicedGemm {

    /** The most rows (tokens × images) sliced; more go to libtorch, where MKL's own split is as fast. */
    public static final int MAX_ROWS = 1024;
    /** The fewest output columns per thread worth a slice of their own. */
    public static final int MIN_COLUMNS = 128;

    private static final Once READY = new Once(SlicedGemm::bind);
    private static final Once AVAILABLE =
            new Once(() -> !MklFastPath.switchedOff("sliced") && ready());

    private SlicedGemm() {}

    /** Whether this process can slice: the native library is built and libtorch exports MKL and OpenMP as needed. */
    public static boolean available() {
        return AVAILABLE.get();
    }

    /** Whether the native library is bound and found MKL's sgemm and libtorch's OpenMP (whatever the switches say). */
    static boolean ready() {
        return READY.get();
    }

    private static boolean bind() {
        if (!MklFastPath.bindNatives()) {
            return false;
        }
        try {
            return nativeAvailable();
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * {@code x·weightᵀ + bias} for {@code x} (..., in), {@code weight} (out, in) and {@code bias} (out) or null, all
     * float32 contiguous CPU tensors; null when the product does not qualify (one thread, too many rows, too few
     * columns per thread, another dtype or layout): the caller then uses libtorch's own product. The result belongs
     * to {@code x}'s manager.
     */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        Shape xs = x.getShape();
        Shape ws = weight.getShape();
        if (!available() || ws.dimension() != 2 || xs.dimension() < 1 || xs.get(xs.dimension() - 1) != ws.get(1)
                || x.getDataType() != DataType.FLOAT32 || weight.getDataType() != DataType.FLOAT32
                || (bias != null && (bias.getDataType() != DataType.FLOAT32 || bias.size() != ws.get(0)))) {
            return null;
        }
        long n = ws.get(0);
        long k = ws.get(1);
        long m = k == 0 ? 0 : xs.size() / k;
        int threads = JniUtils.getNumThreads();
        if (threads < 2 || m < 1 || m > MAX_ROWS || n / threads < MIN_COLUMNS || n * k > Integer.MAX_VALUE) {
            return null;
        }
        ByteBuffer xb = TensorMemory.of(x);
        ByteBuffer wb = TensorMemory.of(weight);
        ByteBuffer bb = bias == null ? null : TensorMemory.of(bias);
        if (xb == null || wb == null || (bias != null && bb == null)) {
            return null; // a view laid out otherwise: libtorch's product handles it
        }
        return TensorMemory.filled(x.getManager(), xs.slice(0, xs.dimension() - 1).add(n),
                y -> linear(xb, (int) m, (int) k, wb, (int) n, bb, y, threads));
    }

    private static native boolean nativeAvailable();

    private static native int linear(ByteBuffer x, int m, int k, ByteBuffer weight, int n, ByteBuffer bias,
            ByteBuffer y, int slices);
}
