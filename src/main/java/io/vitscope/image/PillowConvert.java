package io.vitscope.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Decoded pixels to what Pillow 9.4's {@code Image.open(f).convert('RGB')} (or, for gray sources, mode {@code L})
 * holds. Raw raster samples are read, never {@code BufferedImage.getRGB}, which would apply colour-space
 * conversions (gray gamma, ICC profiles) that Pillow does not do.
 *
 * <p>Pillow's mappings reproduced here (PngImagePlugin {@code _MODES}, Unpack.c, Convert.c):
 * <ul>
 *   <li>alpha is dropped, never composited ({@code rgba2rgb}, {@code la2rgb});</li>
 *   <li>palette images are looked up in their palette, ignoring transparency;</li>
 *   <li>1-, 2- and 4-bit gray scales to 0..255 ({@code L;2} multiplies by 85);</li>
 *   <li>16-bit RGB, RGBA and gray+alpha keep the high byte of each sample ({@code RGB;16B});</li>
 *   <li>16-bit gray becomes Pillow mode {@code I}, whose {@code convert('L'/'RGB')} <em>clips</em> at 255
 *       ({@code i2l}, {@code i2rgb}): values 255..65535 all become 255. This saturates most 16-bit gray photos;
 *       it is what timm's pipeline feeds the model, so it is kept for parity;</li>
 *   <li>4-channel JPEGs are Adobe-inverted CMYK ({@code CMYK;I}, Pillow assumes it for every CMYK JPEG) converted
 *       by {@code cmyk2rgb}; YCCK JPEGs are first turned into CMYK as libjpeg does ({@code ycck_cmyk_convert}).</li>
 * </ul>
 */
final class PillowConvert {

    private PillowConvert() {
    }

