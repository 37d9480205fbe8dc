package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.junit.jupiter.api.Test;

/** The intervention figures: a diverging scale centred on 0, readable values, the patch grid and the lens table. */
class InterventionPlotsTest {

    @Test
    void theScaleIsWhiteAtZeroAndSymmetric() {
        assertEquals(Color.WHITE, Heatmap.Diverging.colour(0));
        Color plus = Heatmap.Diverging.colour(0.5);
        Color minus = Heatmap.Diverging.colour(-0.5);
        int distPlus = 3 * 255 - plus.getRed() - plus.getGreen() - plus.getBlue();
        int distMinus = 3 * 255 - minus.getRed() - minus.getGreen() - minus.getBlue();
        assertTrue(plus.getRed() > plus.getBlue() && minus.getBlue() > minus.getRed(), "red positive, blue negative");
        // Equal magnitudes, comparable intensity: the two end colours differ in lightness by design only slightly.
        assertTrue(Math.abs(distPlus - distMinus) < 60, distPlus + " vs " + distMinus);
        assertEquals(Heatmap.Diverging.colour(1), Heatmap.Diverging.colour(7), "clamped beyond the range");
    }

    @Test
    void heatmapIsCentredOnZeroAndWritesEveryValue() {
        float[][] v = {{0.5f, -2f}, {0f, 1f}};
        JFreeChart chart = Heatmap.blockByHead("t", v, "Δ logit");
        XYPlot plot = chart.getXYPlot();
        XYBlockRenderer r = (XYBlockRenderer) plot.getRenderer();
        assertEquals(-2, r.getPaintScale().getLowerBound());
        assertEquals(2, r.getPaintScale().getUpperBound(), "symmetric around 0 at the largest magnitude");
        List<String> texts = plot.getAnnotations().stream().map(a -> ((XYTextAnnotation) a).getText()).toList();
        assertEquals(List.of("0.50", "-2.00", "0.00", "1.00"), texts);
        BufferedImage img = Plots.toImage(chart, 500, 400);
        assertEquals(500, img.getWidth());
    }

    @Test
    void roundedZeroHasNoMinus() {
        DecimalFormat f = Heatmap.format(1.5);
        assertEquals("0.00", Heatmap.text(f, -0.001));
        assertEquals("-0.01", Heatmap.text(f, -0.006));
    }

    @Test
    void patchingGridDrawsOnePanelPerBlockAndChecksItsInput() {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        float[][] values = {{0.9f, 0.1f, -0.2f}, {0f, 0.5f, 0.3f}};
        PatchingGrid g = PatchingGrid.create("t", image, 4, 4, new int[] {0, 5}, new int[] {0, 1, 16}, values);
        BufferedImage out = Plots.toImage(g, 600, g.heightFor(600));
        assertEquals(600, out.getWidth());
        assertThrows(IllegalArgumentException.class,
                () -> PatchingGrid.create("t", image, 4, 4, new int[] {0, 5}, new int[] {0, 17, 3}, values));
        assertThrows(IllegalArgumentException.class,
                () -> PatchingGrid.create("t", image, 4, 4, new int[] {0}, new int[] {0, 1, 2}, values));
    }

    @Test
    void lensTableHasARowPerResidual() {
        float[][] p = {{0.6f, 0.4f}, {0.2f, 0.8f}, {0.1f, 0.9f}};
        Figure table = LensPlots.table("t", p, List.of("a", "b"), 1);
        assertEquals((int) Math.ceil(60 + 3 * 24 + 16), table.heightFor(800));
        assertEquals("after block 1 (model)", LensPlots.rowName(2, 3));
        JFreeChart chart = LensPlots.targetChart("t", new double[] {0.4, 0.8, 0.9}, "b");
        assertEquals(3, chart.getXYPlot().getDataset().getItemCount(0));
    }

}
