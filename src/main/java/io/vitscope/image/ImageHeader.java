package io.vitscope.image;

import java.nio.charset.StandardCharsets;

/**
 * What an image file says about itself before any pixel is decoded: the format (sniffed from the content, never
 * from the file name), the dimensions, and the few facts the decoder needs (JPEG component count and Adobe
 * transform, EXIF orientation, the first GIF frame's placement). Reading it first lets {@link ImageReader} refuse a
 * 60000×60000 "decompression bomb" before a decoder allocates anything, as Pillow's
 * {@code Image._decompression_bomb_check} does.
 *
 * <p>{@link #parse} throws {@link HeaderException} with a user-facing problem description on anything malformed;
 * it never reads outside the array and never loops more than the data length.
 *
 * @param format detected container format
 * @param width image width in pixels (for GIF: the logical screen, which is Pillow's image size)
 * @param height image height in pixels
 * @param jpegComponents JPEG: 1, 3 or 4 colour components; 0 for other formats
 * @param adobeTransform JPEG: the Adobe APP14 transform flag (0 none/CMYK, 1 YCbCr, 2 YCCK), -1 without the marker
 * @param exifOrientation EXIF tag 0x0112 (1..8), 1 when absent or unreadable
 * @param gifFrame GIF: the first frame's rectangle and transparent index; null for other formats
 */