    /** Gray-family sources give a 1-channel image (Pillow L/1/I/LA), everything else 3 channels (RGB). */
    static Image8 fromBufferedImage(BufferedImage bi, boolean sixteenBitGrayClips) {
        Raster r = bi.getRaster();
        ColorModel cm = bi.getColorModel();
        int w = r.getWidth();
        int h = r.getHeight();
        if (cm instanceof IndexColorModel icm) {
            return fromIndexed(r, icm, w, h);
        }
        int bands = r.getNumBands();
        int colours = cm.getNumColorComponents();
        int depth = r.getSampleModel().getSampleSize(0);
        if (depth > 16) {
            throw new IllegalStateException("unsupported " + depth + "-bit samples");
        }
        boolean gray = colours == 1;
        int outC = gray ? 1 : 3;
        if (!gray && colours != 3) {
            throw new IllegalStateException("unsupported colour model with " + colours + " colour components");
        }
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), outC)]; // (H, W, C)
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            r.getPixels(0, y, w, 1, row);
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < outC; c++) {
                    int v = row[x * bands + c];
                    int bits = r.getSampleModel().getSampleSize(c);
                    out[(y * w + x) * outC + c] = (byte) toByte(v, bits, gray && bands == 1 && sixteenBitGrayClips);
                }
            }
        }
        return new Image8(w, h, outC, out);
    }

    private static int toByte(int v, int bits, boolean clipGray16) {
        if (bits == 8) {
            return v;
        }
        if (bits == 16) {
            return clipGray16 ? Math.min(v, 255) : v >>> 8;
        }
        if (bits < 8) {
            // L;2/L;4 multiply by 85/17; Unpack.c's BGR;15/BGR;16 (BMP) truncate v * 255 / 31 the same way
            return v * 255 / ((1 << bits) - 1);
        }
        return Math.min(255, v >>> (bits - 8));
    }

    private static Image8 fromIndexed(Raster r, IndexColorModel icm, int w, int h) {
        int size = icm.getMapSize();
        boolean gray = true;
        for (int i = 0; i < size && gray; i++) {
            gray = icm.getRed(i) == icm.getGreen(i) && icm.getGreen(i) == icm.getBlue(i);
        }
        // ImageIO hands 1/2/4-bit gray PNGs over as gray palettes: those are Pillow mode L (or 1), not P
        int outC = gray ? 1 : 3;
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), outC)]; // (H, W, C)
        int[] idx = new int[w];
        for (int y = 0; y < h; y++) {
            r.getSamples(0, y, w, 1, 0, idx);
            for (int x = 0; x < w; x++) {
                int i = idx[x];
                int o = (y * w + x) * outC;
                if (i >= size) {
                    // Pillow's palette starts as a gray ramp; entries a short palette leaves unset keep it
                    out[o] = (byte) i;
                    if (outC == 3) {
                        out[o + 1] = out[o + 2] = (byte) i;
                    }
                } else if (outC == 1) {
                    out[o] = (byte) icm.getRed(i);
                } else {
                    out[o] = (byte) icm.getRed(i);
                    out[o + 1] = (byte) icm.getGreen(i);
                    out[o + 2] = (byte) icm.getBlue(i);
                }
            }
        }
        return new Image8(w, h, outC, out);
    }

    /**
     * A 4-component JPEG raster (raw decoded samples) to RGB. {@code ycck}: the Adobe transform flag said YCCK, and
     * libjpeg would have converted the first three components from YCbCr before Pillow saw them.
     */
    static Image8 fromCmykJpeg(Raster r, boolean ycck) {
        if (r.getNumBands() != 4 || r.getTransferType() != DataBuffer.TYPE_BYTE) {
            throw new IllegalStateException("expected 4 byte bands, found " + r.getNumBands());
        }
        int w = r.getWidth();
        int h = r.getHeight();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)]; // (H, W, 3)
        int[] px = new int[w * 4];
        for (int y = 0; y < h; y++) {
            r.getPixels(r.getMinX(), r.getMinY() + y, w, 1, px);
            for (int x = 0; x < w; x++) {
                int c = px[4 * x];
                int m = px[4 * x + 1];
                int ye = px[4 * x + 2];
                int k = px[4 * x + 3];
                if (ycck) {
                    int[] cmy = YcckTables.toCmy(c, m, ye);
                    c = cmy[0];
                    m = cmy[1];
                    ye = cmy[2];
                }
                // CMYK;I: Pillow assumes Adobe's inverted storage
                c = 255 - c;
                m = 255 - m;
                ye = 255 - ye;
                k = 255 - k;
                int nk = 255 - k;
                int o = (y * w + x) * 3;
                out[o] = (byte) clip8(nk - mulDiv255(c, nk));
                out[o + 1] = (byte) clip8(nk - mulDiv255(m, nk));
                out[o + 2] = (byte) clip8(nk - mulDiv255(ye, nk));
            }
        }
        return new Image8(w, h, 3, out);
    }

    /** ImagingUtils.h {@code MULDIV255}: (a * b + 127) / 255 without a division. */
    private static int mulDiv255(int a, int b) {
        int tmp = a * b + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    private static int clip8(int v) {
        return v <= 0 ? 0 : Math.min(v, 255);
    }

    /** libjpeg's {@code jdcolor.c} fixed-point YCbCr→RGB tables as {@code ycck_cmyk_convert} uses them. */
    private static final class YcckTables {
        private static final int SCALEBITS = 16;
        private static final int ONE_HALF = 1 << (SCALEBITS - 1);
        private static final int[] CR_R = new int[256];
        private static final int[] CB_B = new int[256];
        private static final int[] CR_G = new int[256];
        private static final int[] CB_G = new int[256];

        static {
            for (int i = 0; i < 256; i++) {
                int x = i - 128;
                CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
                CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
                CR_G[i] = -fix(0.71414) * x;
                CB_G[i] = -fix(0.34414) * x + ONE_HALF;
            }
        }

        private static int fix(double x) {
            return (int) (x * (1L << SCALEBITS) + 0.5);
        }

        /** (Y, Cb, Cr) → (255 - R, 255 - G, 255 - B), each R, G, B clamped to 0..255 ({@code range_limit}). */
        static int[] toCmy(int y, int cb, int cr) {
            int red = clip8(y + CR_R[cr]);
            int green = clip8(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            int blue = clip8(y + CB_B[cb]);
            return new int[] {255 - red, 255 - green, 255 - blue};
        }
    }
}
