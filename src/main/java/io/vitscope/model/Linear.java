package io.vitscope.model;

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
            return f.exit(x.getNDArrayInternal().linear(x, w, b).singletonOrThrow()); // (..., out)
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }
}
