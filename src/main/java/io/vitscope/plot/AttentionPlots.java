package io.vitscope.plot;

import ai.djl.ndarray.NDArray;
import io.vitscope.analysis.AttentionMaps;
import io.vitscope.analysis.AttentionRollout;
import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.probe.CallRecord;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * One call from captured attention to a figure, for notebooks and tools:
 *
 * <pre>{@code
 * CallCapture c = probe.captureCall("blocks.4.attn");
 * model.forward(x);
 * AttentionPlots.grid(image, c.get(), PatchWeights.Mode.MEAN, 14, 14, "cows.jpg").toImage(1000);
 * AttentionPlots.rollout(image, calls.all(), Fusion.MEAN, 0.9, 14, 14, "cows.jpg").toImage(400);
 * }</pre>
 *
 * <p>For anything else (a subset of heads, a shared scale, other titles) compute the weights with
 * {@link PatchWeights} or {@link AttentionRollout} and use {@link AttentionGrid#builder()}.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 */
public final class AttentionPlots {

    /** Images smaller than this on their long side are enlarged for display by {@link #forDisplay}. */
    public static final int DISPLAY_SIZE = 224;

    private AttentionPlots() {
    }

    /**
     * One panel per head of one block's attention.
     *
     * @param image the model's input as seen (e.g. {@code EvalTransform.denormalize}); small ones are enlarged
     * @param attn (N, T, T) or (1, N, T, T), post-softmax
     */
    public static AttentionGrid grid(BufferedImage image, NDArray attn, PatchWeights.Mode mode, int gridH, int gridW,
                                     String title) {
        float[][][] w = PatchWeights.grid(attn, mode, gridH, gridW); // (N, G_h, G_w)
        List<String> titles = new ArrayList<>(w.length);
        for (int h = 0; h < w.length; h++) {
            titles.add("head " + h);
        }
        return build(image, w, titles, title);
    }

    /**
     * One panel per head of a captured {@code Attention} call, titled with its path ("blocks.4.attn · head 0").
     *
     * @param call a capture of an attention module (its local {@code attn} is (1, N, T, T))
     */
    public static AttentionGrid grid(BufferedImage image, CallRecord call, PatchWeights.Mode mode, int gridH,
                                     int gridW, String title) {
        float[][][] w = PatchWeights.grid(call.tensor("attn"), mode, gridH, gridW); // (N, G_h, G_w)
        List<String> titles = new ArrayList<>(w.length);
        for (int h = 0; h < w.length; h++) {
            titles.add(call.path() + " · head " + h);
        }
        return build(image, w, titles, title);
    }

    /**
     * One panel: the attention rollout of the class token through the captured calls (blocks 0..I in call order, as
     * {@code probe.captureCalls("blocks.*.attn")} keeps them).
     *
     * @param calls one capture per block, each with a local {@code attn} (1, N, T, T)
     */
    public static AttentionGrid rollout(BufferedImage image, List<CallRecord> calls, Fusion fusion, double discard,
                                        int gridH, int gridW, String title) {
        if (calls == null || calls.isEmpty()) {
            throw new IllegalArgumentException("rollout needs the captured calls of blocks 0..I; run the model while "
                    + "probe.captureCalls(\"blocks.*.attn\") is open");
        }
        String what = "rollout through " + (calls.size() == 1 ? calls.get(0).path()
                : calls.get(0).path() + " … " + calls.get(calls.size() - 1).path());
        return build(image, new float[][][] {rolloutGrid(calls, fusion, discard, gridH, gridW)}, List.of(what),
                title);
    }

    /**
     * The class token's rollout through the captured calls as a patch grid, (G_h, G_w).
     *
     * @param calls one capture per block, blocks 0..I in order, each with a local {@code attn} (1, N, T, T)
     */
    static float[][] rolloutGrid(List<CallRecord> calls, Fusion fusion, double discard, int gridH, int gridW) {
        List<NDArray> blocks = new ArrayList<>(calls.size());
        for (CallRecord c : calls) {
            blocks.add(c.tensor("attn"));                                                // (1, N, T, T)
        }
        float[] r = AttentionRollout.rolloutOf(blocks, fusion, discard);                 // (L)
        return AttentionMaps.toGrid(r, gridH, gridW);                                    // (G_h, G_w)
    }

    /**
     * The image enlarged by a whole factor with nearest-neighbour sampling when its long side is under
     * {@link #DISPLAY_SIZE} (a 28×28 Fashion-MNIST input becomes 224×224), so patch edges stay sharp when a panel
     * is drawn larger than the image; other images are returned as they are.
     */
    public static BufferedImage forDisplay(BufferedImage image) {
        int side = Math.max(image.getWidth(), image.getHeight());
        if (side >= DISPLAY_SIZE) {
            return image;
        }
        int f = (DISPLAY_SIZE + side - 1) / side;
        BufferedImage out = new BufferedImage(image.getWidth() * f, image.getHeight() * f, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = out.createGraphics();
        try {
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g2.drawImage(image, 0, 0, out.getWidth(), out.getHeight(), null);
        } finally {
            g2.dispose();
        }
        return out;
    }

    private static AttentionGrid build(BufferedImage image, float[][][] weights, List<String> titles, String title) {
        return AttentionGrid.builder().setImage(forDisplay(image)).setWeights(weights).optPanelTitles(titles)
                .optTitle(title).build();
    }
}
