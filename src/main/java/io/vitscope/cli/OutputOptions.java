package io.vitscope.cli;

import io.vitscope.InvalidArgumentException;
import io.vitscope.files.Outputs;
import io.vitscope.plot.Plots;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the intervention commands (ablate, patch, lens, dla) write their results, and how wide their figures are. */
public final class OutputOptions {

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Folder for the results (.npy, .json, .png); created if missing.")
    Path out;

    @Option(names = "--width", paramLabel = "PX", defaultValue = "900",
            description = "Figure width in pixels, 200..16384 (default ${DEFAULT-VALUE}).")
    int width;

    /** Checks what can be checked before any work: the width and that the folder can be written. */
    void check() {
        Outputs.checkFolder(out, "out");
        if (width < 200 || width > Plots.MAX_SIDE) {
            throw new InvalidArgumentException("--width must be in 200.." + Plots.MAX_SIDE + " pixels, got " + width);
        }
    }

    /**
     * Writes the results into the folder, all or nothing: {@code body} writes into a staging folder whose files move
     * into {@code --out} when it returns ({@link Outputs#intoFolder}).
     *
     * @return the folder
     */
    Path write(Outputs.FolderBody body) {
        return Outputs.intoFolder(out, "out", body);
    }

    /** A block-rows heatmap's height: 40 px a row and room for the title and axis, within [360, 1400]. */
    static int heatmapHeight(int rows) {
        return Math.max(360, Math.min(rows * 40 + 140, 1400));
    }
}
