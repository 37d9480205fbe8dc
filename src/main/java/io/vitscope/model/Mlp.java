package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;

/** timm's {@code Mlp}: {@code fc1 → GELU → fc2} (dropouts are identities at inference and omitted). */
public final class Mlp extends VitModule {

    /** Just before {@code x = self.act(x)}: the hidden pre-activations. */
    public static final Site PRE_ACT = Site.before(Mlp.class, "pre_act", "x = self.act(x)", "x");
    /** Just after the activation. */
    public static final Site POST_ACT = Site.after(Mlp.class, "post_act", "x = self.act(x)", "x");

    private final Linear fc1;
    private final Gelu act;
    private final Linear fc2;

    Mlp(int dim, int hidden) {
        this.fc1 = child("fc1", new Linear(dim, hidden, true));
        this.act = child("act", new Gelu());
        this.fc2 = child("fc2", new Linear(hidden, dim, true));
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("x", x);                                         // (B, T, D)
            x = f.let("x", fc1.apply(ctx, x));                         // (B, T, M)
            x = f.at(PRE_ACT, x);
            x = f.let("x", act.apply(ctx, x));                         // (B, T, M)
            x = f.at(POST_ACT, x);
            x = f.let("x", fc2.apply(ctx, x));                         // (B, T, D)
            return f.exit(x);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
