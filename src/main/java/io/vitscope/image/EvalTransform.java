package io.vitscope.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.InvalidInputException;
import io.vitscope.image.DataConfig.CropMode;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * timm's eval preprocessing ({@code timm/data/transforms_factory.py transforms_imagenet_eval}, timm 0.4.5) on
 * torchvision 0.14's PIL path, reproduced exactly: the uint8 image after {@link #resize} equals Pillow's bit for
 * bit, and {@link #apply} performs torchvision's float32 arithmetic in the same order, so the tensor is identical.
 *
 * <p>{@link CropMode#CENTER}: {@code Resize(scale_size)} then {@code CenterCrop((H, W))}, where scale_size is
 * {@code floor(H / crop_pct)} for the shorter side when H == W (torchvision then makes the longer side
 * {@code int(scale_size * long / short)}), and {@code (int(H / crop_pct), int(W / crop_pct))} exactly when H != W.
 * {@link CropMode#SQUASH}: {@code Resize((H, W))} ignoring the aspect ratio, no crop (Hugging Face's
 * {@code ViTImageProcessor}; it scales by multiplying with 1/255 in float32 where this divides by 255, which can
 * differ by one ulp). Both end with {@code ToTensor} (divide by 255) and {@code Normalize(mean, std)}.
 *
 * <p>Channels follow {@link DataConfig#inChans()}: 1 is Pillow's {@code convert('L')} of the decoded image.
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}); H'×W' is the size after the resize step.
 */
public final class EvalTransform {

    private final DataConfig cfg;
    private final float[] mean;
    private final float[] std;

    public EvalTransform(DataConfig cfg) {
        this.cfg = cfg;
        this.mean = toFloats(cfg.mean());
        this.std = toFloats(cfg.std());
    }

    public DataConfig config() {
        return cfg;
    }

    /** Channel conversion and the Resize step: the PIL image torchvision hands to CenterCrop. // (H', W', C) */
    public Image8 resize(Image8 im) {
        Image8 src = im.withChannels(cfg.inChans());
        int[] wh = resizedSize(src.width(), src.height());
        return PillowResize.resize(src, wh[0], wh[1], cfg.interpolation());
    }

    /** (width, height) after the Resize step for a source of the given size. */
    public int[] resizedSize(int width, int height) {
        int h = cfg.height();
        int w = cfg.width();
        if (cfg.cropMode() == CropMode.SQUASH) {
            return new int[] {w, h};
        }
        if (h != w) {
            // timm: scale_size = tuple([int(x / crop_pct) for x in img_size]); Resize(tuple) ignores the aspect
            return new int[] {(int) (w / cfg.cropPct()), (int) (h / cfg.cropPct())};
        }
        // torchvision _compute_resized_output_size: new_long = int(requested_new_short * long / short)
        int newShort = cfg.resizeShorterSide();
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        double newLongExact = (double) ((long) newShort * longSide) / shortSide;
        // An extreme aspect ratio (a 40,000x2 strip passes the reader's pixel limit) scales the long side with the
        // short one: bound the result by the same limit the reader applies to decoded images.
        if (newLongExact * newShort > ImageReader.DEFAULT_MAX_IMAGE_PIXELS) {
            throw new InvalidInputException(null, String.format(java.util.Locale.ROOT, "a %dx%d image resized to a "
                    + "shorter side of %d would have %.0f pixels, more than the %d an image may have: its aspect ratio"
                    + " (%.0f:1) is too extreme for this model's eval transform", width, height, newShort,
                    newLongExact * newShort, ImageReader.DEFAULT_MAX_IMAGE_PIXELS, (double) longSide / shortSide));
        }
        int newLong = (int) newLongExact;
        return width <= height ? new int[] {newShort, newLong} : new int[] {newLong, newShort};
    }

    /** Resize then CenterCrop (CENTER mode), the uint8 image ToTensor receives. // (H, W, C) */
    public Image8 resizeAndCrop(Image8 im) {
        Image8 resized = resize(im);
        if (cfg.cropMode() == CropMode.SQUASH) {
            return resized;
        }
        return centerCrop(resized, cfg.height(), cfg.width());
    }

    /**
     * torchvision {@code center_crop}: offsets {@code int(round((size - crop) / 2.0))} (Python rounds halves to
     * even, as {@link Math#rint} does); a side shorter than the crop is first padded with zeros,
     * {@code (crop - size) // 2} before it.
     */
    static Image8 centerCrop(Image8 im, int cropH, int cropW) {
        int top = cropH > im.height() ? -((cropH - im.height()) / 2) : (int) Math.rint((im.height() - cropH) / 2.0);
        int left = cropW > im.width() ? -((cropW - im.width()) / 2) : (int) Math.rint((im.width() - cropW) / 2.0);
        if (top == 0 && left == 0 && cropH == im.height() && cropW == im.width()) {
            return im;
        }
        return im.crop(left, top, cropW, cropH);
    }

    /** The model input for one decoded image. // (C, H, W) */
    public float[] apply(Image8 im) {
        return toTensor(resizeAndCrop(im));
    }

    /**
     * {@code ToTensor} then {@code Normalize}: {@code (v / 255f - mean) / std} in float32, each operation rounded as
     * torch rounds it ({@code div(255)}, {@code sub_(mean)}, {@code div_(std)} with float32 mean and std).
     */
    public float[] toTensor(Image8 im) {
        if (im.channels() != cfg.inChans()) {
            throw new IllegalArgumentException("image has " + im.channels() + " channels, the data config expects "
                    + cfg.inChans() + ": pass it through resizeAndCrop first");
        }
        int c = im.channels();
        int hw = im.width() * im.height();
        byte[] px = im.pixels();
        float[] out = new float[c * hw]; // (C, H, W)
        for (int ch = 0; ch < c; ch++) {
            float m = mean[ch];
            float s = std[ch];
            for (int i = 0; i < hw; i++) {
                float v = (px[i * c + ch] & 0xFF) / 255f;
                out[ch * hw + i] = (v - m) / s;
            }
        }
        return out;
    }

    /** Preprocesses each image into one batch. // (B, C, H, W) */
    public NDArray batch(NDManager manager, List<Image8> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one image");
        }
        int per = cfg.inChans() * cfg.height() * cfg.width();
        float[] data = new float[Math.multiplyExact(per, images.size())]; // (B, C, H, W)
        for (int b = 0; b < images.size(); b++) {
            System.arraycopy(apply(images.get(b)), 0, data, b * per, per);
        }
        return manager.create(data, new Shape(images.size(), cfg.inChans(), cfg.height(), cfg.width()));
    }

    /** {@link #denormalize(float[], int, int, int, double[], double[])} with this transform's config. */
    public BufferedImage denormalize(float[] chw) {
        return denormalize(chw, cfg.inChans(), cfg.height(), cfg.width(), cfg.mean(), cfg.std());
    }

    /**
     * The inverse of ToTensor + Normalize for display: {@code round((x * std + mean) * 255)} clamped to 0..255, as an
     * RGB image (one channel is shown as gray). Used to draw {@code .npy} inputs whose pixels were never an image.
     *
     * @param chw normalized tensor // (C, H, W)
     */
    public static BufferedImage denormalize(float[] chw, int c, int h, int w, double[] mean, double[] std) {
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("can show 1 or 3 channels, got " + c);
        }
        if (chw.length != (long) c * h * w) {
            throw new IllegalArgumentException("tensor has " + chw.length + " values, expected C*H*W = "
                    + c + "*" + h + "*" + w);
        }
        if (mean.length != c || std.length != c) {
            throw new IllegalArgumentException("mean and std need " + c + " values each");
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int hw = h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int k = 0; k < 3; k++) {
                    int ch = c == 1 ? 0 : k;
                    double v = (chw[ch * hw + y * w + x] * std[ch] + mean[ch]) * 255.0;
                    int b = Double.isNaN(v) ? 0 : (int) Math.max(0, Math.min(255, Math.round(v)));
                    rgb = rgb << 8 | b;
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
