package io.vitscope.image;

import io.vitscope.image.DataConfig.Interpolation;

/**
 * Pillow 9.4's {@code Image.resize(size, resample)} (box = the whole image, {@code reducing_gap=None}) on 8-bit
 * L and RGB images, reproduced bit for bit: timm's eval transform runs through torchvision's PIL path, so a model
 * was trained and evaluated on exactly these pixels. AWT's and DJL's resizers differ from it by several levels.
 *
 * <p>BILINEAR and BICUBIC follow {@code libImaging/Resample.c}: a separable convolution whose kernel is widened by
 * the downscale factor (so downscaling antialiases), bicubic with a = -0.5, weights normalized to sum 1 and then
 * rounded to fixed point with {@code PRECISION_BITS} = 22, a horizontal pass then a vertical pass, each rounding
 * and clipping to 8 bits. NEAREST is not a resample in Pillow: {@code _imaging.c _resize} runs it as an affine
 * transform ({@code Geometry.c ImagingScaleAffine}), whose source coordinates come from a running double sum that
 * this class accumulates the same way.
 */
public final class PillowResize {

    /** Resample.c: 32 bits minus 8 for the result and 2 for the overshoot of negative-lobe kernels. */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PillowResize() {
    }

    /** Pillow's {@code im.resize((width, height), filter)}. */
    public static Image8 resize(Image8 im, int width, int height, Interpolation filter) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + width + "x" + height);
        }
        if (width == im.width() && height == im.height()) {
            return im; // Image.resize returns a copy; Image8 is treated as immutable
        }
        return switch (filter) {
            case NEAREST -> nearest(im, width, height);
            case BILINEAR, BICUBIC -> resample(im, width, height, filter);
        };
    }

    // ------------------------------------------------------------------ NEAREST (Geometry.c ImagingScaleAffine)

    private static Image8 nearest(Image8 im, int width, int height) {
        int[] xin = nearestIndices(im.width(), width);
        int[] yin = nearestIndices(im.height(), height);
        int c = im.channels();
        byte[] src = im.pixels();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(width, height), c)]; // (H', W', C)
        for (int y = 0; y < height; y++) {
            if (yin[y] < 0) {
                continue; // Pillow fills pixels that map outside the source with 0
            }
            int row = yin[y] * im.width();
            for (int x = 0; x < width; x++) {
                if (xin[x] >= 0) {
                    System.arraycopy(src, (row + xin[x]) * c, out, (y * width + x) * c, c);
                }
            }
        }
        return new Image8(width, height, c, out);
    }

    /** Source index for each output index, or -1; {@code a[0] = (double)(float)(in) / out}, {@code xo += a[0]}. */
    private static int[] nearestIndices(int inSize, int outSize) {
        double step = (double) (float) inSize / outSize;
        double xo = step * 0.5;
        int[] idx = new int[outSize];
        for (int x = 0; x < outSize; x++) {
            int v = xo < 0.0 ? -1 : (int) xo; // COORD(v)
            idx[x] = v < inSize ? v : -1;
            xo += step;
        }
        return idx;
    }

    // ------------------------------------------------------------------ BILINEAR, BICUBIC (Resample.c)

    /** Per output sample: first source index, number of taps, and fixed-point weights (ksize slots). */
    private record Coeffs(int ksize, int[] bounds, int[] kk) {
    }

    private static Image8 resample(Image8 im, int width, int height, Interpolation filter) {
        boolean needHorizontal = width != im.width();
        boolean needVertical = height != im.height();
        Coeffs vert = precomputeCoeffs(im.height(), height, filter);
        // ImagingResampleInner: the horizontal pass only computes the rows the vertical pass will read
        int yFirst = vert.bounds[0];
        int yLast = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
        Image8 cur = im;
        int rowOffset = 0;
        if (needHorizontal) {
            Coeffs horiz = precomputeCoeffs(im.width(), width, filter);
            cur = horizontal(im, width, yFirst, yLast - yFirst, horiz);
            rowOffset = yFirst;
        }
        if (needVertical) {
            cur = vertical(cur, height, rowOffset, vert);
        }
        return cur;
    }

    /** Resample.c {@code precompute_coeffs} with box (0, inSize) followed by {@code normalize_coeffs_8bpc}. */
    private static Coeffs precomputeCoeffs(int inSize, int outSize, Interpolation filter) {
        double filterSupport = filter == Interpolation.BICUBIC ? 2.0 : 1.0;
        float in0 = 0f;
        float in1 = inSize;
        double scale = (double) (in1 - in0) / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filterSupport * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        if ((long) outSize * ksize > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("resize from " + inSize + " to " + outSize + " needs too many weights");
        }
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = in0 + (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5); // C's (int) truncates toward zero, as Java's cast does
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = kernel(filter, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? k[x] : 0.0;
                kk[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    /** Resample.c {@code bilinear_filter} and {@code bicubic_filter} (a = -0.5), operation for operation. */
    private static double kernel(Interpolation filter, double x) {
        if (x < 0.0) {
            x = -x;
        }
        if (filter == Interpolation.BILINEAR) {
            return x < 1.0 ? 1.0 - x : 0.0;
        }
        final double a = -0.5;
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Resample.c {@code clip8}: drop the fraction bits, clamp to 0..255 (what its lookup table does). */
    private static byte clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** {@code ImagingResampleHorizontal_8bpc}: rows {@code offset .. offset + rows - 1} of the source. */
    private static Image8 horizontal(Image8 im, int width, int offset, int rows, Coeffs co) {
        int c = im.channels();
        byte[] src = im.pixels();
        int inRow = im.width() * c;
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(width, rows), c)]; // (rows, W', C)
        int half = 1 << (PRECISION_BITS - 1);
        int[] ss = new int[c];
        for (int yy = 0; yy < rows; yy++) {
            int rowStart = (yy + offset) * inRow;
            for (int xx = 0; xx < width; xx++) {
                int xmin = co.bounds[xx * 2];
                int xmax = co.bounds[xx * 2 + 1];
                int kBase = xx * co.ksize;
                int o = (yy * width + xx) * c;
                int p = rowStart + xmin * c;
                if (c == 3) { // the common case, in locals: the same sums in the same order, twice as fast
                    int s0 = half;
                    int s1 = half;
                    int s2 = half;
                    for (int x = 0; x < xmax; x++, p += 3) {
                        int w = co.kk[kBase + x];
                        s0 += (src[p] & 0xFF) * w;
                        s1 += (src[p + 1] & 0xFF) * w;
                        s2 += (src[p + 2] & 0xFF) * w;
                    }
                    out[o] = clip8(s0);
                    out[o + 1] = clip8(s1);
                    out[o + 2] = clip8(s2);
                    continue;
                }
                java.util.Arrays.fill(ss, half);
                for (int x = 0; x < xmax; x++, p += c) {
                    int w = co.kk[kBase + x];
                    for (int ch = 0; ch < c; ch++) {
                        ss[ch] += (src[p + ch] & 0xFF) * w;
                    }
                }
                for (int ch = 0; ch < c; ch++) {
                    out[o + ch] = clip8(ss[ch]);
                }
            }
        }
        return new Image8(width, rows, c, out);
    }

    /** {@code ImagingResampleVertical_8bpc}; {@code rowOffset} is the first source row held by {@code im}. */
    private static Image8 vertical(Image8 im, int height, int rowOffset, Coeffs co) {
        int c = im.channels();
        int rowLen = im.width() * c;
        byte[] src = im.pixels();
        byte[] out = new byte[Math.multiplyExact(height, rowLen)]; // (H', W', C)
        int[] acc = new int[rowLen];
        for (int yy = 0; yy < height; yy++) {
            int ymin = co.bounds[yy * 2] - rowOffset;
            int ymax = co.bounds[yy * 2 + 1];
            int kBase = yy * co.ksize;
            // Row by row into an accumulator (the loops of Resample.c swapped): each element still sums its taps in
            // order y = 0, 1, ..., so the integers are the same, but the source is read along rows, not down columns.
            java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            for (int y = 0; y < ymax; y++) {
                int w = co.kk[kBase + y];
                int row = (y + ymin) * rowLen;
                for (int i = 0; i < rowLen; i++) {
                    acc[i] += (src[row + i] & 0xFF) * w;
                }
            }
            int o = yy * rowLen;
            for (int i = 0; i < rowLen; i++) {
                out[o + i] = clip8(acc[i]);
            }
        }
        return new Image8(im.width(), height, c, out);
    }
}
