package io.vitscope.weights;

import java.util.Arrays;

/** Small helpers for shapes given as {@code long[]}. */
public final class Shapes {

    private Shapes() {}

    /** Product of the dimensions (1 for a 0-d shape); assumes it was validated not to overflow. */
    public static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Product of the dimensions, or -1 when a dimension is negative or the product (times {@code itemSize})
     * overflows a long.
     */
    static long checkedByteSize(long[] shape, int itemSize) {
        try {
            long n = itemSize;
            for (long d : shape) {
                if (d < 0) {
                    return -1;
                }
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Python-like rendering: {@code (3, 768)}, {@code (5,)}, {@code ()}. */
    public static String format(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        String s = Arrays.toString(shape);
        return "(" + s.substring(1, s.length() - 1) + ")";
    }
}
