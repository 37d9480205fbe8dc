package io.vitscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.analysis.PatchWeights.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttentionEntropyTest {

    @Test
    void uniformOneHotAndHalfRows() {
        float q = 0.25f;
        float[][][] attn = {{
            {q, q, q, q},             // ln 4
            {1f, 0f, 0f, 0f},         // 0
            {0.5f, 0.5f, 0f, 0f},     // ln 2
            {0f, 0f, 0f, 1f},         // 0
        }};
        assertEquals((Math.log(4) + Math.log(2)) / 4, AttentionEntropy.mean(attn), 1e-7); // float inputs, double sums
    }

    @Test
    void rejectsNegativeWeights() {
        float[][][] attn = {{{1.5f, -0.5f}, {0.5f, 0.5f}}};
        assertThrows(IllegalArgumentException.class, () -> AttentionEntropy.mean(attn));
    }

    /** The NDArray entry points copy the tensor out faithfully: same answers as the array versions. */
    @Test
    void ndArrayEntryPointsAgreeWithArrays() {
        float[][][] img0 = AttentionFixtures.softmaxAttention(11, 2, 5);
        float[][][] img1 = AttentionFixtures.softmaxAttention(12, 2, 5);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray batch = m.create(flatten(img0, img1), new Shape(2, 2, 5, 5)); // (B, N, T, T)
            assertEquals((AttentionEntropy.mean(img0) + AttentionEntropy.mean(img1)) / 2,
                    AttentionEntropy.mean(batch), 1e-9); // same double sums in another order
            float[][][] back = AttentionMaps.perImage(batch, 1); // (N, T, T)
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 5; i++) {
                    assertArrayEquals(img1[h][i], back[h][i], 0f);
                }
            }
            NDArray one = batch.get(0); // (N, T, T)
            assertArrayEquals(PatchWeights.of(img0, Mode.CLS)[1], PatchWeights.of(one, Mode.CLS)[1], 0f);
            assertArrayEquals(AttentionRollout.rollout(List.<float[][][]>of(img0, img1), AttentionRollout.Fusion.MEAN, 0.2),
                    AttentionRollout.rolloutOf(List.of(one, batch.get(1).expandDims(0)),
                            AttentionRollout.Fusion.MEAN, 0.2), 0f);
            assertThrows(IllegalArgumentException.class, () -> AttentionMaps.of(batch)); // two images: ambiguous
        }
    }

    private static float[] flatten(float[][][]... images) {
        int n = images[0].length;
        int t = images[0][0].length;
        float[] out = new float[images.length * n * t * t];
        int p = 0;
        for (float[][][] img : images) {
            for (float[][] head : img) {
                for (float[] row : head) {
                    System.arraycopy(row, 0, out, p, t);
                    p += t;
                }
            }
        }
        return out;
    }
}
