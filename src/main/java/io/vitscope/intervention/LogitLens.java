package io.vitscope.intervention;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.vitscope.predict.Input;
import io.vitscope.model.Block;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.plot.LensPlots;
import io.vitscope.plot.Figure;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;

/**
 * The logit lens (nostalgebraist 2020; ViT-Prisma's per-patch lens): the model's own final norm and head applied to
 * the residual stream before every block. Row i is {@code head(norm(r_i[:, 0]))}, r_i the input of block i for
 * i &lt; L and r_L the output of the last block — so row L is the model's logits.
 *
 * <p>{@link Norm#RECOMPUTE} (the default) recomputes the final norm's mean and standard deviation on each r_i
 * itself. {@link Norm#FINAL_SCALE} instead centres each r_i by its own mean but divides by the standard deviation of
 * the last residual at the same position (σ_final), as ViT-Prisma's lens does through TransformerLens's
 * {@code apply_ln_to_stack}; rows then keep the scale differences between blocks.
 *
 * <p>Memory: one forward, keeping the class token's residual per block, (L + 1, D) — (L + 1, T, D) with patches.
 */
public final class LogitLens {

    /** How the final norm treats each r_i. */
    public enum Norm {
        /** LayerNorm with statistics recomputed on r_i (the definition; the default). */
        RECOMPUTE,
        /** (r_i − mean(r_i)) / σ_final · γ + β, σ_final from the last residual (ViT-Prisma). */
        FINAL_SCALE
    }

    private LogitLens() {}

    /**
     * @param logits (L + 1, K)
     * @param patchLogits (L + 1, T − 1, K), or null when not asked for
     * @param target the class whose probability the chart follows
     * @param effect the lens's probe against an unprobed run (reading only: it must be zero)
     */
    public record Result(String model, Norm norm, int target, List<String> labels, float[][] logits,
                         float[][][] patchLogits, Effect effect) {

        public int blocks() {
            return logits.length - 1;
        }

        /** Softmax of each row, (L + 1, K). */
        public float[][] probabilities() {
            float[][] p = new float[logits.length][];
            for (int i = 0; i < logits.length; i++) {
                p[i] = softmax(logits[i]);
            }
            return p;
        }

        /** The target's probability at each row, (L + 1). */
        public double[] targetProbability() {
            float[][] p = probabilities();
            double[] out = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                out[i] = p[i][target];
            }
            return out;
        }

