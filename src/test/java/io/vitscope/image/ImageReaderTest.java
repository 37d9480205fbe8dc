package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader's contract beyond pixel parity: options, and bad files ending as InvalidInputException. */
class ImageReaderTest {

    private static final ImageReader READER = ImageReader.defaults();

    @TempDir
    Path tmp;

    private static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(Goldens.IMAGES.resolve(name));
    }

    private InvalidInputException refused(byte[] data, String name) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, data);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> READER.read(f));
        assertEquals(f, e.file(), "the exception names the file");
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e;
    }

    private static void assertMentions(InvalidInputException e, String... words) {
        String m = e.getMessage().toLowerCase(Locale.ROOT);
        for (String w : words) {
            assertTrue(m.contains(w.toLowerCase(Locale.ROOT)), "message should mention '" + w + "': " + e.getMessage());
        }
    }

    @Test
    void grayFamilySourcesStayOneChannelColourSourcesGetThree() {
        assertEquals(1, READER.read(Goldens.IMAGES.resolve("gray_97x75.jpg")).channels());
        assertEquals(1, READER.read(Goldens.IMAGES.resolve("gray16_97x75.png")).channels());
        assertEquals(1, READER.read(Goldens.IMAGES.resolve("bilevel_97x75.png")).channels());
        assertEquals(1, READER.read(Goldens.IMAGES.resolve("la_97x75.png")).channels());
        assertEquals(3, READER.read(Goldens.IMAGES.resolve("palette_97x75.png")).channels());
        assertEquals(3, READER.read(Goldens.IMAGES.resolve("cmyk_97x75.jpg")).channels());
    }

    @Test
    void convertLIsPillowFixedPointLuma() {
        // rgb2l: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16; e.g. (255, 0, 0) -> 76, (0, 0, 255) -> 29
        Image8 im = new Image8(3, 1, 3, new byte[] {(byte) 255, 0, 0, 0, 0, (byte) 255, 10, 20, 30});
        assertArrayEquals(new byte[] {76, 29, 18}, im.toGray().pixels());
        Image8 gray = new Image8(2, 1, 1, new byte[] {7, (byte) 200});
        assertEquals(gray, gray.toRgb().toGray(), "L -> RGB -> L is the identity, as in Pillow");
    }

    @Test
    void exifOrientationCanBeTurnedOff() {
        Path six = Goldens.IMAGES.resolve("exif6_150x100.jpg");
        Image8 upright = READER.read(six);
        Image8 stored = READER.withExifOrientation(false).read(six);
        assertEquals(100, upright.width(), "orientation 6 is rotated upright: 150x100 stored becomes 100x150");
        assertEquals(150, upright.height());
        assertEquals(150, stored.width(), "timm's plain transform sees the stored orientation");
        // upright(x, y) == stored(y, H - 1 - x): ROTATE_270
        for (int y = 0; y < upright.height(); y += 7) {
            for (int x = 0; x < upright.width(); x += 5) {
                assertEquals(stored.get(y, stored.height() - 1 - x, 1), upright.get(x, y, 1));
            }
        }
    }

    @Test
    void decodesByContentNotExtension() throws IOException {
        Path misnamed = tmp.resolve("really_a_png.jpg");
        Files.write(misnamed, fixture("chelsea_200x150.png"));
        Image8 im = READER.read(misnamed);
        assertArrayEquals(READER.read(Goldens.IMAGES.resolve("chelsea_200x150.png")).pixels(), im.pixels());
        Image8 fromStream = READER.read(new ByteArrayInputStream(fixture("chelsea_200x150.png")), "upload.bin");
        assertArrayEquals(im.pixels(), fromStream.pixels());
    }

    @Test
    void emptyFile() throws IOException {
        assertMentions(refused(new byte[0], "empty.jpg"), "empty");
    }

    @Test
    void notAnImage() throws IOException {
        assertMentions(refused("label,score\ncat,0.9\n".getBytes(), "labels.png"), "not a supported image");
    }

    @Test
    void missingFile() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> READER.read(tmp.resolve("nope.png")));
        assertMentions(e, "no such file");
    }

    @Test
    void truncatedJpegBaselineAndProgressive() throws IOException {
        for (String name : new String[] {"chelsea_200x150.jpg", "chelsea_200x150_prog.jpg", "cmyk_97x75.jpg"}) {
            byte[] d = fixture(name);
            assertMentions(refused(Arrays.copyOf(d, d.length * 6 / 10), "cut_" + name), "truncated");
        }
    }

    @Test
    void truncatedPngGifBmp() throws IOException {
        for (String name : new String[] {"chelsea_200x150.png", "anim_97x75.gif", "rgb_97x75.bmp"}) {
            byte[] d = fixture(name);
            // the GIF holds 3 frames; only the first is decoded, so cut inside it
            int keep = name.endsWith(".gif") ? d.length / 5 : d.length / 2;
            InvalidInputException e = refused(Arrays.copyOf(d, keep), "cut_" + name);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
        }
        assertMentions(refused(Arrays.copyOf(fixture("chelsea_200x150.png"), 20), "header_only.png"), "truncated");
    }

    @Test
    void hugePngHeaderIsRefusedBeforeDecoding() throws IOException {
        byte[] png = fixture("tiny_20x15.png");
        ByteBuffer.wrap(png, 16, 8).putInt(60000).putInt(60000);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
        // Only the header is kept: had the reader started decoding, it would report a truncated PNG. "above the
        // limit" therefore shows the refusal came from the header alone, before any decoding (no timing needed).
        byte[] headerOnly = Arrays.copyOf(png, 33);
        assertMentions(refused(headerOnly, "bomb.png"), "60000x60000", "3600000000 pixels", "above the limit",
                "vitscope.maxImagePixels");
        assertMentions(refused(png, "bomb.png"), "60000x60000", "above the limit");
    }

    @Test
    void hugeJpegHeaderIsRefusedBeforeDecoding() throws IOException {
        byte[] jpg = fixture("chelsea_200x150.jpg");
        int sof = sofOffset(jpg);
        ByteBuffer.wrap(jpg, sof + 5, 4).putShort((short) 60000).putShort((short) 60000);
        // Cut right after the frame header: a decoder would fail on the missing scan; the limit message shows the
        // refusal came from the header alone, before any decoding.
        byte[] headerOnly = Arrays.copyOf(jpg, sof + 19);
        assertMentions(refused(headerOnly, "bomb.jpg"), "JPEG", "60000x60000", "above the limit");
        assertMentions(refused(jpg, "bomb.jpg"), "JPEG", "60000x60000", "above the limit");
    }

    @Test
    void zeroDimensionsAreCorrupt() throws IOException {
        byte[] jpg = fixture("chelsea_200x150.jpg");
        ByteBuffer.wrap(jpg, sofOffset(jpg) + 7, 2).putShort((short) 0);
        assertMentions(refused(jpg, "zero.jpg"), "corrupt", "0x150");
    }

    @Test
    void pixelLimitIsConfigurable() {
        Path p = Goldens.IMAGES.resolve("chelsea_200x150.png");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> READER.withMaxPixels(29_999).read(p));
        assertMentions(e, "30000 pixels", "limit of 29999");
        assertEquals(200, READER.withMaxPixels(30_000).read(p).width());
        String old = System.getProperty(ImageReader.MAX_PIXELS_PROPERTY);
        try {
            System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, "1000");
            assertEquals(1000, ImageReader.defaults().maxPixels());
        } finally {
            if (old == null) {
                System.clearProperty(ImageReader.MAX_PIXELS_PROPERTY);
            } else {
                System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, old);
            }
        }
        assertEquals(ImageReader.DEFAULT_MAX_IMAGE_PIXELS, ImageReader.defaults().maxPixels());
    }

    /** Offset of the SOF0/SOF2 marker (0xFF 0xC0/0xC2) in a JPEG written by Pillow. */
    static int sofOffset(byte[] jpg) {
        int p = 2;
        while (p + 4 < jpg.length) {
            int marker = jpg[p + 1] & 0xFF;
            if (marker == 0xC0 || marker == 0xC2) {
                return p;
            }
            p += 2 + ((jpg[p + 2] & 0xFF) << 8 | (jpg[p + 3] & 0xFF));
        }
        throw new AssertionError("no SOF marker");
    }
}
