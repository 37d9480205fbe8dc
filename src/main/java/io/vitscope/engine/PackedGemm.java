package io.vitscope.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;

/**
 * A linear layer's weight laid out once for MKL's packed GEMM ({@code cblas_sgemm_pack}/{@code cblas_sgemm_compute},
 * exported by DJL's libtorch; see {@code src/main/native/mklfix.c}), in one slice of its rows per intra-op thread, and
 * the product {@code x·Wᵀ + b} with it, each thread computing its slice's output columns (as {@link SlicedGemm} does
 * with the weight in place).
 *
 * <p>Why: MKL's plain {@code sgemm} re-packs the weight on every call. With many rows that is amortised; at batch 1
 * (197 rows of ViT-B/16 against weights of up to 768×3072) it is not. Packing once per weight removes that work from
 * every call, at the cost of a second copy of the weights (as large as the model). Off by default:
 * {@code VisionTransformer.packWeights()} turns it on.
 *
 * <p>The slices are cut for the intra-op thread count in force when the weight is packed ({@link #SLICES_PER_THREAD}
 * per thread); products run on the threads in force when they run (repack to follow a new count).
 *
 * <p>What it is not: a path for gradients (it runs outside libtorch's autograd — callers use it only with grad mode
 * off and for float32 CPU tensors) or for weights that change (a packed copy does not follow later in-place edits of
 * the weight: whoever edits weights in place drops the packing first, see {@code VisionTransformer.unpackWeights}).
 * Results differ from libtorch's product only in rounding (a different summation order inside MKL).
 */
public final class PackedGemm implements AutoCloseable {

    /**
     * Slices per intra-op thread. The threads take slices as they come free, so a thread that starts late (its core
     * taken by the JVM's compiler or another process) hands its work to the other instead of keeping it waiting;
     * two per thread measured 199 ms per ViT-B/16 forward against 202 for one and 209 for one each, fixed.
     */
    static final int SLICES_PER_THREAD = 2;

    /**
     * The most rows (tokens × images) for which a forward takes the packed product ({@code Linear}); beyond it MKL's
     * own packing, amortised over the rows, is as fast or faster. ViT-B/16's 48 products, packed against libtorch's in
     * alternating rounds of one process: 0.984× at batch 4 (788 rows), 0.999× at 6, 1.031× at 8; whole forwards,
     * packed against unpacked: 0.94× at batch 1, 0.955× at 2 (docs/benchmarks.md). {@link #linear} itself computes
     * any row count.
     */
    public static final int MAX_ROWS = 800;

    /** Whether a forward takes the packed product for a product of {@code rows} rows ({@link #MAX_ROWS}). */
    public static boolean takes(long rows) {
        return rows <= MAX_ROWS;
    }

    private static final Once AVAILABLE = new Once(PackedGemm::load);

    private final NDArray source;
    private final int n;
    private final int k;
    private volatile long packed;

    private PackedGemm(NDArray source, int n, int k, long packed) {
        this.source = source;
        this.n = n;
        this.k = k;
        this.packed = packed;
    }

    /** Whether this machine can pack: the native library is built and libtorch exports MKL's packed GEMM. */
    public static boolean available() {
        return AVAILABLE.get();
    }

    private static boolean load() {
        // -Dvitscope.packed=false turns off packing alone; -Dvitscope.mklfix=false turns off the whole library.
        if (MklFastPath.switchedOff("packed") || !MklFastPath.bindNatives()) {
            return false;
        }
        try {
            return nativeAvailable();
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * Packs {@code weight} (out, in) float32, as {@code nn.Linear} stores it, for products of about {@code rows} rows
     * (MKL lays the packing out for that many; any row count works); null when packing is unavailable or the weight
     * is not a float32 CPU matrix.
     */
    public static PackedGemm pack(NDArray weight, int rows) {
        Shape s = weight.getShape();
        if (!available() || s.dimension() != 2 || weight.getDataType() != DataType.FLOAT32
                || !weight.getDevice().equals(ai.djl.Device.cpu()) || !(weight instanceof PtNDArray pt)) {
            return null;
        }
        ByteBuffer w = TensorMemory.of(pt);
        if (w == null) {
            return null;
        }
        int slices = Math.max(1, JniUtils.getNumThreads()) * SLICES_PER_THREAD;
        long p = pack(w, (int) s.get(0), (int) s.get(1), slices, Math.max(1, rows));
        return p == 0 ? null : new PackedGemm(weight, (int) s.get(0), (int) s.get(1), p);
    }

    /** The weight this packing was made from (the same object: a replaced weight makes the packing stale). */
    public NDArray source() {
        return source;
    }

    /**
     * {@code x·Wᵀ + bias} for {@code x} (..., in) float32 on the CPU; null when {@code x} does not qualify (the caller
     * then uses libtorch's own product). The result belongs to {@code x}'s manager.
     */
    public NDArray linear(NDArray x, NDArray bias) {
        Shape xs = x.getShape();
        long p = packed;
        if (p == 0 || xs.dimension() < 1 || xs.get(xs.dimension() - 1) != k
                || x.getDataType() != DataType.FLOAT32
                || (bias != null && (bias.getDataType() != DataType.FLOAT32 || bias.size() != n))) {
            return null;
        }
        long m = xs.size() / k;
        if (m > Integer.MAX_VALUE || m * n > Integer.MAX_VALUE) {
            return null;
        }
        ByteBuffer xb = TensorMemory.of(x);
        ByteBuffer bb = bias == null ? null : TensorMemory.of(bias);
        if (xb == null || (bias != null && bb == null)) {
            return null; // a view laid out otherwise: libtorch's product handles it
        }
        int threads = JniUtils.getNumThreads();
        return TensorMemory.filled(x.getManager(), xs.slice(0, xs.dimension() - 1).add(n),
                y -> linear(xb, (int) m, k, p, n, bb, y, threads));
    }

    /** Frees the packed copy; call it only when no forward uses it (as with the model itself). */
    @Override
    public synchronized void close() {
        if (packed != 0) {
            free(packed);
            packed = 0;
        }
    }

    private static native boolean nativeAvailable();

    private static native long pack(ByteBuffer weight, int n, int k, int slices, int rows);

    private static native void free(long packed);

    private static native int linear(ByteBuffer x, int m, int k, long packed, int n, ByteBuffer bias, ByteBuffer y,
            int threads);
}
