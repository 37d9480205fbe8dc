package io.vitscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.analysis.PatchWeights.Mode;
import org.junit.jupiter.api.Test;

class PatchWeightsTest {

    /** 2 heads, T = 5 (class token + a 2×2 grid), with columns that make the means easy to check by hand. */
    private static final float[][][] ATTN = {
        { // head 0: row i puts 0.2 everywhere except row 0, which looks only at patch 3 (token 4)
            {0.0f, 0.0f, 0.0f, 0.0f, 1.0f},
            {0.2f, 0.2f, 0.2f, 0.2f, 0.2f},
            {0.2f, 0.2f, 0.2f, 0.2f, 0.2f},
            {0.2f, 0.2f, 0.2f, 0.2f, 0.2f},
            {0.2f, 0.2f, 0.2f, 0.2f, 0.2f},
        },
        { // head 1: every row looks at the class token half the time and at patch 0 (token 1) the other half
            {0.5f, 0.5f, 0.0f, 0.0f, 0.0f},
            {0.5f, 0.5f, 0.0f, 0.0f, 0.0f},
            {0.5f, 0.5f, 0.0f, 0.0f, 0.0f},
            {0.5f, 0.5f, 0.0f, 0.0f, 0.0f},
            {0.5f, 0.0f, 0.0f, 0.0f, 0.5f},
        },
    };

    @Test
    void meanModeAveragesEveryQueryRowIncludingTheClassToken() {
        float[][] w = PatchWeights.of(ATTN, Mode.MEAN); // (2, 4)
        // head 0: patches 0..2 get (0 + 4·0.2)/5 = 0.16; patch 3 gets (1 + 4·0.2)/5 = 0.36
        assertArrayEquals(new float[] {0.16f, 0.16f, 0.16f, 0.36f}, w[0], 1e-7f);
        // head 1: patch 0 gets 4·0.5/5 = 0.4; patch 3 gets 0.5/5 = 0.1
        assertArrayEquals(new float[] {0.4f, 0f, 0f, 0.1f}, w[1], 1e-7f);
    }

    @Test
    void clsModeReadsTheClassTokensRow() {
        float[][] w = PatchWeights.of(ATTN, Mode.CLS);
        assertArrayEquals(new float[] {0f, 0f, 0f, 1f}, w[0], 0f);
        assertArrayEquals(new float[] {0.5f, 0f, 0f, 0f}, w[1], 0f);
    }

    @Test
    void gridIsRowMajorLikePatchEmbed() {
        float[][][] g = PatchWeights.grid(ATTN, Mode.MEAN, 2, 2); // (2, 2, 2)
        assertArrayEquals(new float[] {0.16f, 0.16f}, g[0][0], 1e-7f);
        assertArrayEquals(new float[] {0.16f, 0.36f}, g[0][1], 1e-7f);
        assertArrayEquals(new float[] {0.4f, 0f}, g[1][0], 1e-7f);
    }

    @Test
    void nonSquareGridsWork() {
        float[][][] attn = AttentionFixtures.softmaxAttention(1, 3, 16); // 15 patches = 3×5
        float[][] flat = PatchWeights.of(attn, Mode.MEAN);
        float[][][] g = PatchWeights.grid(attn, Mode.MEAN, 3, 5);
        assertEquals(3, g[0].length);
        assertEquals(5, g[0][0].length);
        for (int h = 0; h < 3; h++) {
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 5; c++) {
                    assertEquals(flat[h][r * 5 + c], g[h][r][c], 0f);
                }
            }
        }
    }

    @Test
    void meanModeMatchesAStraightforwardLoop() {
        float[][][] attn = AttentionFixtures.softmaxAttention(7, 4, 10);
        float[][] w = PatchWeights.of(attn, Mode.MEAN);
        for (int h = 0; h < 4; h++) {
            for (int j = 1; j < 10; j++) {
                double s = 0;
                for (int i = 0; i < 10; i++) {
                    s += attn[h][i][j];
                }
                assertEquals(s / 10, w[h][j - 1], 1e-7); // float rounding of a mean below 1
            }
        }
    }

    @Test
    void rejectsNonSquareAttention() {
        float[][][] bad = new float[2][5][4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PatchWeights.of(bad, Mode.MEAN));
        assertTrue(e.getMessage().contains("square"), e.getMessage());
    }

    @Test
    void rejectsAGridThatDoesNotHoldTheTokens() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PatchWeights.grid(ATTN, Mode.MEAN, 3, 3));
        assertTrue(e.getMessage().contains("4 patches") && e.getMessage().contains("3x3"), e.getMessage());
    }
}
