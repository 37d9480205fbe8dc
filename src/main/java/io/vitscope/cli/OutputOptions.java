package io.vitscope.cli;

import io.vitscope.InvalidArgumentException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the intervention commands (ablate, patch, lens, dla) write their results, and how wide their figures are. */
public final class OutputOptions {

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Folder for the results (.npy, .json, .png); created if missing.")
    Path out;

    @Option(names = "--width", paramLabel = "PX", defaultValue = "900",
            description = "Figure width in pixels (default ${DEFAULT-VALUE}).")
    int width;

    /** Checks what can be checked before any work: the width. */
    void check() {
        if (width < 200) {
            throw new InvalidArgumentException("--width must be at least 200 pixels, got " + width);
        }
    }

    /** Creates and returns the folder. */
    Path dir() {
        return Interventions.outDir(out);
    }

    /** A block-rows heatmap's height: 40 px a row and room for the title and axis, within [360, 1400]. */
    static int heatmapHeight(int rows) {
        return Math.max(360, Math.min(rows * 40 + 140, 1400));
    }
}
