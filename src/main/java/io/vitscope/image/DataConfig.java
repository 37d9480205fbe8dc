package io.vitscope.image;

import java.util.Arrays;
import java.util.Locale;

/**
 * How an image becomes the model's input: timm's {@code resolve_data_config} result, used by its eval transform
 * (resize the shorter side to {@code floor(size / crop_pct)}, center crop, to [0, 1], normalize).
 *
 * @param inChans channels the model takes: 3 (RGB) or 1 (grayscale, Pillow's {@code convert('L')})
 * @param height crop height
 * @param width crop width
 * @param cropPct fraction of the resized image kept by the center crop (timm: 0.9 for ViT, 0.875 for DeiT)
 * @param interpolation resampling filter of the resize
 * @param cropMode {@code CENTER}: timm's eval transform (shorter side to {@code floor(size / crop_pct)}, center crop);
 *     {@code SQUASH}: resize straight to height × width ignoring aspect (Hugging Face's {@code ViTImageProcessor})
 * @param mean per-channel mean subtracted after scaling to [0, 1]
 * @param std per-channel standard deviation divided by after subtracting the mean
 */
public record DataConfig(int inChans, int height, int width, double cropPct, Interpolation interpolation,
                         CropMode cropMode, double[] mean, double[] std) {

    /** How the image is fitted to the input size, as timm's {@code crop_mode} names it. */
    public enum CropMode { CENTER, SQUASH }

    /** Resampling filters, named as timm and Pillow name them. */
    public enum Interpolation {
        NEAREST, BILINEAR, BICUBIC;

        public static Interpolation parse(String name) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            return switch (n) {
                case "nearest", "0" -> NEAREST;
                case "bilinear", "linear", "2" -> BILINEAR;
                case "bicubic", "cubic", "3" -> BICUBIC;
                default -> throw new IllegalArgumentException(
                        "Unknown interpolation '" + name + "': use nearest, bilinear or bicubic");
            };
        }

        public String timmName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final double[] IMAGENET_DEFAULT_MEAN = {0.485, 0.456, 0.406};
    public static final double[] IMAGENET_DEFAULT_STD = {0.229, 0.224, 0.225};
    public static final double[] IMAGENET_INCEPTION_MEAN = {0.5, 0.5, 0.5};
    public static final double[] IMAGENET_INCEPTION_STD = {0.5, 0.5, 0.5};

    /**
     * The smallest crop_pct accepted: the resize step makes the shorter side {@code size / crop_pct}, so this bounds
     * it at 10× the input size (timm's models use 0.875 to 1). Below it, a corrupt value such as 1e-9 would ask for
     * a resize to billions of pixels.
     */
    public static final double MIN_CROP_PCT = 0.1;

    public DataConfig {
        require(inChans == 1 || inChans == 3, "data config channels must be 1 or 3, got %d", inChans);
        require(height > 0 && width > 0, "input size must be positive, got %dx%d", height, width);
        require(cropPct >= MIN_CROP_PCT && cropPct <= 1, "crop_pct must be from %s to 1, got %s", MIN_CROP_PCT,
                cropPct);
        require(interpolation != null, "interpolation is required");
        require(cropMode != null, "crop mode is required");
        require(mean != null && mean.length == inChans, "mean needs %d values", inChans);
        require(std != null && std.length == inChans, "std needs %d values", inChans);
        for (double s : std) {
            require(s > 0 && Double.isFinite(s), "std values must be positive, got %s", Arrays.toString(std));
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** timm's default for square RGB inputs. */
    public static DataConfig rgb(int size, double cropPct, Interpolation interpolation, double[] mean, double[] std) {
        return new DataConfig(3, size, size, cropPct, interpolation, CropMode.CENTER, mean, std);
    }

    /**
     * The shorter side after the resize step for a square input size: {@code floor(size / crop_pct)}, as timm's
     * transforms_factory computes {@code scale_size}. (For a non-square size timm resizes both sides, see
     * {@code EvalTransform}.)
     */
    public int resizeShorterSide() {
        return (int) Math.floor(Math.min(height, width) / cropPct);
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataConfig d && d.inChans == inChans && d.height == height && d.width == width
                && d.cropPct == cropPct && d.interpolation == interpolation && d.cropMode == cropMode
                && Arrays.equals(d.mean, mean)
                && Arrays.equals(d.std, std);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new double[] {inChans, height, width, cropPct, interpolation.ordinal(), cropMode.ordinal()})
                ^ Arrays.hashCode(mean) ^ 31 * Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "DataConfig[input=(%d,%d,%d), crop_pct=%s, interpolation=%s, crop_mode=%s, mean=%s, std=%s]",
                inChans, height, width, cropPct, interpolation.timmName(), cropMode.name().toLowerCase(Locale.ROOT),
                Arrays.toString(mean), Arrays.toString(std));
    }

    /** The same wording as the model config's checks: a data config is part of a model's config. */
    private static void require(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid ViT config: " + String.format(format, args));
        }
    }
}
