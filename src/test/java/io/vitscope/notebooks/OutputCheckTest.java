package io.vitscope.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputCheckTest {

    /** Four grey "panels" with a title: the shape of an attention grid. */
    private static BufferedImage figure(int[] panelGrey, String title) {
        BufferedImage img = new BufferedImage(640, 240, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 640, 240);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 20, 24);
        for (int p = 0; p < 4; p++) {
            g.setColor(new Color(panelGrey[p], panelGrey[p], panelGrey[p]));
            g.fillRect(20 + p * 155, 40, 140, 180);
        }
        g.dispose();
        return img;
    }

    private static Output.Image png(BufferedImage img) {
        return Output.Image.ofBase64(Output.Image.of(img).base64Png()); // through PNG, as stored
    }

    @Test
    void sameImageMatchesAfterAPngRoundTrip() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        assertNull(OutputCheck.compare(List.of(png(a)), List.of(Output.Image.of(a))));
    }

    @Test
    void scatteredOneLevelChangesAreTolerated() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        BufferedImage b = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        Random r = new Random(1);
        for (int i = 0; i < 5000; i++) { // ~3% of the pixels one level off: last-place float noise in brightness
            int x = r.nextInt(640);
            int y = r.nextInt(240);
            b.setRGB(x, y, b.getRGB(x, y) ^ 0x010101);
        }
        assertNull(OutputCheck.compareImages(a, b));
    }

    @Test
    void aWholeTileOneLevelOffIsTolerated() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        BufferedImage b = figure(new int[] {40, 90, 141, 190}, "blocks.4.attn"); // a last-bit change of one panel
        assertNull(OutputCheck.compareImages(a, b));
    }

    @Test
    void aPanelDimmedByFivePercentIsCaught() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        BufferedImage b = figure(new int[] {40, 90, 140, 180}, "blocks.4.attn"); // 190 × 0.95 = 180.5
        assertNotNull(OutputCheck.compareImages(a, b), "a 5% dimming of one heatmap must be caught");
    }

    @Test
    void oneChangedPanelIsCaughtByTheTileCheckThoughTheMeanIsSmall() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "blocks.4.attn");
        BufferedImage b = figure(new int[] {40, 90, 140, 170}, "blocks.4.attn"); // one head 20 levels darker
        String d = OutputCheck.compareImages(a, b);
        assertNotNull(d);
        assertTrue(d.contains("tile 20.0 levels"), d);
    }

    @Test
    void otherSizeOrTitleIsAMismatch() {
        BufferedImage a = figure(new int[] {40, 90, 140, 190}, "top-1: Sneaker");
        assertEquals("image is 10x10, stored 640x240",
                OutputCheck.compareImages(a, new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB)));
        assertNotNull(OutputCheck.compareImages(a, figure(new int[] {40, 90, 140, 190}, "top-1: Sandal X")));
    }

    @Test
    void textMustBeEqualAndTheFirstDifferentLineIsShown() {
        assertNull(OutputCheck.compare(List.of(new Output.Stream("stdout", "a\r\nb\n")),
                List.of(new Output.Stream("stdout", "a\nb\n"))));
        String d = OutputCheck.compare(List.of(new Output.Stream("stdout", "Sneaker 0.9100\nSandal 0.0500\n")),
                List.of(new Output.Stream("stdout", "Sneaker 0.9100\nSandal 0.0501\n")));
        assertEquals("output 1 (stdout): text differs at line 2:\n  stored: Sandal 0.0500\n  now:    Sandal 0.0501", d);
    }

    @Test
    void missingOrExtraOutputsAreNamed() {
        String d = OutputCheck.compare(List.of(), List.of(new Output.Stream("stdout", "hello\n")));
        assertEquals("stored 0 outputs [] but the cell produced 1 [stdout]; it printed:\nhello\n", d);
    }
}
