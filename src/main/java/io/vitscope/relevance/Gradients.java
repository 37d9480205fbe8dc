package io.vitscope.relevance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.InvalidArgumentException;
import io.vitscope.model.Attention;
import io.vitscope.model.PatchEmbed;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.probe.Probe;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradients of one logit per image through the whole network, with DJL's PyTorch autograd: ∂y/∂A_l at every block's
 * {@code post_softmax} site and ∂y/∂x at the patch embedding's entry (x the normalised input).
 *
 * <p>How: a breakpoint at the site replaces the tensor v by v + z, z a zero leaf that requires a gradient. The forward's
 * numbers do not change (v + 0 = v exactly) and z enters the graph exactly where v is used, so ∂y/∂z = ∂y/∂v — what
 * PyTorch's {@code retain_grad()} gives v. The input needs the same trick because the model's forward works on a
 * detached copy of its input.
 *
 * <p>A batch is one backward pass: y = Σ_b logits[b, target_b]; images do not interact in a ViT, so image b's
 * gradients are those of its own logit.
 *
 * <p>The backward runs through libtorch directly ({@code JniUtils.backward}) with grad mode switched on for this thread
 * only, rather than through DJL's {@code GradientCollector}: the PyTorch collector keeps a process-wide "collecting"
 * flag, so two threads computing relevance at once (or relevance while a model trains) would fail.
 *
 * <p>Abbreviations: B batch, C channels, H×W image, N heads, T tokens, K classes.
 */
public final class Gradients {

    private Gradients() {}

    /**
     * What one backward pass gave, for a batch.
     *
     * @param logits (B, K) the forward's logits
     * @param targets (B) the class whose logit was differentiated, per image
     * @param attention per block, (B, N, T, T) post-softmax attention; empty unless asked for
     * @param attentionGrad per block, (B, N, T, T) ∂y/∂A; empty unless asked for
     * @param inputGrad (B, C, H, W) ∂y/∂x, or null unless asked for
     */
    public record Capture(int batch, int classes, int heads, int tokens, float[] logits, int[] targets,
                          List<float[]> attention, List<float[]> attentionGrad, float[] inputGrad) {

        /** Image {@code b}'s attention and ∂y/∂A, block by block, as (N, T, T) arrays. */
        public AttentionGradients image(int b) {
            if (attention.isEmpty()) {
                throw new IllegalStateException("this capture holds no attention: ask for it (attention = true)");
            }
            int per = heads * tokens * tokens;
            List<float[][][]> a = new ArrayList<>();
            List<float[][][]> g = new ArrayList<>();
            for (int l = 0; l < attention.size(); l++) {
                a.add(split(attention.get(l), b * per, heads, tokens));
                g.add(split(attentionGrad.get(l), b * per, heads, tokens));
            }
            return new AttentionGradients(a, g, targets[b], logits[b * classes + targets[b]]);
        }

        /** Image {@code b}'s ∂y/∂x, (C, H, W) flattened. */
        public float[] inputGrad(int b) {
            if (inputGrad == null) {
                throw new IllegalStateException("this capture holds no input gradient: ask for it (input = true)");
            }
            int per = inputGrad.length / batch;
            return java.util.Arrays.copyOfRange(inputGrad, b * per, (b + 1) * per);
        }
    }

    /**
     * One image's attention and its gradient.
     *
     * @param attention per block l = 0..L−1, A_l (N, T, T)
     * @param grad per block, ∂y/∂A_l (N, T, T)
     * @param target the class y is the logit of
     * @param logit y
     */
    public record AttentionGradients(List<float[][][]> attention, List<float[][][]> grad, int target, float logit) {}

