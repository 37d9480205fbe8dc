package io.vitscope.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;

/**
 * Activation patching over the image: one panel per patched block (in the order given), each the image in grey with
 * every patched token position's value drawn over its patch on the diverging scale of {@link Heatmap} (same colour,
 * same value → same colour in every panel), the value written in the cell when the grid is small enough to read.
 * Token 0 (the class token) has no patch: its value goes in the panel title. One colour bar for the figure.
 *
 * <p>Abbreviations: G_h × G_w the patch grid; positions are token indices, patch p is token p + 1 in row-major order.
 */
public final class PatchingGrid implements Figure {

    private static final double MARGIN = 14;
    private static final double GAP = 12;
    private static final double TITLE_H = 50;
    private static final double PANEL_TITLE_H = 18;
    private static final double BAR_H = 46;
    private static final float ALPHA = 0.7f;

    private final String title;
    private final BufferedImage grey;
    private final int gh;
    private final int gw;
    private final int[] blocks;
    private final int[] positions;
    private final float[][] values; // (blocks, positions)
    private final double max;
    private final int columns;

    private PatchingGrid(String title, BufferedImage image, int gh, int gw, int[] blocks, int[] positions,
                         float[][] values) {
        this.title = title == null ? "" : title;
        this.grey = greyOf(image);
        this.gh = gh;
        this.gw = gw;
        this.blocks = blocks.clone();
        this.positions = positions.clone();
        this.values = values;
        double m = 0;
        for (float[] row : values) {
            for (float v : row) {
                if (Double.isFinite(v)) {
                    m = Math.max(m, Math.abs(v));
                }
            }
        }
        this.max = m > 0 ? m : 1;
        this.columns = Math.min(4, blocks.length);
    }

    /**
     * @param image the image patched into (any size; stretched over the grid)
     * @param blocks the rows' block numbers
     * @param positions the columns' token positions (0 = class token, p ≥ 1 = patch p − 1)
     * @param values (blocks, positions)
     */
    public static PatchingGrid create(String title, BufferedImage image, int gridHeight, int gridWidth, int[] blocks,
                                      int[] positions, float[][] values) {
        if (image == null) {
            throw new IllegalArgumentException("patching grid needs the image");
        }
        if (values.length != blocks.length || values.length == 0) {
            throw new IllegalArgumentException("patching grid: " + values.length + " rows of values for "
                    + blocks.length + " blocks");
        }
        for (float[] row : values) {
            if (row.length != positions.length) {
                throw new IllegalArgumentException("patching grid: a row has " + row.length + " values for "
                        + positions.length + " positions");
            }
        }
        for (int p : positions) {
            if (p < 0 || p > gridHeight * gridWidth) {
                throw new IllegalArgumentException("patching grid: position " + p + " is not a token of a "
                        + gridHeight + "x" + gridWidth + " grid");
            }
        }
        return new PatchingGrid(title, image, gridHeight, gridWidth, blocks, positions, values);
    }

    private double panelWidth(double width) {
        return (width - 2 * MARGIN - (columns - 1) * GAP) / columns;
    }

    @Override
    public int heightFor(int width) {
        double pw = panelWidth(width);
        double ph = pw * gh / gw;
        int rows = (blocks.length + columns - 1) / columns;
        return (int) Math.ceil(2 * MARGIN + TITLE_H + rows * (PANEL_TITLE_H + ph) + (rows - 1) * GAP + BAR_H);
    }

