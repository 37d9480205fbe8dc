package io.vitscope.plot;

import java.awt.image.BufferedImage;
import java.util.function.Consumer;
import org.jfree.chart.JFreeChart;

/**
 * Shows plots below a notebook cell. vitscope knows no notebook kernel: the notebook hands its own display function
 * over once, in its first cell, and every {@code show} renders the plot to an image and passes it on.
 *
 * <pre>{@code
 * Display.to(image -> display(image));   // IJava and JJava define display(Object); images appear as PNG
 * Display.show(grid, 900);
 * }</pre>
 *
 * <p>Plots are rendered here, at a fixed size, rather than by the kernel: the same pixels then reach Jupyter and the
 * notebook test ({@code NotebooksTest}), which installs a recorder in place of {@code display}.
 */
public final class Display {

    private static volatile Consumer<? super BufferedImage> sink;

    private Display() {
    }

    /** Where shown images go from now on, e.g. {@code image -> display(image)} in a Jupyter Java kernel. */
    public static void to(Consumer<? super BufferedImage> target) {
        if (target == null) {
            throw new IllegalArgumentException("Display.to needs a target, e.g. image -> display(image)");
        }
        sink = target;
    }

    /** Shows an image as it is. */
    public static void show(BufferedImage image) {
        if (image == null) {
            throw new IllegalArgumentException("Display.show needs an image, got null");
        }
        Consumer<? super BufferedImage> target = sink;
        if (target == null) {
            throw new IllegalStateException("Nowhere to show the plot: call Display.to(image -> display(image)) first "
                    + "(in a Jupyter Java kernel), or save it with Plots.save");
        }
        target.accept(image);
    }

    /** Shows a chart rendered at {@code width} × {@code height} pixels. */
    public static void show(JFreeChart chart, int width, int height) {
        show(Plots.toImage(chart, width, height));
    }

    /** Shows a figure (an {@link AttentionGrid}, …) rendered {@code width} pixels wide at its natural height. */
    public static void show(Figure figure, int width) {
        show(Plots.toImage(figure, width, figure.heightFor(width)));
    }
}
