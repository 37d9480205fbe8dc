package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class AttentionGridTest {

    @TempDir
    Path dir;

    private static BufferedImage grey(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(160, 160, 160));
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static float[][][] ramp(int panels, int gh, int gw) {
        float[][][] w = new float[panels][gh][gw];
        for (int p = 0; p < panels; p++) {
            for (int r = 0; r < gh; r++) {
                for (int c = 0; c < gw; c++) {
                    w[p][r][c] = (p + 1) * 0.001f * (1 + r * gw + c);
                }
            }
        }
        return w;
    }

    private static AttentionGrid twelveHeads() {
        return AttentionGrid.builder().setImage(grey(224, 224)).setWeights(ramp(12, 14, 14))
                .optPanelTitles(AttentionGrid.headTitles(4, 12))
                .optTitle("cows.jpg — vit_base_patch16_224 — blocks.4.attn mean — top-1: alp (0.79)").build();
    }

    @Test
    void pngHasTheRequestedPixelSize() throws Exception {
        AttentionGrid grid = twelveHeads();
        Path png = Plots.save(grid, dir.resolve("nested/folder/grid.png"), Plots.Format.PNG, 1000, 0);
        BufferedImage read = ImageIO.read(png.toFile());
        assertEquals(1000, read.getWidth());
        assertEquals(grid.heightFor(1000), read.getHeight());
        Path fixed = Plots.save(grid, dir.resolve("fixed.png"), Plots.Format.PNG, 640, 480);
        BufferedImage f = ImageIO.read(fixed.toFile());
        assertEquals(640, f.getWidth());
        assertEquals(480, f.getHeight());
    }

    @Test
    void aPatchWithMoreWeightIsDrawnBrighter() {
        // One panel, 2×2 grid on a uniform grey image: weights 0.1, 0.4 / 0.2, 0.8.
        float[][][] w = {{{0.1f, 0.4f}, {0.2f, 0.8f}}};
        AttentionGrid grid = AttentionGrid.builder().setImage(grey(64, 64)).setWeights(w).optTitle("t").build();
        JFreeChart panel = grid.panels().get(0);
        BufferedImage img = new BufferedImage(300, 340, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = img.createGraphics();
        ChartRenderingInfo info = new ChartRenderingInfo();
        panel.draw(g2, new Rectangle2D.Double(0, 0, 300, 340), info);
        g2.dispose();
        Rectangle2D data = info.getPlotInfo().getDataArea();
        int[] centres = new int[4];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 2; c++) {
                int x = (int) (data.getX() + data.getWidth() * (c + 0.5) / 2);
                int y = (int) (data.getY() + data.getHeight() * (r + 0.5) / 2);
                centres[r * 2 + c] = img.getRGB(x, y) & 0xff; // grey: blue channel = brightness
            }
        }
        // Brightness = 160 · w / max, to within bilinear rounding: 20, 80 / 40, 160.
        assertEquals(20, centres[0], 2);
        assertEquals(80, centres[1], 2);
        assertEquals(40, centres[2], 2);
        assertEquals(160, centres[3], 2);
    }

    @Test
    void brightenScalesEachPatchByWeightOverMax() {
        float[][] w = {{0.5f, 1f, 0f}}; // a 1×3 grid on a 6×2 image: non-square patches
        BufferedImage out = AttentionGrid.brighten(grey(6, 2), w, 1.0);
        assertEquals(80, out.getRGB(0, 0) & 0xff);
        assertEquals(160, out.getRGB(2, 1) & 0xff);
        assertEquals(0, out.getRGB(5, 0) & 0xff);
    }

    @Test
    void svgIsWellFormedXmlWithTheTitleAsText() throws Exception {
        AttentionGrid grid = twelveHeads();
        Path svg = Plots.save(grid, dir.resolve("grid.svg"), Plots.Format.SVG, 900, 0);
        String text = Files.readString(svg, StandardCharsets.UTF_8);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getLocalName() == null
                ? doc.getDocumentElement().getTagName() : doc.getDocumentElement().getLocalName());
        assertTrue(doc.getDocumentElement().getTextContent().contains("blocks.4.attn mean — top-1: alp (0.79)"),
                "the title is vector text");
        assertTrue(doc.getDocumentElement().getTextContent().contains("block 4 · head 11"));
        assertTrue(doc.getElementsByTagName("image").getLength() >= 12, "one embedded raster per panel");
    }

    @Test
    void anyGridAndPanelCountLaysOut() {
        for (int[] g : new int[][] {{7, 7}, {3, 5}, {14, 24}}) {
            BufferedImage img = grey(g[1] * 16, g[0] * 16);
            AttentionGrid grid = AttentionGrid.builder().setImage(img).setWeights(ramp(5, g[0], g[1]))
                    .optColumns(3).optScale(AttentionGrid.Scale.SHARED).optTitle("grid " + g[0] + "x" + g[1]).build();
            BufferedImage out = grid.toImage(700);
            assertEquals(700, out.getWidth());
            assertTrue(out.getHeight() > 200, "two rows of panels");
            assertNotNull(grid.sharedLegend());
        }
        assertNull(twelveHeads().sharedLegend());
    }

    @Test
    void rejectsInconsistentInputs() {
        BufferedImage img = grey(32, 32);
        float[][][] ragged = {{{1f, 2f}, {3f}}};
        assertThrows(IllegalArgumentException.class,
                () -> AttentionGrid.builder().setImage(img).setWeights(ragged).build());
        float[][][] negative = {{{1f, -2f}}};
        assertThrows(IllegalArgumentException.class,
                () -> AttentionGrid.builder().setImage(img).setWeights(negative).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionGrid.builder().setImage(img).setWeights(ramp(2, 2, 2)).optPanelTitles(List.of("a"))
                        .build());
        assertTrue(e.getMessage().contains("1 panel titles for 2 panels"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttentionGrid.builder().setWeights(ramp(1, 2, 2)).build());
    }
}
