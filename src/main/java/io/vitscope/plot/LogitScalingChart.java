package io.vitscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Class probabilities as the attention logits are scaled: x = scale factor, one line per class label, y = the
 * softmax probability of that class. Used by the logit-scaling experiment to show how sharpening or flattening
 * attention moves the prediction.
 */
public final class LogitScalingChart {

    /**
     * Tableau 10: distinct for the colour-blind and on white, unlike JFreeChart's default series colours (which
     * include pale yellow).
     */
    private static final Color[] PALETTE = {
        new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
        new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC),
    };

    public static final String DEFAULT_X_LABEL = "attention logit scale factor";
    public static final String DEFAULT_Y_LABEL = "probability";

    private LogitScalingChart() {
    }

    /**
     * @param title chart title, e.g. "cows.jpg — vit_base_patch16_224 — blocks 0–11 attention logits × s"
     * @param scales the x values, (S), e.g. 0.5, 1, 2, 3, 5
     * @param probabilitiesByLabel one series per label, each (S), in legend order (use a {@link LinkedHashMap})
     * @throws IllegalArgumentException if a series' length differs from the scales', or there is no series
     */
    public static JFreeChart create(String title, double[] scales, Map<String, double[]> probabilitiesByLabel) {
        if (scales == null || scales.length == 0) {
            throw new IllegalArgumentException("logit scaling chart needs at least one scale factor");
        }
        if (probabilitiesByLabel == null || probabilitiesByLabel.isEmpty()) {
            throw new IllegalArgumentException("logit scaling chart needs at least one class label's probabilities");
        }
        XYSeriesCollection dataset = new XYSeriesCollection();
        for (Map.Entry<String, double[]> e : probabilitiesByLabel.entrySet()) {
            double[] y = e.getValue();
            if (y.length != scales.length) {
                throw new IllegalArgumentException("label '" + e.getKey() + "' has " + y.length + " probabilities for "
                        + scales.length + " scale factors; give one per scale factor");
            }
            XYSeries s = new XYSeries(e.getKey(), false, true);
            for (int i = 0; i < y.length; i++) {
                s.add(scales[i], y[i]);
            }
            dataset.addSeries(s);
        }

        NumberAxis x = new NumberAxis(DEFAULT_X_LABEL);
        x.setAutoRangeIncludesZero(false);
        NumberAxis y = new NumberAxis(DEFAULT_Y_LABEL);
        y.setRange(-0.02, 1.02); // the whole probability range, with room for markers at 0 and 1
        y.setTickUnit(new NumberTickUnit(0.1, new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(Locale.ROOT))));
        x.setUpperMargin(0.04);
        x.setLowerMargin(0.04);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < dataset.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            renderer.setSeriesShape(i, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
        }
        XYPlot plot = new XYPlot(dataset, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setOutlinePaint(new Color(0x999999));
        plot.setAxisOffset(new RectangleInsets(4, 4, 4, 4));
        for (NumberAxis a : List.of(x, y)) {
            a.setLabelFont(AttentionGrid.LABEL_FONT.deriveFont(13f));
            a.setTickLabelFont(AttentionGrid.LABEL_FONT);
        }

        JFreeChart chart = new JFreeChart(null, null, plot, true);
        chart.setTitle(new TextTitle(title == null ? "" : title, AttentionGrid.TITLE_FONT.deriveFont(16f)));
        chart.getTitle().setPadding(new RectangleInsets(4, 0, 8, 0));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 12));
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setFrame(BlockBorder.NONE);
        legend.setItemFont(AttentionGrid.LABEL_FONT);
        legend.setItemLabelPadding(new RectangleInsets(3, 4, 3, 2));
        return chart;
    }

    /**
     * The chart from raw model output: the union over scale factors of each one's top-k classes, in order of first
     * appearance (the top-1 at the first scale first), each plotted across all scale factors.
     *
     * @param scales (S)
     * @param probabilities softmax outputs, (S, K)
     * @param classNames K names, e.g. ImageNet's
     * @param topK how many top classes each scale factor contributes
     */
    public static JFreeChart fromProbabilities(String title, double[] scales, float[][] probabilities,
                                               List<String> classNames, int topK) {
        if (probabilities.length != scales.length) {
            throw new IllegalArgumentException(probabilities.length + " rows of probabilities for " + scales.length
                    + " scale factors; give one row (K) per scale factor");
        }
        if (topK <= 0) {
            throw new IllegalArgumentException("top-k must be positive, got " + topK);
        }
        Set<Integer> classes = new LinkedHashSet<>();
        for (float[] row : probabilities) {
            if (row.length != classNames.size()) {
                throw new IllegalArgumentException("a row has " + row.length + " probabilities but there are "
                        + classNames.size() + " class names");
            }
            Integer[] order = new Integer[row.length];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparingInt(i -> i));
            classes.addAll(Arrays.asList(order).subList(0, Math.min(topK, row.length)));
        }
        Map<String, double[]> series = new LinkedHashMap<>();
        List<Integer> ordered = new ArrayList<>(classes);
        for (int k : ordered) {
            double[] y = new double[scales.length];
            for (int s = 0; s < scales.length; s++) {
                y[s] = probabilities[s][k];
            }
            String name = classNames.get(k);
            series.put(series.containsKey(name) ? name + " (" + k + ")" : name, y);
        }
        return create(title, scales, series);
    }
}
