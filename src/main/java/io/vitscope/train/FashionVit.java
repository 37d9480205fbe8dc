package io.vitscope.train;

import io.vitscope.image.DataConfig;
import io.vitscope.model.VitConfig;

/**
 * vitscope's default model: timm's ViT family (patch embedding, 12 pre-norm attention blocks, class token, linear
 * head) at a small width for 28×28 grayscale Fashion-MNIST, trained by {@link FashionTrainer}.
 */
public final class FashionVit {

    /** The architecture name written to {@code config.json}, as timm's hub configs name theirs. */
    public static final String ARCHITECTURE = "vit_fashion_mnist";

    /**
     * Patch 4 (a 7×7 grid, T = 50 tokens), D 64, 12 blocks, 4 heads (Dh 16), MLP 128, 10 classes: 0.41 M parameters.
     * The width is what a 60-minute training budget on 2 CPU cores allows at 50 tokens (about 5 minutes an epoch).
     */
    public static final VitConfig CONFIG = new VitConfig(28, 28, 4, 1, 10, 64, 12, 4, 2.0, true, 1e-6);

    /** Fashion-MNIST's training-set pixel mean and standard deviation (of x / 255), rounded to 4 places. */
    public static final double MEAN = 0.2860;
    public static final double STD = 0.3530;

    /** No resize or crop (the images are already 28×28), then normalisation with the dataset's statistics. */
    public static final DataConfig DATA_CONFIG = new DataConfig(1, 28, 28, 1.0, DataConfig.Interpolation.BILINEAR,
            DataConfig.CropMode.CENTER, new double[] {MEAN}, new double[] {STD});

    private FashionVit() {}
}
