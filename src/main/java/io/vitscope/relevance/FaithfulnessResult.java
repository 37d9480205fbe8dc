package io.vitscope.relevance;

import io.vitscope.plot.Plots;
import io.vitscope.files.Outputs;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The perturbation test's outcome ({@link Faithfulness}).
 *
 * @param model what was tested, for titles
 * @param images how many images
 * @param methods in the order asked for
 * @param percents the perturbation steps, p in %
 * @param positive per method, accuracy at each p when the most relevant pixels go first
 * @param negative per method, accuracy at each p when the least relevant pixels go first
 */
public record FaithfulnessResult(String model, int images, List<Method> methods, int[] percents,
                                 Map<Method, double[]> positive, Map<Method, double[]> negative) {

    public static final String CSV = "faithfulness.csv";
    public static final String JSON = "faithfulness.json";
    public static final String CHART = "faithfulness.png";

    private static final Color[] PALETTE = {new Color(0xD62728), new Color(0x1F77B4), new Color(0x2CA02C),
        new Color(0xFF7F0E), new Color(0x9467BD), new Color(0x7F7F7F), new Color(0x8C564B), new Color(0xE377C2)};

    /** Trapezoid over p as a fraction of the pixels, × 100. */
    public static double auc(double[] accuracy, int[] percents) {
        double s = 0;
        for (int i = 1; i < percents.length; i++) {
            s += (accuracy[i] + accuracy[i - 1]) / 2 * (percents[i] - percents[i - 1]) / 100.0;
        }
        return s * 100;
    }

    public double positiveAuc(Method m) {
        return auc(positive.get(m), percents);
    }

    public double negativeAuc(Method m) {
        return auc(negative.get(m), percents);
    }

    /** The AUC table as text: a row per method, positive (lower is better) and negative (higher is better). */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-22s %14s %14s%n", "method", "positive AUC ↓", "negative AUC ↑"));
        for (Method m : methods) {
            sb.append(String.format(Locale.ROOT, "%-22s %14.2f %14.2f%n", m.cliName(), positiveAuc(m), negativeAuc(m)));
        }
        return sb.toString();
    }

    /** The table as Markdown rows, for docs. */
    public String markdownTable() {
        StringBuilder sb = new StringBuilder("| method | positive AUC (lower is better) | negative AUC (higher is better) |\n"
                + "| --- | ---: | ---: |\n");
        for (Method m : methods) {
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f |%n", m.cliName(), positiveAuc(m), negativeAuc(m)));
        }
        return sb.toString();
    }

    /** Writes {@value #CSV} (method, direction, p, accuracy), {@value #JSON} (AUCs) and {@value #CHART} into {@code dir}. */
    public Path save(Path dir) {
        return Outputs.intoFolder(dir, "dir", staging -> {
            StringBuilder csv = new StringBuilder("method,direction,p,accuracy\n");
            for (Method m : methods) {
                for (String dir2 : List.of("positive", "negative")) {
                    double[] acc = dir2.equals("positive") ? positive.get(m) : negative.get(m);
                    for (int i = 0; i < percents.length; i++) {
                        csv.append(m.cliName()).append(',').append(dir2).append(',').append(percents[i]).append(',')
                                .append(String.format(Locale.ROOT, "%.6f", acc[i])).append('\n');
                    }
                }
            }
            Outputs.writeString(staging.resolve(CSV), "dir", csv);
            StringBuilder json = new StringBuilder("{\n  \"model\": \"" + model.replace("\"", "'") + "\",\n  \"images\": "
                    + images + ",\n  \"percents\": " + java.util.Arrays.toString(percents) + ",\n  \"auc\": {\n");
            for (int i = 0; i < methods.size(); i++) {
                Method m = methods.get(i);
                json.append(String.format(Locale.ROOT, "    \"%s\": {\"positive\": %.4f, \"negative\": %.4f}%s%n",
                        m.cliName(), positiveAuc(m), negativeAuc(m), i + 1 < methods.size() ? "," : ""));
            }
            json.append("  }\n}\n");
            Outputs.writeString(staging.resolve(JSON), "dir", json);
            Plots.save(plot(1200), staging.resolve(CHART), Plots.Format.PNG, 0, 0);
        });
    }

    /** Accuracy against p, one panel per direction, a line per method. */
    public BufferedImage plot(int width) {
        int h = width * 9 / 20;
        Plots.requireSize(width, h);
        BufferedImage img = new BufferedImage(width, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, h);
        g.drawImage(Plots.toImage(chart(true), width / 2, h), 0, 0, null);
        g.drawImage(Plots.toImage(chart(false), width - width / 2, h), width / 2, 0, null);
        g.dispose();
        return img;
    }

    /** One direction's chart, to restyle or save alone. */
    public JFreeChart chart(boolean positiveDirection) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Method m : methods) {
            double[] acc = positiveDirection ? positive.get(m) : negative.get(m);
            double a = positiveDirection ? positiveAuc(m) : negativeAuc(m);
            XYSeries s = new XYSeries(String.format(Locale.ROOT, "%s (AUC %.1f)", m.cliName(), a), false, true);
            for (int i = 0; i < percents.length; i++) {
                s.add(percents[i], acc[i]);
            }
            data.addSeries(s);
        }
        NumberAxis x = new NumberAxis("pixels removed, % (" + (positiveDirection ? "most" : "least")
                + " relevant first)");
        NumberAxis y = new NumberAxis("share keeping its top-1");
        y.setRange(-0.02, 1.02);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < methods.size(); i++) {
            r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            r.setSeriesStroke(i, new BasicStroke(2f));
            r.setSeriesShape(i, new Ellipse2D.Double(-3, -3, 6, 6));
        }
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        JFreeChart chart = new JFreeChart(plot);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setTitle(new TextTitle((positiveDirection ? "Positive" : "Negative") + " perturbation — " + images
                + (images == 1 ? " image" : " images") + ", " + model, new Font(Font.SANS_SERIF, Font.BOLD, 14)));
        return chart;
    }
}
