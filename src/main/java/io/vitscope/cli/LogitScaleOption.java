package io.vitscope.cli;

import io.vitscope.experiment.LogitScaling;
import io.vitscope.probe.Intervention;
import io.vitscope.probe.Probe;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --scale-attn-logits S}: NoPdb's {@code attn = attn * 3} in every attention layer, before the command runs. */
final class LogitScaleOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    Double scale;

    @Option(names = "--scale-attn-logits", paramLabel = "S",
            description = "Multiply every attention layer's pre-softmax logits by S first (NoPdb's 'attn = attn * 3').")
    void setScale(Double s) {
        BadValue.check(s == null || LogitScaling.isValidFactor(s), mixee,
                "--scale-attn-logits must be " + LogitScaling.VALID + ", got " + s);
        scale = s;
    }

    boolean given() {
        return scale != null;
    }

    /** The scaling as an intervention, or null when the flag is absent. */
    Intervention intervention() {
        return scale == null ? null : LogitScaling.of(scale);
    }

    /** Adds the scaling breakpoint to {@code probe} when the flag is given. */
    void install(Probe probe) {
        if (scale != null) {
            LogitScaling.install(probe, scale);
        }
    }
}
