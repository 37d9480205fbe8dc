package io.vitscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYItemRendererState;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The two charts of a dataset run: each head's mean attention entropy, and accuracy against the logit scale. */
public final class DatasetCharts {

    private DatasetCharts() {}

    /**
     * A block × head heatmap: x = head, y = block (block 0 at the bottom), colour = mean entropy in nats.
     *
     * @param entropy (L, N)
     */
    public static JFreeChart entropyHeads(String title, double[][] entropy) {
        if (entropy == null || entropy.length == 0 || entropy[0].length == 0) {
            throw new IllegalArgumentException("entropy heatmap: no blocks or no heads to draw");
        }
        int blocks = entropy.length;
        int heads = entropy[0].length;
        double[][] xyz = new double[3][blocks * heads];
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int b = 0; b < blocks; b++) {
            for (int h = 0; h < heads; h++) {
                int i = b * heads + h;
                xyz[0][i] = h;
                xyz[1][i] = b;
                xyz[2][i] = entropy[b][h];
                lo = Math.min(lo, entropy[b][h]);
                hi = Math.max(hi, entropy[b][h]);
            }
        }
        if (!(hi > lo)) {
            hi = lo + 1e-6;
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("entropy", xyz);
        NumberAxis x = integerAxis("head", heads);
        NumberAxis y = integerAxis("block", blocks);
        Viridis scale = new Viridis(lo, hi);
        XYBlockRenderer renderer = new FillOnlyBlockRenderer();
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setOutlinePaint(new Color(0x999999));
        JFreeChart chart = new JFreeChart(null, null, plot, false);
        NumberAxis bar = new NumberAxis("mean attention entropy (nats)");
        bar.setRange(lo, hi);
        bar.setLabelFont(AttentionGrid.LABEL_FONT);
        bar.setTickLabelFont(AttentionGrid.TICK_FONT);
        PaintScaleLegend legend = new PaintScaleLegend(scale, bar);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(4, 10, 4, 4));
        legend.setStripWidth(14);
        legend.setFrame(BlockBorder.NONE);
        chart.addSubtitle(legend);
        style(chart, title);
        return chart;
    }

    /**
     * Lines against the attention logit scale factor, y in [0, 1]: accuracy, top-1 flip rate, …
     *
     * @param factors (S)
     * @param series name → (S) values in [0, 1]; NaN leaves a gap
     */
    public static JFreeChart versusFactor(String title, double[] factors, Map<String, double[]> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            if (e.getValue().length != factors.length) {
                throw new IllegalArgumentException("series '" + e.getKey() + "' has " + e.getValue().length
                        + " values for " + factors.length + " factors");
            }
            XYSeries s = new XYSeries(e.getKey(), true, false);
            for (int i = 0; i < factors.length; i++) {
                s.add(factors[i], Double.isNaN(e.getValue()[i]) ? null : e.getValue()[i]);
            }
            data.addSeries(s);
        }
        NumberAxis x = new NumberAxis(LogitScalingChart.DEFAULT_X_LABEL);
        x.setAutoRangeIncludesZero(false);
        NumberAxis y = new NumberAxis("fraction of images");
        y.setRange(-0.02, 1.02);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Color[] colours = {new Color(0x4E79A7), new Color(0xE15759), new Color(0x59A14F)};
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, colours[i % colours.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            renderer.setSeriesShape(i, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        JFreeChart chart = new JFreeChart(null, null, plot, true);
        chart.getLegend().setFrame(BlockBorder.NONE);
        chart.getLegend().setItemFont(AttentionGrid.LABEL_FONT);
        style(chart, title);
        return chart;
    }

    private static NumberAxis integerAxis(String label, int n) {
        NumberAxis a = new NumberAxis(label);
        a.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        a.setRange(-0.5, n - 0.5);
        a.setLabelFont(AttentionGrid.LABEL_FONT);
        a.setTickLabelFont(AttentionGrid.TICK_FONT);
        return a;
    }

    private static void style(JFreeChart chart, String title) {
        chart.setTitle(new TextTitle(title == null ? "" : title, AttentionGrid.TITLE_FONT.deriveFont(15f)));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 12));
    }

    /** XYBlockRenderer both fills and strokes each block; filling only avoids a drawn grid (see FACTS.md). */
    private static final class FillOnlyBlockRenderer extends XYBlockRenderer {
        @Override
        public void drawItem(java.awt.Graphics2D g2, XYItemRendererState state, Rectangle2D dataArea,
                             org.jfree.chart.plot.PlotRenderingInfo info, XYPlot plot,
                             org.jfree.chart.axis.ValueAxis domainAxis, org.jfree.chart.axis.ValueAxis rangeAxis,
                             org.jfree.data.xy.XYDataset dataset, int series, int item,
                             org.jfree.chart.plot.CrosshairState crosshairState, int pass) {
            double x = dataset.getXValue(series, item);
            double y = dataset.getYValue(series, item);
            double z = ((org.jfree.data.xy.XYZDataset) dataset).getZValue(series, item);
            double x0 = domainAxis.valueToJava2D(x - 0.5, dataArea, plot.getDomainAxisEdge());
            double x1 = domainAxis.valueToJava2D(x + 0.5, dataArea, plot.getDomainAxisEdge());
            double y0 = rangeAxis.valueToJava2D(y - 0.5, dataArea, plot.getRangeAxisEdge());
            double y1 = rangeAxis.valueToJava2D(y + 0.5, dataArea, plot.getRangeAxisEdge());
            g2.setPaint(getPaintScale().getPaint(z));
            g2.fill(new Rectangle2D.Double(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0) + 0.5,
                    Math.abs(y1 - y0) + 0.5));
        }
    }

    /** A five-stop approximation of matplotlib's viridis: dark purple (low) to yellow (high). */
    private record Viridis(double lower, double upper) implements PaintScale {
        private static final Color[] STOPS = {new Color(0x440154), new Color(0x3B528B), new Color(0x21918C),
            new Color(0x5EC962), new Color(0xFDE725)};

        @Override
        public double getLowerBound() {
            return lower;
        }

        @Override
        public double getUpperBound() {
            return upper;
        }

        @Override
        public Paint getPaint(double value) {
            double t = Math.max(0, Math.min(1, (value - lower) / (upper - lower))) * (STOPS.length - 1);
            int i = Math.min(STOPS.length - 2, (int) t);
            double f = t - i;
            Color a = STOPS[i];
            Color b = STOPS[i + 1];
            return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
        }
    }
}
