package io.vitscope.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/** {@link Bench#medianInterval}: the order statistics of the exact binomial confidence interval for a median. */
class MedianIntervalTest {

    /** Values 0..n-1 shuffled, so the interval's ends are the 0-based ranks it picked. */
    private static double[] ranks(int n) {
        double[] xs = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = (i * 7919L) % n; // a permutation of 0..n-1 for the n used below (7919 is prime)
        }
        return xs;
    }

    /** 2·P(Binomial(n, ½) ≤ l), exactly. */
    private static double miss(int n, int l) {
        BigInteger sum = BigInteger.ZERO;
        BigInteger c = BigInteger.ONE;
        for (int k = 0; k <= l; k++) {
            sum = sum.add(c);
            c = c.multiply(BigInteger.valueOf(n - k)).divide(BigInteger.valueOf(k + 1));
        }
        return new BigDecimal(sum.shiftLeft(1)).divide(new BigDecimal(BigInteger.TWO.pow(n)), MathContext.DECIMAL64)
                .doubleValue();
    }

    @Test
    void picksTheWidestRankWhoseMissProbabilityIsAtMostFivePercent() {
        for (int n = 6; n <= 200; n++) {
            double[] ci = Bench.medianInterval(ranks(n));
            int l = (int) ci[0];
            assertTrue(ci[1] == n - 1 - l, "symmetric ranks at n=" + n);
            assertTrue(miss(n, l) <= 0.05, "coverage at least 95 % at n=" + n);
            assertTrue(miss(n, l + 1) > 0.05, "no narrower interval qualifies at n=" + n);
        }
    }

    @Test
    void knownRanks() {
        // Tables of the sign-test interval: n = 30 → 10th and 21st values (1-based), n = 6 → 1st and 6th.
        assertArrayEquals(new double[] {9, 20}, Bench.medianInterval(ranks(30)));
        assertArrayEquals(new double[] {0, 5}, Bench.medianInterval(ranks(6)));
    }

    @Test
    void belowSixValuesTheIntervalIsTheRange() {
        assertArrayEquals(new double[] {0, 4}, Bench.medianInterval(ranks(5)));
        assertArrayEquals(new double[] {0, 0}, Bench.medianInterval(ranks(1)));
    }
}
