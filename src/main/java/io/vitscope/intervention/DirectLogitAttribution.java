package io.vitscope.intervention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.vitscope.predict.Input;
import io.vitscope.model.Attention;
import io.vitscope.model.Block;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.plot.Heatmap;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;

/**
 * Direct logit attribution (TransformerLens's {@code ActivationCache.logit_attrs}): the class token's final
 * residual r_L is a sum of vectors the blocks added to it; with the final LayerNorm's scale frozen at r_L
 * (σ_final = sqrt(var(r_L) + eps), biased variance as LayerNorm), LayerNorm is affine in r and the logit splits
 * exactly into one term per component r:
 * <pre>
 * contribution(r) = ((r − mean(r)) / σ_final) · (γ ⊙ W_head[c])
 * logit_c = Σ contribution + β · W_head[c] + b_head[c]
 * </pre>
 * Components: the embeddings at the class token (class token + position; the patch embedding does not reach token
 * 0 before block 0), each head's result {@code z[l, h] · W_proj[:, h·Dh:(h+1)·Dh]ᵀ} (no bias), each block's proj
 * bias, each block's MLP output.
 *
 * <p><b>Adding up</b> is checked on every run: {@link Result#residual()} = logit_c (the model's float32 forward) −
 * the sum (the components from the same forward, summed in double). Where they differ is float32 rounding in the
 * forward, bounded by {@link Result#bound()} = (2L + 2D + 8) · u · S with u = 2⁻²⁴ and S = the sum of
 * |r_d| · |g'_d| / σ over every component and coordinate plus the head's own Σ|n_d W_head[c, d]| + |b_head[c]|:
 * 2L residual additions each rounding at most u relative per coordinate, the proj and head matrix products
 * (γ_D ≈ D·u each, Higham's bound for a dot product of length D) and the norm's statistics (another D·u). A run
 * whose residual exceeds the bound fails: a component would be missing or wrong. In practice rounding errors
 * partly cancel (≈ √n · u instead of n · u), and the residual is well under 1e-4 · |logit_c|.
 *
 * <p>Memory: one forward keeping the class token's rows only — z (H, Dh) and the MLP output (D) per block.
 */
public final class DirectLogitAttribution {

    /** float32's unit roundoff. */
    static final double U = Math.pow(2, -24);

    private DirectLogitAttribution() {}

    /**
     * @param target c
     * @param logit logit_c of the model's forward
     * @param sigmaFinal σ_final of the class token's r_L
     * @param embed the embeddings' contribution
     * @param heads each head's contribution, (L, H)
     * @param projBias each block's proj bias contribution, (L)
     * @param mlp each block's MLP contribution, (L)
     * @param constant β · W_head[c] + b_head[c]
     * @param sum every contribution and the constant
     * @param residual logit − sum
     * @param bound the rounding bound on |residual| for this run
     * @param effect the probe against an unprobed run (reading only: it must be zero)
     */
    public record Result(String model, int target, String targetLabel, double logit, double sigmaFinal, double embed,
                         double[][] heads, double[] projBias, double[] mlp, double constant, double sum,
                         double residual, double bound, Effect effect) {

        /** |residual| / |logit_c|. */
        public double relativeResidual() {
            return Math.abs(residual) / Math.abs(logit);
        }

        public float[][] headsFloat() {
            float[][] out = new float[heads.length][heads[0].length];
            for (int l = 0; l < heads.length; l++) {
                for (int h = 0; h < heads[0].length; h++) {
                    out[l][h] = (float) heads[l][h];
                }
            }
            return out;
        }

        /** Writes {@code dla_heads.npy} [L, H], {@code dla_mlp.npy} [L], {@code dla.json} and {@code effects.json}. */
        public Path save(Path dir) {
            Runs.writeNpy(dir.resolve("dla_heads.npy"), headsFloat());
            float[] m = new float[mlp.length];
            for (int l = 0; l < m.length; l++) {
                m[l] = (float) mlp[l];
            }
            Runs.writeNpy(dir.resolve("dla_mlp.npy"), new long[] {m.length}, m);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("target", target);
            json.put("target_label", targetLabel);
            json.put("logit", logit);
            json.put("sigma_final", sigmaFinal);
            json.put("embed", embed);
            json.put("proj_bias", projBias);
            json.put("norm_bias_and_head_bias", constant);
            json.put("heads_total", total(heads));
            json.put("mlp_total", total(new double[][] {mlp}));
            json.put("sum", sum);
            json.put("residual", residual);
            json.put("relative_residual", relativeResidual());
            json.put("bound", bound);
            Runs.writeJson(dir.resolve("dla.json"), json);
            Runs.writeJson(dir.resolve("effects.json"), Effect.json("an unprobed run",
                    List.of("direct logit attribution probe (reads only)"), List.of(effect)));
            return dir;
        }

        /** Block × (heads, MLP) heatmap, diverging around 0. */
        public JFreeChart plot() {
            int depth = heads.length;
            int h = heads[0].length;
            float[][] grid = new float[depth][h + 1];
            String[] rows = new String[depth];
            String[] cols = new String[h + 1];
            for (int l = 0; l < depth; l++) {
                rows[l] = "block " + l;
                for (int j = 0; j < h; j++) {
                    grid[l][j] = (float) heads[l][j];
                }
                grid[l][h] = (float) mlp[l];
            }
            for (int j = 0; j < h; j++) {
                cols[j] = "head " + j;
            }
            cols[h] = "MLP";
            return Heatmap.create(model + " — direct logit attribution to " + targetLabel + String.format(Locale.ROOT,
                    " (logit %.3f; embed %+.3f, proj biases %+.3f, β·W+b %+.3f)", logit, embed,
                    total(new double[][] {projBias}), constant), grid, rows, cols, "contribution to the logit");
        }
    }

