package io.vitscope.plot;

import io.vitscope.InvalidArgumentException;
import io.vitscope.VitscopeException;
import io.vitscope.files.Outputs;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.jfree.chart.JFreeChart;
import org.jfree.svg.SVGGraphics2D;

/**
 * Writes charts, figures and images to PNG or SVG files, and renders them to images or SVG text.
 *
 * <p>All of it runs headless ({@code -Djava.awt.headless=true}): nothing opens a window.
 */
public final class Plots {

    /** The output format of a plot file. */
    public enum Format {
        PNG, SVG;

        /** The format named by a file's extension ({@code .png} or {@code .svg}, any case). */
        public static Format of(Path file) {
            String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".png")) {
                return PNG;
            }
            if (name.endsWith(".svg")) {
                return SVG;
            }
            throw new InvalidArgumentException("format", "cannot tell the plot format of " + file
                    + ": name it .png or .svg, or pass the format explicitly");
        }
    }

    /** The largest side of a figure or chart, in pixels; see {@link #requireSize}. */
    public static final int MAX_SIDE = 16_384;

    private Plots() {
    }

    /** A number for titles, file names and tables: 3 not 3.0, 0.5 as 0.5. */
    public static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * Writes a chart at exactly {@code width} × {@code height} pixels.
     *
     * @return {@code file}
     * @throws VitscopeException if the file or its folder cannot be written
     */
    public static Path save(JFreeChart chart, Path file, Format format, int width, int height) {
        requireSize(width, height);
        return switch (format) {
            case PNG -> writePng(toImage(chart, width, height), file);
            case SVG -> writeSvg(toSvg(chart, width, height), file);
        };
    }

    /**
     * Writes a figure at {@code width} pixels wide; a {@code height} of 0 or less takes the figure's natural height.
     *
     * @return {@code file}
     */
    public static Path save(Figure figure, Path file, Format format, int width, int height) {
        int h = height > 0 ? height : figure.heightFor(width);
        requireSize(width, h);
        return switch (format) {
            case PNG -> writePng(toImage(figure, width, h), file);
            case SVG -> writeSvg(toSvg(figure, width, h), file);
        };
    }

    /**
     * Writes an image, scaled (bilinear) to {@code width} × {@code height} unless those are 0 or less, in which case
     * its own size is kept. An SVG holds the image as an embedded PNG.
     *
     * @return {@code file}
     */
    public static Path save(BufferedImage image, Path file, Format format, int width, int height) {
        int w = width > 0 ? width : image.getWidth();
        int h = height > 0 ? height : image.getHeight();
        requireSize(w, h);
        return switch (format) {
            case PNG -> writePng(w == image.getWidth() && h == image.getHeight() ? image : scaled(image, w, h), file);
            case SVG -> {
                SVGGraphics2D g2 = new SVGGraphics2D(w, h);
                g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g2.drawImage(image, 0, 0, w, h, null);
                yield writeSvg(document(g2), file);
            }
        };
    }

    /** Renders a chart onto a white RGB image. */
    public static BufferedImage toImage(JFreeChart chart, int width, int height) {
        requireSize(width, height);
        return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    }

    /** Renders a figure onto a white RGB image of {@code width} × {@code height}. */
    public static BufferedImage toImage(Figure figure, int width, int height) {
        requireSize(width, height);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = img.createGraphics();
        try {
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, width, height);
            figure.draw(g2, new Rectangle2D.Double(0, 0, width, height));
        } finally {
            g2.dispose();
        }
        return img;
    }

    /** A chart as a standalone SVG document: axes, text and lines are vector. */
    public static String toSvg(JFreeChart chart, int width, int height) {
        requireSize(width, height);
        SVGGraphics2D g2 = new SVGGraphics2D(width, height);
        chart.draw(g2, new Rectangle2D.Double(0, 0, width, height));
        return document(g2);
    }

    /** A figure as a standalone SVG document: titles, axes and legends are vector, images embedded PNGs. */
    public static String toSvg(Figure figure, int width, int height) {
        requireSize(width, height);
        SVGGraphics2D g2 = new SVGGraphics2D(width, height);
        g2.setColor(Color.WHITE);
        g2.fillRect(0, 0, width, height);
        figure.draw(g2, new Rectangle2D.Double(0, 0, width, height));
        return document(g2);
    }

    /**
     * The SVG without JFreeSVG's SVG 1.0 DOCTYPE: its DTD address makes ordinary XML parsers (Java's included) go
     * to the network to read the file, and SVG 2 dropped the DOCTYPE anyway.
     */
    private static String document(SVGGraphics2D g2) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g2.getSVGElement() + "\n";
    }

    private static Path writePng(BufferedImage image, Path file) {
        ImageWriter writer = pngWriter(file);
        try {
            // to our own stream: ImageIO.write(image, "png", File) prints a stack trace to stderr when it cannot open
            // the file (FileImageOutputStreamSpi) and leaves a truncated file when a write fails part-way
            return Outputs.write(file, "file", out -> {
                try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    writer.setOutput(ios);
                    writer.write(image);
                }
            });
        } finally {
            writer.dispose();
        }
    }

    private static ImageWriter pngWriter(Path file) {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new VitscopeException("no PNG writer is available in this JDK to write " + file);
        }
        return writers.next();
    }

    private static Path writeSvg(String svg, Path file) {
        return Outputs.writeString(file, "file", svg);
    }

    private static BufferedImage scaled(BufferedImage image, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = out.createGraphics();
        try {
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g2.drawImage(image, 0, 0, w, h, null);
        } finally {
            g2.dispose();
        }
        return out;
    }

    /**
     * Refuses a plot size that is not positive or has a side above {@value #MAX_SIDE} pixels: 16,384² is 2^28
     * pixels, 1 GiB as the RGB image every figure is drawn on (4 bytes a pixel), already more than a PNG viewer or
     * browser canvas shows (Chrome's and Firefox's canvases stop at 16,384 and 32,767 px a side).
     *
     * @throws InvalidArgumentException naming {@code width} or {@code height}
     */
    public static void requireSize(int width, int height) {
        requireSide("width", width);
        requireSide("height", height);
    }

    private static void requireSide(String name, int px) {
        if (px <= 0 || px > MAX_SIDE) {
            throw new InvalidArgumentException(name, name + " must be in 1.." + MAX_SIDE + " pixels, got " + px
                    + (px > MAX_SIDE && name.equals("height") ? " (the height follows the width and the panels: use a "
                    + "smaller width or more columns)" : ""));
        }
    }
}
