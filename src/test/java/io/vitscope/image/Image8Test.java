package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Image8's own contract: validation, Pillow mode names, value semantics and crops reaching outside the image. */
class Image8Test {

    @Test
    void sizesMustBePositive() {
        assertEquals("image size must be positive, got 0x1",
                assertThrows(IllegalArgumentException.class, () -> new Image8(0, 1, 1, new byte[0])).getMessage());
        assertEquals("image size must be positive, got 1x0",
                assertThrows(IllegalArgumentException.class, () -> new Image8(1, 0, 1, new byte[0])).getMessage());
        assertEquals("pixel array holds 2 bytes, expected 1 x 1 x 3",
                assertThrows(IllegalArgumentException.class, () -> new Image8(1, 1, 3, new byte[2])).getMessage());
        Image8 one = new Image8(1, 1, 1, new byte[] {(byte) 200});
        assertEquals(200, one.get(0, 0, 0));
    }

    @Test
    void modeNamesAndText() {
        assertEquals("L", Image8.blank(2, 3, 1).mode());
        assertEquals("RGB", Image8.blank(2, 3, 3).mode());
        assertEquals("Image8[RGB, 2x3]", Image8.blank(2, 3, 3).toString());
        assertEquals("Image8[L, 4x1]", Image8.blank(4, 1, 1).toString());
    }

    @Test
    void valueEquality() {
        Image8 a = new Image8(2, 1, 1, new byte[] {1, 2});
        Image8 same = new Image8(2, 1, 1, new byte[] {1, 2});
        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        assertEquals(31 * (31 * (31 * 2 + 1) + 1) + java.util.Arrays.hashCode(new byte[] {1, 2}), a.hashCode());
        assertNotEquals(a, new Image8(2, 1, 1, new byte[] {1, 3}));
        assertNotEquals(a, new Image8(1, 2, 1, new byte[] {1, 2}));
        assertNotEquals(a.hashCode(), new Image8(1, 2, 1, new byte[] {1, 2}).hashCode());
        assertNotEquals(Image8.blank(1, 1, 3), new Image8(3, 1, 1, new byte[3]));
        assertNotEquals(a, (Object) "Image8[L, 2x1]");
    }

    @Test
    void cropOutsideIsBlack() {
        // 3x2 L image: rows [1 2 3] / [4 5 6]
        Image8 im = new Image8(3, 2, 1, new byte[] {1, 2, 3, 4, 5, 6});
        assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 2, 0, 4, 5}, im.crop(-1, -1, 3, 3).pixels());
        assertArrayEquals(new byte[] {3, 0, 6, 0}, im.crop(2, 0, 2, 2).pixels());
        assertArrayEquals(new byte[] {0, 0, 0, 0}, im.crop(3, 0, 2, 2).pixels(), "entirely to the right");
        assertArrayEquals(new byte[] {0, 0}, im.crop(-2, 0, 2, 1).pixels(), "entirely to the left");
        assertArrayEquals(new byte[] {5, 6}, im.crop(1, 1, 2, 1).pixels());
    }
}
