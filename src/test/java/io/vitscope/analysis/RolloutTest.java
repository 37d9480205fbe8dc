package io.vitscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.analysis.AttentionRollout.Fusion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class RolloutTest {

    /** One head, T = 3: the class token splits 0.5/0.25/0.25; each patch attends only to itself. */
    private static final float[][][] SIMPLE = {{
        {0.5f, 0.25f, 0.25f},
        {0f, 1f, 0f},
        {0f, 0f, 1f},
    }};

    @Test
    void oneBlockAddsTheIdentityAndNormalisesRows() {
        // a = attn + I; row 0 = (1.5, 0.25, 0.25) / 2
        assertArrayEquals(new float[] {0.125f, 0.125f}, AttentionRollout.rollout(blocks(SIMPLE)), 1e-7f);
    }

    @Test
    void blocksComposeByMatrixProduct() {
        // row 0 of a·a with a row 0 = (0.75, 0.125, 0.125), patch rows = unit rows: 0.75·0.125 + 0.125·1 = 0.21875
        assertArrayEquals(new float[] {0.21875f, 0.21875f},
                AttentionRollout.rollout(blocks(SIMPLE, SIMPLE)), 1e-7f);
    }

    @Test
    void laterBlocksMultiplyFromTheLeft() {
        // Block 0 routes patch 1's content into patch 2 (row 2 = (0, 1, 0)); block 1's class token reads patch 2 only.
        float[][][] b0 = {{{1f, 0f, 0f}, {0f, 1f, 0f}, {0f, 1f, 0f}}};
        float[][][] b1 = {{{0f, 0f, 1f}, {0f, 1f, 0f}, {0f, 0f, 1f}}};
        // a0 = rows (1,0,0), (0,1,0), (0,.5,.5); a1 row 0 = (.5, 0, .5). a1·a0 row 0 = (.5, .25, .25).
        assertArrayEquals(new float[] {0.25f, 0.25f}, AttentionRollout.rollout(blocks(b0, b1)), 1e-7f);
        // The other order gives a different answer: a0·a1 row 0 = a1 row 0 = (.5, 0, .5).
        assertArrayEquals(new float[] {0f, 0.5f}, AttentionRollout.rollout(blocks(b1, b0)), 1e-7f);
    }

    @Test
    void headFusionMeanMaxMin() {
        float[][][] twoHeads = {
            {{0.5f, 0.5f, 0f}, {0f, 1f, 0f}, {0f, 0f, 1f}},
            {{0.5f, 0f, 0.5f}, {0f, 1f, 0f}, {0f, 0f, 1f}},
        };
        // mean row 0 = (.5, .25, .25) + I -> (1.5, .25, .25) / 2
        assertArrayEquals(new float[] {0.125f, 0.125f},
                AttentionRollout.rollout(blocks(twoHeads), Fusion.MEAN, 0), 1e-7f);
        // max row 0 = (.5, .5, .5) + I -> (1.5, .5, .5) / 2.5
        assertArrayEquals(new float[] {0.2f, 0.2f},
                AttentionRollout.rollout(blocks(twoHeads), Fusion.MAX, 0), 1e-7f);
        // min row 0 = (.5, 0, 0) + I -> (1.5, 0, 0) / 1.5
        assertArrayEquals(new float[] {0f, 0f}, AttentionRollout.rollout(blocks(twoHeads), Fusion.MIN, 0), 0f);
    }

    @Test
    void discardZeroesTheSmallestEntriesLowestIndexFirstOnTies() {
        float[][][] attn = {{
            {0.6f, 0.3f, 0.1f},
            {0.2f, 0.5f, 0.3f},
            {0.1f, 0.1f, 0.8f},
        }};
        // k = (int)(9 · 0.3) = 2; the three 0.1s are at flat indices 2, 6, 7: 2 and 6 are zeroed, 7 stays.
        // Row 0 becomes (0.6, 0.3, 0) + I = (1.6, 0.3, 0) / 1.9.
        assertArrayEquals(new float[] {(float) (0.3 / 1.9), 0f},
                AttentionRollout.rollout(blocks(attn), Fusion.MEAN, 0.3), 1e-7f);
        float[] fused = {0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f};
        AttentionRollout.discard(fused, 2);
        assertArrayEquals(new float[] {0.6f, 0.3f, 0f, 0.2f, 0.5f, 0.3f, 0f, 0.1f, 0.8f}, fused, 0f);
    }

    @Test
    void discardNeverTouchesTheClassTokensSelfAttentionButCountsIt() {
        float[] fused = {0.01f, 0.5f, 0.49f, 0.3f};
        AttentionRollout.discard(fused, 2); // the two smallest are indices 0 and 3: only 3 is zeroed
        assertArrayEquals(new float[] {0.01f, 0.5f, 0.49f, 0f}, fused, 0f);
    }

    @Test
    void matchesAStraightforwardImplementation() {
        List<float[][][]> blocks = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            blocks.add(AttentionFixtures.softmaxAttention(100 + b, 3, 10));
        }
        for (Fusion f : Fusion.values()) {
            for (double discard : new double[] {0, 0.5, 0.9}) {
                float[] expected = reference(blocks, f, discard);
                float[] actual = AttentionRollout.rollout(blocks, f, discard);
                assertArrayEquals(expected, actual, 1e-6f, f + " discard " + discard); // float vs double sums
            }
        }
    }

    @Test
    void rolloutOfFullRowSumsToOneWithTheClassToken() {
        List<float[][][]> blocks = blocks(AttentionFixtures.softmaxAttention(5, 2, 17),
                AttentionFixtures.softmaxAttention(6, 2, 17));
        float[] r = AttentionRollout.rollout(blocks);
        double sum = 0;
        for (float v : r) {
            assertTrue(v > 0 && v < 1);
            sum += v;
        }
        assertTrue(sum < 1, "the class token keeps part of the mass: " + sum);
    }

    @Test
    void rejectsBadInputs() {
        List<float[][][]> ok = blocks(SIMPLE);
        assertMessage(() -> AttentionRollout.rollout(ok, Fusion.MEAN, 1.0), "[0, 1)");
        assertMessage(() -> AttentionRollout.rollout(ok, Fusion.MEAN, -0.1), "[0, 1)");
        assertMessage(() -> AttentionRollout.rollout(ok, Fusion.MEAN, Double.NaN), "[0, 1)");
        assertMessage(() -> AttentionRollout.rollout(blocks()), "at least one block");
        assertMessage(() -> AttentionRollout.rollout(blocks(new float[1][3][2])), "square");
        assertMessage(() -> AttentionRollout.rollout(blocks(SIMPLE, new float[1][4][4])), "block 1 has T = 4");
        float[][][] nan = {{{Float.NaN, 0.5f, 0.5f}, {0f, 1f, 0f}, {0f, 0f, 1f}}};
        assertMessage(() -> AttentionRollout.rollout(blocks(nan)), "NaN");
    }

    private static List<float[][][]> blocks(float[][][]... perBlock) {
        return List.of(perBlock);
    }

    private static void assertMessage(Runnable r, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    /** The algorithm written as plainly as possible, with boxed sorting, for comparison. */
    private static float[] reference(List<float[][][]> blocks, Fusion fusion, double discard) {
        int t = blocks.get(0)[0].length;
        double[][] result = new double[t][t];
        for (int i = 0; i < t; i++) {
            result[i][i] = 1;
        }
        for (float[][][] attn : blocks) {
            float[][] fused = new float[t][t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    float v = attn[0][i][j];
                    double s = 0;
                    for (float[][] head : attn) {
                        s += head[i][j];
                        v = fusion == Fusion.MAX ? Math.max(v, head[i][j]) : Math.min(v, head[i][j]);
                    }
                    fused[i][j] = fusion == Fusion.MEAN ? (float) (s / attn.length) : v;
                }
            }
            int k = (int) (t * t * discard);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < t * t; i++) {
                order.add(i);
            }
            order.sort(Comparator.<Integer>comparingDouble(i -> fused[i / t][i % t]).thenComparingInt(i -> i));
            for (int idx : order.subList(0, k)) {
                if (idx != 0) {
                    fused[idx / t][idx % t] = 0;
                }
            }
            double[][] a = new double[t][t];
            for (int i = 0; i < t; i++) {
                double s = 0;
                for (int j = 0; j < t; j++) {
                    a[i][j] = fused[i][j] + (i == j ? 1 : 0);
                    s += a[i][j];
                }
                for (int j = 0; j < t; j++) {
                    a[i][j] /= s;
                }
            }
            double[][] next = new double[t][t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    for (int m = 0; m < t; m++) {
                        next[i][j] += a[i][m] * result[m][j];
                    }
                }
            }
            result = next;
        }
        float[] out = new float[t - 1];
        for (int j = 1; j < t; j++) {
            out[j - 1] = (float) result[0][j];
        }
        return out;
    }

    @Test
    void discardCountUsesTheFlooredProduct() {
        assertEquals(2, AttentionRollout.discardCount(3, 0.3)); // 9 × 0.3 = 2.6999999999999997: int() floors
        assertEquals(0, AttentionRollout.discardCount(3, 0.1)); // 0.9 floors to 0, where rounding would give 1
        assertEquals(34928, AttentionRollout.discardCount(197, 0.9)); // 38809 × 0.9 = 34928.1
        assertEquals(0, AttentionRollout.discardCount(197, 0));
    }
}