    public static Result run(LoadedModel model, Input image, int target) {
        try (NDManager m = NDManager.newBaseManager()) {
            return run(model, Runs.image(model, image, m), target);
        }
    }

    /**
     * @param image (1, C, H, W) or (C, H, W), preprocessed
     * @param target a class index, or -1 for the model's top-1
     * @throws IllegalStateException when the components do not add up to the logit within the rounding bound
     */
    public static Result run(LoadedModel model, NDArray image, int target) {
        NDArray x = Runs.image(model, image, "image");
        Runs.requireClass(target, model, "target", true);
        VisionTransformer vit = model.model();
        int depth = vit.config().depth();
        int heads = vit.config().numHeads();
        int d = vit.config().embedDim();
        int dh = d / heads;
        Map<String, Integer> blockOf = Runs.blockOfPath(vit);
        NDIndex clsRow = new NDIndex().addIndices(0, 0);                                // x[0, 0]: (D)
        NDIndex clsZ = new NDIndex().addIndices(0).addAllDim().addIndices(0);           // z[0, :, 0]: (H, Dh)
        float[][] z = new float[depth][];
        float[][] mlpOut = new float[depth][];
        float[][] embedAndLast = new float[2][];
        Runs.Observed clean = Runs.observe(vit, x, probe -> { });
        Runs.Observed probed = Runs.observe(vit, x, probe -> {
            probe.breakpoint(Attention.Z).exec(h -> z[blockOf.get(h.path())] = h.get("z").get(clsZ).toFloatArray());
            probe.breakpoint(Block.MLP_OUT).exec(h ->
                    mlpOut[blockOf.get(h.path())] = h.get("mlp_out").get(clsRow).toFloatArray());
            probe.breakpoint("blocks.0", Block.PRE_ATTN.name()).exec(h ->
                    embedAndLast[0] = h.get("x").get(clsRow).toFloatArray());
            probe.breakpoint("blocks." + (depth - 1), Block.POST_MLP.name()).exec(h ->
                    embedAndLast[1] = h.get("x").get(clsRow).toFloatArray());
        });
        float[] logits = probed.logits();
        int c = target < 0 ? Runs.argmax(logits) : target;
        Map<String, ai.djl.nn.Parameter> p = vit.namedParameters();
        float[] gamma = p.get("norm.weight").getArray().toFloatArray();
        float[] beta = p.get("norm.bias").getArray().toFloatArray();
        float[] wHead = p.get("head.weight").getArray().get(c).toFloatArray();          // (D)
        double bHead = p.get("head.bias").getArray().getFloat(c);

        float[] rL = embedAndLast[1];
        double mean = 0;
        for (float v : rL) {
            mean += v;
        }
        mean /= d;
        double var = 0;
        for (float v : rL) {
            var += (v - mean) * (v - mean);
        }
        double sigma = Math.sqrt(var / d + vit.config().layerNormEps());
        // g' = γ ⊙ W_head[c] − its mean: r · g' = (r − mean(r)) · (γ ⊙ W_head[c]).
        double[] g = new double[d];
        double gMean = 0;
        for (int i = 0; i < d; i++) {
            g[i] = (double) gamma[i] * wHead[i];
            gMean += g[i];
        }
        gMean /= d;
        for (int i = 0; i < d; i++) {
            g[i] -= gMean;
        }
        double[] absG = new double[d];
        for (int i = 0; i < d; i++) {
            absG[i] = Math.abs(g[i]) / sigma;
        }
        double scale = 0; // S of the bound
        double embed = dot(embedAndLast[0], g) / sigma;
        scale += absDot(embedAndLast[0], absG);
        double[][] headC = new double[depth][heads];
        double[] biasC = new double[depth];
        double[] mlpC = new double[depth];
        for (int l = 0; l < depth; l++) {
            float[] w = p.get("blocks." + l + ".attn.proj.weight").getArray().toFloatArray();   // (D, D) [out, in]
            float[] b = p.get("blocks." + l + ".attn.proj.bias").getArray().toFloatArray();     // (D)
            // u = W_projᵀ g' / σ and |W_proj|ᵀ |g'| / σ, (D) over the input coordinates.
            double[] u = new double[d];
            double[] uAbs = new double[d];
            for (int o = 0; o < d; o++) {
                double go = g[o] / sigma;
                double ga = absG[o];
                int row = o * d;
                for (int i = 0; i < d; i++) {
                    u[i] += w[row + i] * go;
                    uAbs[i] += Math.abs(w[row + i]) * ga;
                }
            }
            for (int h = 0; h < heads; h++) {
                double s = 0;
                for (int j = 0; j < dh; j++) {
                    double zj = z[l][h * dh + j];
                    s += zj * u[h * dh + j];
                    scale += Math.abs(zj) * uAbs[h * dh + j];
                }
                headC[l][h] = s;
            }
            biasC[l] = dot(b, g) / sigma;
            scale += absDot(b, absG);
            mlpC[l] = dot(mlpOut[l], g) / sigma;
            scale += absDot(mlpOut[l], absG);
        }
        double constant = bHead;
        for (int i = 0; i < d; i++) {
            constant += (double) beta[i] * wHead[i];
        }
        // The head's own product: Σ |n_d · W_head[c, d]| with n the normed class token.
        double headAbs = Math.abs(bHead);
        for (int i = 0; i < d; i++) {
            headAbs += Math.abs(((rL[i] - mean) / sigma * gamma[i] + beta[i]) * wHead[i]);
        }
        double sum = embed + constant;
        for (int l = 0; l < depth; l++) {
            sum += biasC[l] + mlpC[l];
            for (int h = 0; h < heads; h++) {
                sum += headC[l][h];
            }
        }
        double logit = logits[c];
        double residual = logit - sum;
        double bound = (2.0 * depth + 2.0 * d + 8) * U * (scale + headAbs);
        Effect effect = Effect.compare(clean.logits(), logits, clean.entropy(), probed.entropy(), c, model.labels());
        Result r = new Result(model.name(), c, model.labels().get(c), logit, sigma, embed, headC, biasC, mlpC, constant,
                sum, residual, bound, effect);
        if (!(Math.abs(residual) <= bound)) {
            throw new IllegalStateException(String.format(Locale.ROOT, "direct logit attribution does not add up: "
                    + "logit %.9g, sum of components %.9g, residual %.3g beyond the float32 rounding bound %.3g",
                    logit, sum, residual, bound));
        }
        return r;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double absDot(float[] a, double[] absB) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i]) * absB[i];
        }
        return s;
    }

    static double total(double[][] a) {
        double s = 0;
        for (double[] row : a) {
            for (double v : row) {
                s += v;
            }
        }
        return s;
    }
}
