package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.image.ImageHeader.Format;
import io.vitscope.image.ImageHeader.GifFrame;
import io.vitscope.image.ImageHeader.HeaderException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link ImageHeader#parse} on hand-built headers: every field it reports, every boundary of the format
 * specifications (PNG bit depths, JPEG marker classes and segment lengths, GIF colour tables and sub-blocks, BMP info
 * header sizes) and the key part of every refusal message. The byte layouts follow the PNG 1.2, JPEG (T.81), GIF89a
 * and BMP specifications; nothing here is produced by the code under test.
 */
class ImageHeaderTest {

    // ------------------------------------------------------------------ byte builders

    private static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u8(int... v) {
            for (int b : v) {
                out.write(b);
            }
            return this;
        }

        Bytes ascii(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            return this;
        }

        Bytes be16(int v) {
            return u8(v >>> 8 & 0xFF, v & 0xFF);
        }

        Bytes le16(int v) {
            return u8(v & 0xFF, v >>> 8 & 0xFF);
        }

        Bytes be32(long v) {
            return be16((int) (v >>> 16 & 0xFFFF)).be16((int) (v & 0xFFFF));
        }

        Bytes le32(long v) {
            return le16((int) (v & 0xFFFF)).le16((int) (v >>> 16 & 0xFFFF));
        }

