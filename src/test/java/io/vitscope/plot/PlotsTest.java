package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidArgumentException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

    @TempDir
    Path dir;

    @Test
    void imagesAreWrittenAtTheirSizeOrScaled() throws Exception {
        BufferedImage img = new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB);
        Path kept = Plots.save(img, dir.resolve("a/b/kept.png"), Plots.Format.PNG, 0, 0);
        assertEquals(30, ImageIO.read(kept.toFile()).getWidth());
        Path scaled = Plots.save(img, dir.resolve("scaled.png"), Plots.Format.PNG, 60, 40);
        assertEquals(40, ImageIO.read(scaled.toFile()).getHeight());
        Path svg = Plots.save(img, dir.resolve("img.svg"), Plots.Format.SVG, 0, 0);
        assertTrue(Files.readString(svg).contains("<image"));
    }

    @Test
    void unwritablePathsGiveAClearError() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Plots.save(img, file.resolve("plot.png"), Plots.Format.PNG, 0, 0));
        assertTrue(e.getMessage().startsWith("file " + file.resolve("plot.png") + " cannot be written"), e.getMessage());
        InvalidArgumentException folder = assertThrows(InvalidArgumentException.class,
                () -> Plots.save(img, dir, Plots.Format.PNG, 0, 0));
        assertTrue(folder.getMessage().contains("it is a folder"), folder.getMessage());
    }

    /**
     * Issue 11 item 12: ImageIO.write(image, "png", File) printed a 23-line stack trace to System.err when it could
     * not open the file; the one exception must be all the caller sees, for PNG and SVG alike.
     */
    @Test
    void anUnwritablePlaceIsOneExceptionAndNothingOnStderr() {
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        try {
            for (String name : new String[] {"/proc/vitscope-a.png", "/proc/vitscope-a.svg"}) {
                Path p = Path.of(name);
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                        () -> Plots.save(img, p, Plots.Format.of(p), 0, 0));
                assertTrue(e.getMessage().startsWith("file " + p + " cannot be written"), e.getMessage());
            }
        } finally {
            System.setErr(saved);
        }
        assertEquals("", err.toString());
    }

    /** Issue 11 item 7: a side above 16,384 px overflowed an int pixel count (NegativeArraySizeException). */
    @Test
    void sizesAreBoundedNamingTheParameter() {
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        InvalidArgumentException w = assertThrows(InvalidArgumentException.class,
                () -> Plots.save(img, dir.resolve("w.png"), Plots.Format.PNG, 100_000, 10));
        assertEquals("width", w.parameter());
        assertTrue(w.getMessage().startsWith("width must be in 1..16384 pixels, got 100000"), w.getMessage());
        InvalidArgumentException h = assertThrows(InvalidArgumentException.class,
                () -> Plots.toImage(new org.jfree.chart.JFreeChart(new org.jfree.chart.plot.PiePlot<String>()), 10,
                        Plots.MAX_SIDE + 1));
        assertEquals("height", h.parameter());
        assertThrows(InvalidArgumentException.class, () -> Plots.requireSize(0, 10));
        assertThrows(InvalidArgumentException.class, () -> Plots.requireSize(Integer.MAX_VALUE, 10));
        Plots.requireSize(Plots.MAX_SIDE, Plots.MAX_SIDE); // the limit itself is allowed
        assertTrue(Plots.MAX_SIDE * (long) Plots.MAX_SIDE * 4 <= 1L << 30, "at most 1 GiB of RGB pixels");
        assertFalse(Files.exists(dir.resolve("w.png")));
    }

    @Test
    void formatFollowsTheExtension() {
        assertEquals(Plots.Format.SVG, Plots.Format.of(Path.of("out/Grid.SVG")));
        assertEquals(Plots.Format.PNG, Plots.Format.of(Path.of("grid.png")));
        assertThrows(IllegalArgumentException.class, () -> Plots.Format.of(Path.of("grid.jpg")));
    }
}
