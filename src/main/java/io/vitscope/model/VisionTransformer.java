package io.vitscope.model;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.initializer.NormalInitializer;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * timm's {@code VisionTransformer} (Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words"), module for module
 * and name for name, as a DJL block:
 * <pre>
 * x = self.patch_embed(x)                       # (B, L, D)
 * cls_tokens = self.cls_token.expand(B, -1, -1) # (B, 1, D)
 * x = torch.cat((cls_tokens, x), dim=1)         # (B, T, D)
 * x = x + self.pos_embed
 * for blk in self.blocks: x = blk(x)
 * x = self.norm(x)
 * x = x[:, 0]                                   # (B, D)  forward_features ends here
 * x = self.head(x)                              # (B, K)
 * </pre>
 *
 * <p>A distilled config is timm's {@code VisionTransformerDistilled} (DeiT, Touvron et al. 2021, {@code deit.py}): a
 * {@code dist_token} joins the class token ({@code torch.cat((cls_tokens, dist_tokens, x), dim=1)}, T = L + 2), and
 * at inference the output is {@code (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2}.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 *
 * <p>It owns its parameters (in its own memory manager): close it to free them. Each forward keeps its temporaries
 * in a scope freed before it returns; the returned tensor belongs to the input's manager.
 */
public final class VisionTransformer extends VitModule implements AutoCloseable {

    /** After {@code x = x + self.pos_embed}: the tokens entering the first block. */
    public static final Site POS_EMBED = Site.after(VisionTransformer.class, "pos_embed", "x = x + self.pos_embed", "x");
    /** After {@code x = self.norm(x)}: every token after the final norm. */
    public static final Site NORM = Site.after(VisionTransformer.class, "norm", "x = self.norm(x)", "x");
    /** After {@code x = x[:, 0]}: the class token's features, the head's input. */
    public static final Site PRE_LOGITS = Site.after(VisionTransformer.class, "pre_logits", "x = x[:, 0]", "x");
    /** After {@code x = self.head(x)}: the logits. */
    public static final Site LOGITS = Site.after(VisionTransformer.class, "logits", "x = self.head(x)", "x");

    /** {@code [:, 0]}, built once: DJL parses a string index on every call (about 14 µs against 3). */
    private static final NDIndex CLS = new NDIndex().addAllDim().addIndices(0);
    /** {@code [:, 1]}: the distillation token of a distilled model. */
    private static final NDIndex DIST = new NDIndex().addAllDim().addIndices(1);

    private final VitConfig config;
    private final NDManager manager;
    private final PatchEmbed patchEmbed;
    private final Parameter clsToken; // (1, 1, D)
    private final Parameter posEmbed; // (1, T, D)
    private final Parameter distToken; // (1, 1, D), null unless distilled
    private final List<Block> blocks;
    private final LayerNorm norm;
    private final Linear head;
    private final Linear headDist; // null unless distilled
    /** The modules after the last block's attention line, but the block itself: what {@link #keptRows} asks about. */
    private final List<VitModule> tail;

    /** A model of this architecture whose parameters are not set yet: load weights or initialise it. */
    public VisionTransformer(VitConfig config) {
        this.config = config;
        this.manager = NDManager.newBaseManager();
        this.patchEmbed = child("patch_embed", new PatchEmbed(config));
        int d = config.embedDim();
        this.clsToken = param("cls_token", new Shape(1, 1, d), Parameter.Type.WEIGHT, new NormalInitializer(0.02f));
        this.posEmbed = param("pos_embed", new Shape(1, config.numTokens(), d), Parameter.Type.WEIGHT,
                new NormalInitializer(0.02f));
        this.distToken = config.distilled() ? param("dist_token", new Shape(1, 1, d), Parameter.Type.WEIGHT,
                new NormalInitializer(0.02f)) : null;
        BlockList list = child("blocks", new BlockList());
        List<Block> bs = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            bs.add(list.add(new Block(config)));
        }
        this.blocks = Collections.unmodifiableList(bs);
        this.norm = child("norm", new LayerNorm(d, config.layerNormEps()));
        this.head = child("head", new Linear(d, config.numClasses(), true));
        this.headDist = config.distilled() ? child("head_dist", new Linear(d, config.numClasses(), true)) : null;
        List<VitModule> t = new ArrayList<>();
        String last = "blocks." + (config.depth() - 1);
        namedModules().forEach((path, m) -> {
            if (path.startsWith(last + ".norm2") || path.startsWith(last + ".mlp") || path.equals("norm")) {
                t.add(m);
            }
        });
        this.tail = List.copyOf(t);
    }

    /** {@code nn.ModuleList}: children named 0, 1, 2, … so that paths read {@code blocks.4.attn}. */
    static final class BlockList extends VitModule {
        private int size;

        Block add(Block b) {
            return child(Integer.toString(size++), b);
        }

        @Override
        NDArray apply(Ctx ctx, NDArray x) {
            throw new UnsupportedOperationException("blocks is a list of modules, not a module to call");
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return inputShapes;
        }
    }

    /**
     * Fills every parameter not set yet with timm's initialisation (truncated-normal-like N(0, 0.02) weights, zero
     * biases, unit LayerNorm scales), seeded through the engine, for training from scratch or benchmarks.
     */
    public VisionTransformer initializeRandom(long seed) {
        manager.getEngine().setRandomSeed((int) seed);
        initializeParameters(manager);
        return this;
    }

    /** The model's own memory manager, which owns its parameters. */
    public NDManager manager() {
        return manager;
    }

    public VitConfig config() {
        return config;
    }

    public List<Block> blocks() {
        return blocks;
    }

    /** The module at a timm path ({@code blocks.4.attn}); fails listing valid paths. */
    public VitModule module(String path) {
        VitModule m = namedModules().get(path);
        if (m == null) {
            throw new InvalidArgumentException("No module at path '" + path + "'. Valid paths include: patch_embed, "
                    + "blocks.0 … blocks." + (config.depth() - 1) + ", blocks.I.attn, blocks.I.attn.qkv, blocks.I.mlp, "
                    + "blocks.I.norm1, norm, head");
        }
        return m;
    }

    /**
     * Logits for a batch of preprocessed images.
     *
     * <p>The logits read only the class token (and a distilled model's distillation token), so unless a probe could
     * see the last block past its attention line (its MLP line, a capture of the block) or the final norm, the last
     * block's MLP runs on those tokens alone: the others' rows would be thrown away ({@link #forwardEveryToken}).
     * Captures and breakpoints elsewhere see every token.
     *
     * @param images (B, C, H, W) float32, normalised as the model's data config says
     * @return (B, K) float32, owned by the images' manager
     */
    public NDArray forward(NDArray images) {
        return run(new Ctx(null, false, images.getManager()), images, true, false);
    }

    /**
     * {@link #forward}, with the last block's MLP line computed for every token even where nothing reads the others:
     * the same logits up to float32 rounding, ≈ 5 % slower on ViT-B/16 (docs/benchmarks.md). For two
     * forwards that must differ only by what a probe changes, whatever the probe watches (an effect's clean and
     * probed runs), and for benchmarks of what leaving the tokens out saves.
     */
    public NDArray forwardEveryToken(NDArray images) {
        return run(new Ctx(null, false, images.getManager()), images, true, true);
    }

    /**
     * Logits with libtorch's autograd graph kept, for gradients of an output with respect to tensors a breakpoint
     * made require them (see {@code io.vitscope.relevance}). Grad mode is left as the calling thread has it: turn it
     * on first. Same numbers as {@link #forward}; the result is the graph's own output (not a detached copy), owned
     * by the images' manager — closing it frees the graph. The parameters enter the graph detached: a backward pass
     * computes no weight gradients (half its work) and leaves every parameter's {@code .grad} as it was.
     */
    public NDArray forwardForGradients(NDArray images) {
        return run(new Ctx(null, true, images.getManager(), true), images, true, true);
    }

    /** timm's {@code forward_features}: the class token after the final norm, (B, D), owned by the images' manager. */
    public NDArray forwardFeatures(NDArray images) {
        return run(new Ctx(null, false, images.getManager()), images, false, false);
    }

    @Override
    NDArray apply(Ctx ctx, NDArray images) {
        return run(ctx, images, true, false);
    }

    private NDArray run(Ctx ctx, NDArray images, boolean withHead, boolean everyToken) {
        checkInput(images);
        // Parameters initialised by DJL require gradients; at inference, recording autograd graphs would cost time
        // and keep every intermediate alive. Grad mode is per thread in libtorch.
        boolean gradWas = JniUtils.isGradMode();
        if (!ctx.training() && gradWas) {
            JniUtils.setGradMode(false);
        }
        try {
            return runScoped(ctx, images, withHead, everyToken);
        } finally {
            if (!ctx.training() && gradWas) {
                JniUtils.setGradMode(true);
            }
        }
    }

    private NDArray runScoped(Ctx ctx, NDArray images, boolean withHead, boolean everyToken) {
        NDManager caller = ctx.scope();
        try (Frame f = Probe.enter(this); NDManager scope = caller.newSubManager()) {
            NDArray x = f.arg("x", images);                                  // (B, C, H, W)
            // Work on a copy in this forward's scope: the caller's tensor is never re-attached, so the same input
            // can feed concurrent forwards, and nothing this forward allocates lands in the caller's manager.
            x = x.duplicate();
            x.attach(scope);
            Ctx inner = ctx.in(scope);
            int B = f.let("B", (int) x.getShape().get(0));
            x = f.let("x", patchEmbed.apply(inner, x));                      // (B, L, D)
            NDArray cls = inner.value(clsToken, x).broadcast(B, 1, config.embedDim()); // (B, 1, D)
            cls.attach(scope);
            NDArray clsTokens = f.let("cls_tokens", cls);                    // (B, 1, D)
            if (distToken != null) {
                NDArray dist = inner.value(distToken, x).broadcast(B, 1, config.embedDim()); // (B, 1, D)
                dist.attach(scope);
                NDArray distTokens = f.let("dist_tokens", dist);             // (B, 1, D)
                x = f.let("x", NDArrays.concat(new NDList(clsTokens, distTokens, x), 1)); // (B, T, D)
            } else {
                x = f.let("x", clsTokens.concat(x, 1));                      // (B, T, D)
            }
            x = f.let("x", x.add(inner.value(posEmbed, x)));                 // (B, T, D)
            x = f.at(POS_EMBED, x);
            int rows = everyToken ? 0 : keptRows(ctx, f);
            for (int i = 0; i < blocks.size(); i++) {
                NDArray in = x;
                x = f.let("x", blocks.get(i).apply(inner, x, i == blocks.size() - 1 ? rows : 0)); // (B, T, D)
                release(in, x, scope);
            }
            x = f.let("x", norm.apply(inner, x));                            // (B, T, D)
            x = f.at(NORM, x);
            NDArray xDist = headDist == null ? null : f.let("x_dist", x.get(DIST)); // (B, D)
            x = f.let("x", x.get(CLS));                                      // (B, D)
            x = f.at(PRE_LOGITS, x);
            if (withHead) {
                x = f.let("x", head.apply(inner, x));                        // (B, K)
                if (headDist != null) {
                    xDist = f.let("x_dist", headDist.apply(inner, xDist));   // (B, K)
                    x = f.let("x", x.add(xDist).div(2));                     // (B, K)  (x + x_dist) / 2
                }
                x = f.at(LOGITS, x);
            } else if (headDist != null) {
                x = f.let("x", x.add(xDist).div(2));                         // (B, D)  timm's pre_logits
            }
            // At inference the caller gets its own compact copy. While training it gets the array itself: DJL's
            // PyTorch duplicate() clones without autograd history, which would cut every parameter off the loss.
            NDArray out = ctx.training() ? x : x.duplicate();
            out.attach(caller);
            return f.exit(out);
        }
    }

    /**
     * How many tokens per image the last block's MLP line must compute: only the class (and distillation) token
     * when nothing can see the others — a grad-free forward, no probe on the model itself, on the last block's MLP
     * line or on the final norm (the block checks its own probes: {@link Block#apply(Ctx, NDArray, int)}). The
     * output reads only those tokens, and past the last attention line each token's row is computed on its own, so
     * the other rows of the last MLP (5.3 % of ViT-B/16's arithmetic) would be thrown away; llama.cpp leaves out its
     * last layer's unused tokens the same way. Otherwise 0: every token.
     *
     * <p>The attention line itself still computes every token's query. Its other rows are also unread (1 % more of
     * ViT-B/16), but a capture of the last attention call needs them all, so leaving them out would have moved that
     * 1 % into what capturing all attention calls costs (+2.56 % instead of +1.34 % at batch 8, measured).
     */
    int keptRows(Ctx ctx, Frame f) {
        if (ctx.training() || f != Frame.IDLE || JniUtils.isGradMode() || Probe.observesAny(tail)) {
            return 0;
        }
        return distToken != null ? 2 : 1;
    }

    /**
     * Whether a forward that leaves out the tokens the output does not read ({@link #forward}) runs {@code module} on
     * the prefix tokens alone: the last block's {@code norm2} and MLP, and the final norm.
     */
    public boolean runsOnPrefixTokens(VitModule module) {
        return tail.contains(module);
    }

    /**
     * Frees a block's input once the block has returned: otherwise every block's residual stream stays in the forward's
     * scope until the forward ends. Only a tensor this forward's scope still owns is freed — not one a capture took
     * over, nor one a breakpoint returned unchanged or brought in from elsewhere.
     */
    private static void release(NDArray in, NDArray out, NDManager scope) {
        if (in != out && in.getManager() == scope) {
            in.close();
        }
    }

    private void checkInput(NDArray images) {
        Shape s = images.getShape();
        Shape want = new Shape(-1, config.inChans(), config.imgHeight(), config.imgWidth());
        if (s.dimension() != 4 || s.get(1) != config.inChans() || s.get(2) != config.imgHeight()
                || s.get(3) != config.imgWidth() || s.get(0) < 1) {
            throw new IllegalArgumentException("The model takes images of shape (B, " + config.inChans() + ", "
                    + config.imgHeight() + ", " + config.imgWidth() + "), got " + s
                    + ": preprocess them with the model's data config (or pick the model they were made for)");
        }
        if (!isInitialized()) {
            throw new IllegalStateException("The model's parameters are not set: load a checkpoint or initializeRandom()");
        }
        // float32 as loaded; float64 when the weights were widened (the tests' exact-arithmetic parity checks).
        DataType type = posEmbed.getArray().getDataType();
        if (images.getDataType() != type) {
            throw new IllegalArgumentException("The model takes " + type.toString().toLowerCase(java.util.Locale.ROOT)
                    + " images, got " + images.getDataType() + " of shape " + want.toString().replace("-1", "B"));
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numClasses())};
    }

    /**
     * Packs every linear layer's weight for MKL's packed GEMM ({@link io.vitscope.engine.PackedGemm}), one slice per
     * intra-op thread, laid out for one image's tokens: grad-free float32 forwards then skip re-packing the weights on
     * every product. Worth it for many forwards (a folder, a server, a benchmark): on ViT-B/16 at batch 1 the linear
     * layers ran ≈ 7 % faster (docs/benchmarks.md). It costs memory (a second copy of the linear weights, outside the
     * JVM heap: 340 MB for ViT-B/16) and a one-off pass over them, so nothing packs unless asked. Gradient forwards
     * ({@link #forwardForGradients}) and training never use it. A weight replaced afterwards is noticed; one edited in
     * place is not: {@link #unpackWeights()} first.
     *
     * @return how many linear layers were packed (0 where packing is unavailable: then nothing changes)
     */
    public synchronized int packWeights() {
        int n = 0;
        for (VitModule m : namedModules().values()) {
            if (m instanceof Linear l && l.pack(config.numTokens())) {
                n++;
            }
        }
        return n;
    }

    /** Whether any linear layer runs on packed weights ({@link #packWeights()}). */
    public boolean isPacked() {
        for (VitModule m : namedModules().values()) {
            if (m instanceof Linear l && l.isPacked()) {
                return true;
            }
        }
        return false;
    }

    /** Drops the packed weights ({@link #packWeights()}); call it before editing weights in place. */
    public synchronized void unpackWeights() {
        for (VitModule m : namedModules().values()) {
            if (m instanceof Linear l) {
                l.unpack();
            }
        }
    }

    @Override
    public void close() {
        unpackWeights();
        manager.close();
    }
}
