package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The EXIF orientation reader on hand-built TIFF blocks (TIFF 6.0 layout: byte order, 42, IFD0 offset, entry count,
 * 12-byte entries) and {@code exif_transpose} on a 3x2 image whose expected pixels follow from Pillow's documented
 * operations (FLIP_LEFT_RIGHT, ROTATE_180, FLIP_TOP_BOTTOM, TRANSPOSE, ROTATE_270, TRANSVERSE, ROTATE_90, rotations
 * counter-clockwise).
 */
class ExifTest {

    /** One IFD entry: tag, type, count, 4-byte value field. */
    private record Entry(int tag, int type, long value) {
    }

    private static byte[] tiff(boolean le, Entry... entries) {
        ByteBuffer b = ByteBuffer.allocate(8 + 2 + 12 * entries.length + 4)
                .order(le ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        b.put((byte) (le ? 'I' : 'M')).put((byte) (le ? 'I' : 'M')).putShort((short) 42).putInt(8);
        b.putShort((short) entries.length);
        for (Entry e : entries) {
            b.putShort((short) e.tag).putShort((short) e.type).putInt(1);
            if (e.type == 3) {
                b.putShort((short) e.value).putShort((short) 0);
            } else {
                b.putInt((int) e.value);
            }
        }
        b.putInt(0);
        return b.array();
    }

    private static int orientation(byte[] block) {
        return Exif.orientation(block, 0, block.length);
    }

    @Test
    void shortAndLongValuesInBothByteOrders() {
        for (boolean le : new boolean[] {true, false}) {
            for (int v = 1; v <= 8; v++) {
                assertEquals(v, orientation(tiff(le, new Entry(0x0112, 3, v))), "SHORT " + v + " le=" + le);
                assertEquals(v, orientation(tiff(le, new Entry(0x0112, 4, v))), "LONG " + v + " le=" + le);
            }
        }
    }

    @Test
    void outOfRangeOrOtherTypesAreUpright() {
        assertEquals(1, orientation(tiff(true, new Entry(0x0112, 3, 0))));
        assertEquals(1, orientation(tiff(true, new Entry(0x0112, 3, 9))));
        assertEquals(1, orientation(tiff(false, new Entry(0x0112, 4, 0x10006L))), "a LONG above 8 is not read mod 2^16");
        assertEquals(1, orientation(tiff(false, new Entry(0x0112, 4, 0xFFFFFFFFL))));
        assertEquals(1, orientation(tiff(true, new Entry(0x0112, 5, 6))), "RATIONAL is not an orientation");
        assertEquals(1, orientation(tiff(true, new Entry(0x0112, 1, 6))), "BYTE is not read either");
    }

    @Test
    void theTagIsFoundAmongOtherEntriesButOnlyWithinTheCount() {
        byte[] second = tiff(true, new Entry(0x010F, 3, 5), new Entry(0x0112, 3, 6));
        assertEquals(6, orientation(second));
        byte[] third = tiff(false, new Entry(0x010F, 3, 5), new Entry(0x0110, 4, 7), new Entry(0x0112, 3, 3));
        assertEquals(3, orientation(third));
        // the count says one entry: the second is not IFD0's
        byte[] counted = second.clone();
        counted[8] = 1;
        assertEquals(1, orientation(counted));
        assertEquals(1, orientation(tiff(true, new Entry(0x010F, 3, 6))), "no orientation tag");
    }

    @Test
    void theBlockMayStartAnywhereAndEndsWhereItsLengthSays() {
        byte[] block = tiff(true, new Entry(0x0112, 3, 6));
        byte[] d = new byte[5 + block.length + 7];
        System.arraycopy(block, 0, d, 5, block.length);
        assertEquals(6, Exif.orientation(d, 5, block.length));
        assertEquals(6, Exif.orientation(d, 5, block.length + 100), "a length past the array is clipped");
        // the entry's last byte falls outside the block: not read
        int entryEnd = 8 + 2 + 12;
        assertEquals(6, Exif.orientation(d, 5, entryEnd));
        assertEquals(1, Exif.orientation(d, 5, entryEnd - 1));
        assertEquals(1, Exif.orientation(d, -1, block.length));
        assertEquals(1, Exif.orientation(d, 5, -3));
        assertEquals(1, Exif.orientation(block, 0, 7), "shorter than a TIFF header");
    }

    @Test
    void aLongValueEndingExactlyAtTheArrayEnd() {
        byte[] block = tiff(false, new Entry(0x0112, 4, 8));
        byte[] cut = Arrays.copyOf(block, block.length - 4); // drop the next-IFD offset
        assertEquals(8, Exif.orientation(cut, 0, cut.length));
        byte[] shortCut = Arrays.copyOf(tiff(true, new Entry(0x0112, 3, 7)), 8 + 2 + 12);
        assertEquals(7, Exif.orientation(shortCut, 0, shortCut.length));
    }

    @Test
    void malformedHeadersAreUpright() {
        byte[] good = tiff(true, new Entry(0x0112, 3, 6));
        byte[] order = good.clone();
        order[1] = 'M'; // "IM"
        assertEquals(1, orientation(order));
        byte[] order2 = good.clone();
        order2[0] = 'M'; // "MI"
        assertEquals(1, orientation(order2));
        byte[] magic = good.clone();
        magic[2] = 43;
        assertEquals(1, orientation(magic));
        byte[] ifdLow = good.clone();
        ifdLow[4] = 7; // the IFD would overlap the header
        assertEquals(1, orientation(ifdLow));
        byte[] ifdHigh = good.clone();
        ifdHigh[4] = (byte) good.length; // past the end
        assertEquals(1, orientation(ifdHigh));
        byte[] ifdHuge = good.clone();
        ifdHuge[7] = (byte) 0x80; // 2^31 + 8
        assertEquals(1, orientation(ifdHuge));
    }

    // ------------------------------------------------------------------ transpose

    /** 3 wide, 2 high, RGB: pixel value v in R, v + 10 in G, v + 20 in B. */
    private static Image8 sample() {
        return image(3, 2, 1, 2, 3, 4, 5, 6);
    }

    private static Image8 image(int w, int h, int... values) {
        byte[] px = new byte[values.length * 3];
        for (int i = 0; i < values.length; i++) {
            px[3 * i] = (byte) values[i];
            px[3 * i + 1] = (byte) (values[i] + 10);
            px[3 * i + 2] = (byte) (values[i] + 20);
        }
        return new Image8(w, h, 3, px);
    }

    private static void assertImage(Image8 expected, Image8 actual, String what) {
        assertEquals(expected.width(), actual.width(), what + " width");
        assertEquals(expected.height(), actual.height(), what + " height");
        assertEquals(expected.channels(), actual.channels(), what + " channels");
        assertArrayEquals(expected.pixels(), actual.pixels(), what);
    }

    @Test
    void transposeFollowsPillowsExifTranspose() {
        // source rows: [1 2 3] / [4 5 6]
        assertImage(image(3, 2, 3, 2, 1, 6, 5, 4), Exif.transpose(sample(), 2), "2 FLIP_LEFT_RIGHT");
        assertImage(image(3, 2, 6, 5, 4, 3, 2, 1), Exif.transpose(sample(), 3), "3 ROTATE_180");
        assertImage(image(3, 2, 4, 5, 6, 1, 2, 3), Exif.transpose(sample(), 4), "4 FLIP_TOP_BOTTOM");
        assertImage(image(2, 3, 1, 4, 2, 5, 3, 6), Exif.transpose(sample(), 5), "5 TRANSPOSE");
        assertImage(image(2, 3, 4, 1, 5, 2, 6, 3), Exif.transpose(sample(), 6), "6 ROTATE_270 (clockwise quarter)");
        assertImage(image(2, 3, 6, 3, 5, 2, 4, 1), Exif.transpose(sample(), 7), "7 TRANSVERSE");
        assertImage(image(2, 3, 3, 6, 2, 5, 1, 4), Exif.transpose(sample(), 8), "8 ROTATE_90 (counter-clockwise)");
    }

    @Test
    void transposeLeavesUprightAndInvalidOrientationsAlone() {
        Image8 im = sample();
        for (int o : new int[] {-1, 0, 1, 9, 100}) {
            assertSame(im, Exif.transpose(im, o), "orientation " + o);
        }
    }

    @Test
    void rotationsUndoEachOther() {
        Image8 im = image(3, 2, 1, 2, 3, 4, 5, 6);
        assertImage(im, Exif.transpose(Exif.transpose(im, 6), 8), "270 then 90");
        assertImage(im, Exif.transpose(Exif.transpose(im, 3), 3), "180 twice");
        assertImage(im, Exif.transpose(Exif.transpose(im, 5), 5), "transpose twice");
        assertImage(im, Exif.transpose(Exif.transpose(im, 7), 7), "transverse twice");
    }
}
