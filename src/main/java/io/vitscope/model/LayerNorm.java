package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;

/** {@code nn.LayerNorm} over the last dimension, with weight and bias (timm: eps 1e-6). */
public final class LayerNorm extends VitModule {

    private final int dim;
    private final float eps;
    private final Parameter weight; // (D)
    private final Parameter bias;   // (D)

    public LayerNorm(int dim, double eps) {
        this.dim = dim;
        this.eps = (float) eps;
        this.weight = param("weight", new Shape(dim), Parameter.Type.GAMMA, null);
        this.bias = param("bias", new Shape(dim), Parameter.Type.BETA, null);
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("input", x);                                     // (..., D)
            NDArray y = x.getNDArrayInternal()
                    .layerNorm(x, new Shape(dim), ctx.value(weight, x), ctx.value(bias, x), eps)
                    .singletonOrThrow();                               // (..., D)
            return f.exit(y);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    public double eps() {
        return eps;
    }
}
