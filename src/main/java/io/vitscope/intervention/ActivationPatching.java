package io.vitscope.intervention;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.model.Attention;
import io.vitscope.model.Block;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.plot.Heatmap;
import io.vitscope.plot.PatchingGrid;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import org.jfree.chart.JFreeChart;

/**
 * Activation patching (Meng et al. 2022's causal tracing; TransformerLens's {@code patching.py}): run CORRUPT with
 * the activation of one block at one token position — or, for {@link Act#Z}, one head at all positions — replaced by
 * CLEAN's. With LD(run) = logit[c_clean] − logit[c_corrupt] (c_clean, c_corrupt the top-1 classes of the two
 * unpatched runs, or given), each cell is
 * <pre>
 * (LD_patched − LD_corrupt) / (LD_clean − LD_corrupt)
 * </pre>
 * 1 when the patch restores the clean logit difference, 0 when it changes nothing.
 *
 * <p>The clean activations at the patched blocks are kept (one (T, D) or (H, T, Dh) per block, the analysis's own
 * need); the grid runs in batches of CORRUPT repeated, a breakpoint swapping each element's own cell in.
 */
public final class ActivationPatching {

    /** The activation patched, and the site it is read and replaced at. */
    public enum Act {
        /** The block's input, {@link Block#PRE_ATTN}: (B, T, D). */
        RESID_PRE(Block.PRE_ATTN),
        /** The attention branch's output, {@link Block#ATTN_OUT}: (B, T, D). */
        ATTN_OUT(Block.ATTN_OUT),
        /** The MLP branch's output, {@link Block#MLP_OUT}: (B, T, D). */
        MLP_OUT(Block.MLP_OUT),
        /** A head's {@code attn @ v}, {@link Attention#Z}: (B, H, T, Dh); one head at all positions. */
        Z(Attention.Z);

        private final Site site;

        Act(Site site) {
            this.site = site;
        }

        public Site site() {
            return site;
        }

        /** {@code resid_pre}, {@code attn_out}, {@code mlp_out}, {@code z}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The act named {@code id}; fails listing the valid names. */
        public static Act of(String id) {
            for (Act a : values()) {
                if (a.id().equals(id)) {
                    return a;
                }
            }
            throw new InvalidArgumentException("act '" + id + "' is not one of resid_pre, attn_out, mlp_out, z");
        }
    }

    /** The two unpatched runs agree on their top-1 class and no classes were given: LD would be 0 for both. */
    public static final class SameTopClassException extends InvalidArgumentException {
        private static final long serialVersionUID = 1L;
        private final int top1;

        /** @param parameter how the caller names the classes argument in the message */
        public SameTopClassException(int top1, String label, String parameter) {
            super("the clean and corrupt images have the same top-1 class (" + label + ", " + top1 + "), so LD = "
                    + "logit[c_clean] − logit[c_corrupt] is 0: give the two classes to compare explicitly ("
                    + parameter + ")");
            this.top1 = top1;
        }

        public int top1() {
            return top1;
        }
    }

    /** The default batch of patched forwards. */
    public static final int DEFAULT_BATCH = 8;

    private ActivationPatching() {}

