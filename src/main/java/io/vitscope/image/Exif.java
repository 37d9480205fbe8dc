package io.vitscope.image;

/**
 * The EXIF orientation tag and Pillow's {@code ImageOps.exif_transpose}, which turns a phone photo stored sideways
 * upright. timm's plain eval transform does not call it (its {@code ImageDataset} only does {@code convert('RGB')}),
 * so a model evaluated by timm saw such photos sideways; {@link ImageReader#withExifOrientation(boolean)} turns the
 * transpose off to reproduce that.
 */
final class Exif {

    private Exif() {
    }

    /**
     * Tag 0x0112 of IFD0 of a TIFF-structured EXIF block at {@code d[off .. off + len)}; 1 (upright) when it is
     * missing, malformed or out of range. Never throws: a broken EXIF block must not make a decodable image fail.
     */
    static int orientation(byte[] d, int off, int len) {
        int end = Math.min(d.length, off + Math.max(0, len));
        if (off < 0 || end - off < 8) {
            return 1;
        }
        boolean le;
        if (d[off] == 'I' && d[off + 1] == 'I') {
            le = true;
        } else if (d[off] == 'M' && d[off + 1] == 'M') {
            le = false;
        } else {
            return 1;
        }
        if (u16(d, off + 2, le) != 42) {
            return 1;
        }
        long ifd = u32(d, off + 4, le);
        if (ifd < 8 || ifd > end - off - 2) {
            return 1;
        }
        int p = off + (int) ifd;
        int count = u16(d, p, le);
        p += 2;
        for (int i = 0; i < count && p + 12 <= end; i++, p += 12) {
            if (u16(d, p, le) == 0x0112) {
                int type = u16(d, p + 2, le);
                int value = type == 3 ? u16(d, p + 8, le) : type == 4 ? (int) Math.min(9, u32(d, p + 8, le)) : 1;
                return value >= 1 && value <= 8 ? value : 1;
            }
        }
        return 1;
    }

    /**
     * {@code ImageOps.exif_transpose}: 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE,
     * 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90 (Pillow's rotations are counter-clockwise).
     */
    static Image8 transpose(Image8 im, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return im;
        }
        int w = im.width();
        int h = im.height();
        int c = im.channels();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        byte[] src = im.pixels();
        byte[] out = new byte[src.length]; // (H', W', C)
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                // source pixel (sx, sy) that lands on output (x, y)
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }                     // transpose
                    case 6 -> { sx = y; sy = h - 1 - x; }             // rotate 270° counter-clockwise
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }     // transverse
                    default -> { sx = w - 1 - y; sy = x; }            // 8: rotate 90° counter-clockwise
                }
                System.arraycopy(src, (sy * w + sx) * c, out, (y * ow + x) * c, c);
            }
        }
        return new Image8(ow, oh, c, out);
    }

    private static int u16(byte[] d, int p, boolean le) {
        if (p < 0 || p + 2 > d.length) {
            return -1;
        }
        return le ? ImageHeader.u16le(d, p) : ImageHeader.u16be(d, p);
    }

    private static long u32(byte[] d, int p, boolean le) {
        if (p < 0 || p + 4 > d.length) {
            return -1;
        }
        return le ? ImageHeader.u32le(d, p) : ImageHeader.u32be(d, p);
    }
}
