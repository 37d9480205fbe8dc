package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Pillow's first-frame GIF semantics for a frame smaller than the logical screen (GifImagePlugin: the canvas is the
 * screen, filled with index 0 when there is no transparency, the frame pasted at its offset), and the reader's
 * options and in-memory entry points.
 */
class GifCanvasTest {

    private static final byte[] R = {10, (byte) 200, 0, 0};
    private static final byte[] G = {20, 0, (byte) 200, 0};
    private static final byte[] B = {30, 0, 0, (byte) 200};

    /** A 2x2 frame of indices [1 2 / 2 1] placed at (left, top) inside a screen of sw x sh. */
    private static byte[] gif(int sw, int sh, int left, int top) throws IOException {
        return gif(sw, sh, left, top, new IndexColorModel(8, 4, R, G, B));
    }

    private static byte[] gif(int sw, int sh, int left, int top, IndexColorModel icm) throws IOException {
        BufferedImage frame = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_INDEXED, icm);
        frame.getRaster().setSamples(0, 0, 2, 2, 0, new int[] {1, 2, 2, 1});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(frame, "gif", out));
        byte[] d = out.toByteArray();
        // patch the logical screen (bytes 6..9) and the image descriptor's position
        d[6] = (byte) sw;
        d[7] = 0;
        d[8] = (byte) sh;
        d[9] = 0;
        int p = descriptor(d);
        d[p + 1] = (byte) left;
        d[p + 3] = (byte) top;
        // ImageIO writes the frame interlaced, and its own reader loses the second row of a 2-row interlaced frame;
        // with two rows the interlaced row order (0, then 1 in pass 4) is the sequential one, so clear the flag
        d[p + 9] &= ~0x40;
        return d;
    }

    private static int descriptor(byte[] d) {
        for (int i = 13; i + 9 < d.length; i++) {
            if (d[i] == 0x2C && d[i + 1] == 0 && d[i + 2] == 0 && d[i + 3] == 0 && d[i + 4] == 0 && d[i + 5] == 2
                    && d[i + 6] == 0 && d[i + 7] == 2 && d[i + 8] == 0) {
                return i;
            }
        }
        throw new AssertionError("no 2x2 image descriptor at (0, 0)");
    }

    private static int[] rgb(Image8 im, int x, int y) {
        return new int[] {im.get(x, y, 0), im.get(x, y, 1), im.get(x, y, 2)};
    }

    @Test
    void aFrameInsideALargerScreenIsPastedOnIndexZero() throws IOException {
        Image8 im = ImageReader.defaults().read(gif(5, 4, 2, 1), "offset.gif");
        assertEquals(5, im.width());
        assertEquals(4, im.height());
        assertEquals(3, im.channels());
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 5; x++) {
                int fx = x - 2;
                int fy = y - 1;
                boolean inFrame = fx >= 0 && fx < 2 && fy >= 0 && fy < 2;
                int index = inFrame ? (fx == fy ? 1 : 2) : 0;
                int[] want = {R[index] & 0xFF, G[index] & 0xFF, B[index] & 0xFF};
                assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(rgb(im, x, y)),
                        "pixel (" + x + ", " + y + ")");
            }
        }
    }

    @Test
    void theCanvasIsFilledWithTheTransparentIndex() throws Exception {
        // index 3 transparent: Pillow fills the screen with it, and convert('RGB') shows its palette colour
        byte[] d = gif(4, 3, 1, 1, new IndexColorModel(8, 4, R, G, B, 3));
        assertEquals(3, ImageHeader.parse(d).gifFrame().transparency(), "the writer stored the transparent index");
        Image8 im = ImageReader.defaults().read(d, "transparent.gif");
        assertEquals("[0, 0, 200]", java.util.Arrays.toString(rgb(im, 0, 0)));
        assertEquals("[0, 0, 200]", java.util.Arrays.toString(rgb(im, 3, 2)));
        assertEquals("[200, 0, 0]", java.util.Arrays.toString(rgb(im, 1, 1)));
        assertEquals("[0, 200, 0]", java.util.Arrays.toString(rgb(im, 2, 1)));
    }

    @Test
    void aFrameAtTheOriginOfALargerScreen() throws IOException {
        Image8 im = ImageReader.defaults().read(gif(3, 3, 0, 0), "origin.gif");
        assertEquals(3, im.width());
        assertEquals("[200, 0, 0]", java.util.Arrays.toString(rgb(im, 0, 0)));
        assertEquals("[0, 200, 0]", java.util.Arrays.toString(rgb(im, 1, 0)));
        assertEquals("[10, 20, 30]", java.util.Arrays.toString(rgb(im, 2, 2)));
    }

    @Test
    void aFrameFillingTheScreen() throws IOException {
        Image8 im = ImageReader.defaults().read(gif(2, 2, 0, 0), "full.gif");
        assertEquals(2, im.width());
        assertEquals("[0, 200, 0]", java.util.Arrays.toString(rgb(im, 0, 1)));
    }

    @Test
    void readerOptions() {
        ImageReader r = ImageReader.defaults();
        assertTrue(r.exifOrientation());
        assertFalse(r.withExifOrientation(false).exifOrientation());
        assertEquals(ImageReader.DEFAULT_MAX_IMAGE_PIXELS, r.maxPixels());
        assertEquals(1, r.withMaxPixels(1).maxPixels());
        assertEquals("the pixel limit must be positive, got 0",
                assertThrows(IllegalArgumentException.class, () -> r.withMaxPixels(0)).getMessage());
    }

    @Test
    void convertAppliesThePixelLimit() {
        BufferedImage bi = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        bi.setRGB(1, 1, 0x0A141E);
        ImageReader r = ImageReader.defaults();
        Image8 im = r.withMaxPixels(6).convert(bi);
        assertEquals("[10, 20, 30]", java.util.Arrays.toString(rgb(im, 1, 1)));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> r.withMaxPixels(5).convert(bi));
        assertEquals("the image has 6 pixels, more than the limit of 5 (raise it with -Dvitscope.maxImagePixels)",
                e.getMessage());
        assertEquals("no image to convert", assertThrows(IllegalArgumentException.class, () -> r.convert(null)).getMessage());
    }

    @Test
    void inMemoryReadsNameTheirSource() {
        ImageReader r = ImageReader.defaults();
        InvalidInputException named = assertThrows(InvalidInputException.class,
                () -> r.read(new byte[] {1, 2}, "upload.png"));
        assertEquals(java.nio.file.Path.of("upload.png"), named.file());
        InvalidInputException anonymous = assertThrows(InvalidInputException.class, () -> r.read(new byte[] {1, 2}, null));
        assertEquals(null, anonymous.file());
        assertTrue(anonymous.getMessage().startsWith("not a supported image"), anonymous.getMessage());
    }
}
