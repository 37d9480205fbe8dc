package io.vitscope.cli;

import io.vitscope.plot.Plots;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --width PX}: the width of the figures a command draws. */
final class FigureSizeOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    int width;

    @Option(names = "--width", paramLabel = "PX", defaultValue = "1000",
            description = "Figure width in pixels, 100..16384; the height follows (default ${DEFAULT-VALUE}).")
    void setWidth(int px) {
        BadValue.check(px >= 100 && px <= Plots.MAX_SIDE, mixee, "--width must be in 100.." + Plots.MAX_SIDE
                + " pixels, got " + px);
        width = px;
    }
}
