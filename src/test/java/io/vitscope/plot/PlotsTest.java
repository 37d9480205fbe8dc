package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.VitscopeException;
import java.awt.image.BufferedImage;
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
        VitscopeException e = assertThrows(VitscopeException.class,
                () -> Plots.save(img, file.resolve("plot.png"), Plots.Format.PNG, 0, 0));
        assertTrue(e.getMessage().startsWith("cannot write plot to " + file.resolve("plot.png")), e.getMessage());
        VitscopeException folder = assertThrows(VitscopeException.class,
                () -> Plots.save(img, dir, Plots.Format.PNG, 0, 0));
        assertTrue(folder.getMessage().contains("it is a folder"), folder.getMessage());
    }

    @Test
    void formatFollowsTheExtension() {
        assertEquals(Plots.Format.SVG, Plots.Format.of(Path.of("out/Grid.SVG")));
        assertEquals(Plots.Format.PNG, Plots.Format.of(Path.of("grid.png")));
        assertThrows(IllegalArgumentException.class, () -> Plots.Format.of(Path.of("grid.jpg")));
    }
}
