package io.vitscope.plot;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;

/**
 * Something drawn by layout rather than as one chart, e.g. a grid of charts with a shared title. Drawing onto a
 * {@link Graphics2D} keeps one code path for PNG (a {@code BufferedImage}'s graphics) and SVG (JFreeSVG's
 * {@code SVGGraphics2D}, where text and lines stay vector).
 */
public interface Figure {

    /** The height that keeps the figure's natural proportions at this width, in pixels. */
    int heightFor(int width);

    /** Draws the figure fitted into {@code area}, centred where the area's proportions differ from its own. */
    void draw(Graphics2D g2, Rectangle2D area);
}
