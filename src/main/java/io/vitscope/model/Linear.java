package io.vitscope.model;

import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.engine.PackedGemm;
import io.vitscope.engine.SlicedGemm;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;

/** {@code nn.Linear}: {@code y = x · weightᵀ + bias}, weight (out, in) as PyTorch stores it. */
public final class Linear extends VitModule {

    private final int in;
    private final int out;
    private final Parameter weight; // (out, in)
    private final Parameter bias;   // (out) or absent
    private volatile PackedGemm packed; // the weight packed for grad-free float32 forwards, or null

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        // timm's _init_vit_weights: trunc_normal(std=.02) for Linear weights, zero bias.
        this.weight = param("weight", new Shape(out, in), Parameter.Type.WEIGHT, new NormalInitializer(0.02f));
        this.bias = bias ? param("bias", new Shape(out), Parameter.Type.BIAS, null) : null;
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("input", x);                                     // (..., in)
            NDArray w = ctx.value(weight, x);
            NDArray b = bias == null ? null : ctx.value(bias, x);
            if (!ctx.training() && !JniUtils.isGradMode()) {
                return f.exit(gradFreeProduct(x, w, b));                // (..., out)
            }
            return f.exit(x.getNDArrayInternal().linear(x, w, b).singletonOrThrow()); // (..., out)
        }
    }

    /**
     * The product a grad-free forward computes: on the packed weight if there is one ({@link #pack(int)}) and the
     * product has at most {@link PackedGemm#MAX_ROWS} rows, else with
     * the weight's rows split between the intra-op threads where that is faster ({@link SlicedGemm}), else libtorch's
     * own {@code linear}. Public so that a benchmark can time exactly what the forward runs.
     *
     * @param x (..., in)
     * @return (..., out)
     */
    public NDArray gradFreeProduct(NDArray x) {
        return gradFreeProduct(x, weight.getArray(), bias == null ? null : bias.getArray());
    }

    private NDArray gradFreeProduct(NDArray x, NDArray w, NDArray b) {
        PackedGemm p = packed;
        NDArray y = p != null && p.source() == w && PackedGemm.takes(x.size() / Math.max(1, in)) ? p.linear(x, b) : null;
        if (y == null) {
            y = SlicedGemm.linear(x, w, b);
        }
        return y != null ? y : x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
    }

    /**
     * Packs the weight for MKL's packed GEMM ({@link PackedGemm}) for products of about {@code rows} rows (the tokens
     * of one image), used by grad-free forwards from now on; returns
     * whether it is packed (false where packing is unavailable). A weight replaced later is noticed (the packing is
     * ignored); a weight edited in place is not: call {@link #unpack()} first.
     */
    boolean pack(int rows) {
        if (packed == null || packed.source() != weight.getArray()) {
            unpack();
            packed = PackedGemm.pack(weight.getArray(), rows);
        }
        return packed != null;
    }

    /** Whether grad-free forwards use a packed copy of the weight ({@link #pack(int)}). */
    public boolean isPacked() {
        PackedGemm p = packed;
        return p != null && p.source() == weight.getArray();
    }

    /** Drops the packed weight; forwards use libtorch's own product again. */
    void unpack() {
        PackedGemm p = packed;
        packed = null;
        if (p != null) {
            p.close();
        }
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }
}
