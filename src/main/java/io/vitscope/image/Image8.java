package io.vitscope.image;

import java.util.Objects;

/**
 * An 8-bit image with 1 (Pillow mode {@code L}) or 3 (mode {@code RGB}) interleaved channels: what
 * {@link ImageReader} decodes and {@link PillowResize} resamples, the Java counterpart of a Pillow image in those
 * two modes. Rows are stored top to bottom with no padding.
 *
 * <p>The pixel array is shared, not copied, so that a 24-megapixel photo is not duplicated on every step; treat it
 * as read-only once the image is built.
 *
 * @param width W
 * @param height H
 * @param channels C: 1 or 3
 * @param pixels unsigned samples, {@code pixels[(y * W + x) * C + c]} // (H, W, C)
 */
public record Image8(int width, int height, int channels, byte[] pixels) {

    public Image8 {
        Objects.requireNonNull(pixels, "pixels");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("an Image8 has 1 (L) or 3 (RGB) channels, got " + channels);
        }
        if ((long) width * height * channels != pixels.length) {
            throw new IllegalArgumentException("pixel array holds " + pixels.length + " bytes, expected "
                    + width + " x " + height + " x " + channels);
        }
    }

    /** A black image, for callers that fill it themselves. */
    public static Image8 blank(int width, int height, int channels) {
        return new Image8(width, height, channels, new byte[Math.multiplyExact(Math.multiplyExact(width, height), channels)]);
    }

    /** Sample {@code c} of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * channels + c] & 0xFF;
    }

    /** Pillow's {@code Image.mode} name of this layout. */
    public String mode() {
        return channels == 1 ? "L" : "RGB";
    }

    /**
     * Pillow's {@code convert('L')}: identity for a grayscale image; for RGB the ITU-R 601-2 luma in Pillow's fixed
     * point, {@code L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16} (Convert.c {@code rgb2l}, macro
     * {@code L24}), which can differ by one level from a floating-point 0.299/0.587/0.114 formula.
     */
    public Image8 toGray() {
        if (channels == 1) {
            return this;
        }
        int n = width * height;
        byte[] out = new byte[n]; // (H, W)
        for (int i = 0, j = 0; i < n; i++, j += 3) {
            int r = pixels[j] & 0xFF;
            int g = pixels[j + 1] & 0xFF;
            int b = pixels[j + 2] & 0xFF;
            out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return new Image8(width, height, 1, out);
    }

    /** Pillow's {@code convert('RGB')} of this image: identity for RGB, the gray level repeated for L. */
    public Image8 toRgb() {
        if (channels == 3) {
            return this;
        }
        int n = width * height;
        byte[] out = new byte[n * 3]; // (H, W, 3)
        for (int i = 0; i < n; i++) {
            out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = pixels[i];
        }
        return new Image8(width, height, 3, out);
    }

    /** This image with {@code inChans} channels (3 → RGB, 1 → Pillow's {@code L}), as a model's data config asks. */
    public Image8 withChannels(int inChans) {
        return switch (inChans) {
            case 1 -> toGray();
            case 3 -> toRgb();
            default -> throw new IllegalArgumentException("channels must be 1 or 3, got " + inChans);
        };
    }

    /**
     * The rectangle (left, top, w, h), as Pillow's {@code Image.crop((left, top, left + w, top + h))}: parts outside
     * this image come out black, which is what torchvision's {@code center_crop} gets by padding with 0 first.
     */
    public Image8 crop(int left, int top, int w, int h) {
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), channels)]; // (h, w, C)
        int x0 = Math.max(0, left);
        int x1 = Math.min(width, left + w);
        if (x1 > x0) {
            for (int y = Math.max(0, top); y < Math.min(height, top + h); y++) {
                System.arraycopy(pixels, (y * width + x0) * channels, out, ((y - top) * w + (x0 - left)) * channels,
                        (x1 - x0) * channels);
            }
        }
        return new Image8(w, h, channels, out);
    }

    /** Value equality: same size, channels and pixels (a record would compare the array by identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Image8 im && im.width == width && im.height == height && im.channels == channels
                && java.util.Arrays.equals(im.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * width + height) + channels) + java.util.Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "Image8[" + mode() + ", " + width + "x" + height + "]";
    }
}
