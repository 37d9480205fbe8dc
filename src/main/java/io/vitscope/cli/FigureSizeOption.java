package io.vitscope.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --width PX}: the width of the figures a command draws. */
final class FigureSizeOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    int width;

    @Option(names = "--width", paramLabel = "PX", defaultValue = "1000",
            description = "Figure width in pixels; the height follows (default ${DEFAULT-VALUE}).")
    void setWidth(int px) {
        BadValue.check(px >= 100, mixee, "--width must be at least 100 pixels, got " + px);
        width = px;
    }
}
