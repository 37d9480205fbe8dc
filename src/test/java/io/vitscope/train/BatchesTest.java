package io.vitscope.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchesTest {

    private static Idx.Images ramp() {
        byte[] px = new byte[28 * 28];
        for (int r = 0; r < 28; r++) {
            for (int c = 0; c < 28; c++) {
                px[r * 28 + c] = (byte) (c * 9);  // brighter to the right
            }
        }
        return new Idx.Images(1, 28, 28, px);
    }

    @Test
    void normalizesAsInferenceDoes() {
        Batches b = new Batches(FashionVit.DATA_CONFIG);
        float[] x = new float[28 * 28];
        b.fill(x, ramp(), new int[] {0}, 0, 1, Batches.Augment.NONE, null);
        // (v / 255 - 0.2860) / 0.3530; float32 arithmetic, so 1e-6.
        assertEquals((0 / 255.0 - 0.2860) / 0.3530, x[0], 1e-6);
        assertEquals((27 * 9 / 255.0 - 0.2860) / 0.3530, x[27], 1e-6);
    }

    /** A generator that always flips and always shifts by +1 row and +1 column (nextInt(5) = 3, minus pad 2). */
    private static final class Fixed extends Random {
        @Override
        public boolean nextBoolean() {
            return true;
        }

        @Override
        public int nextInt(int bound) {
            return 3;
        }
    }

    @Test
    void flipMirrorsColumns() {
        Batches b = new Batches(FashionVit.DATA_CONFIG);
        float[] plain = new float[28 * 28];
        b.fill(plain, ramp(), new int[] {0}, 0, 1, Batches.Augment.NONE, null);
        float[] flipped = new float[28 * 28];
        b.fill(flipped, ramp(), new int[] {0}, 0, 1, new Batches.Augment(true, 0), new Fixed());
        for (int c = 0; c < 28; c++) {
            assertEquals(plain[5 * 28 + c], flipped[5 * 28 + 27 - c], 0, "column " + c + " mirrored");
        }
    }

    @Test
    void cropShiftsAndPadsWithBlack() {
        Batches b = new Batches(FashionVit.DATA_CONFIG);
        float[] plain = new float[28 * 28];
        b.fill(plain, ramp(), new int[] {0}, 0, 1, Batches.Augment.NONE, null);
        float[] cropped = new float[28 * 28];
        b.fill(cropped, ramp(), new int[] {0}, 0, 1, new Batches.Augment(false, 2), new Fixed());
        for (int c = 0; c < 27; c++) {
            assertEquals(plain[10 * 28 + c + 1], cropped[10 * 28 + c], 0, "column " + c + " shows column " + (c + 1));
        }
        assertEquals(b.normalize(0), cropped[10 * 28 + 27], 0, "the last column comes from the zero padding");
    }
}