        /** Writes {@code logit_lens.npy} [L + 1, K], {@code logit_lens_patches.npy} [L + 1, T − 1, K] if computed, and
         * {@code effects.json}. */
        public Path save(Path dir) {
            Runs.writeNpy(dir.resolve("logit_lens.npy"), logits);
            if (patchLogits != null) {
                int rows = patchLogits.length;
                int t = patchLogits[0].length;
                int k = patchLogits[0][0].length;
                float[] flat = new float[rows * t * k];
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(Runs.flatten(patchLogits[i]), 0, flat, i * t * k, t * k);
                }
                Runs.writeNpy(dir.resolve("logit_lens_patches.npy"), new long[] {rows, t, k}, flat);
            }
            Runs.writeJson(dir.resolve("effects.json"), Effect.json("an unprobed run",
                    List.of("logit lens probe (reads only)"), List.of(effect)));
            return dir;
        }

        /** A table image: per row, the top-1 label and its probability, and the target's probability. */
        public Figure table() {
            return LensPlots.table(model + " — logit lens", probabilities(), labels, target);
        }

        /** The target's probability across rows 0..L. */
        public JFreeChart chart() {
            return LensPlots.targetChart(model + " — logit lens — P(" + labels.get(target) + ")", targetProbability(),
                    labels.get(target));
        }
    }

    /** {@link #run(LoadedModel, NDArray, int, boolean, Norm)} on the class token only, recomputing the norm. */
    public static Result run(LoadedModel model, NDArray image, int target) {
        return run(model, image, target, false, Norm.RECOMPUTE);
    }

    public static Result run(LoadedModel model, Input image, int target) {
        try (NDManager m = NDManager.newBaseManager()) {
            return run(model, Runs.image(model, image, m), target);
        }
    }

    /**
     * @param image (1, C, H, W) or (C, H, W), preprocessed
     * @param target the class to follow, or -1 for the model's top-1
     * @param patches also the lens at every patch token
     */
    public static Result run(LoadedModel model, NDArray image, int target, boolean patches, Norm norm) {
        if (norm == null) {
            throw new InvalidArgumentException("norm is missing: RECOMPUTE or FINAL_SCALE");
        }
        NDArray x = Runs.image(model, image, "image");
        Runs.requireClass(target, model, "target", true);
        VisionTransformer vit = model.model();
        int depth = vit.config().depth();
        Map<String, Integer> blockOf = Runs.blockOfPath(vit);
        // Only the tokens the lens reads leave the forward: the class token, or all of them with patches.
        NDIndex keep = patches ? new NDIndex().addIndices(0) : new NDIndex().addIndices(0).addSliceDim(0, 1);
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray[] resid = new NDArray[depth + 1];                                  // each (T', D)
            Runs.Observed clean = Runs.observe(vit, x, probe -> { });
            Runs.Observed probed = Runs.observe(vit, x, probe -> {
                probe.breakpoint(Block.PRE_ATTN).exec(hit -> {
                    resid[blockOf.get(hit.path())] = kept(hit.get("x").get(keep), scope);  // (T', D)
                });
                probe.breakpoint("blocks." + (depth - 1), Block.POST_MLP.name()).exec(hit -> {
                    resid[depth] = kept(hit.get("x").get(keep), scope);                   // (T', D)
                });
            });
            int c = target < 0 ? Runs.argmax(clean.logits()) : target;
            NDArray r = NDArrays.stack(new NDList(resid));                             // (L + 1, T', D)
            NDArray lens = apply(vit, r, norm);                                        // (L + 1, T', K)
            int rows = depth + 1;
            int t = (int) r.getShape().get(1);
            int k = vit.config().numClasses();
            float[] flat = lens.toFloatArray();
            float[][] cls = new float[rows][k];
            float[][][] perPatch = patches ? new float[rows][t - 1][k] : null;
            for (int i = 0; i < rows; i++) {
                System.arraycopy(flat, i * t * k, cls[i], 0, k);
                if (patches) {
                    for (int p = 1; p < t; p++) {
                        System.arraycopy(flat, (i * t + p) * k, perPatch[i][p - 1], 0, k);
                    }
                }
            }
            Effect effect = Effect.compare(clean.logits(), probed.logits(), clean.entropy(), probed.entropy(), c,
                    model.labels());
            return new Result(model.name(), norm, c, model.labels(), cls, perPatch, effect);
        }
    }

    private static NDArray kept(NDArray a, NDManager scope) {
        NDArray c = a.duplicate();
        c.attach(scope);
        return c;
    }

    /** head(norm(r)) with the model's own final norm parameters, (L + 1, T', D) → (L + 1, T', K). */
    private static NDArray apply(VisionTransformer vit, NDArray r, Norm norm) {
        Map<String, ai.djl.nn.Parameter> p = vit.namedParameters();
        NDArray gamma = p.get("norm.weight").getArray();                               // (D)
        NDArray beta = p.get("norm.bias").getArray();                                  // (D)
        NDArray w = p.get("head.weight").getArray();                                   // (K, D)
        NDArray b = p.get("head.bias").getArray();                                     // (K)
        int d = vit.config().embedDim();
        float eps = (float) vit.config().layerNormEps();
        NDArray normed;
        if (norm == Norm.RECOMPUTE) {
            // The op the model's LayerNorm runs, so that row L is the model's logits to the last bits.
            normed = r.getNDArrayInternal().layerNorm(r, new Shape(d), gamma, beta, eps).singletonOrThrow();
        } else {
            NDArray last = r.get(new NDIndex().addIndices(r.getShape().get(0) - 1));  // (T', D)
            NDArray centred = last.sub(last.mean(new int[] {-1}, true));
            NDArray sigma = centred.square().mean(new int[] {-1}, true).add(eps).sqrt(); // (T', 1)
            normed = r.sub(r.mean(new int[] {-1}, true)).div(sigma).mul(gamma).add(beta); // (L + 1, T', D)
        }
        return normed.getNDArrayInternal().linear(normed, w, b).singletonOrThrow();    // (L + 1, T', K)
    }

    static float[] softmax(float[] z) {
        double[] l = Runs.logSoftmax(z);
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (float) Math.exp(l[i]);
        }
        return p;
    }
}
