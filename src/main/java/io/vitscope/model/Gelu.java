package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;

/** {@code nn.GELU}: the exact form {@code x · Φ(x)} with the error function, as PyTorch's default. */
public final class Gelu extends VitModule {

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("input", x);                                     // (..., M)
            return f.exit(x.getNDArrayInternal().gelu());              // (..., M)
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
