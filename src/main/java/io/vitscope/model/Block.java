package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;

/**
 * timm's pre-norm transformer {@code Block}:
 * <pre>
 * x = x + self.drop_path(self.attn(self.norm1(x)))
 * x = x + self.drop_path(self.mlp(self.norm2(x)))
 * </pre>
 * Its sites expose the residual stream before and after each of the two lines.
 *
 * <p>Every temporary of the block lives in a memory scope closed when the block returns: left to the caller's
 * scope, the intermediates of twelve blocks pile up and the forward runs three times slower (page faults).
 */
public final class Block extends VitModule {

    public static final String ATTN_LINE = "x = x + self.drop_path(self.attn(self.norm1(x)))";
    public static final String MLP_LINE = "x = x + self.drop_path(self.mlp(self.norm2(x)))";
    /** The residual stream entering the block. */
    public static final Site PRE_ATTN = Site.before(Block.class, "pre_attn", ATTN_LINE, "x");
    /**
     * The attention branch's output before the residual add, {@code self.attn(self.norm1(x))}: TransformerLens's
     * {@code attn_out}. It stops after {@code pre_attn} and before {@code post_attn}.
     */
    public static final Site ATTN_OUT = Site.after(Block.class, "attn_out", "attn_out = self.attn(self.norm1(x))",
            "attn_out");
    /** The residual stream after the attention branch was added. */
    public static final Site POST_ATTN = Site.after(Block.class, "post_attn", ATTN_LINE, "x");
    /** The residual stream entering the MLP line (the same point as {@code post_attn}, named after the next line). */
    public static final Site PRE_MLP = Site.before(Block.class, "pre_mlp", MLP_LINE, "x");
    /** The MLP branch's output before the residual add, {@code self.mlp(self.norm2(x))}: TransformerLens's {@code mlp_out}. */
    public static final Site MLP_OUT = Site.after(Block.class, "mlp_out", "mlp_out = self.mlp(self.norm2(x))",
            "mlp_out");
    /** The residual stream after the MLP branch was added: the block's output. */
    public static final Site POST_MLP = Site.after(Block.class, "post_mlp", MLP_LINE, "x");

    private static final Site ENTRY = Site.entry(Block.class);

    private final LayerNorm norm1;
    private final Attention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;

    Block(VitConfig c) {
        this.norm1 = child("norm1", new LayerNorm(c.embedDim(), c.layerNormEps()));
        this.attn = child("attn", new Attention(c.embedDim(), c.numHeads(), c.qkvBias()));
        this.norm2 = child("norm2", new LayerNorm(c.embedDim(), c.layerNormEps()));
        this.mlp = child("mlp", new Mlp(c.embedDim(), c.mlpHidden()));
    }

    @Override
    NDArray apply(Ctx ctx, NDArray x) {
        return apply(ctx, x, 0);
    }

    /**
     * The block, its MLP line computed only for the first {@code rows} tokens of each image (all of them when
     * {@code rows} is 0 or at least T): the attention line needs every token, since every token's keys and values
     * reach the class token, but past it each token's row is computed on its own. The last block of a forward whose
     * output is the prefix tokens needs no more ({@link VisionTransformer}). The block computes every token anyway
     * when a probe could see past its attention line: a capture of the block, a breakpoint at a later site.
     *
     * @return (B, T, D), or (B, rows, D)
     */
    NDArray apply(Ctx ctx, NDArray x, int rows) {
        try (Frame f = Probe.enter(this); NDManager scope = ctx.scope().newSubManager()) {
            x = f.arg("x", x);                                         // (B, T, D)
            x.tempAttach(scope);
            Ctx inner = ctx.in(scope);
            x = f.at(PRE_ATTN, x);
            NDArray attnOut = f.at(ATTN_OUT, attn.apply(inner, norm1.apply(inner, x))); // (B, T, D)
            if (rows > 0 && rows < x.getShape().get(1) && f.seesOnly(ENTRY, PRE_ATTN, ATTN_OUT)) {
                NDIndex first = new NDIndex().addAllDim().addSliceDim(0, rows);
                x = x.get(first);                                      // (B, rows, D) views
                attnOut = attnOut.get(first);
            }
            x = f.let("x", x.add(attnOut));                            // (B, T, D)
            x = f.at(POST_ATTN, x);
            x = f.at(PRE_MLP, x);
            NDArray mlpOut = f.at(MLP_OUT, mlp.apply(inner, norm2.apply(inner, x))); // (B, T, D)
            x = f.let("x", x.add(mlpOut));                             // (B, T, D)
            x = f.at(POST_MLP, x);
            x.attach(ctx.scope());                                     // the output outlives the block's scope
            return f.exit(x);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    public Attention attn() {
        return attn;
    }

    public Mlp mlp() {
        return mlp;
    }
}