        Bytes bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] get() {
            return out.toByteArray();
        }
    }

    private static ImageHeader ok(byte[] d) throws HeaderException {
        return ImageHeader.parse(d);
    }

    private static String refused(byte[] d) {
        return assertThrows(HeaderException.class, () -> ImageHeader.parse(d)).getMessage();
    }

    private static void refusedWith(byte[] d, String part) {
        String m = refused(d);
        assertTrue(m.contains(part), () -> "expected '" + part + "' in: " + m);
    }

    // ------------------------------------------------------------------ PNG

    private static Bytes pngIhdr(long w, long h, int depth, int colorType, int interlace) {
        return new Bytes().u8(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)
                .be32(13).ascii("IHDR").be32(w).be32(h).u8(depth, colorType, 0, 0, interlace).be32(0);
    }

    private static Bytes chunk(Bytes b, String type, byte[] payload) {
        return b.be32(payload.length).ascii(type).bytes(payload).be32(0);
    }

    @Test
    void pngReportsSizeAndNoJpegFacts() throws Exception {
        ImageHeader h = ok(pngIhdr(0x012345, 0x0203, 8, 2, 0).get());
        assertEquals(Format.PNG, h.format());
        assertEquals(0x012345, h.width());
        assertEquals(0x0203, h.height());
        assertEquals(0, h.jpegComponents());
        assertEquals(-1, h.adobeTransform());
        assertEquals(1, h.exifOrientation());
        assertNull(h.gifFrame());
    }

    @Test
    void pngBitDepthsPerColourType() throws Exception {
        // PNG 1.2 table 11.1: allowed bit depths per colour type
        int[][] allowed = {{0, 1, 2, 4, 8, 16}, {3, 1, 2, 4, 8}, {2, 8, 16}, {4, 8, 16}, {6, 8, 16}};
        for (int[] row : allowed) {
            for (int depth : new int[] {1, 2, 3, 4, 8, 16}) {
                boolean valid = false;
                for (int i = 1; i < row.length; i++) {
                    valid |= row[i] == depth;
                }
                byte[] d = pngIhdr(2, 3, depth, row[0], 0).get();
                if (valid) {
                    assertEquals(2, ok(d).width(), "depth " + depth + " colour type " + row[0]);
                } else {
                    assertEquals("corrupt PNG: invalid bit depth " + depth + " for colour type " + row[0], refused(d));
                }
            }
        }
        assertEquals("corrupt PNG: invalid bit depth 8 for colour type 5", refused(pngIhdr(2, 3, 8, 5, 0).get()));
    }

    @Test
    void pngInterlaceMethodZeroOrOne() throws Exception {
        assertEquals(3, ok(pngIhdr(2, 3, 8, 2, 1).get()).height());
        assertEquals("corrupt PNG: unknown interlace method 2", refused(pngIhdr(2, 3, 8, 2, 2).get()));
        assertEquals("corrupt PNG: unknown interlace method 200", refused(pngIhdr(2, 3, 8, 2, 200).get()));
    }

    @Test
    void pngTruncatedOrWrongFirstChunk() {
        byte[] full = pngIhdr(2, 3, 8, 2, 0).get();
        byte[] cut = java.util.Arrays.copyOf(full, 32);
        assertEquals("truncated PNG: the file ends inside the IHDR header (32 bytes)", refused(cut));
        byte[] wrong = full.clone();
        wrong[12] = 'J';
        assertEquals("corrupt PNG: the first chunk is not IHDR", refused(wrong));
    }

    @Test
    void pngSizeLimits() throws Exception {
        refusedWith(pngIhdr(0, 3, 8, 2, 0).get(), "corrupt PNG header: image size 0x3 (width and height must be positive)");
        refusedWith(pngIhdr(3, 0, 8, 2, 0).get(), "image size 3x0");
        assertEquals(Integer.MAX_VALUE, ok(pngIhdr(Integer.MAX_VALUE, 1, 8, 2, 0).get()).width());
        assertEquals(Integer.MAX_VALUE, ok(pngIhdr(1, Integer.MAX_VALUE, 8, 2, 0).get()).height());
        assertEquals("corrupt PNG header: absurd image size 2147483648x1",
                refused(pngIhdr(0x80000000L, 1, 8, 2, 0).get()));
        assertEquals("corrupt PNG header: absurd image size 1x2147483648",
                refused(pngIhdr(1, 0x80000000L, 8, 2, 0).get()));
    }

    /** A big-endian TIFF block whose IFD0 holds one SHORT orientation tag. */
    static byte[] tiffOrientation(int orientation) {
        return new Bytes().ascii("MM").be16(42).be32(8).be16(1)
                .be16(0x0112).be16(3).be32(1).be16(orientation).be16(0).be32(0).get();
    }

    @Test
    void pngExifChunkBeforeImageData() throws Exception {
        // an ancillary chunk first, then eXIf ending exactly at the end of the file
        Bytes b = pngIhdr(2, 3, 8, 2, 0);
        chunk(b, "tEXt", "Comment\0hello".getBytes(StandardCharsets.ISO_8859_1));
        chunk(b, "eXIf", tiffOrientation(6));
        assertEquals(6, ok(b.get()).exifOrientation());
    }

    @Test
    void pngExifChunkIgnoredAfterImageDataOrWhenItOverruns() throws Exception {
        Bytes after = pngIhdr(2, 3, 8, 2, 0);
        chunk(after, "IDAT", new byte[] {1, 2, 3});
        chunk(after, "eXIf", tiffOrientation(6));
        assertEquals(1, ok(after.get()).exifOrientation());

        Bytes afterEnd = pngIhdr(2, 3, 8, 2, 0);
        chunk(afterEnd, "IEND", new byte[0]);
        chunk(afterEnd, "eXIf", tiffOrientation(6));
        assertEquals(1, ok(afterEnd.get()).exifOrientation());

        // the declared length runs one byte past the end of the file: not read
        byte[] tiff = tiffOrientation(6);
        Bytes over = pngIhdr(2, 3, 8, 2, 0).be32(tiff.length + 1).ascii("eXIf").bytes(tiff).be32(0);
        assertEquals(1, ok(over.get()).exifOrientation());

        // a chunk length past the file in front of a good eXIf stops the walk
        Bytes bad = pngIhdr(2, 3, 8, 2, 0).be32(1000).ascii("tEXt");
        assertEquals(1, ok(bad.get()).exifOrientation());

        // a chunk header cut short after IHDR
        assertEquals(1, ok(pngIhdr(2, 3, 8, 2, 0).u8(0, 0, 0).get()).exifOrientation());
    }

    @Test
    void pngWithoutExifIsUpright() throws Exception {
        Bytes b = pngIhdr(2, 3, 8, 2, 0);
        chunk(b, "tEXt", new byte[] {'a', 0, 'b'});
        assertEquals(1, ok(b.get()).exifOrientation());
    }

    // ------------------------------------------------------------------ JPEG

    private static Bytes soi() {
        return new Bytes().u8(0xFF, 0xD8);
    }

    private static Bytes sof(Bytes b, int marker, int bits, int h, int w, int comps) {
        b.u8(0xFF, marker).be16(8 + 3 * comps).u8(bits).be16(h).be16(w).u8(comps);
        for (int i = 0; i < comps; i++) {
            b.u8(i + 1, 0x11, 0);
        }
        return b;
    }

    private static Bytes segment(Bytes b, int marker, byte[] payload) {
        return b.u8(0xFF, marker).be16(payload.length + 2).bytes(payload);
    }

    @Test
    void jpegFrameHeaderFields() throws Exception {
        ImageHeader h = ok(sof(soi(), 0xC0, 8, 0x0102, 0x0304, 3).get());
        assertEquals(Format.JPEG, h.format());
        assertEquals(0x0304, h.width());
        assertEquals(0x0102, h.height());
        assertEquals(3, h.jpegComponents());
        assertEquals(-1, h.adobeTransform());
        assertEquals(1, h.exifOrientation());
        assertNull(h.gifFrame());
        assertEquals(1, ok(sof(soi(), 0xC1, 8, 5, 6, 1).get()).jpegComponents());
        assertEquals(4, ok(sof(soi(), 0xC2, 8, 5, 6, 4).get()).jpegComponents());
    }

    @Test
    void jpegRefusesOtherCodingsDepthsAndComponentCounts() {
        assertEquals("unsupported JPEG coding (SOF marker 0xc3): only baseline and progressive Huffman JPEGs can be read",
                refused(sof(soi(), 0xC3, 8, 5, 6, 3).get()));
        // 0xCF is the last SOF marker (lossless arithmetic); 0xC4, 0xC8 and 0xCC are not frame headers
        refusedWith(sof(soi(), 0xCF, 8, 5, 6, 3).get(), "SOF marker 0xcf");
        assertEquals("unsupported JPEG: 12-bit samples (Pillow reads 8-bit only)", refused(sof(soi(), 0xC0, 12, 5, 6, 3).get()));
        assertEquals("unsupported JPEG: 2 colour components (expected 1, 3 or 4)", refused(sof(soi(), 0xC0, 8, 5, 6, 2).get()));
        refusedWith(sof(soi(), 0xC0, 8, 0, 6, 3).get(), "corrupt JPEG header: image size 6x0");
    }

    @Test
    void jpegSkipsTablesFillBytesJunkAndStandaloneMarkers() throws Exception {
        Bytes b = soi();
        segment(b, 0xC4, new byte[] {0, 1, 2}); // DHT looks like an SOF by number
        segment(b, 0xC8, new byte[] {8, 0, 1, 0, 1, 3}); // JPG extension, reserved
        segment(b, 0xCC, new byte[] {8, 0, 1, 0, 1, 3}); // DAC
        b.u8(0xFF, 0xD0, 0xFF, 0xD7, 0xFF, 0x01); // RST0, RST7, TEM: no length
        b.u8(0x12, 0x34); // junk between segments
        b.u8(0xFF, 0xFF, 0xFF); // fill bytes before the next marker
        b.u8(0xFF, 0xE0).be16(2); // an empty APP0 (length 2 is the smallest legal)
        ImageHeader h = ok(sof(b, 0xC0, 8, 7, 9, 3).get());
        assertEquals(9, h.width());
        assertEquals(7, h.height());
    }

    @Test
    void jpegTruncationAndCorruptionMessages() {
        assertEquals("truncated JPEG: no frame header (SOF marker) before the end of the file",
                refused(soi().u8(0xFF, 0xFF).get()));
        assertEquals("truncated JPEG: no frame header (SOF marker) before the end of the file",
                refused(soi().u8(0xFF, 0xE0).be16(2).u8(0x12, 0x34).get()));
        assertEquals("truncated JPEG: no frame header (SOF marker) before the end of the file",
                refused(soi().u8(0xFF, 0xE0).be16(2).get()));
        assertEquals("corrupt JPEG: scan data before the frame header (SOF marker)", refused(soi().u8(0xFF, 0xDA).get()));
        assertEquals("corrupt JPEG: end of image before the frame header (SOF marker)", refused(soi().u8(0xFF, 0xD9).get()));
        assertEquals("truncated JPEG: the file ends inside a marker segment", refused(soi().u8(0xFF, 0xE0, 0).get()));
        assertEquals("corrupt JPEG: marker segment 0xe0 has length 1", refused(soi().u8(0xFF, 0xE0).be16(1).u8(0, 0).get()));
        assertEquals("truncated JPEG: the file ends inside marker segment 0xe1",
                refused(soi().u8(0xFF, 0xE1).be16(16).u8(1, 2, 3).get()));
        // a frame header of 5 bytes, even with bytes after it
        assertEquals("corrupt JPEG: frame header of 5 bytes",
                refused(soi().u8(0xFF, 0xC0).be16(7).u8(8, 0, 1, 0, 1).u8(3, 1, 0x11, 0, 0, 0, 0).get()));
    }

    @Test
    void jpegFrameHeaderOfExactlySixBytes() throws Exception {
        ImageHeader h = ok(soi().u8(0xFF, 0xC0).be16(8).u8(8).be16(4).be16(5).u8(1).get());
        assertEquals(5, h.width());
        assertEquals(4, h.height());
        assertEquals(1, h.jpegComponents());
    }

    private static byte[] adobe(int transform, int extra) {
        Bytes b = new Bytes().ascii("Adobe").be16(100).be16(0).be16(0).u8(transform);
        for (int i = 0; i < extra; i++) {
            b.u8(0);
        }
        return b.get();
    }

    @Test
    void jpegAdobeTransform() throws Exception {
        // the APP14 payload is 12 bytes: "Adobe", version, flags0, flags1, transform
        assertEquals(2, ok(sof(segment(soi(), 0xEE, adobe(2, 0)), 0xC0, 8, 5, 6, 4).get()).adobeTransform());
        assertEquals(1, ok(sof(segment(soi(), 0xEE, adobe(1, 3)), 0xC0, 8, 5, 6, 3).get()).adobeTransform());
        assertEquals(0, ok(sof(segment(soi(), 0xEE, adobe(0, 0)), 0xC0, 8, 5, 6, 4).get()).adobeTransform());
        // 11 bytes: too short to hold the flag
        byte[] shortAdobe = java.util.Arrays.copyOf(adobe(2, 0), 11);
        assertEquals(-1, ok(sof(segment(soi(), 0xEE, shortAdobe), 0xC0, 8, 5, 6, 4).get()).adobeTransform());
        // not "Adobe", or not APP14
        byte[] other = adobe(2, 0);
        other[0] = 'a';
        assertEquals(-1, ok(sof(segment(soi(), 0xEE, other), 0xC0, 8, 5, 6, 4).get()).adobeTransform());
        assertEquals(-1, ok(sof(segment(soi(), 0xED, adobe(2, 0)), 0xC0, 8, 5, 6, 4).get()).adobeTransform());
    }

    private static byte[] app1Exif(byte[] tiff) {
        return new Bytes().ascii("Exif").u8(0, 0).bytes(tiff).get();
    }

    @Test
    void jpegExifOrientationFirstApp1Wins() throws Exception {
        assertEquals(6, ok(sof(segment(soi(), 0xE1, app1Exif(tiffOrientation(6))), 0xC0, 8, 5, 6, 3).get())
                .exifOrientation());
        Bytes two = segment(segment(soi(), 0xE1, app1Exif(tiffOrientation(8))), 0xE1, app1Exif(tiffOrientation(3)));
        assertEquals(8, ok(sof(two, 0xC0, 8, 5, 6, 3).get()).exifOrientation());
        // not "Exif\0\0", or not APP1
        byte[] xmp = app1Exif(tiffOrientation(6));
        xmp[4] = 'x';
        assertEquals(1, ok(sof(segment(soi(), 0xE1, xmp), 0xC0, 8, 5, 6, 3).get()).exifOrientation());
        assertEquals(1, ok(sof(segment(soi(), 0xE2, app1Exif(tiffOrientation(6))), 0xC0, 8, 5, 6, 3).get())
                .exifOrientation());
    }

    @Test
    void jpegExifBlockEndsWithItsSegment() throws Exception {
        // the IFD entry lies outside the APP1 segment (in the next segment's bytes): it must not be read
        byte[] tiff = tiffOrientation(6);
        byte[] head = java.util.Arrays.copyOf(tiff, 10); // header + IFD count, entries cut off
        Bytes b = segment(soi(), 0xE1, app1Exif(head));
        b.bytes(java.util.Arrays.copyOfRange(tiff, 10, 22)); // junk between segments (no 0xFF): skipped
        assertEquals(6, ok(sof(segment(soi(), 0xE1, app1Exif(tiff)), 0xC0, 8, 5, 6, 3).get()).exifOrientation());
        assertEquals(1, ok(sof(b, 0xC0, 8, 5, 6, 3).get()).exifOrientation());
    }

    // ------------------------------------------------------------------ GIF

    private static Bytes gifScreen(int w, int h, int flags) {
        return new Bytes().ascii("GIF89a").le16(w).le16(h).u8(flags, 0, 0);
    }

    private static Bytes descriptor(Bytes b, int left, int top, int w, int h, int flags) {
        return b.u8(0x2C).le16(left).le16(top).le16(w).le16(h).u8(flags);
    }

    private static Bytes imageData(Bytes b) {
        return b.u8(2, 2, 0x4C, 0x01, 0); // LZW minimum code size, one sub-block, terminator
    }

    @Test
    void gifFrameRectangleAndScreen() throws Exception {
        ImageHeader h = ok(imageData(descriptor(gifScreen(0x0102, 0x0203, 0), 1, 2, 3, 4, 0)).u8(0x3B).get());
        assertEquals(Format.GIF, h.format());
        assertEquals(0x0102, h.width());
        assertEquals(0x0203, h.height());
        assertEquals(new GifFrame(1, 2, 3, 4, -1), h.gifFrame());
        assertEquals(1, h.exifOrientation());
        assertEquals(-1, h.adobeTransform());
        assertEquals(0, h.jpegComponents());
    }

    @Test
    void gifGrowsToAFrameStickingOutOfTheScreen() throws Exception {
        ImageHeader h = ok(imageData(descriptor(gifScreen(4, 4, 0), 3, 2, 5, 6, 0)).get());
        assertEquals(8, h.width());
        assertEquals(8, h.height());
        ImageHeader inside = ok(imageData(descriptor(gifScreen(10, 9, 0), 3, 2, 5, 6, 0)).get());
        assertEquals(10, inside.width());
        assertEquals(9, inside.height());
    }

    @Test
    void gifGlobalAndLocalColourTablesAreSkipped() throws Exception {
        // flags 0x81: a table of 2^(1+1) = 4 entries, 12 bytes; filled with 0xFF so a wrong skip runs off the end
        Bytes b = gifScreen(4, 4, 0x81);
        for (int i = 0; i < 12; i++) {
            b.u8(0xFF);
        }
        descriptor(b, 0, 0, 4, 4, 0x82); // local table of 2^(2+1) = 8 entries, 24 bytes
        for (int i = 0; i < 24; i++) {
            b.u8(0xFF);
        }
        assertEquals(new GifFrame(0, 0, 4, 4, -1), ok(imageData(b).get()).gifFrame());
        // the same file without the local table's last byte is truncated inside the frame
        byte[] full = b.get();
        Bytes cut = gifScreen(4, 4, 0x81);
        for (int i = 0; i < 12; i++) {
            cut.u8(0xFF);
        }
        descriptor(cut, 0, 0, 4, 4, 0x82);
        for (int i = 0; i < 23; i++) {
            cut.u8(0xFF);
        }
        assertTrue(full.length > cut.get().length);
        assertEquals("truncated GIF: the file ends inside the first frame's image data", refused(cut.get()));
    }

    @Test
    void gifTransparencyFromTheGraphicControlExtension() throws Exception {
        Bytes b = gifScreen(4, 4, 0).u8(0x21, 0xF9, 4, 0x01, 0, 0, 7, 0);
        assertEquals(7, ok(imageData(descriptor(b, 0, 0, 4, 4, 0)).get()).gifFrame().transparency());
        Bytes high = gifScreen(4, 4, 0).u8(0x21, 0xF9, 4, 0x05, 0, 0, 200, 0);
        assertEquals(200, ok(imageData(descriptor(high, 0, 0, 4, 4, 0)).get()).gifFrame().transparency());
        // flag bit 0 clear: no transparency even with an index
        Bytes off = gifScreen(4, 4, 0).u8(0x21, 0xF9, 4, 0x04, 0, 0, 7, 0);
        assertEquals(-1, ok(imageData(descriptor(off, 0, 0, 4, 4, 0)).get()).gifFrame().transparency());
        // a block size other than 4 is not a graphic control extension
        Bytes size5 = gifScreen(4, 4, 0).u8(0x21, 0xF9, 5, 0x01, 0, 0, 7, 0, 0);
        assertEquals(-1, ok(imageData(descriptor(size5, 0, 0, 4, 4, 0)).get()).gifFrame().transparency());
        // a comment extension with the same bytes is skipped
        Bytes comment = gifScreen(4, 4, 0).u8(0x21, 0xFE, 4, 0x01, 0, 0, 7, 0);
        assertEquals(-1, ok(imageData(descriptor(comment, 0, 0, 4, 4, 0)).get()).gifFrame().transparency());
        // an application extension with several sub-blocks before the image
        Bytes app = gifScreen(4, 4, 0).u8(0x21, 0xFF, 3, 'a', 'b', 'c', 2, 1, 1, 0);
        assertEquals(4, ok(imageData(descriptor(app, 0, 0, 4, 4, 0)).get()).gifFrame().width());
    }

    @Test
    void gifTruncationAndCorruptionMessages() {
        assertEquals("truncated GIF: the file ends inside the screen descriptor",
                refused(new Bytes().ascii("GIF89a").u8(1, 0, 1, 0, 0, 0).get()));
        assertEquals("truncated GIF: no image in the file", refused(gifScreen(4, 4, 0).get()));
        assertEquals("corrupt GIF: the file holds no image", refused(gifScreen(4, 4, 0).u8(0x3B).get()));
        assertEquals("corrupt GIF: unexpected block 0x99", refused(gifScreen(4, 4, 0).u8(0x99).get()));
        assertEquals("corrupt GIF: unexpected block 0x21", refused(gifScreen(4, 4, 0).u8(0x21).get()));
        assertEquals("truncated GIF: no image in the file", refused(gifScreen(4, 4, 0).u8(0x21, 0xF9).get()));
        assertEquals("truncated GIF: no image in the file", refused(gifScreen(4, 4, 0).u8(0x21, 0xFE, 1, 0x55).get()));
        assertEquals("truncated GIF: no image in the file", refused(gifScreen(4, 4, 0).u8(0x21, 0xFE, 9, 0x55).get()));
        assertEquals("truncated GIF: the file ends inside the first image descriptor",
                refused(gifScreen(4, 4, 0).u8(0x2C, 0, 0, 0, 0, 4, 0, 4).get()));
        byte[] tenBytes = descriptor(gifScreen(4, 4, 0), 0, 0, 4, 4, 0).get();
        assertEquals("truncated GIF: the file ends inside the first frame's image data", refused(tenBytes));
        assertEquals("truncated GIF: the file ends inside the first frame's image data",
                refused(descriptor(gifScreen(4, 4, 0), 0, 0, 4, 4, 0).u8(2).get()));
        assertEquals("truncated GIF: the file ends inside the first frame's image data",
                refused(descriptor(gifScreen(4, 4, 0), 0, 0, 4, 4, 0).u8(2, 2, 1, 1).get()));
        assertEquals("truncated GIF: the file ends inside the first frame's image data",
                refused(descriptor(gifScreen(4, 4, 0), 0, 0, 4, 4, 0).u8(2, 2, 1).get()));
        refusedWith(imageData(descriptor(gifScreen(4, 4, 0), 0, 0, 0, 4, 0)).get(), "corrupt GIF frame header: image size 0x4");
    }

    // ------------------------------------------------------------------ BMP

    @Test
    void bmpCoreAndInfoHeaders() throws Exception {
        // BITMAPCOREHEADER (12 bytes): 16-bit sizes; the file needs only 26 bytes to hold them
        byte[] core = new Bytes().ascii("BM").le32(26).le32(0).le32(26).le32(12).le16(0x0102).le16(0x0304).le16(1).le16(24).get();
        assertEquals(26, core.length);
        ImageHeader c = ok(core);
        assertEquals(Format.BMP, c.format());
        assertEquals(0x0102, c.width());
        assertEquals(0x0304, c.height());
        assertEquals(1, c.exifOrientation());
        assertEquals(-1, c.adobeTransform());
        assertNull(c.gifFrame());
        for (int size : new int[] {40, 108, 124, 256}) {
            byte[] info = new Bytes().ascii("BM").le32(0).le32(0).le32(0).le32(size).le32(0x010203).le32(-5).get();
            ImageHeader h = ok(info);
            assertEquals(0x010203, h.width(), "header size " + size);
            assertEquals(5, h.height(), "a negative height is a top-down bitmap");
        }
        for (int size : new int[] {11, 13, 39, 257}) {
            byte[] info = new Bytes().ascii("BM").le32(0).le32(0).le32(0).le32(size).le32(3).le32(5).get();
            assertEquals("corrupt BMP: unknown info header size " + size, refused(info));
        }
        assertEquals("truncated BMP: the file ends inside the header", refused(java.util.Arrays.copyOf(core, 25)));
        assertEquals("truncated BMP: the file ends inside the header", refused(new byte[] {'B', 'M'}));
    }

    // ------------------------------------------------------------------ sniffing

    @Test
    void unsupportedContentIsNamed() {
        assertEquals("the file is empty (0 bytes): expected a JPEG, PNG, GIF or BMP image", refused(new byte[0]));
        String tail = "; expected JPEG, PNG, GIF or BMP content (the format is detected from the bytes, not the file extension)";
        byte[] webp = new Bytes().ascii("RIFF").le32(4).ascii("WEBP").get();
        assertEquals(12, webp.length);
        assertEquals("not a supported image: a WebP image (not supported: convert it to PNG)" + tail, refused(webp));
        assertEquals("not a supported image: the file starts with bytes 52 49 46 46 04 00 00 00" + tail,
                refused(new Bytes().ascii("RIFF").le32(4).ascii("WAVE").get()));
        assertEquals("not a supported image: the file starts with bytes 52 49 46 46 04 00 00 00" + tail,
                refused(new Bytes().ascii("RIFF").le32(4).ascii("WEB").get()));
        assertEquals("not a supported image: a TIFF image (not supported: convert it to PNG)" + tail,
                refused(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0}));
        assertEquals("not a supported image: a TIFF image (not supported: convert it to PNG)" + tail,
                refused(new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8}));
        assertEquals("not a supported image: a .npy tensor file, not an image" + tail,
                refused(new Bytes().u8(0x93).ascii("NUMPY").u8(1, 0).get()));
        assertEquals("not a supported image: the file starts with bytes 00 01 02 03 04 05 06 07" + tail,
                refused(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
        assertEquals("not a supported image: the file starts with bytes ab cd" + tail,
                refused(new byte[] {(byte) 0xAB, (byte) 0xCD}));
        assertEquals("not a supported image: the file starts with bytes 47 49 46 37" + tail,
                refused("GIF7".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("not a supported image: the file starts with bytes ff d8" + tail,
                refused(new byte[] {(byte) 0xFF, (byte) 0xD8}));
    }
}
