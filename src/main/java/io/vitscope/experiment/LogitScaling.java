package io.vitscope.experiment;

import io.vitscope.InvalidArgumentException;
import io.vitscope.model.Attention;
import io.vitscope.plot.Plots;
import io.vitscope.probe.Breakpoint;
import io.vitscope.probe.Intervention;
import io.vitscope.probe.Probe;

/**
 * NoPdb's tutorial experiment, on the public breakpoint API: in every attention layer, just before
 * {@code attn = attn.softmax(dim=-1)}, {@code attn = attn * factor} — a softmax temperature of 1 / factor.
 */
public final class LogitScaling {

    private LogitScaling() {}

    /** Adds the scaling breakpoint to {@code probe} (factor 1 leaves the logits unchanged). */
    public static Breakpoint install(Probe probe, double factor) {
        requireFactor(factor);
        float s = (float) factor;
        return probe.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)")
                .exec(f -> f.set("attn", f.get("attn").mul(s)));
    }

    /** The scaling as an {@link Intervention} a capability takes as an option ("attention logits × 3"). */
    public static Intervention of(double factor) {
        requireFactor(factor);
        return new Intervention() {
            @Override
            public void install(Probe probe) {
                LogitScaling.install(probe, factor);
            }

            @Override
            public String describe() {
                return "attention logits × " + Plots.number(factor);
            }
        };
    }

    /**
     * Whether {@code factor} can scale the logits: positive, and still positive and finite as the float32 the logits
     * are multiplied by (1e39 passes as a double but is ∞ in float32; 1e-50 is 0).
     */
    public static boolean isValidFactor(double factor) {
        float f = (float) factor;
        return factor > 0 && f > 0 && Float.isFinite(f);
    }

    /** What a valid factor is, for messages. */
    public static final String VALID = "a positive float32 number, from " + Float.MIN_VALUE + " to " + Float.MAX_VALUE;

    static void requireFactor(double factor) {
        if (!isValidFactor(factor)) {
            throw new InvalidArgumentException("scale", "The attention logit scale must be " + VALID + ", got " + factor);
        }
    }
}
