package io.vitscope.model;

/**
 * The architecture of a Vision Transformer, as timm's {@code VisionTransformer.__init__} arguments.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 *
 * @param imgHeight input height in pixels (H)
 * @param imgWidth input width in pixels (W)
 * @param patchSize side of a square patch (P); H and W must be multiples of it
 * @param inChans input channels (C): 3 for RGB, 1 for grayscale
 * @param numClasses classifier outputs (K)
 * @param embedDim token width (D)
 * @param depth number of transformer blocks
 * @param numHeads attention heads per block (N); must divide D
 * @param mlpRatio MLP hidden width as a multiple of D
 * @param qkvBias whether the qkv projection has a bias
 * @param layerNormEps epsilon of every LayerNorm (timm uses 1e-6; Hugging Face's ViT config says 1e-12)
 * @param distilled DeiT's distilled variant (timm's {@code VisionTransformerDistilled}): a distillation token after
 *     the class token and a second head on it; the output is the mean of the two heads
 */
public record VitConfig(
        int imgHeight,
        int imgWidth,
        int patchSize,
        int inChans,
        int numClasses,
        int embedDim,
        int depth,
        int numHeads,
        double mlpRatio,
        boolean qkvBias,
        double layerNormEps,
        boolean distilled) {

    /**
     * Upper bounds that no real ViT comes near (the deepest published ones have 48 blocks, the widest heads 21,843
     * classes, multispectral inputs a few hundred channels). A config is untrusted input: building a model allocates
     * per block, and label lists and per-channel arrays are sized by these numbers, so a corrupt value such as
     * {@code num_hidden_layers: 2147483647} must fail here, as a named error, not after minutes or with an
     * OutOfMemoryError.
     */
    public static final int MAX_DEPTH = 1024;
    public static final int MAX_CLASSES = 1 << 20;
    public static final int MAX_CHANNELS = 1024;

    public VitConfig {
        require(imgHeight > 0 && imgWidth > 0, "image size must be positive, got %dx%d", imgHeight, imgWidth);
        require(patchSize > 0, "patch size must be positive, got %d", patchSize);
        require(imgHeight % patchSize == 0 && imgWidth % patchSize == 0,
                "image size %dx%d is not a multiple of the patch size %d: choose a size divisible by it",
                imgHeight, imgWidth, patchSize);
        require(inChans > 0, "input channels must be positive, got %d", inChans);
        require(numClasses > 0, "number of classes must be positive, got %d", numClasses);
        require(embedDim > 0 && numHeads > 0, "embed dim and heads must be positive, got %d and %d", embedDim, numHeads);
        require(embedDim % numHeads == 0,
                "embed dim %d is not divisible by the number of heads %d", embedDim, numHeads);
        require(depth > 0, "depth must be positive, got %d", depth);
        require(depth <= MAX_DEPTH, "depth %d is beyond the %d blocks a model may have here: the config is corrupt",
                depth, MAX_DEPTH);
        require(numClasses <= MAX_CLASSES, "%d classes is beyond the %d a model may have here: the config is corrupt",
                numClasses, MAX_CLASSES);
        // Sizes the model derives in int arithmetic must not overflow into negative tensor dimensions.
        require((long) (imgHeight / patchSize) * (imgWidth / patchSize) < Integer.MAX_VALUE,
                "image size %dx%d with patch %d gives more patches than a tensor dimension holds: the config is corrupt",
                imgHeight, imgWidth, patchSize);
        require(mlpRatio > 0 && Double.isFinite(mlpRatio), "mlp ratio must be a positive number, got %s", mlpRatio);
        require(3L * embedDim <= Integer.MAX_VALUE && embedDim * mlpRatio < Integer.MAX_VALUE,
                "embed dim %d (mlp ratio %s) is beyond what a tensor dimension holds: the config is corrupt",
                embedDim, mlpRatio);
        require(inChans <= MAX_CHANNELS, "%d input channels is beyond the %d a model may have here: the config is "
                + "corrupt", inChans, MAX_CHANNELS);
        require((int) (embedDim * mlpRatio) > 0, "MLP hidden width (embed dim × mlp ratio) truncates to zero");
        require(layerNormEps > 0 && layerNormEps < 1, "layer norm epsilon must be in (0, 1), got %s", layerNormEps);
    }

    /** A plain (not distilled) ViT. */
    public VitConfig(int imgHeight, int imgWidth, int patchSize, int inChans, int numClasses, int embedDim, int depth,
                     int numHeads, double mlpRatio, boolean qkvBias, double layerNormEps) {
        this(imgHeight, imgWidth, patchSize, inChans, numClasses, embedDim, depth, numHeads, mlpRatio, qkvBias,
                layerNormEps, false);
    }

    /** A square-image config with timm's defaults for the rest (qkv bias on, LayerNorm eps 1e-6). */
    public static VitConfig of(int imgSize, int patchSize, int inChans, int numClasses, int embedDim, int depth,
                               int numHeads, double mlpRatio) {
        return new VitConfig(imgSize, imgSize, patchSize, inChans, numClasses, embedDim, depth, numHeads, mlpRatio,
                true, 1e-6);
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    public int gridHeight() {
        return imgHeight / patchSize;
    }

    public int gridWidth() {
        return imgWidth / patchSize;
    }

    /** Patches L = G_h × G_w. */
    public int numPatches() {
        return gridHeight() * gridWidth();
    }

    /** Tokens before the patches: the class token, and the distillation token of a distilled model. */
    public int numPrefixTokens() {
        return distilled ? 2 : 1;
    }

    /** Tokens T = L + 1 (the class token), L + 2 for a distilled model. */
    public int numTokens() {
        return numPatches() + numPrefixTokens();
    }

    public int mlpHidden() {
        return (int) (embedDim * mlpRatio);   // timm: int(dim * mlp_ratio), truncated
    }

    public VitConfig withNumClasses(int k) {
        return new VitConfig(imgHeight, imgWidth, patchSize, inChans, k, embedDim, depth, numHeads, mlpRatio, qkvBias,
                layerNormEps, distilled);
    }

    public VitConfig withImageSize(int height, int width) {
        return new VitConfig(height, width, patchSize, inChans, numClasses, embedDim, depth, numHeads, mlpRatio, qkvBias,
                layerNormEps, distilled);
    }

    public VitConfig withLayerNormEps(double eps) {
        return new VitConfig(imgHeight, imgWidth, patchSize, inChans, numClasses, embedDim, depth, numHeads, mlpRatio,
                qkvBias, eps, distilled);
    }

    public VitConfig withDistilled(boolean d) {
        return new VitConfig(imgHeight, imgWidth, patchSize, inChans, numClasses, embedDim, depth, numHeads, mlpRatio,
                qkvBias, layerNormEps, d);
    }

    /** Multiply-adds ×2 of one forward pass for one image: patch embedding, blocks and head. */
    public double flopsPerImage() {
        double t = numTokens();
        double d = embedDim;
        double l = numPatches();
        double patch = 2.0 * l * d * inChans * patchSize * patchSize;
        double perBlock = 2.0 * t * d * 3 * d      // qkv
                + 2.0 * t * t * d * 2              // q·kᵀ and attn·v
                + 2.0 * t * d * d                  // proj
                + 2.0 * t * d * mlpHidden() * 2;   // fc1, fc2
        double head = 2.0 * d * numClasses * (distilled ? 2 : 1);
        return patch + depth * perBlock + head;
    }

    /**
     * {@link #flopsPerImage()} less the rows {@code VisionTransformer.forward} leaves out: the last block's MLP
     * (fc1, fc2) for every token but the prefix tokens. What a forward with no probe on its last MLP computes.
     */
    public double forwardFlopsPerImage() {
        return flopsPerImage() - 2.0 * numPatches() * embedDim * mlpHidden() * 2;
    }

    static void require(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid ViT config: " + String.format(format, args));
        }
    }
}