record ImageHeader(Format format, int width, int height, int jpegComponents, int adobeTransform, int exifOrientation,
                   GifFrame gifFrame) {

    enum Format {
        JPEG("jpeg"), PNG("png"), GIF("gif"), BMP("bmp");

        final String imageIoName;

        Format(String imageIoName) {
            this.imageIoName = imageIoName;
        }
    }

    /** The first frame of a GIF inside its logical screen. {@code transparency} is -1 without one. */
    record GifFrame(int left, int top, int width, int height, int transparency) {
    }

    /** A malformed or unsupported header; the message is the problem, without the file name. */
    static final class HeaderException extends Exception {
        HeaderException(String problem) {
            super(problem);
        }
    }

    static ImageHeader parse(byte[] d) throws HeaderException {
        if (d.length == 0) {
            throw new HeaderException("the file is empty (0 bytes): expected a JPEG, PNG, GIF or BMP image");
        }
        if (startsWith(d, 0xFF, 0xD8, 0xFF)) {
            return jpeg(d);
        }
        if (startsWith(d, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return png(d);
        }
        if (startsWith(d, 'G', 'I', 'F', '8')) {
            return gif(d);
        }
        if (startsWith(d, 'B', 'M')) {
            return bmp(d);
        }
        throw new HeaderException("not a supported image: " + describe(d) + "; expected JPEG, PNG, GIF or BMP content"
                + " (the format is detected from the bytes, not the file extension)");
    }

    // ------------------------------------------------------------------ PNG

    private static ImageHeader png(byte[] d) throws HeaderException {
        if (d.length < 33) {
            throw new HeaderException("truncated PNG: the file ends inside the IHDR header (" + d.length + " bytes)");
        }
        if (!new String(d, 12, 4, StandardCharsets.ISO_8859_1).equals("IHDR")) {
            throw new HeaderException("corrupt PNG: the first chunk is not IHDR");
        }
        long w = u32be(d, 16);
        long h = u32be(d, 20);
        int depth = d[24] & 0xFF;
        int colorType = d[25] & 0xFF;
        boolean valid = switch (colorType) {
            case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
            case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
            case 2, 4, 6 -> depth == 8 || depth == 16;
            default -> false;
        };
        if (!valid) {
            throw new HeaderException("corrupt PNG: invalid bit depth " + depth + " for colour type " + colorType);
        }
        if ((d[28] & 0xFF) > 1) {
            throw new HeaderException("corrupt PNG: unknown interlace method " + (d[28] & 0xFF));
        }
        int[] size = checkedSize("PNG", w, h);
        return new ImageHeader(Format.PNG, size[0], size[1], 0, -1, pngExifOrientation(d), null);
    }

    /** The orientation from a PNG {@code eXIf} chunk (Pillow's {@code PngStream.chunk_eXIf}), 1 without one. */
    private static int pngExifOrientation(byte[] d) {
        int p = 8;
        while (p + 8 <= d.length) {
            long len = u32be(d, p);
            String type = new String(d, p + 4, 4, StandardCharsets.ISO_8859_1);
            if (len > d.length - p - 12L || type.equals("IDAT") || type.equals("IEND")) {
                return 1; // eXIf must precede IDAT; a bad length is the decoder's to report
            }
            if (type.equals("eXIf")) {
                return Exif.orientation(d, p + 8, (int) len);
            }
            p += 12 + (int) len;
        }
        return 1;
    }

    // ------------------------------------------------------------------ JPEG

    private static ImageHeader jpeg(byte[] d) throws HeaderException {
        int p = 2;
        int adobe = -1;
        int orientation = 1;
        while (true) {
            // markers may be preceded by any number of 0xFF fill bytes
            while (p < d.length && (d[p] & 0xFF) != 0xFF) {
                p++; // junk between segments: libjpeg warns and skips it, so do we
            }
            while (p < d.length && (d[p] & 0xFF) == 0xFF) {
                p++;
            }
            if (p >= d.length) {
                throw new HeaderException("truncated JPEG: no frame header (SOF marker) before the end of the file");
            }
            int marker = d[p++] & 0xFF;
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue; // standalone markers carry no length
            }
            if (marker == 0xD9 || marker == 0xDA) {
                throw new HeaderException("corrupt JPEG: " + (marker == 0xDA ? "scan data" : "end of image")
                        + " before the frame header (SOF marker)");
            }
            if (p + 2 > d.length) {
                throw new HeaderException("truncated JPEG: the file ends inside a marker segment");
            }
            int len = u16be(d, p);
            if (len < 2) {
                throw new HeaderException("corrupt JPEG: marker segment 0x" + Integer.toHexString(marker)
                        + " has length " + len);
            }
            if (p + len > d.length) {
                throw new HeaderException("truncated JPEG: the file ends inside marker segment 0x"
                        + Integer.toHexString(marker));
            }
            int s = p + 2; // segment payload
            int n = len - 2;
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                if (n < 6) {
                    throw new HeaderException("corrupt JPEG: frame header of " + n + " bytes");
                }
                int bits = d[s] & 0xFF;
                int h = u16be(d, s + 1);
                int w = u16be(d, s + 3);
                int comps = d[s + 5] & 0xFF;
                if (bits != 8) {
                    throw new HeaderException("unsupported JPEG: " + bits + "-bit samples (Pillow reads 8-bit only)");
                }
                if (comps != 1 && comps != 3 && comps != 4) {
                    throw new HeaderException("unsupported JPEG: " + comps + " colour components (expected 1, 3 or 4)");
                }
                if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2) {
                    throw new HeaderException("unsupported JPEG coding (SOF marker 0x" + Integer.toHexString(marker)
                            + "): only baseline and progressive Huffman JPEGs can be read");
                }
                int[] size = checkedSize("JPEG", w, h);
                return new ImageHeader(Format.JPEG, size[0], size[1], comps, adobe, orientation, null);
            }
            if (marker == 0xEE && n >= 12 && startsWithAt(d, s, "Adobe")) {
                adobe = d[s + 11] & 0xFF;
            }
            if (marker == 0xE1 && n >= 6 && startsWithAt(d, s, "Exif\0\0") && orientation == 1) {
                orientation = Exif.orientation(d, s + 6, n - 6);
            }
            p += len;
        }
    }

    // ------------------------------------------------------------------ GIF

    private static ImageHeader gif(byte[] d) throws HeaderException {
        if (d.length < 13) {
            throw new HeaderException("truncated GIF: the file ends inside the screen descriptor");
        }
        int w = u16le(d, 6);
        int h = u16le(d, 8);
        int flags = d[10] & 0xFF;
        int p = 13 + ((flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0);
        int transparency = -1;
        while (true) {
            if (p >= d.length) {
                throw new HeaderException("truncated GIF: no image in the file");
            }
            int b = d[p] & 0xFF;
            if (b == 0x2C) { // image descriptor
                if (p + 10 > d.length) {
                    throw new HeaderException("truncated GIF: the file ends inside the first image descriptor");
                }
                GifFrame f = new GifFrame(u16le(d, p + 1), u16le(d, p + 3), u16le(d, p + 5), u16le(d, p + 7),
                        transparency);
                checkedSize("GIF frame", f.width(), f.height());
                requireGifImageData(d, p + 10, d[p + 9] & 0xFF);
                // Pillow grows the image when the first frame sticks out of the logical screen
                int[] size = checkedSize("GIF", Math.max(w, f.left() + f.width()), Math.max(h, f.top() + f.height()));
                return new ImageHeader(Format.GIF, size[0], size[1], 0, -1, 1, f);
            }
            if (b == 0x3B) {
                throw new HeaderException("corrupt GIF: the file holds no image");
            }
            if (b != 0x21 || p + 2 > d.length) {
                throw new HeaderException("corrupt GIF: unexpected block 0x" + Integer.toHexString(b));
            }
            int label = d[p + 1] & 0xFF;
            p += 2;
            if (label == 0xF9 && p + 5 <= d.length && (d[p] & 0xFF) == 4) { // graphic control extension
                transparency = (d[p + 1] & 1) != 0 ? d[p + 4] & 0xFF : -1;
            }
            while (p < d.length && d[p] != 0) { // sub-blocks
                p += 1 + (d[p] & 0xFF);
            }
            p++;
        }
    }

    /**
     * ImageIO's GIF decoder returns a silently incomplete frame when the data ends early, where Pillow raises
     * "image file is truncated": walk the first frame's LZW sub-blocks to their terminator first.
     */
    private static void requireGifImageData(byte[] d, int p, int flags) throws HeaderException {
        p += (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0; // local colour table
        p++; // LZW minimum code size
        while (p < d.length && d[p] != 0) {
            p += 1 + (d[p] & 0xFF);
        }
        if (p >= d.length) {
            throw new HeaderException("truncated GIF: the file ends inside the first frame's image data");
        }
    }

    // ------------------------------------------------------------------ BMP

    private static ImageHeader bmp(byte[] d) throws HeaderException {
        if (d.length < 26) {
            throw new HeaderException("truncated BMP: the file ends inside the header");
        }
        long headerSize = u32le(d, 14);
        long w;
        long h;
        if (headerSize == 12) {
            w = u16le(d, 18);
            h = u16le(d, 20);
        } else if (headerSize >= 40 && headerSize <= 256) {
            w = (int) u32le(d, 18);
            h = Math.abs((long) (int) u32le(d, 22)); // negative height: rows stored top-down
        } else {
            throw new HeaderException("corrupt BMP: unknown info header size " + headerSize);
        }
        int[] size = checkedSize("BMP", w, h);
        return new ImageHeader(Format.BMP, size[0], size[1], 0, -1, 1, null);
    }

    // ------------------------------------------------------------------ helpers

    private static int[] checkedSize(String what, long w, long h) throws HeaderException {
        if (w <= 0 || h <= 0) {
            throw new HeaderException("corrupt " + what + " header: image size " + w + "x" + h
                    + " (width and height must be positive)");
        }
        if (w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
            throw new HeaderException("corrupt " + what + " header: absurd image size " + w + "x" + h);
        }
        return new int[] {(int) w, (int) h};
    }

    private static String describe(byte[] d) {
        if (startsWith(d, 'R', 'I', 'F', 'F') && d.length >= 12 && startsWithAt(d, 8, "WEBP")) {
            return "a WebP image (not supported: convert it to PNG)";
        }
        if (startsWith(d, 'I', 'I', 42, 0) || startsWith(d, 'M', 'M', 0, 42)) {
            return "a TIFF image (not supported: convert it to PNG)";
        }
        if (startsWith(d, 0x93, 'N', 'U', 'M', 'P', 'Y')) {
            return "a .npy tensor file, not an image";
        }
        StringBuilder sb = new StringBuilder("the file starts with bytes");
        for (int i = 0; i < Math.min(8, d.length); i++) {
            sb.append(String.format(" %02x", d[i] & 0xFF));
        }
        return sb.toString();
    }

    private static boolean startsWith(byte[] d, int... prefix) {
        if (d.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((d[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWithAt(byte[] d, int at, String ascii) {
        if (at < 0 || at + ascii.length() > d.length) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (d[at + i] != (byte) ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static int u16be(byte[] d, int p) {
        return (d[p] & 0xFF) << 8 | (d[p + 1] & 0xFF);
    }

    static int u16le(byte[] d, int p) {
        return (d[p + 1] & 0xFF) << 8 | (d[p] & 0xFF);
    }

    static long u32be(byte[] d, int p) {
        return ((long) u16be(d, p) << 16) | u16be(d, p + 2);
    }

    static long u32le(byte[] d, int p) {
        return ((long) u16le(d, p + 2) << 16) | u16le(d, p);
    }
}
