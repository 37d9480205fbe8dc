package io.vitscope.plot;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import org.jfree.chart.annotations.AbstractXYAnnotation;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.PlotRenderingInfo;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleEdge;

/**
 * An image stretched over the data rectangle [0, G_w] × [0, G_h], so that patch (row r, column c) occupies the data
 * cell [c, c + 1] × [r, r + 1]. Further annotations in patch coordinates (a box round a patch, grid lines) then land
 * on the right pixels whatever the panel's size.
 */
final class PatchImageAnnotation extends AbstractXYAnnotation {

    private static final long serialVersionUID = 1L;

    private final transient BufferedImage image;
    private final double gridW;
    private final double gridH;

    PatchImageAnnotation(BufferedImage image, int gridW, int gridH) {
        this.image = image;
        this.gridW = gridW;
        this.gridH = gridH;
    }

    @Override
    public void draw(Graphics2D g2, XYPlot plot, Rectangle2D dataArea, ValueAxis domainAxis, ValueAxis rangeAxis,
                     int rendererIndex, PlotRenderingInfo info) {
        PlotOrientation orientation = plot.getOrientation();
        RectangleEdge xEdge = Plot.resolveDomainAxisLocation(plot.getDomainAxisLocation(), orientation);
        RectangleEdge yEdge = Plot.resolveRangeAxisLocation(plot.getRangeAxisLocation(), orientation);
        double x0 = domainAxis.valueToJava2D(0, dataArea, xEdge);
        double x1 = domainAxis.valueToJava2D(gridW, dataArea, xEdge);
        double y0 = rangeAxis.valueToJava2D(0, dataArea, yEdge);
        double y1 = rangeAxis.valueToJava2D(gridH, dataArea, yEdge);
        AffineTransform at = new AffineTransform((x1 - x0) / image.getWidth(), 0, 0, (y1 - y0) / image.getHeight(),
                x0, y0);
        Object saved = g2.getRenderingHint(RenderingHints.KEY_INTERPOLATION);
        g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g2.drawImage(image, at, null);
        if (saved != null) {
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, saved);
        }
    }
}
