package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.engine.FusedAttention;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;

/**
 * timm 0.4.5's {@code Attention}, statement for statement, with its local names — so that a captured call reads like
 * NoPdb's capture of the Python one.
 *
 * <p>This file speaks timm's letters, in its locals and its shape comments alike, not the project's glossary:
 * {@code B} batch, {@code N} tokens (the glossary's T), {@code C} embed dim (D), {@code H} heads
 * ({@code num_heads}, the glossary's N), {@code Dh} head dim ({@code C // num_heads}).
 *
 * <pre>
 * B, N, C = x.shape
 * qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
 * q, k, v = qkv[0], qkv[1], qkv[2]
 * attn = (q @ k.transpose(-2, -1)) * self.scale      # q is not pre-scaled, as in 0.4.5
 * attn = attn.softmax(dim=-1)
 * x = (attn @ v).transpose(1, 2).reshape(B, N, C)
 * x = self.proj(x)
 * </pre>
 *
 * When a breakpoint stops at one of the three sites inside ({@link #PRE_SOFTMAX}, {@link #POST_SOFTMAX}, {@link #Z}),
 * or gradients are being recorded, the statements run one by one on libtorch, so breakpoints can see and change every
 * step. Otherwise a grad-free float32 forward runs them as one native step ({@link FusedAttention}, same arithmetic),
 * which still hands the attention probabilities to captures as {@code attn}.
 */
public final class Attention extends VitModule {

    /** Just before {@code attn = attn.softmax(dim=-1)}: the scaled logits, what NoPdb's tutorial multiplies by 3. */
    public static final Site PRE_SOFTMAX =
            Site.before(Attention.class, "pre_softmax", "attn = attn.softmax(dim=-1)", "attn");
    /** Just after the softmax: the attention probabilities. */
    public static final Site POST_SOFTMAX =
            Site.after(Attention.class, "post_softmax", "attn = attn.softmax(dim=-1)", "attn");
    /**
     * {@code attn @ v} per head, (B, H, N, Dh), before the heads are merged by the transpose: TransformerLens's
     * {@code hook_z}. timm has no local for it (it is inside {@code x = (attn @ v).transpose(1, 2).reshape(B, N, C)}),
     * so it is not among the captured locals; a breakpoint reads and replaces it as {@code z}.
     */
    public static final Site Z = Site.after(Attention.class, "z", "z = attn @ v", "z");

    private final int numHeads;
    private final double scale; // Dh^-0.5; a float32 forward rounds it to float32 as PyTorch does with timm's scale
    private final Linear qkv;
    private final Linear proj;

    Attention(int dim, int numHeads, boolean qkvBias) {
        this.numHeads = numHeads;
        this.scale = Math.pow((double) dim / numHeads, -0.5);
        this.qkv = child("qkv", new Linear(dim, dim * 3, qkvBias));
        this.proj = child("proj", new Linear(dim, dim, true));
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        try (Frame f = Probe.enter(this)) {
            x = f.arg("x", x);                                               // (B, N, C)
            Shape s = x.getShape();
            int B = f.let("B", (int) s.get(0));
            int N = f.let("N", (int) s.get(1));
            int C = f.let("C", (int) s.get(2));
            NDArray projected = this.qkv.apply(ctx, x);                       // (B, N, 3C)
            boolean read = f.readsLocals();
            FusedAttention.Result fused = !ctx.training() && !JniUtils.isGradMode()
                    && !f.stopsAtAny(PRE_SOFTMAX, POST_SOFTMAX, Z)
                    ? FusedAttention.apply(projected, numHeads, (float) scale, read) : null;
            if (fused != null && !read) {
                return f.exit(proj.apply(ctx, fused.x()));                    // nobody reads: no views to make
            }
            NDArray qkv = f.let("qkv", projected
                    .reshape(B, N, 3, numHeads, C / numHeads)                // (B, N, 3, H, Dh)
                    .transpose(2, 0, 3, 1, 4));                              // (3, B, H, N, Dh)
            NDArray q = f.let("q", qkv.get(0));                              // (B, H, N, Dh)
            NDArray k = f.let("k", qkv.get(1));                              // (B, H, N, Dh)
            NDArray v = f.let("v", qkv.get(2));                              // (B, H, N, Dh)
            if (fused != null) {
                // Nobody stops between here and the merged heads: the same statements in one native step
                // (FusedAttention), which hands the probabilities to captures as the local attn.
                if (fused.attn() != null) {
                    f.let("attn", fused.attn());                             // (B, H, N, N)
                }
                x = f.let("x", fused.x());                                   // (B, N, C)
            } else {
                // The scale is a tensor libtorch allocated (full), not DJL's muli(Number): that wraps a Java direct
                // buffer the JVM frees at its next GC, while autograd keeps the scalar for the backward (scaleOf).
                NDArray attn = f.let("attn", q.matMul(k.transpose(0, 1, 3, 2)).muli(scaleOf(ctx, x))); // (B, H, N, N)
                attn = f.at(PRE_SOFTMAX, attn);
                attn = f.let("attn", attn.softmax(-1));                      // (B, H, N, N)
                attn = f.at(POST_SOFTMAX, attn);
                NDArray z = f.at(Z, attn.matMul(v));                         // (B, H, N, Dh)
                x = f.let("x", z.transpose(0, 2, 1, 3)                       // (B, N, H, Dh)
                        .reshape(B, N, C));                                  // (B, N, C)
            }
            x = f.let("x", proj.apply(ctx, x));                              // (B, N, C)
            return f.exit(x);
        }
    }

    /**
     * The attention scale as a 0-d tensor of {@code like}'s dtype whose storage libtorch owns. DJL's
     * {@code mul(Number)} and {@code muli(Number)} make the scalar with {@code NDManager.create(Number)}: a tensor over
     * a Java direct buffer ({@code from_blob}, not copied), closed as soon as the product is computed. Autograd's
     * {@code MulBackward} saves that scalar to compute the gradient; once the buffer is unreachable the JVM's next GC
     * frees its memory, and a backward after that reads freed memory: the gradient of every query and key was
     * multiplied by garbage (1e-45, 8e16, NaN; {@code GcBeforeBackwardTest}), the intermittent non-finite training
     * steps that gradient clipping and step skipping had hidden.
     *
     * <p>libtorch's {@code full} takes the double {@link #scale} and casts it to the dtype: a float32 forward gets
     * {@code Dh^-0.5} rounded to float32 (the same product as before, and as PyTorch's), a float64 forward gets it
     * exact. DJL's {@code NDManager.full} takes only a float, which would round the float64 scale too, so this calls
     * the engine's {@code JniUtils.full} directly (the model runs on the PyTorch engine only).
     */
    private NDArray scaleOf(Ctx ctx, NDArray like) {
        return JniUtils.full((PtNDManager) ctx.scope(), new Shape(), scale, like.getDataType(), like.getDevice(),
                SparseFormat.DENSE);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    public int numHeads() {
        return numHeads;
    }
}