    /**
     * @param blocks the patched blocks, the rows, in the order given
     * @param columns the token positions patched (token 0 is the class token), or the heads for {@link Act#Z}
     * @param cClean c_clean
     * @param cCorrupt c_corrupt
     * @param ldClean LD of the clean run
     * @param ldCorrupt LD of the unpatched corrupt run
     * @param metric (LD_patched − LD_corrupt) / (LD_clean − LD_corrupt), (blocks, columns)
     * @param effects per cell, row-major, each against the unpatched corrupt run with target c_clean
     */
    public record Result(String model, Act act, int[] blocks, int[] columns, int cClean, String cleanLabel,
                         int cCorrupt, String corruptLabel, double ldClean, double ldCorrupt, float[][] metric,
                         List<Effect> effects) {

        /** Writes {@code patching.npy} (float32 [blocks, columns]), {@code patching.json} and {@code effects.json}. */
        public Path save(Path dir) {
            Runs.writeNpy(dir.resolve("patching.npy"), metric);
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("act", act.id());
            meta.put("blocks", blocks);
            meta.put(act == Act.Z ? "heads" : "positions", columns);
            meta.put("c_clean", cClean);
            meta.put("c_clean_label", cleanLabel);
            meta.put("c_corrupt", cCorrupt);
            meta.put("c_corrupt_label", corruptLabel);
            meta.put("ld_clean", ldClean);
            meta.put("ld_corrupt", ldCorrupt);
            Runs.writeJson(dir.resolve("patching.json"), meta);
            List<String> names = new ArrayList<>();
            for (int b : blocks) {
                for (int c : columns) {
                    names.add("blocks." + b + " " + act.id() + (act == Act.Z ? " head " + c : " position " + c)
                            + " patched from clean");
                }
            }
            Runs.writeJson(dir.resolve("effects.json"), Effect.json("the unpatched corrupt run", names, effects));
            return dir;
        }

        private String title() {
            return model + " — patching " + act.id() + " — (LD − LD_corrupt) / (LD_clean − LD_corrupt), LD = logit["
                    + cleanLabel + "] − logit[" + corruptLabel + "]";
        }

        /** For {@link Act#Z}: the block × head heatmap. */
        public JFreeChart plot() {
            if (act != Act.Z) {
                throw new IllegalStateException("a " + act.id() + " grid is drawn over the image: use plot(image)");
            }
            String[] rows = Arrays.stream(blocks).mapToObj(b -> "block " + b).toArray(String[]::new);
            String[] cols = Arrays.stream(columns).mapToObj(h -> "head " + h).toArray(String[]::new);
            return Heatmap.create(title(), metric, rows, cols, "patching metric");
        }

        /**
         * For a position act: one panel per block, the patch grid over {@code image} coloured by the metric at each
         * patch position (diverging around 0), the class token's value in the panel title.
         *
         * @param image the CORRUPT image as shown, any size (stretched over the grid)
         */
        public PatchingGrid plot(BufferedImage image, int gridHeight, int gridWidth) {
            if (act == Act.Z) {
                throw new IllegalStateException("a z grid is block × head: use plot()");
            }
            return PatchingGrid.create(title(), image, gridHeight, gridWidth, blocks, columns, metric);
        }
    }

    /**
     * With every block, every position (or head), batch {@link #DEFAULT_BATCH}, no progress.
     *
     * @param classes {c_clean, c_corrupt}, or null for the two runs' top-1 classes
     */
    public static Result run(LoadedModel model, NDArray clean, NDArray corrupt, Act act, int[] classes) {
        return run(model, clean, corrupt, act, null, null, classes, DEFAULT_BATCH, n -> { });
    }

