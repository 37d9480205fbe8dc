package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;

/** timm's {@code PatchEmbed}: a P×P convolution with stride P, flattened to a sequence of patch tokens. */
public final class PatchEmbed extends VitModule {

    private final VitConfig config;
    private final Conv2d proj;

    PatchEmbed(VitConfig config) {
        this.config = config;
        this.proj = child("proj", new Conv2d(config.inChans(), config.embedDim(), config.patchSize()));
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("x", x);                                         // (B, C, H, W)
            Shape s = x.getShape();
            f.let("B", (int) s.get(0));
            f.let("C", (int) s.get(1));
            f.let("H", (int) s.get(2));
            f.let("W", (int) s.get(3));
            x = f.let("x", proj.apply(ctx, x)                          // (B, D, G_h, G_w)
                    .flatten(2, 3)                                     // (B, D, L)
                    .transpose(0, 2, 1));                              // (B, L, D)
            return f.exit(x);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numPatches(), config.embedDim())};
    }
}
