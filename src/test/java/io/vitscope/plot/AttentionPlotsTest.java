package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.Golden;
import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import io.vitscope.weights.NpyArray;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;

/** From a probe's capture to a figure in one call, on the golden tiny model (4×4 grid, 4 heads, 3 blocks). */
class AttentionPlotsTest {

    static BufferedImage grey(int size) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(200, 200, 200));
        g.fillRect(0, 0, size, size);
        g.dispose();
        return img;
    }

    /** Brightness (blue channel of a grey) at the centre of each patch of a panel drawn at 400×460. */
    static int[] patchCentres(JFreeChart panel, int gh, int gw) {
        BufferedImage img = new BufferedImage(400, 460, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = img.createGraphics();
        ChartRenderingInfo info = new ChartRenderingInfo();
        panel.draw(g2, new Rectangle2D.Double(0, 0, 400, 460), info);
        g2.dispose();
        Rectangle2D data = info.getPlotInfo().getDataArea();
        int[] out = new int[gh * gw];
        for (int r = 0; r < gh; r++) {
            for (int c = 0; c < gw; c++) {
                int x = (int) (data.getX() + data.getWidth() * (c + 0.5) / gw);
                int y = (int) (data.getY() + data.getHeight() * (r + 0.5) / gh);
                out[r * gw + c] = img.getRGB(x, y) & 0xff;
            }
        }
        return out;
    }

    @Test
    void aCapturedCallBecomesAGridWherePatchesWithMoreWeightAreBrighter() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            CallCapture call = probe.captureCall("blocks.2.attn");
            NpyArray input = Golden.npy("tiny/input.npy");
            model.forward(m.create(Arrays.copyOf(input.floats(), 3 * 32 * 32), new Shape(1, 3, 32, 32)));

            AttentionGrid grid = AttentionPlots.grid(grey(32), call.get(), PatchWeights.Mode.CLS, 4, 4, "t");
            assertEquals(4, grid.panels().size());
            assertEquals("blocks.2.attn · head 0", grid.panels().get(0).getTitle().getText());

            float[] w = PatchWeights.of(call.get().tensor("attn"), PatchWeights.Mode.CLS)[0]; // head 0, (L)
            float max = 0;
            for (float v : w) {
                max = Math.max(max, v);
            }
            int[] px = patchCentres(grid.panels().get(0), 4, 4);
            for (int i = 0; i < 16; i++) {
                // Brightness = 200 · w / max: drawn within 2 levels (8-bit and bilinear rounding) of that.
                assertEquals(200 * w[i] / max, px[i], 2.0, "patch " + i);
                for (int j = 0; j < 16; j++) {
                    if (w[i] - w[j] > 0.02 * max) { // more than 4 levels apart: strictly brighter
                        assertTrue(px[i] > px[j], "patch " + i + " (" + w[i] + ") vs " + j + " (" + w[j] + ")");
                    }
                }
            }
        }
    }

    @Test
    void rolloutOfCapturedCallsIsOnePanel() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            CallCapture calls = probe.captureCalls("blocks.*.attn");
            model.forward(m.create(Arrays.copyOf(Golden.npy("tiny/input.npy").floats(), 3 * 32 * 32),
                    new Shape(1, 3, 32, 32)));
            AttentionGrid grid = AttentionPlots.rollout(grey(32), calls.all(), Fusion.MEAN, 0, 4, 4, "rollout");
            assertEquals(1, grid.panels().size());
            assertEquals("rollout through blocks.0.attn … blocks.2.attn", grid.panels().get(0).getTitle().getText());
            assertEquals(300, grid.toImage(300).getWidth());
        }
    }

    @Test
    void anNDArrayOfOneBlockWorksWithANonSquareGrid() {
        try (NDManager m = NDManager.newBaseManager()) {
            NpyArray attn = Golden.npy("tiny_rect/attn.npy");                         // [2, 1, 2, 16, 16]
            NDArray block0 = m.create(Arrays.copyOf(attn.floats(), 2 * 16 * 16), new Shape(2, 16, 16)); // (N, T, T)
            AttentionGrid grid = AttentionPlots.grid(new BufferedImage(40, 24, BufferedImage.TYPE_INT_RGB), block0,
                    PatchWeights.Mode.MEAN, 3, 5, "rect");
            assertEquals(2, grid.panels().size());
            assertTrue(grid.toSvg(400).contains("head 1"));
        }
    }

    @Test
    void smallImagesAreEnlargedByAWholeFactorWithSharpPixels() {
        BufferedImage small = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        small.setRGB(0, 0, 0xffffff);
        BufferedImage big = AttentionPlots.forDisplay(small);
        assertEquals(224, big.getWidth());
        assertEquals(0xffffff, big.getRGB(7, 7) & 0xffffff, "pixel (0,0) covers 8×8");
        assertEquals(0, big.getRGB(8, 8) & 0xffffff);
        BufferedImage large = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
        assertSame(large, AttentionPlots.forDisplay(large));
    }
}
