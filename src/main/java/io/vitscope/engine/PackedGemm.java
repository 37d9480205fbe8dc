package io.vitscope.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A linear layer's weight laid out once for MKL's packed GEMM ({@code cblas_sgemm_pack}/{@code cblas_sgemm_compute},
 * exported by DJL's libtorch; see {@code src/main/native/mklfix.c}), and the product {@code x·Wᵀ + b} with it.
 *
 * <p>Why: libtorch's {@code linear} calls MKL's plain {@code sgemm}, which re-packs the weight on every call. With many
 * rows that is amortised; at batch 1 (197 rows of ViT-B/16 against weights of up to 768×3072) it is not, and the
 * products run well below the rate they reach at batch 8. Packing once per weight removes that work from every call.
 *
 * <p>What it is not: a path for gradients (it runs outside libtorch's autograd — callers use it only with grad mode
 * off and for float32 CPU tensors) or for weights that change (a packed copy does not follow later in-place edits of
 * the weight: whoever edits weights in place drops the packing first, see {@code VisionTransformer.unpackWeights}).
 * Results differ from libtorch's product only in rounding (a different summation order inside MKL).
 */
public final class PackedGemm implements AutoCloseable {

    private static volatile Boolean available;

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
        Boolean a = available;
        if (a == null) {
            synchronized (PackedGemm.class) {
                if (available == null) {
                    available = load();
                }
                a = available;
            }
        }
        return a;
    }

    private static boolean load() {
        // The packed products live in the MKL fast path's library: turning that off (-Dvitscope.mklfix=false) turns
        // them off too, so the library never enters the process. -Dvitscope.packed=false turns off packing alone.
        if ("false".equalsIgnoreCase(System.getProperty("vitscope.packed"))
                || "false".equalsIgnoreCase(System.getProperty("vitscope.mklfix"))) {
            return false;
        }
        try {
            Path lib = MklFastPath.nativeLibrary();
            if (lib == null) {
                return false;
            }
            ai.djl.engine.Engine.getEngine("PyTorch"); // libtorch must be loaded for the symbol lookup
            System.load(lib.toAbsolutePath().toString()); // binds this class's natives (a loaded library is reused)
            return nativeAvailable();
        } catch (java.io.IOException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * Packs {@code weight} (out, in) float32, as {@code nn.Linear} stores it; null when packing is unavailable or the
     * weight is not a float32 CPU matrix.
     */
    public static PackedGemm pack(NDArray weight) {
        Shape s = weight.getShape();
        if (!available() || s.dimension() != 2 || weight.getDataType() != DataType.FLOAT32
                || !weight.getDevice().equals(ai.djl.Device.cpu()) || !(weight instanceof PtNDArray pt)) {
            return null;
        }
        ByteBuffer w = pt.toByteBuffer(true);
        if (!w.isDirect()) {
            return null;
        }
        long p = pack(w, (int) s.get(0), (int) s.get(1));
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
                || x.getDataType() != DataType.FLOAT32 || !(x instanceof PtNDArray px)
                || (bias != null && (bias.getDataType() != DataType.FLOAT32 || bias.size() != n))) {
            return null;
        }
        long m = xs.size() / k;
        if (m > Integer.MAX_VALUE || m * n > Integer.MAX_VALUE) {
            return null;
        }
        ByteBuffer xb = px.toByteBuffer(true);
        ByteBuffer bb = bias == null ? null : ((PtNDArray) bias).toByteBuffer(true);
        NDArray y = x.getManager().create(xs.slice(0, xs.dimension() - 1).add(n), DataType.FLOAT32);
        ByteBuffer yb = ((PtNDArray) y).toByteBuffer(true);
        if (!xb.isDirect() || !yb.isDirect() || (bb != null && !bb.isDirect())
                || linear(xb, (int) m, k, p, n, bb, yb) != 0) {
            y.close();
            return null;
        }
        return y;
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

    private static native long pack(ByteBuffer weight, int n, int k);

    private static native void free(long packed);

    private static native int linear(ByteBuffer x, int m, int k, long packed, int n, ByteBuffer bias, ByteBuffer y);
}
