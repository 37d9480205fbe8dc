package io.vitscope.relevance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.InvalidArgumentException;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Relevance maps of one image, one call each — {@code Relevance.chefer(model, image, Relevance.TOP1)} — and of a batch
 * ({@link #maps}). An image is the model's input (C, H, W), normalised, flattened (what
 * {@code Classifier.read(file).get(0).tensor()} returns); the target is a class index or {@link #TOP1}.
 *
 * <p>The rules are in {@link Rules} and {@link #integratedGradients(VisionTransformer, float[], int, int)}; the
 * gradients they use come from one backward pass ({@link Gradients}).
 */
public final class Relevance {

    /** Explain the image's top-1 class. */
    public static final int TOP1 = -1;
    /** Every method but the random baseline, in {@link Method}'s order. */
    public static final List<Method> ALL = List.of(Method.CHEFER, Method.GRAD_ROLLOUT, Method.ATTN_GRADCAM,
            Method.INTEGRATED_GRADIENTS, Method.ROLLOUT, Method.MEAN, Method.CLS);

    /** Integrated gradients' default number of Gauss–Legendre points. */
    public static final int IG_STEPS = 50;
    /** Activation memory the integrated-gradients batches may hold for their backward passes. */
    private static final long IG_BUDGET_BYTES = 768L << 20;

    private Relevance() {}

    /** Chefer et al.'s rule ({@link Rules#chefer}). */
    public static RelevanceMap chefer(VisionTransformer model, float[] image, int target) {
        return of(Method.CHEFER, model, image, target);
    }

    /** Gradient rollout with each block's own gradient, no discard ({@link Rules#gradRollout}). */
    public static RelevanceMap gradRollout(VisionTransformer model, float[] image, int target) {
        return gradRollout(model, image, target, 0);
    }

    /** Gradient rollout zeroing {@code discardRatio} of each block's smallest fused weights. */
    public static RelevanceMap gradRollout(VisionTransformer model, float[] image, int target, double discardRatio) {
        Gradients.AttentionGradients g = attentionGradients(model, image, target);
        return map(Method.GRAD_ROLLOUT, model, g, Rules.gradRollout(g, discardRatio));
    }

    /** Grad-CAM on the last block's attention ({@link Rules#attnGradcam}). */
    public static RelevanceMap attnGradcam(VisionTransformer model, float[] image, int target) {
        return of(Method.ATTN_GRADCAM, model, image, target);
    }

    /** Integrated gradients with {@link #IG_STEPS} Gauss–Legendre points. */
    public static RelevanceMap integratedGradients(VisionTransformer model, float[] image, int target) {
        return integratedGradients(model, image, target, IG_STEPS);
    }

    /**
     * Integrated gradients (Sundararajan, Taly &amp; Yan 2017, "Axiomatic Attribution for Deep Networks") with the
     * baseline x′ = 0 in the normalised input space, the path integral by the {@code steps}-point Gauss–Legendre rule
     * on [0, 1] ({@link GaussLegendre}): {@code IG = (x − x′) ⊙ Σ_i w_i ∂y/∂x(x′ + α_i (x − x′))}, summed over the
     * channels and over the pixels of each patch. The map's {@code completenessGap} is Σ IG − (y(x) − y(x′)).
     */
    public static RelevanceMap integratedGradients(VisionTransformer model, float[] image, int target, int steps) {
        VitConfig c = model.config();
        requireImage(c, image);
        GaussLegendre rule = GaussLegendre.of(steps);
        float[] ends = logitsOf(model, image, new float[image.length]);              // (2, K): x, x′ = 0
        int k = c.numClasses();
        int t = target < 0 ? Gradients.argMax(ends, 0, k) : target;
        int per = image.length;
        double[] avg = new double[per];                                              // Σ_i w_i ∂y/∂x(α_i x)
        int chunk = (int) Math.max(1, Math.min(steps, IG_BUDGET_BYTES / activationBytes(c)));
        for (int from = 0; from < steps; from += chunk) {
            int n = Math.min(chunk, steps - from);
            float[] xs = new float[n * per];
            int[] targets = new int[n];
            for (int i = 0; i < n; i++) {
                float alpha = (float) rule.nodes()[from + i];
                for (int j = 0; j < per; j++) {
                    xs[i * per + j] = alpha * image[j];                              // x′ + α (x − x′), x′ = 0
                }
                targets[i] = t;
            }
            Gradients.Capture g = Gradients.of(model, xs, targets, false, true);
            for (int i = 0; i < n; i++) {
                double w = rule.weights()[from + i];
                float[] gi = g.inputGrad();
                for (int j = 0; j < per; j++) {
                    avg[j] += w * gi[i * per + j];
                }
            }
        }
        int ch = c.inChans();
        int h = c.imgHeight();
        int wd = c.imgWidth();
        int p = c.patchSize();
        int gw = c.gridWidth();
        double[] pooled = new double[c.numPatches()];
        double total = 0;
        for (int cc = 0; cc < ch; cc++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < wd; x++) {
                    int j = (cc * h + y) * wd + x;
                    double v = image[j] * avg[j];                                    // (x − x′) ⊙ mean gradient
                    pooled[(y / p) * gw + x / p] += v;
                    total += v;
                }
            }
        }
        float[] values = new float[pooled.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) pooled[i];
        }
        double gap = total - ((double) ends[t] - ends[k + t]);
        return new RelevanceMap(Method.INTEGRATED_GRADIENTS, t, ends[t], c.gridHeight(), gw, values, gap);
    }

    /** The map of {@code method} for one image; {@link Method#RANDOM} uses seed 0. */
    public static RelevanceMap of(Method method, VisionTransformer model, float[] image, int target) {
        if (method == Method.INTEGRATED_GRADIENTS) {
            return integratedGradients(model, image, target);
        }
        if (method == Method.RANDOM) {
            VitConfig c = model.config();
            requireImage(c, image);
            return new RelevanceMap(method, target, Float.NaN, c.gridHeight(), c.gridWidth(), random(c, 0, 0), Double.NaN);
        }
        Gradients.AttentionGradients g = attentionGradients(model, image, target);
        return map(method, model, g, rule(method, g));
    }

    /**
     * The maps of a batch, one backward pass for the attention methods.
     *
     * @param images (B, C, H, W) normalised, flattened
     * @param targets (B) class per image, negative for the top-1
     * @param seed {@link Method#RANDOM} only: image b's map is drawn from a generator seeded by (seed, firstIndex + b)
     * @return B maps of (G_h · G_w) values
     */
    public static List<float[]> maps(Method method, VisionTransformer model, float[] images, int[] targets, long seed,
                                     long firstIndex) {
        VitConfig c = model.config();
        int per = c.inChans() * c.imgHeight() * c.imgWidth();
        List<float[]> out = new ArrayList<>(targets.length);
        if (method == Method.RANDOM) {
            for (int b = 0; b < targets.length; b++) {
                out.add(random(c, seed, firstIndex + b));
            }
            return out;
        }
        if (method == Method.INTEGRATED_GRADIENTS) {
            for (int b = 0; b < targets.length; b++) {
                float[] x = java.util.Arrays.copyOfRange(images, b * per, (b + 1) * per);
                out.add(integratedGradients(model, x, targets[b]).values());
            }
            return out;
        }
        Gradients.Capture g = Gradients.of(model, images, targets, true, false);
        for (int b = 0; b < targets.length; b++) {
            out.add(rule(method, g.image(b)));
        }
        return out;
    }

    /**
     * Several methods' maps of one image, the attention methods from one backward pass.
     *
     * @param target a class index or {@link #TOP1}
     */
    public static Comparison compare(VisionTransformer model, float[] image, int target, List<Method> methods) {
        VitConfig c = model.config();
        Gradients.AttentionGradients g = null;
        List<RelevanceMap> maps = new ArrayList<>();
        for (Method m : methods) {
            if (m == Method.INTEGRATED_GRADIENTS || m == Method.RANDOM) {
                maps.add(of(m, model, image, g == null ? target : g.target()));
                continue;
            }
            if (g == null) {
                g = attentionGradients(model, image, target);
            }
            maps.add(map(m, model, g, rule(m, g)));
        }
        return new Comparison(maps);
    }

    /** One image's attention and ∂y/∂A per block. */
    public static Gradients.AttentionGradients attentionGradients(VisionTransformer model, float[] image, int target) {
        requireImage(model.config(), image);
        return Gradients.of(model, image, new int[] {target}, true, false).image(0);
    }

    private static float[] rule(Method method, Gradients.AttentionGradients g) {
        return switch (method) {
            case CHEFER -> Rules.chefer(g);
            case GRAD_ROLLOUT -> Rules.gradRollout(g, 0);
            case ATTN_GRADCAM -> Rules.attnGradcam(g);
            case ROLLOUT -> Rules.rollout(g.attention());
            case MEAN -> Rules.mean(g.attention());
            case CLS -> Rules.cls(g.attention());
            case INTEGRATED_GRADIENTS, RANDOM -> throw new IllegalArgumentException(method + " is not an attention rule");
        };
    }

    private static RelevanceMap map(Method method, VisionTransformer model, Gradients.AttentionGradients g,
                                    float[] values) {
        VitConfig c = model.config();
        return new RelevanceMap(method, g.target(), g.logit(), c.gridHeight(), c.gridWidth(), values, Double.NaN);
    }

    private static float[] random(VitConfig c, long seed, long index) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        float[] v = new float[c.numPatches()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble();
        }
        return v;
    }

    /** Logits (2, K) of two images, no gradients. */
    private static float[] logitsOf(VisionTransformer model, float[] a, float[] b) {
        VitConfig c = model.config();
        try (NDManager m = NDManager.newBaseManager()) {
            float[] both = new float[a.length * 2];
            System.arraycopy(a, 0, both, 0, a.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            NDArray x = m.create(both, new Shape(2, c.inChans(), c.imgHeight(), c.imgWidth()));
            return model.forward(x).toFloatArray();
        }
    }

    /** A rough upper bound of what one image's backward pass keeps alive: attention, MLP and residual activations. */
    static long activationBytes(VitConfig c) {
        long t = c.numTokens();
        long perBlock = 3L * c.numHeads() * t * t + 8L * t * c.embedDim() + 3L * t * c.mlpHidden();
        return 4L * c.depth() * perBlock;
    }

    static void requireImage(VitConfig c, float[] image) {
        long want = (long) c.inChans() * c.imgHeight() * c.imgWidth();
        if (image == null || image.length != want) {
            throw new InvalidArgumentException("image", "image must hold C*H*W = " + c.inChans() + "*" + c.imgHeight() + "*"
                    + c.imgWidth() + " = " + want + " normalised values, got " + (image == null ? "null" : image.length));
        }
    }
}
