package io.vitscope.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;

/**
 * A heatmap of signed values — rows × columns, e.g. block × head — on a diverging colour scale centred on 0 (blue
 * for negative, white for 0, red for positive, symmetric so that equal magnitudes get equal intensity), each cell
 * labelled with its value. Row 0 is drawn at the top.
 */
public final class Heatmap {

    private static final Color NEGATIVE = new Color(0x2166AC);
    private static final Color POSITIVE = new Color(0xB2182B);

    private Heatmap() {}

    /** Rows "block 0".., columns "head 0".. . */
    public static JFreeChart blockByHead(String title, float[][] values, String valueLabel) {
        String[] rows = new String[values.length];
        for (int l = 0; l < rows.length; l++) {
            rows[l] = "block " + l;
        }
        String[] cols = new String[values.length == 0 ? 0 : values[0].length];
        for (int h = 0; h < cols.length; h++) {
            cols[h] = "head " + h;
        }
        return create(title, values, rows, cols, valueLabel);
    }

    /**
     * @param values (rows, columns)
     * @param rowNames one per row, top to bottom
     * @param columnNames one per column, left to right
     * @param valueLabel what the colour bar measures
     */
    public static JFreeChart create(String title, float[][] values, String[] rowNames, String[] columnNames,
                                    String valueLabel) {
        if (values.length == 0 || values[0].length == 0) {
            throw new IllegalArgumentException("heatmap needs at least one row and one column of values");
        }
        int rows = values.length;
        int cols = values[0].length;
        if (rowNames.length != rows || columnNames.length != cols) {
            throw new IllegalArgumentException("heatmap: " + rowNames.length + " row names and " + columnNames.length
                    + " column names for " + rows + " x " + cols + " values");
        }
        double max = 0;
        double[][] xyz = new double[3][rows * cols];
        for (int r = 0; r < rows; r++) {
            if (values[r].length != cols) {
                throw new IllegalArgumentException("heatmap: row " + r + " has " + values[r].length + " values, not "
                        + cols);
            }
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                xyz[0][i] = c;
                xyz[1][i] = r;
                xyz[2][i] = values[r][c];
                if (Double.isFinite(values[r][c])) {
                    max = Math.max(max, Math.abs(values[r][c]));
                }
            }
        }
        double m = max > 0 ? max : 1;
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("values", xyz);
        XYBlockRenderer renderer = new XYBlockRenderer();
        Diverging scale = new Diverging(m);
        renderer.setPaintScale(scale);
        SymbolAxis x = new SymbolAxis(null, columnNames);
        x.setGridBandsVisible(false);
        x.setTickLabelFont(AttentionGrid.LABEL_FONT);
        x.setLowerMargin(0);
        x.setUpperMargin(0);
        x.setRange(-0.5, cols - 0.5);
        SymbolAxis y = new SymbolAxis(null, rowNames);
        y.setGridBandsVisible(false);
        y.setInverted(true);
        y.setTickLabelFont(AttentionGrid.LABEL_FONT);
        y.setRange(-0.5, rows - 0.5);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setOutlinePaint(new Color(0x999999));
        int cells = Math.max(rows, cols);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, cells > 16 ? 8 : cells > 10 ? 10 : 12);
        DecimalFormat fmt = format(m);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = values[r][c];
                XYTextAnnotation a = new XYTextAnnotation(text(fmt, v), c, r);
                a.setFont(font);
                a.setTextAnchor(TextAnchor.CENTER);
                // White text on the darker half of the scale, black on the lighter: readable either way.
                a.setPaint(Math.abs(v) > 0.55 * m ? Color.WHITE : Color.BLACK);
                plot.addAnnotation(a);
            }
        }
        JFreeChart chart = new JFreeChart(null, null, plot, false);
        chart.setTitle(new TextTitle(title == null ? "" : title, AttentionGrid.TITLE_FONT.deriveFont(14f)));
        chart.getTitle().setPadding(new RectangleInsets(4, 0, 8, 0));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 8));
        NumberAxis barAxis = new NumberAxis(valueLabel);
        barAxis.setRange(-m, m);
        barAxis.setTickLabelFont(AttentionGrid.TICK_FONT);
        barAxis.setLabelFont(AttentionGrid.LABEL_FONT);
        PaintScaleLegend legend = new PaintScaleLegend(scale, barAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(4, 10, 4, 4));
        legend.setStripWidth(14);
        legend.setAxisOffset(4);
        legend.setFrame(BlockBorder.NONE);
        chart.addSubtitle(legend);
        return chart;
    }

    /** The value as the format writes it, without the minus of a value that rounds to zero ("-0.00"). */
    static String text(DecimalFormat fmt, double v) {
        String s = fmt.format(v);
        return s.startsWith("-") && fmt.format(-v).equals(s.substring(1)) && s.replaceAll("[^1-9]", "").isEmpty()
                ? s.substring(1) : s;
    }

    /** Enough digits to tell cells apart at the scale of the largest magnitude. */
    static DecimalFormat format(double max) {
        String pattern = max >= 100 ? "0" : max >= 10 ? "0.0" : max >= 1 ? "0.00" : max >= 0.1 ? "0.000" : "0.00E0";
        return new DecimalFormat(pattern, DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    /** White at 0, to {@link #NEGATIVE} at −max and {@link #POSITIVE} at +max, linearly; clamped outside. */
    static final class Diverging implements PaintScale, java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final double max;

        Diverging(double max) {
            this.max = max;
        }

        @Override
        public double getLowerBound() {
            return -max;
        }

        @Override
        public double getUpperBound() {
            return max;
        }

        @Override
        public Paint getPaint(double value) {
            return colour(value / max);
        }

        /** t in [−1, 1] (clamped); NaN is grey. */
        static Color colour(double t) {
            if (Double.isNaN(t)) {
                return Color.LIGHT_GRAY;
            }
            double a = Math.min(1, Math.abs(t));
            Color end = t < 0 ? NEGATIVE : POSITIVE;
            return new Color(mix(255, end.getRed(), a), mix(255, end.getGreen(), a), mix(255, end.getBlue(), a));
        }

        private static int mix(int from, int to, double a) {
            return (int) Math.round(from + (to - from) * a);
        }
    }
}
