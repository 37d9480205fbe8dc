package io.vitscope.analysis;

/** The small square-matrix helpers of rollout-style analyses (T×T, double): shared by rollout and relevance rules. */
public final class Matrices {

    private Matrices() {
    }

    /** The T×T identity. */
    public static double[][] identity(int t) {
        double[][] m = new double[t][t];
        for (int i = 0; i < t; i++) {
            m[i][i] = 1;
        }
        return m;
    }

    /** a · b for square matrices, i-k-j order so that the inner loop walks rows. */
    public static double[][] multiply(double[][] a, double[][] b) {
        int t = a.length;
        double[][] c = new double[t][t];
        for (int i = 0; i < t; i++) {
            double[] ci = c[i];
            for (int k = 0; k < t; k++) {
                double aik = a[i][k];
                if (aik == 0) {
                    continue;
                }
                double[] bk = b[k];
                for (int j = 0; j < t; j++) {
                    ci[j] += aik * bk[j];
                }
            }
        }
        return c;
    }
}