    /**
     * @param clean (1, C, H, W) or (C, H, W), preprocessed
     * @param corrupt the same shape; must differ from {@code clean}
     * @param blocks the blocks to patch, in row order; null for all
     * @param positions token positions in column order, null for all; must be null for {@link Act#Z} (all heads)
     * @param classes {c_clean, c_corrupt} or null for the two unpatched runs' top-1
     * @param batch patched forwards per batch
     * @param progress told how many cells are done after each batch
     */
    public static Result run(LoadedModel model, NDArray clean, NDArray corrupt, Act act, int[] blocks, int[] positions,
                             int[] classes, int batch, IntConsumer progress) {
        if (act == null) {
            throw new InvalidArgumentException("act is missing: resid_pre, attn_out, mlp_out or z");
        }
        NDArray xc = Runs.image(model, clean, "clean image");
        NDArray xr = Runs.image(model, corrupt, "corrupt image");
        Runs.requireBatch(batch);
        VisionTransformer vit = model.model();
        int depth = vit.config().depth();
        int heads = vit.config().numHeads();
        int tokens = vit.config().numTokens();
        int[] rows = blocks == null ? range(depth) : checkList(blocks, depth, "block", "blocks");
        int[] cols;
        if (act == Act.Z) {
            if (positions != null) {
                throw new InvalidArgumentException("positions do not apply to z: it patches one head at all positions");
            }
            cols = range(heads);
        } else {
            cols = positions == null ? range(tokens) : checkList(positions, tokens, "position", "positions");
        }
        if (classes != null) {
            if (classes.length != 2) {
                throw new InvalidArgumentException("classes must be two class indices, c_clean and c_corrupt");
            }
            Runs.requireClass(classes[0], model, "class", false);
            Runs.requireClass(classes[1], model, "class", false);
            if (classes[0] == classes[1]) {
                throw new InvalidArgumentException("classes must differ: LD = logit[c_clean] − logit[c_corrupt] is 0 "
                        + "when both are " + classes[0]);
            }
        }
        if (Arrays.equals(xc.toFloatArray(), xr.toFloatArray())) {
            throw new InvalidArgumentException("the clean and corrupt images are the same: patching one into itself "
                    + "changes nothing; give two different images");
        }
        Map<String, Integer> blockOf = Runs.blockOfPath(vit);
        boolean[] patched = new boolean[depth];
        for (int b : rows) {
            patched[b] = true;
        }
        String variable = act.site().variable();

        try (NDManager cache = xr.getManager().newSubManager()) {
            // The clean run, keeping its activation at each patched block.
            NDArray[] cleanAct = new NDArray[depth];                            // (1, T, D) or (1, H, T, Dh)
            float[] cleanLogits = Runs.observe(vit, xc, probe -> probe.breakpoint(act.site()).exec(hit -> {
                int l = blockOf.get(hit.path());
                if (patched[l]) {
                    NDArray a = hit.get(variable).duplicate();
                    a.attach(cache);
                    cleanAct[l] = a;
                }
            })).logits();
            Runs.Observed corruptRun = Runs.observe(vit, xr, probe -> { });
            float[] corruptLogits = corruptRun.logits();
            double[] corruptH = corruptRun.entropy();
            int cc = classes != null ? classes[0] : Runs.argmax(cleanLogits);
            int cr = classes != null ? classes[1] : Runs.argmax(corruptLogits);
            if (cc == cr) {
                throw new SameTopClassException(cc, model.labels().get(cc), "classes");
            }
            double ldClean = (double) cleanLogits[cc] - cleanLogits[cr];
            double ldCorrupt = (double) corruptLogits[cc] - corruptLogits[cr];
            if (ldClean == ldCorrupt) {
                throw new InvalidArgumentException("LD_clean = LD_corrupt = " + ldClean + ": the metric's denominator is"
                        + " 0; choose other classes");
            }

            int cells = rows.length * cols.length;
            float[][] metric = new float[rows.length][cols.length];
            List<Effect> effects = new ArrayList<>(cells);
            boolean z = act == Act.Z;
            for (int from = 0; from < cells; from += batch) {
                int n = Math.min(batch, cells - from);
                try (NDManager scope = xr.getManager().newSubManager(); Probe probe = Probe.on(vit)) {
                    // take[l]: 1 where element e takes the clean value at block l, 0 elsewhere.
                    float[][] masks = new float[depth][];
                    int width = z ? heads : tokens;
                    for (int e = 0; e < n; e++) {
                        int l = rows[(from + e) / cols.length];
                        int c = cols[(from + e) % cols.length];
                        if (masks[l] == null) {
                            masks[l] = new float[n * width];
                        }
                        masks[l][e * width + c] = 1f;
                    }
                    NDArray[] take = new NDArray[depth];
                    for (int l = 0; l < depth; l++) {
                        if (masks[l] != null) {
                            take[l] = scope.create(masks[l], z ? new Shape(n, heads, 1, 1) : new Shape(n, tokens, 1));
                        }
                    }
                    probe.breakpoint(act.site()).exec(hit -> {
                        NDArray t = take[blockOf.get(hit.path())];
                        if (t == null) {
                            return;
                        }
                        NDArray a = hit.get(variable);                          // (n, T, D) or (n, H, T, Dh)
                        // a · (1 − t) + clean · t: exactly a where t = 0 and exactly clean where t = 1.
                        hit.set(variable, a.mul(t.neg().add(1f)).add(cleanAct[blockOf.get(hit.path())].mul(t)));
                    });
                    EntropyMeter meter = EntropyMeter.install(probe, vit);
                    NDArray batchX = Runs.repeat(xr, n);                         // (n, C, H, W)
                    batchX.attach(scope);
                    float[][] out = Runs.rows(vit.forward(batchX));              // (n, K)
                    for (int e = 0; e < n; e++) {
                        double ld = (double) out[e][cc] - out[e][cr];
                        metric[(from + e) / cols.length][(from + e) % cols.length] =
                                (float) ((ld - ldCorrupt) / (ldClean - ldCorrupt));
                        effects.add(Effect.compare(corruptLogits, out[e], corruptH, meter.element(e), cc, model.labels()));
                    }
                }
                progress.accept(from + n);
            }
            return new Result(model.name(), act, rows, cols, cc, model.labels().get(cc), cr, model.labels().get(cr),
                    ldClean, ldCorrupt, metric, List.copyOf(effects));
        }
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    /** Distinct indices in [0, n), in the order given. */
    static int[] checkList(int[] values, int n, String what, String parameter) {
        if (values.length == 0) {
            throw new InvalidArgumentException(parameter + " is empty: give at least one " + what);
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= n) {
                throw new InvalidArgumentException(what + " " + values[i] + " is out of range: use 0.." + (n - 1)
                        + (what.equals("position") ? " (token 0 is the class token)" : ""));
            }
            for (int j = 0; j < i; j++) {
                if (values[j] == values[i]) {
                    throw new InvalidArgumentException(parameter + " lists " + what + " " + values[i] + " twice");
                }
            }
        }
        return values.clone();
    }
}
