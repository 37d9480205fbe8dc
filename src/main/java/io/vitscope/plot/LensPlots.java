package io.vitscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The logit lens's two pictures: a table (per row — the residual before block i, and after the last block — the
 * top-1 label, its probability and the target's probability, a bar for each) and a line chart of the target's
 * probability across rows.
 */
public final class LensPlots {

    private static final double ROW_H = 24;
    private static final double HEAD_H = 60;

    private LensPlots() {}

    /** "before block 0" … "before block L−1", "after block L−1". */
    public static String rowName(int i, int rows) {
        return i < rows - 1 ? "before block " + i : "after block " + (rows - 2) + " (model)";
    }

    /**
     * @param probabilities (L + 1, K), row i the lens at the input of block i, row L the model's output
     * @param labels K class names
     * @param target the class whose probability gets a column
     */
    public static Figure table(String title, float[][] probabilities, List<String> labels, int target) {
        if (probabilities.length == 0) {
            throw new IllegalArgumentException("logit lens table needs at least one row");
        }
        return new Figure() {
            @Override
            public int heightFor(int width) {
                return (int) Math.ceil(HEAD_H + probabilities.length * ROW_H + 16);
            }

            @Override
            public void draw(Graphics2D g2, Rectangle2D area) {
                g2.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
                g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                double x = area.getX() + 14;
                double y = area.getY();
                double w = area.getWidth() - 28;
                g2.setColor(Color.BLACK);
                g2.setFont(AttentionGrid.TITLE_FONT.deriveFont(14f));
                g2.drawString(title == null ? "" : title, (float) x, (float) (y + 22));
                double[] col = {x, x + w * 0.27, x + w * 0.52, x + w * 0.76};
                g2.setFont(AttentionGrid.LABEL_FONT.deriveFont(java.awt.Font.BOLD));
                String[] heads = {"residual stream", "top-1", "P(top-1)", "P(" + labels.get(target) + ")"};
                for (int i = 0; i < heads.length; i++) {
                    g2.drawString(heads[i], (float) col[i], (float) (y + HEAD_H - 8));
                }
                g2.setColor(new Color(0x999999));
                g2.draw(new java.awt.geom.Line2D.Double(x, y + HEAD_H - 3, x + w, y + HEAD_H - 3));
                DecimalFormat fmt = new DecimalFormat("0.000", DecimalFormatSymbols.getInstance(Locale.ROOT));
                g2.setFont(AttentionGrid.LABEL_FONT);
                FontMetrics fm = g2.getFontMetrics();
                for (int i = 0; i < probabilities.length; i++) {
                    float[] p = probabilities[i];
                    int top = 0;
                    for (int k = 1; k < p.length; k++) {
                        if (p[k] > p[top]) {
                            top = k;
                        }
                    }
                    double ry = y + HEAD_H + i * ROW_H;
                    if (i % 2 == 1) {
                        g2.setColor(new Color(0xF4F4F4));
                        g2.fill(new Rectangle2D.Double(x, ry, w, ROW_H));
                    }
                    float base = (float) (ry + ROW_H - 7);
                    g2.setColor(Color.BLACK);
                    g2.drawString(rowName(i, probabilities.length), (float) col[0], base);
                    g2.setColor(top == target ? new Color(0x1B7837) : Color.BLACK);
                    g2.drawString(clip(labels.get(top), fm, col[2] - col[1] - 8), (float) col[1], base);
                    bar(g2, col[2], ry, (col[3] - col[2]) - 12, p[top], fmt, new Color(0x92C5DE));
                    bar(g2, col[3], ry, x + w - col[3], p[target], fmt, new Color(0xF4A582));
                }
            }
        };
    }

    private static void bar(Graphics2D g2, double x, double ry, double w, double p, DecimalFormat fmt, Color colour) {
        g2.setColor(colour);
        g2.fill(new Rectangle2D.Double(x, ry + 4, Math.max(0, Math.min(1, p)) * (w - 4), ROW_H - 8));
        g2.setColor(Color.BLACK);
        g2.drawString(fmt.format(p), (float) (x + 4), (float) (ry + ROW_H - 7));
    }

    private static String clip(String s, FontMetrics fm, double width) {
        if (fm.stringWidth(s) <= width) {
            return s;
        }
        String t = s;
        while (t.length() > 1 && fm.stringWidth(t + "…") > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t + "…";
    }

    /**
     * @param probability the target's probability at rows 0..L
     */
    public static JFreeChart targetChart(String title, double[] probability, String targetLabel) {
        XYSeries s = new XYSeries("P(" + targetLabel + ")");
        for (int i = 0; i < probability.length; i++) {
            s.add(i, probability[i]);
        }
        NumberAxis x = new NumberAxis("residual stream before block i (i = " + (probability.length - 1)
                + ": after the last block)");
        x.setTickUnit(new NumberTickUnit(1, new DecimalFormat("0", DecimalFormatSymbols.getInstance(Locale.ROOT))));
        x.setRange(-0.3, probability.length - 0.7);
        NumberAxis y = new NumberAxis("probability of " + targetLabel);
        y.setRange(-0.02, 1.02);
        y.setTickUnit(new NumberTickUnit(0.1, new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(Locale.ROOT))));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setSeriesPaint(0, new Color(0xE15759));
        renderer.setSeriesStroke(0, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        renderer.setSeriesShape(0, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
        XYPlot plot = new XYPlot(new XYSeriesCollection(s), x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlinePaint(new Color(0x999999));
        for (NumberAxis a : List.of(x, y)) {
            a.setLabelFont(AttentionGrid.LABEL_FONT.deriveFont(13f));
            a.setTickLabelFont(AttentionGrid.LABEL_FONT);
        }
        JFreeChart chart = new JFreeChart(null, null, plot, false);
        chart.setTitle(new TextTitle(title == null ? "" : title, AttentionGrid.TITLE_FONT.deriveFont(15f)));
        chart.getTitle().setPadding(new RectangleInsets(4, 0, 8, 0));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 12));
        return chart;
    }
}
