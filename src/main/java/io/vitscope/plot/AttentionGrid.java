package io.vitscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.block.RectangleConstraint;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.HorizontalAlignment;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.Range;

/**
 * A grid of panels, one per head (or per block, per image…), each showing the input image with every patch's
 * brightness multiplied by that patch's weight: NoPdb's ViT tutorial figure, with a colour scale added.
 *
 * <p>Brightness: a pixel of patch (r, c) in panel p is drawn as {@code pixel × w[p][r][c] / max}, so the patch with
 * the largest weight keeps the image's own colours and a weight of 0 is black. With {@link Scale#PER_PANEL} (the
 * default, as in the tutorial) {@code max} is the panel's own largest weight, which shows each head's pattern at full
 * contrast even when heads differ tenfold in sharpness; each panel then carries its own grey scale bar from 0 to its
 * max, in the weights' real units. With {@link Scale#SHARED}, {@code max} is the largest weight of all panels, panels
 * are comparable with each other, and one bar at the right shows the shared range.
 *
 * <p>Each panel is a {@link JFreeChart} (an {@link XYPlot} in patch coordinates, x = column 0..G_w, y = row 0..G_h
 * downwards, axes hidden), available from {@link #panels()} to be restyled or annotated. The figure lays them out with
 * the image's proportions, under one title.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}); a figure's panels are counted, not lettered.
 */
public final class AttentionGrid implements Figure {

    /** What a panel's brightest patch is scaled against. */
    public enum Scale {
        /** Each panel to its own max; a scale bar under each panel. */
        PER_PANEL,
        /** All panels to the overall max; one scale bar for the figure. */
        SHARED
    }

    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font PANEL_TITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final double MARGIN = 14;
    private static final double GAP_X = 12;
    private static final double GAP_Y = 8;
    private static final double LEGEND_WIDTH = 90;

    private final BufferedImage image;
    private final float[][][] weights; // (panels, G_h, G_w)
    private final int columns;
    private final Scale scale;
    private final TextTitle title;
    private final TextTitle caption; // how brightness maps to weight
    private final List<JFreeChart> panels;
    private final PaintScaleLegend sharedLegend; // null with PER_PANEL
    private final double max; // overall largest weight