    /**
     * One forward and one backward pass over a batch.
     *
     * @param images (B, C, H, W) normalised, flattened
     * @param targets (B) class per image; a negative entry means the image's top-1
     * @param attention whether to capture A_l and ∂y/∂A_l
     * @param input whether to capture ∂y/∂x
     */
    public static Capture of(VisionTransformer model, float[] images, int[] targets, boolean attention, boolean input) {
        VitConfig c = model.config();
        int per = c.inChans() * c.imgHeight() * c.imgWidth();
        int b = targets.length;
        if (b < 1 || images.length != (long) b * per) {
            throw new IllegalArgumentException("images hold " + images.length + " values; " + b + " targets need "
                    + b + " images of " + c.inChans() + "x" + c.imgHeight() + "x" + c.imgWidth() + " = " + (long) b * per);
        }
        for (int t : targets) {
            if (t >= c.numClasses()) {
                throw new InvalidArgumentException("target", "target " + t + " is out of range: the model has " + c.numClasses()
                        + " classes, use 0.." + (c.numClasses() - 1) + " (or -1 for the top-1)");
            }
        }
        List<NDArray> kept = new ArrayList<>();
        List<NDArray> attnLeaves = new ArrayList<>();
        NDArray[] inputLeaf = new NDArray[1];
        try (NDManager scope = NDManager.newBaseManager(); Probe probe = Probe.on(model)) {
            if (attention) {
                probe.breakpoint(Attention.POST_SOFTMAX).exec(hit -> {
                    NDArray a = hit.get("attn");                                   // (B, N, T, T)
                    NDArray copy = a.duplicate();
                    copy.attach(scope);
                    kept.add(copy);
                    NDArray leaf = zeroLeaf(scope, a.getShape());
                    attnLeaves.add(leaf);
                    hit.set("attn", a.add(leaf));
                });
            }
            if (input) {
                probe.breakpoint(PatchEmbed.class, "entry").exec(hit -> {
                    NDArray x = hit.get("x");                                      // (B, C, H, W)
                    inputLeaf[0] = zeroLeaf(scope, x.getShape());
                    hit.set("x", x.add(inputLeaf[0]));
                });
            }
            NDArray x = scope.create(images, new Shape(b, c.inChans(), c.imgHeight(), c.imgWidth()));
            float[] logits;
            int[] chosen = targets.clone();
            boolean gradWas = JniUtils.isGradMode();
            JniUtils.setGradMode(true);
            try {
                NDArray out = model.forwardForGradients(x);                        // (B, K)
                logits = out.toFloatArray();
                float[] pick = new float[b * c.numClasses()];
                for (int i = 0; i < b; i++) {
                    if (chosen[i] < 0) {
                        chosen[i] = argMax(logits, i * c.numClasses(), c.numClasses());
                    }
                    pick[i * c.numClasses() + chosen[i]] = 1f;
                }
                NDArray y = out.mul(scope.create(pick, out.getShape())).sum();     // ()
                JniUtils.backward((PtNDArray) y, (PtNDArray) y.onesLike(), false, false);
            } finally {
                JniUtils.setGradMode(gradWas);
            }
            List<float[]> a = new ArrayList<>();
            List<float[]> g = new ArrayList<>();
            for (int l = 0; l < kept.size(); l++) {
                a.add(kept.get(l).toFloatArray());
                g.add(attnLeaves.get(l).getGradient().toFloatArray());
            }
            float[] xg = input ? inputLeaf[0].getGradient().toFloatArray() : null;
            return new Capture(b, c.numClasses(), c.numHeads(), c.numTokens(), logits, chosen, a, g, xg);
        }
    }

    private static NDArray zeroLeaf(NDManager scope, Shape shape) {
        NDArray z = scope.zeros(shape);
        z.setRequiresGradient(true);
        return z;
    }

    /** The first index of the largest value, as {@code torch.argmax}. */
    static int argMax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[][][] split(float[] flat, int offset, int n, int t) {
        float[][][] out = new float[n][t][t];
        int p = offset;
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(flat, p, out[h][i], 0, t);
                p += t;
            }
        }
        return out;
    }
}
