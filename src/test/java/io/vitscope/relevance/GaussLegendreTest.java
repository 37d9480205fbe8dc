package io.vitscope.relevance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rule integrated gradients uses: what an n-point Gauss–Legendre rule must do, checked from its definition. */
class GaussLegendreTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 50, 51})
    void exactForPolynomialsUpToDegree2nMinus1(int n) {
        GaussLegendre r = GaussLegendre.of(n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(r.nodes()[i] > 0 && r.nodes()[i] < 1 && r.weights()[i] > 0);
            if (i > 0) {
                assertTrue(r.nodes()[i] > r.nodes()[i - 1], "ascending");
            }
            assertEquals(r.nodes()[i], 1 - r.nodes()[n - 1 - i], 1e-15, "symmetric");
            sum += r.weights()[i];
        }
        assertEquals(1, sum, 1e-14);
        // ∫_0^1 x^k dx = 1/(k+1) for every k ≤ 2n − 1. The sum of n positive terms ≤ 1 rounds to ~n·u ≈ 1e-14.
        for (int k = 0; k <= 2 * n - 1; k++) {
            double q = 0;
            for (int i = 0; i < n; i++) {
                q += r.weights()[i] * Math.pow(r.nodes()[i], k);
            }
            assertEquals(1.0 / (k + 1), q, 1e-13, "x^" + k);
        }
        // and not for degree 2n: the error term (n!)^4 / ((2n + 1) ((2n)!)^2) is 5.6e-9 at n = 7 (below u for n ≥ 10).
        if (n > 7) {
            return;
        }
        double q = 0;
        for (int i = 0; i < n; i++) {
            q += r.weights()[i] * Math.pow(r.nodes()[i], 2 * n);
        }
        assertTrue(Math.abs(q - 1.0 / (2 * n + 1)) > 1e-13, "x^" + 2 * n + " should not be exact");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -3, 1001})
    void refusesSillySizes(int n) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GaussLegendre.of(n));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
    }
}
