package io.vitscope.train;

import io.vitscope.InvalidArgumentException;
import io.vitscope.image.DataConfig;
import java.util.Random;

/**
 * Turns 28×28 grayscale bytes into the model's input, exactly as inference prepares a 28×28 grayscale image with
 * the model's data config (crop_pct 1.0, so timm's eval transform resizes and crops nothing): {@code x / 255},
 * then {@code (x - mean) / std}. Training may add light augmentation first, on the bytes.
 */
public final class Batches {

    /**
     * Augmentation applied to training images.
     *
     * @param flip probability-½ horizontal flip
     * @param pad random crop back to 28×28 from the image zero-padded by this many pixels per side (0: none),
     *     torchvision's {@code RandomCrop(28, padding=pad)}
     */
    public record Augment(boolean flip, int pad) {
        public static final Augment NONE = new Augment(false, 0);

        public Augment {
            if (pad < 0 || pad > 8) {
                throw new InvalidArgumentException("pad", "crop padding must be 0–8 pixels, got " + pad);
            }
        }

        public boolean any() {
            return flip || pad > 0;
        }

        @Override
        public String toString() {
            if (!any()) {
                return "none";
            }
            return (flip ? "hflip" : "") + (flip && pad > 0 ? "+" : "") + (pad > 0 ? "crop(pad " + pad + ")" : "");
        }
    }

    private final float scale;  // 1 / (255 std)
    private final float shift;  // mean / std

    public Batches(DataConfig dataConfig) {
        if (dataConfig.inChans() != 1 || dataConfig.height() != FashionMnist.SIZE
                || dataConfig.width() != FashionMnist.SIZE || dataConfig.cropPct() != 1.0) {
            throw new IllegalArgumentException("Fashion-MNIST batches need a 1x28x28 data config with crop_pct 1.0, got "
                    + dataConfig);
        }
        this.scale = (float) (1.0 / (255.0 * dataConfig.std()[0]));
        this.shift = (float) (dataConfig.mean()[0] / dataConfig.std()[0]);
    }

    /** One normalised pixel value from a byte value 0–255. */
    public float normalize(int value) {
        return value * scale - shift;
    }

    /**
     * Writes images {@code order[from..to)} into {@code dst} as (B, 1, 28, 28) float32, row-major.
     *
     * @param rng the source of augmentation choices; unused when {@code augment} is {@link Augment#NONE}
     */
    public void fill(float[] dst, Idx.Images images, int[] order, int from, int to, Augment augment, Random rng) {
        int hw = images.rows() * images.cols();
        int h = images.rows();
        int w = images.cols();
        byte[] px = images.pixels();
        float zero = normalize(0);
        for (int b = 0; b < to - from; b++) {
            int src = order[from + b] * hw;
            int out = b * hw;
            boolean flip = augment.flip() && rng.nextBoolean();
            int dy = 0;
            int dx = 0;
            if (augment.pad() > 0) {
                dy = rng.nextInt(2 * augment.pad() + 1) - augment.pad();
                dx = rng.nextInt(2 * augment.pad() + 1) - augment.pad();
            }
            for (int r = 0; r < h; r++) {
                int sr = r + dy;
                for (int c = 0; c < w; c++) {
                    int sc = (flip ? w - 1 - c : c) + dx;
                    dst[out + r * w + c] = sr < 0 || sr >= h || sc < 0 || sc >= w
                            ? zero : normalize(px[src + sr * w + sc] & 0xff);
                }
            }
        }
    }

    /** Labels {@code order[from..to)} as int64, as DJL's softmax cross-entropy takes sparse labels. */
    public static void fillLabels(long[] dst, byte[] labels, int[] order, int from, int to) {
        for (int b = 0; b < to - from; b++) {
            dst[b] = labels[order[from + b]];
        }
    }
}