    @Override
    public void draw(Graphics2D g2, Rectangle2D area) {
        g2.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        double width = area.getWidth();
        double x0 = area.getX();
        double y0 = area.getY();
        g2.setColor(Color.BLACK);
        g2.setFont(AttentionGrid.TITLE_FONT.deriveFont(14f));
        java.util.List<String> lines = wrap(g2, title, width - 2 * MARGIN);
        for (int i = 0; i < Math.min(2, lines.size()); i++) {
            centred(g2, lines.get(i), x0 + width / 2, y0 + MARGIN + 14 + 19 * i);
        }
        double pw = panelWidth(width);
        double ph = pw * gh / gw;
        DecimalFormat fmt = Heatmap.format(max);
        int cellFontSize = (int) Math.max(7, Math.min(12, pw / gw / 3.2));
        boolean writeValues = gw <= 8 && gh <= 8;
        for (int b = 0; b < blocks.length; b++) {
            int r = b / columns;
            int c = b % columns;
            double px = x0 + MARGIN + c * (pw + GAP);
            double py = y0 + MARGIN + TITLE_H + r * (PANEL_TITLE_H + ph + GAP);
            String cls = "";
            for (int j = 0; j < positions.length; j++) {
                if (positions[j] == 0) {
                    cls = " · cls " + Heatmap.text(fmt, values[b][j]);
                }
            }
            g2.setColor(Color.BLACK);
            g2.setFont(AttentionGrid.PANEL_TITLE_FONT);
            centred(g2, "block " + blocks[b] + cls, px + pw / 2, py + 13);
            double iy = py + PANEL_TITLE_H;
            g2.drawImage(grey, (int) Math.round(px), (int) Math.round(iy), (int) Math.round(pw), (int) Math.round(ph),
                    null);
            double cw = pw / gw;
            double chh = ph / gh;
            g2.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, cellFontSize));
            for (int j = 0; j < positions.length; j++) {
                int p = positions[j];
                if (p == 0) {
                    continue;
                }
                int row = (p - 1) / gw;
                int col = (p - 1) % gw;
                float v = values[b][j];
                Color colour = Heatmap.Diverging.colour(v / max);
                g2.setColor(new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), Math.round(ALPHA * 255)));
                Rectangle2D cell = new Rectangle2D.Double(px + col * cw, iy + row * chh, cw, chh);
                g2.fill(cell);
                if (writeValues) {
                    g2.setColor(Math.abs(v) > 0.55 * max ? Color.WHITE : Color.BLACK);
                    centred(g2, Heatmap.text(fmt, v), cell.getCenterX(), cell.getCenterY() + cellFontSize / 2.0 - 1);
                }
            }
            g2.setColor(new Color(0x999999));
            g2.setStroke(new BasicStroke(1f));
            g2.draw(new Rectangle2D.Double(px, iy, pw, ph));
        }
        drawBar(g2, x0 + width / 2 - 160, y0 + heightFor((int) width) - MARGIN - BAR_H + 8, 320, 12, fmt);
    }

    private void drawBar(Graphics2D g2, double x, double y, double w, double h, DecimalFormat fmt) {
        int steps = 160;
        for (int i = 0; i < steps; i++) {
            double t = -1 + 2.0 * (i + 0.5) / steps;
            g2.setColor(Heatmap.Diverging.colour(t));
            g2.fill(new Rectangle2D.Double(x + w * i / steps, y, w / steps + 0.5, h));
        }
        g2.setColor(new Color(0x999999));
        g2.draw(new Rectangle2D.Double(x, y, w, h));
        g2.setColor(Color.BLACK);
        g2.setFont(AttentionGrid.TICK_FONT);
        centred(g2, fmt.format(-max), x, y + h + 12);
        centred(g2, "0", x + w / 2, y + h + 12);
        centred(g2, fmt.format(max), x + w, y + h + 12);
        g2.setFont(AttentionGrid.LABEL_FONT);
        centred(g2, "patching metric (1 = restores the clean logit difference)", x + w / 2, y + h + 27);
    }

    /** Greedy word wrap to {@code width}. */
    private static java.util.List<String> wrap(Graphics2D g2, String text, double width) {
        FontMetrics fm = g2.getFontMetrics();
        java.util.List<String> lines = new java.util.ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            String next = line.length() == 0 ? word : line + " " + word;
            if (fm.stringWidth(next) > width && line.length() > 0) {
                lines.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(next);
            }
        }
        lines.add(line.toString());
        return lines;
    }

    private static void centred(Graphics2D g2, String s, double cx, double baseline) {
        FontMetrics fm = g2.getFontMetrics();
        g2.drawString(s, (float) (cx - fm.stringWidth(s) / 2.0), (float) baseline);
    }

    private static BufferedImage greyOf(BufferedImage image) {
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int l = (int) Math.round(0.299 * (rgb >> 16 & 255) + 0.587 * (rgb >> 8 & 255) + 0.114 * (rgb & 255));
                int v = 60 + l * 195 / 255; // lifted: colours stay visible over black backgrounds
                out.setRGB(x, y, v << 16 | v << 8 | v);
            }
        }
        return out;
    }
}
