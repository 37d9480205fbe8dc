package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;

/** {@code nn.Conv2d} with a square kernel, stride equal to the kernel and no padding: the patch projection. */
public final class Conv2d extends VitModule {

    private final int inChans;
    private final int outChans;
    private final int kernel;
    private final Parameter weight; // (D, C, P, P)
    private final Parameter bias;   // (D)

    public Conv2d(int inChans, int outChans, int kernel) {
        this.inChans = inChans;
        this.outChans = outChans;
        this.kernel = kernel;
        this.weight = param("weight", new Shape(outChans, inChans, kernel, kernel), Parameter.Type.WEIGHT,
                new NormalInitializer(0.02f));
        this.bias = param("bias", new Shape(outChans), Parameter.Type.BIAS, null);
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("input", x);                                     // (B, C, H, W)
            Shape k = new Shape(kernel, kernel);
            NDArray y = x.getNDArrayInternal()
                    .convolution(x, ctx.value(weight, x), ctx.value(bias, x), k, new Shape(0, 0), new Shape(1, 1), 1)
                    .singletonOrThrow();                               // (B, D, G_h, G_w)
            return f.exit(y);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), outChans, s.get(2) / kernel, s.get(3) / kernel)};
    }

    public int inChans() {
        return inChans;
    }
}
