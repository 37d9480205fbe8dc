package io.vitscope.cli;

import io.vitscope.predict.Input;
import io.vitscope.predict.Inputs;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --index B}: which image of an {@code [N, C, H, W]} tensor file a one-image command works on. */
final class ImageIndexOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    int index;

    @Option(names = "--index", paramLabel = "B", defaultValue = "0",
            description = "Which image of an [N,3,H,W] .npy tensor (default ${DEFAULT-VALUE}).")
    void setIndex(int b) {
        BadValue.check(b >= 0, mixee, "--index must be 0 or more, got " + b);
        index = b;
    }

    /** The chosen input of those read from {@code file}. */
    Input pick(List<Input> inputs, Path file) {
        return Inputs.pick(inputs, index, file);
    }
}
