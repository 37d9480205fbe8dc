package io.vitscope.intervention;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.predict.Input;
import io.vitscope.model.Attention;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.plot.Heatmap;
import io.vitscope.probe.Probe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import org.jfree.chart.JFreeChart;

/**
 * Head ablation: for every block l and head h, the forward with {@code z[:, h]} of block l — {@code attn @ v} of that
 * head, before the heads are merged ({@link Attention#Z}) — replaced by zeros ({@link Mode#ZERO}) or by its mean
 * over the T token positions of this image ({@link Mode#MEAN}); the entry is logit_c(ablated) − logit_c(clean),
 * c the clean top-1 unless a target is given.
 *
 * <p>The L·H ablations run in batches: the image repeated n times, and one breakpoint at {@code z} of every block
 * multiplying each batch element's head by a keep-mask (1 everywhere but the ablated (block, head) of that element).
 * Up to and including block l an element that ablates block l is the clean image's forward, so the token mean taken
 * inside the breakpoint is the clean mean.
 *
 * <pre>{@code
 * HeadAblation.Result r = HeadAblation.run(model, image, HeadAblation.Mode.ZERO, -1);
 * r.delta()[3][1];          // logit change when blocks.3 head 1 is zeroed
 * r.save(Path.of("out"));   // ablation.npy [L, H], effects.json
 * }</pre>
 */
public final class HeadAblation {

    /** What an ablated head's {@code z} becomes. */
    public enum Mode { ZERO, MEAN }

    /** The default batch: enough to amortise per-forward overhead, one batch of activations in memory. */
    public static final int DEFAULT_BATCH = 8;

    private HeadAblation() {}

    /**
     * @param model the model's name
     * @param target the class c whose logit is compared
     * @param cleanLogit logit_c of the clean run
     * @param delta logit_c(ablated) − logit_c(clean), (L, H)
     * @param effects one per (block, head), block-major
     */
    public record Result(String model, Mode mode, int target, String targetLabel, float cleanLogit, float[][] delta,
                         List<Effect> effects) {

        public int blocks() {
            return delta.length;
        }

        public int heads() {
            return delta[0].length;
        }

        /** Writes {@code ablation.npy} (float32 [L, H]) and {@code effects.json}; returns the folder. */
        public Path save(Path dir) {
            Runs.writeNpy(dir.resolve("ablation.npy"), delta);
            List<String> names = new ArrayList<>();
            for (int l = 0; l < blocks(); l++) {
                for (int h = 0; h < heads(); h++) {
                    names.add("blocks." + l + ".attn head " + h + " " + mode.name().toLowerCase(Locale.ROOT) + "-ablated");
                }
            }
            Map<String, Object> json = Effect.json("the clean run", names, effects);
            Runs.writeJson(dir.resolve("effects.json"), json);
            return dir;
        }

        /** The block × head heatmap, diverging around 0. */
        public JFreeChart plot() {
            return Heatmap.blockByHead(model + " — head ablation (" + mode.name().toLowerCase(Locale.ROOT) + ") — "
                    + "Δ logit of " + targetLabel + " (clean " + String.format(Locale.ROOT, "%.3f", cleanLogit) + ")",
                    delta, "Δ logit");
        }
    }

    /** {@link #run(LoadedModel, NDArray, Mode, int, int, IntConsumer)} with the default batch and no progress. */
    public static Result run(LoadedModel model, NDArray image, Mode mode, int target) {
        return run(model, image, mode, target, DEFAULT_BATCH, n -> { });
    }

    /** The same for a preprocessed {@link Input}. */
    public static Result run(LoadedModel model, Input image, Mode mode, int target) {
        try (NDManager m = NDManager.newBaseManager()) {
            return run(model, Runs.image(model, image, m), mode, target);
        }
    }

    /**
     * @param image (1, C, H, W) or (C, H, W), preprocessed
     * @param target a class index, or -1 for the clean run's top-1
     * @param batch ablations per forward
     * @param progress told how many ablations are done after each batch
     */
    public static Result run(LoadedModel model, NDArray image, Mode mode, int target, int batch, IntConsumer progress) {
        if (mode == null) {
            throw new InvalidArgumentException("mode is missing: ZERO or MEAN");
        }
        NDArray x = Runs.image(model, image, "image");
        Runs.requireClass(target, model, "target", true);
        Runs.requireBatch(batch);
        VisionTransformer vit = model.model();
        int depth = vit.config().depth();
        int heads = vit.config().numHeads();
        Map<String, Integer> blockOf = Runs.blockOfPath(vit);

        Runs.Observed observed = Runs.observe(vit, x, probe -> { });
        float[] clean = observed.logits();
        double[] cleanH = observed.entropy();
        int c = target < 0 ? Runs.argmax(clean) : target;

        int cells = depth * heads;
        float[][] delta = new float[depth][heads];
        List<Effect> effects = new ArrayList<>(cells);
        for (int from = 0; from < cells; from += batch) {
            int n = Math.min(batch, cells - from);
            try (NDManager scope = x.getManager().newSubManager(); Probe probe = Probe.on(vit)) {
                NDArray[] keep = new NDArray[depth];                                     // (n, H, 1, 1) per block
                float[][] masks = new float[depth][];
                for (int e = 0; e < n; e++) {
                    int l = (from + e) / heads;
                    int h = (from + e) % heads;
                    if (masks[l] == null) {
                        masks[l] = new float[n * heads];
                        java.util.Arrays.fill(masks[l], 1f);
                    }
                    masks[l][e * heads + h] = 0f;
                }
                for (int l = 0; l < depth; l++) {
                    if (masks[l] != null) {
                        keep[l] = scope.create(masks[l], new Shape(n, heads, 1, 1));
                    }
                }
                probe.breakpoint(Attention.Z).exec(hit -> {
                    NDArray k = keep[blockOf.get(hit.path())];
                    if (k == null) {
                        return;                                                          // nothing ablated here
                    }
                    NDArray z = hit.get("z");                                            // (n, H, T, Dh)
                    NDArray ablated = z.mul(k);                                          // (n, H, T, Dh)
                    if (mode == Mode.MEAN) {
                        ablated = ablated.add(z.mean(new int[] {2}, true).mul(k.neg().add(1f))); // (n, H, T, Dh)
                    }
                    hit.set("z", ablated);
                });
                EntropyMeter meter = EntropyMeter.install(probe, vit);
                NDArray batchX = Runs.repeat(x, n);                                      // (n, C, H, W)
                batchX.attach(scope);
                float[][] out = Runs.rows(vit.forward(batchX));                         // (n, K)
                for (int e = 0; e < n; e++) {
                    int l = (from + e) / heads;
                    int h = (from + e) % heads;
                    delta[l][h] = out[e][c] - clean[c];
                    effects.add(Effect.compare(clean, out[e], cleanH, meter.element(e), c, model.labels()));
                }
            }
            progress.accept(from + n);
        }
        return new Result(model.name(), mode, c, model.labels().get(c), clean[c], delta, List.copyOf(effects));
    }
}
