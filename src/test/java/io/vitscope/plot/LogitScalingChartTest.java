package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogitScalingChartTest {

    @TempDir
    Path dir;

    private static final double[] SCALES = {0.5, 1, 2, 3, 5};

    @Test
    void oneSeriesPerLabelRenderedToPngAndSvg() throws Exception {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("alp", new double[] {0.35, 0.79, 0.62, 0.41, 0.2});
        m.put("ox", new double[] {0.12, 0.08, 0.15, 0.22, 0.3});
        m.put("valley, vale", new double[] {0.2, 0.05, 0.04, 0.03, 0.02});
        JFreeChart chart = LogitScalingChart.create("logit scaling", SCALES, m);
        XYDataset data = ((XYPlot) chart.getPlot()).getDataset();
        assertEquals(3, data.getSeriesCount());
        assertEquals("ox", data.getSeriesKey(1));
        assertEquals(5, data.getItemCount(0));
        assertEquals(0.79, data.getYValue(0, 1), 0);
        assertEquals(3, chart.getLegend().getSources()[0].getLegendItems().getItemCount());

        BufferedImage png = ImageIO.read(Plots.save(chart, dir.resolve("l.png"), Plots.Format.PNG, 800, 500).toFile());
        assertEquals(800, png.getWidth());
        assertEquals(500, png.getHeight());
        String svg = Files.readString(Plots.save(chart, dir.resolve("l.svg"), Plots.Format.SVG, 800, 500));
        assertTrue(svg.contains("logit scaling") && svg.contains("valley, vale"));
    }

    @Test
    void unionOfTopClassesInOrderOfFirstAppearance() {
        float[][] probs = {
            {0.7f, 0.2f, 0.1f, 0.0f},
            {0.1f, 0.2f, 0.0f, 0.7f},
        };
        JFreeChart chart = LogitScalingChart.fromProbabilities("t", new double[] {1, 2}, probs,
                List.of("a", "b", "c", "d"), 2);
        XYDataset data = ((XYPlot) chart.getPlot()).getDataset();
        assertEquals(3, data.getSeriesCount()); // {a, b} ∪ {d, b}
        assertEquals("a", data.getSeriesKey(0));
        assertEquals("b", data.getSeriesKey(1));
        assertEquals("d", data.getSeriesKey(2));
        assertEquals(0.7, data.getYValue(2, 1), 1e-7); // float probability widened
    }

    @Test
    void rejectsMismatchedLengths() {
        Map<String, double[]> m = Map.of("alp", new double[] {0.1, 0.2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogitScalingChart.create("t", SCALES, m));
        assertTrue(e.getMessage().contains("2 probabilities for 5 scale factors"), e.getMessage());
    }
}
