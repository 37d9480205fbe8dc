package io.vitscope.relevance;

import io.vitscope.InvalidArgumentException;

/**
 * The n-point Gauss–Legendre rule on [0, 1]: exact for polynomials of degree 2n − 1. Nodes are the roots of the
 * Legendre polynomial P_n found by Newton's method from Tricomi's initial guesses cos(π(i − ¼)/(n + ½)), weights
 * 2 / ((1 − t²) P_n′(t)²), both mapped from [−1, 1] to [0, 1] (t → (t + 1)/2, w → w/2). Agrees with numpy's
 * {@code leggauss} to double precision.
 *
 * @param nodes ascending points in (0, 1)
 * @param weights positive, summing to 1
 */
public record GaussLegendre(double[] nodes, double[] weights) {

    public static GaussLegendre of(int n) {
        if (n < 1 || n > 1000) {
            throw new InvalidArgumentException("steps", "steps must be in 1..1000, got " + n);
        }
        double[] x = new double[n];
        double[] w = new double[n];
        for (int i = 0; i < (n + 1) / 2; i++) {
            double t = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
            double dp = 0;
            for (int iter = 0; iter < 100; iter++) {
                double p0 = 1;
                double p1 = t;
                for (int k = 2; k <= n; k++) {
                    double p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                double pn = n == 1 ? t : p1;
                double pnm1 = n == 1 ? 1 : p0;
                dp = n * (t * pn - pnm1) / (t * t - 1);
                double dt = pn / dp;
                t -= dt;
                if (Math.abs(dt) < 1e-16) {
                    break;
                }
            }
            double weight = 2 / ((1 - t * t) * dp * dp);
            // t is the i-th largest root; store ascending on [0, 1], with its mirror image.
            x[n - 1 - i] = (1 + t) / 2;
            x[i] = (1 - t) / 2;
            w[n - 1 - i] = weight / 2;
            w[i] = weight / 2;
        }
        return new GaussLegendre(x, w);
    }
}