    private AttentionGrid(Builder b) {
        this.image = b.image;
        this.weights = b.weights;
        this.columns = b.columns;
        this.scale = b.scale;
        this.title = new TextTitle(b.title == null ? "" : b.title, TITLE_FONT);
        title.setPadding(new RectangleInsets(0, 0, 2, 0));
        this.caption = new TextTitle(scale == Scale.SHARED
                ? "patch brightness = weight / largest weight of all panels"
                : "patch brightness = weight / the panel's largest weight; bars in weight units",
                CAPTION_FONT, Color.DARK_GRAY, RectangleEdge.TOP, HorizontalAlignment.CENTER,
                org.jfree.chart.ui.VerticalAlignment.TOP, new RectangleInsets(0, 0, 8, 0));
        double m = 0;
        for (float[][] panel : weights) {
            m = Math.max(m, maxOf(panel));
        }
        this.max = m;
        this.panels = new ArrayList<>(weights.length);
        for (int p = 0; p < weights.length; p++) {
            panels.add(panel(p, b.panelTitles.get(p)));
        }
        this.sharedLegend = scale == Scale.SHARED ? scaleBar(max, RectangleEdge.RIGHT, "attention weight") : null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** "block 4 · head 0" … "block 4 · head N−1", the panel titles of one block's heads. */
    public static List<String> headTitles(int block, int heads) {
        List<String> out = new ArrayList<>(heads);
        for (int h = 0; h < heads; h++) {
            out.add("block " + block + " · head " + h);
        }
        return out;
    }

    /** One chart per panel, in the order of the weights. */
    public List<JFreeChart> panels() {
        return List.copyOf(panels);
    }

    /** The figure's title, drawn above the grid. */
    public TextTitle title() {
        return title;
    }

    /** The line under the title saying how brightness relates to weight; restyle or blank it here. */
    public TextTitle caption() {
        return caption;
    }

    /** The shared scale bar, or null with {@link Scale#PER_PANEL} (each panel then has its own as a subtitle). */
    public PaintScaleLegend sharedLegend() {
        return sharedLegend;
    }

    /** Renders the figure at {@code width} pixels wide and its natural height. */
    public BufferedImage toImage(int width) {
        return Plots.toImage(this, width, heightFor(width));
    }

    /** The figure as an SVG document at {@code width} and its natural height. */
    public String toSvg(int width) {
        return Plots.toSvg(this, width, heightFor(width));
    }

    private int rows() {
        return (panels.size() + columns - 1) / columns;
    }

    private double aspect() {
        return (double) image.getHeight() / image.getWidth();
    }

    @Override
    public int heightFor(int width) {
        Layout l = layout(width, Double.POSITIVE_INFINITY);
        return (int) Math.ceil(l.used.getMaxY() + MARGIN);
    }

    @Override
    public void draw(Graphics2D g2, Rectangle2D area) {
        g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g2.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        Layout l = layout(area.getWidth(), area.getHeight());
        double dx = area.getX() + (area.getWidth() - l.used.getMaxX() - MARGIN) / 2;
        double dy = area.getY();
        double inner = area.getWidth() - 2 * MARGIN;
        title.draw(g2, new Rectangle2D.Double(area.getX() + MARGIN, dy + MARGIN, inner, l.titleHeight));
        caption.draw(g2, new Rectangle2D.Double(area.getX() + MARGIN, dy + MARGIN + l.titleHeight, inner,
                l.captionHeight));
        int rows = rows();
        for (int p = 0; p < panels.size(); p++) {
            int r = p / columns;
            int c = p % columns;
            // The last row, when short, is centred under the others.
            int inRow = r == rows - 1 ? panels.size() - r * columns : columns;
            double rowShift = (columns - inRow) * (l.cellW + GAP_X) / 2;
            Rectangle2D cell = new Rectangle2D.Double(dx + l.gridX + rowShift + c * (l.cellW + GAP_X),
                    dy + l.gridY + r * (l.cellH + GAP_Y), l.cellW, l.cellH);
            panels.get(p).draw(g2, cell);
        }
        if (sharedLegend != null) {
            double top = dy + l.gridY + l.chromeTop;
            double bottom = dy + l.gridY + rows * (l.cellH + GAP_Y) - GAP_Y - l.chromeBottom;
            sharedLegend.draw(g2, new Rectangle2D.Double(dx + l.gridX + columns * (l.cellW + GAP_X), top,
                    LEGEND_WIDTH, bottom - top));
        }
    }

    /** Where things go in an area of the given size; the panels' image areas keep the input image's proportions. */
    private Layout layout(double width, double height) {
        Layout l = new Layout();
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = scratch.createGraphics();
        try {
            double inner = width - 2 * MARGIN;
            RectangleConstraint free = new RectangleConstraint(new Range(0, inner), new Range(0, 1e4));
            l.titleHeight = title.getText().isEmpty() ? 0 : title.arrange(g2, free).getHeight();
            l.captionHeight = caption.arrange(g2, free).getHeight();
            double legend = sharedLegend == null ? 0 : LEGEND_WIDTH;
            int rows = rows();
            double cellGuess = Math.max(60, (inner - legend - (columns - 1) * GAP_X) / columns);
            // Measure what a panel adds around its image (title, scale bar, insets) by drawing one off screen.
            ChartRenderingInfo info = new ChartRenderingInfo();
            double trialH = cellGuess * aspect() + 200;
            panels.get(0).draw(g2, new Rectangle2D.Double(0, 0, cellGuess, trialH), info);
            Rectangle2D data = info.getPlotInfo().getDataArea();
            double chromeW = cellGuess - data.getWidth();
            double chromeH = trialH - data.getHeight();
            l.chromeTop = data.getY();
            l.chromeBottom = chromeH - l.chromeTop;
            double fromWidth = (inner - legend - (columns - 1) * GAP_X) / columns - chromeW;
            double fromHeight = ((height - 2 * MARGIN - l.titleHeight - l.captionHeight - (rows - 1) * GAP_Y) / rows
                    - chromeH) / aspect();
            double imageW = Math.max(8, Math.min(fromWidth, fromHeight));
            l.cellW = imageW + chromeW;
            l.cellH = imageW * aspect() + chromeH;
            l.gridX = MARGIN;
            l.gridY = MARGIN + l.titleHeight + l.captionHeight;
            l.used = new Rectangle2D.Double(0, 0, MARGIN + columns * l.cellW + (columns - 1) * GAP_X + legend,
                    l.gridY + rows * l.cellH + (rows - 1) * GAP_Y);
        } finally {
            g2.dispose();
        }
        return l;
    }

    private static final class Layout {
        double titleHeight;
        double captionHeight;
        double gridX;
        double gridY;
        double cellW;
        double cellH;
        double chromeTop;
        double chromeBottom;
        Rectangle2D used;
    }

    private JFreeChart panel(int p, String panelTitle) {
        float[][] w = weights[p]; // (G_h, G_w)
        int gh = w.length;
        int gw = w[0].length;
        double panelMax = maxOf(w);
        double denominator = scale == Scale.SHARED ? max : panelMax;

        NumberAxis x = hiddenAxis(gw);
        NumberAxis y = hiddenAxis(gh);
        y.setInverted(true); // row 0 at the top, as in the image
        XYPlot plot = new XYPlot(null, x, y, null);
        plot.setInsets(RectangleInsets.ZERO_INSETS);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setBackgroundPaint(Color.BLACK);
        plot.setOutlinePaint(new Color(0x99, 0x99, 0x99));
        plot.setOutlineStroke(new BasicStroke(0.5f));
        plot.addAnnotation(new PatchImageAnnotation(brighten(image, w, denominator), gw, gh));

        JFreeChart chart = new JFreeChart(panelTitle, PANEL_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setBorderVisible(false);
        chart.setPadding(new RectangleInsets(2, 2, 2, 2));
        chart.getTitle().setPadding(new RectangleInsets(0, 0, 4, 0));
        if (scale == Scale.PER_PANEL) {
            chart.addSubtitle(scaleBar(panelMax, RectangleEdge.BOTTOM, null));
        }
        return chart;
    }

    private static NumberAxis hiddenAxis(int cells) {
        NumberAxis a = new NumberAxis();
        a.setRange(0, cells);
        a.setVisible(false);
        return a;
    }

    /** A black-to-white bar from 0 to {@code upper}: the factor a patch's pixels are multiplied by, in weight units. */
    private static PaintScaleLegend scaleBar(double upper, RectangleEdge edge, String label) {
        double top = upper > 0 ? upper : 1; // an all-zero panel is black; any range will do
        NumberAxis axis = new NumberAxis(label);
        axis.setRange(0, top);
        axis.setTickLabelFont(TICK_FONT);
        axis.setLabelFont(LABEL_FONT);
        axis.setTickMarkPaint(Color.DARK_GRAY);
        axis.setAxisLinePaint(Color.DARK_GRAY);
        axis.setTickMarkOutsideLength(3);
        axis.setTickUnit(niceTickUnit(top, edge == RectangleEdge.RIGHT ? 10 : 5));
        PaintScaleLegend legend = new PaintScaleLegend(new GrayPaintScale(0, top), axis);
        legend.setPosition(edge);
        legend.setAxisLocation(edge == RectangleEdge.RIGHT ? AxisLocation.BOTTOM_OR_RIGHT
                : AxisLocation.BOTTOM_OR_LEFT);
        legend.setStripWidth(edge == RectangleEdge.RIGHT ? 14 : 7);
        legend.setStripOutlineVisible(true);
        legend.setStripOutlinePaint(new Color(0x99, 0x99, 0x99));
        legend.setSubdivisionCount(256);
        legend.setAxisOffset(1);
        legend.setFrame(BlockBorder.NONE);
        legend.setMargin(edge == RectangleEdge.RIGHT ? new RectangleInsets(0, 10, 0, 0) : new RectangleInsets(5, 16, 0, 16));
        legend.setPadding(RectangleInsets.ZERO_INSETS);
        legend.setHorizontalAlignment(HorizontalAlignment.CENTER);
        legend.setBackgroundPaint(null);
        return legend;
    }

    /**
     * A tick step of 1, 2 or 5 × 10^k giving at most about {@code ticks} intervals over [0, upper], with just enough
     * decimals: JFreeChart's automatic choice packs a vertical bar with a label every few pixels.
     */
    static NumberTickUnit niceTickUnit(double upper, int ticks) {
        double raw = upper / ticks;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude;
        for (double m : new double[] {1, 2, 5, 10}) {
            step = m * magnitude;
            if (step >= raw) {
                break;
            }
        }
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        DecimalFormat format = new DecimalFormat(decimals == 0 ? "0" : "0." + "0".repeat(decimals),
                DecimalFormatSymbols.getInstance(Locale.ROOT));
        return new NumberTickUnit(step, format);
    }

    /**
     * The image with each patch's pixels multiplied by {@code weight / denominator}; pixels map to patches by
     * {@code row = y · G_h / H}, {@code col = x · G_w / W}, so any image size and any grid work.
     */
    static BufferedImage brighten(BufferedImage image, float[][] w, double denominator) {
        int width = image.getWidth();
        int height = image.getHeight();
        int gh = w.length;
        int gw = w[0].length;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int py = 0; py < height; py++) {
            int r = (int) ((long) py * gh / height);
            for (int px = 0; px < width; px++) {
                int c = (int) ((long) px * gw / width);
                double f = denominator > 0 ? Math.min(1, w[r][c] / denominator) : 0;
                int rgb = image.getRGB(px, py);
                int red = (int) Math.round(((rgb >> 16) & 0xff) * f);
                int green = (int) Math.round(((rgb >> 8) & 0xff) * f);
                int blue = (int) Math.round((rgb & 0xff) * f);
                out.setRGB(px, py, (red << 16) | (green << 8) | blue);
            }
        }
        return out;
    }

    private static double maxOf(float[][] w) {
        double m = 0;
        for (float[] row : w) {
            for (float v : row) {
                m = Math.max(m, v);
            }
        }
        return m;
    }

    /** Collects the inputs of an {@link AttentionGrid}; {@link #build()} checks them. */
    public static final class Builder {
        private BufferedImage image;
        private float[][][] weights;
        private List<String> panelTitles;
        private String title;
        private int columns = 4;
        private Scale scale = Scale.PER_PANEL;

        private Builder() {
        }

        /** The model's input image (e.g. the 224×224 de-normalised crop); required. */
        public Builder setImage(BufferedImage image) {
            this.image = image;
            return this;
        }

        /** Weights per panel, (panels, G_h, G_w), non-negative; required. */
        public Builder setWeights(float[][][] weights) {
            this.weights = weights;
            return this;
        }

        /** One title per panel; defaults to "panel 0" … */
        public Builder optPanelTitles(List<String> panelTitles) {
            this.panelTitles = panelTitles;
            return this;
        }

        /** The figure's title, e.g. "cows.jpg — vit_base_patch16_224 — blocks.4.attn mean — top-1: alp (0.79)". */
        public Builder optTitle(String title) {
            this.title = title;
            return this;
        }

        /** Panels per row; 4 by default (12 heads → 3 rows × 4 columns). */
        public Builder optColumns(int columns) {
            this.columns = columns;
            return this;
        }

        public Builder optScale(Scale scale) {
            this.scale = scale;
            return this;
        }

        /**
         * @throws IllegalArgumentException when the image or weights are missing, panels differ in grid size,
         *                                  weights are negative or not finite, titles do not match the panels, or
         *                                  columns is not positive
         */
        public AttentionGrid build() {
            if (image == null) {
                throw new IllegalArgumentException("attention grid needs the input image: call setImage");
            }
            if (weights == null || weights.length == 0) {
                throw new IllegalArgumentException("attention grid needs at least one panel of weights (panels, G_h, G_w)");
            }
            int gh = weights[0].length;
            int gw = gh == 0 ? 0 : weights[0][0].length;
            if (gh == 0 || gw == 0) {
                throw new IllegalArgumentException("panel 0 has an empty patch grid");
            }
            for (int p = 0; p < weights.length; p++) {
                if (weights[p].length != gh) {
                    throw new IllegalArgumentException("panel " + p + " has " + weights[p].length
                            + " grid rows but panel 0 has " + gh + "; all panels need the same G_h x G_w grid");
                }
                for (int r = 0; r < gh; r++) {
                    if (weights[p][r].length != gw) {
                        throw new IllegalArgumentException("panel " + p + " row " + r + " has " + weights[p][r].length
                                + " columns but panel 0 has " + gw + "; all panels need the same G_h x G_w grid");
                    }
                    for (float v : weights[p][r]) {
                        if (!(v >= 0) || Float.isInfinite(v)) {
                            throw new IllegalArgumentException("panel " + p + " row " + r + " has weight " + v
                                    + "; brightness scaling needs finite weights >= 0");
                        }
                    }
                }
            }
            if (gh > image.getHeight() || gw > image.getWidth()) {
                throw new IllegalArgumentException("a " + gh + "x" + gw + " patch grid is finer than the "
                        + image.getHeight() + "x" + image.getWidth() + " image");
            }
            if (panelTitles == null) {
                panelTitles = new ArrayList<>();
                for (int p = 0; p < weights.length; p++) {
                    panelTitles.add("panel " + p);
                }
            }
            if (panelTitles.size() != weights.length) {
                throw new IllegalArgumentException(panelTitles.size() + " panel titles for " + weights.length
                        + " panels; give one title per panel");
            }
            if (columns <= 0) {
                throw new IllegalArgumentException("columns must be positive, got " + columns);
            }
            columns = Math.min(columns, weights.length);
            if (scale == null) {
                throw new IllegalArgumentException("scale must be PER_PANEL or SHARED, got null");
            }
            return new AttentionGrid(this);
        }
    }
}
