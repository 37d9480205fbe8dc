package io.vitscope.engine;

import java.util.function.BooleanSupplier;

/**
 * A yes/no answer worked out on first use and kept: whether a native feature is there. Until an answer is kept, a
 * {@code check} that throws throws again on the next use.
 */
final class Once {

    private final BooleanSupplier check;
    private volatile Boolean answer;

    Once(BooleanSupplier check) {
        this.check = check;
    }

    boolean get() {
        Boolean a = answer;
        if (a == null) {
            synchronized (this) {
                if (answer == null) {
                    answer = check.getAsBoolean();
                }
                a = answer;
            }
        }
        return a;
    }
}
