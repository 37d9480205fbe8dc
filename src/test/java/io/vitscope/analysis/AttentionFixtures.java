package io.vitscope.analysis;

import java.util.Random;

/** Small attention tensors for the analysis tests. */
final class AttentionFixtures {

    private AttentionFixtures() {
    }

    /** A random post-softmax attention (N, T, T): rows positive and summing to 1. */
    static float[][][] softmaxAttention(long seed, int n, int t) {
        Random rnd = new Random(seed);
        float[][][] a = new float[n][t][t];
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                double[] e = new double[t];
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    e[j] = Math.exp(2 * rnd.nextGaussian());
                    sum += e[j];
                }
                for (int j = 0; j < t; j++) {
                    a[h][i][j] = (float) (e[j] / sum);
                }
            }
        }
        return a;
    }
}
