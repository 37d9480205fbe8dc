package io.vitscope.relevance;

import io.vitscope.VitscopeException;
import io.vitscope.analysis.AttentionMaps;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.weights.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One image's relevance per patch.
 *
 * @param method how it was computed
 * @param target the class whose logit y was explained
 * @param logit y at the image
 * @param gridHeight G_h
 * @param gridWidth G_w
 * @param values (G_h · G_w) row-major, raw (no display scaling); integrated gradients may be negative
 * @param completenessGap integrated gradients only: Σ map − (y(x) − y(x′)), the quadrature's (and rounding's) error
 *     against IG's completeness axiom; NaN for the other methods
 */
public record RelevanceMap(Method method, int target, float logit, int gridHeight, int gridWidth, float[] values,
                           double completenessGap) {

    public RelevanceMap {
        if ((long) gridHeight * gridWidth != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill a " + gridHeight + "x" + gridWidth
                    + " patch grid");
        }
    }

    /** The map on the patch grid, (G_h, G_w). */
    public float[][] grid() {
        return AttentionMaps.toGrid(values, gridHeight, gridWidth);
    }

    /** Writes the raw values as float32 {@code [1, G_h, G_w]} .npy. */
    public Path save(Path npy) {
        try {
            Npy.write(npy, new long[] {1, gridHeight, gridWidth}, values);
            return npy;
        } catch (IOException e) {
            throw new VitscopeException("cannot write " + npy + " (" + e.getMessage() + "); choose a folder you can "
                    + "write to", e);
        }
    }

    /**
     * The map over the image as a one-panel figure (each patch as bright as its relevance over the largest). Negative
     * values (integrated gradients) are shown as 0: the panel shows the positive evidence.
     *
     * @param image the input as displayed, e.g. {@code AttentionPlots.forDisplay(transform.denormalize(x))}
     */
    public AttentionGrid plot(BufferedImage image, String title) {
        return AttentionGrid.builder().setImage(image).setWeights(new float[][][] {displayGrid()})
                .optPanelTitles(List.of(panelTitle())).optTitle(title).optColumns(1).build();
    }

    /** The grid with negatives shown as 0. */
    float[][] displayGrid() {
        float[][] g = grid();
        for (float[] row : g) {
            for (int j = 0; j < row.length; j++) {
                row[j] = Math.max(0f, row[j]);
            }
        }
        return g;
    }

    String panelTitle() {
        return method == Method.INTEGRATED_GRADIENTS ? "IG, positive part" : method.cliName();
    }

    @Override
    public String toString() {
        String gap = Double.isNaN(completenessGap) ? ""
                : String.format(Locale.ROOT, ", completeness gap %.3g", completenessGap);
        return String.format(Locale.ROOT, "%s map of class %d (logit %.4g) on a %dx%d grid%s", method.cliName(),
                target, logit, gridHeight, gridWidth, gap);
    }
}
