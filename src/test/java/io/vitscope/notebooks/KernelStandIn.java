package io.vitscope.notebooks;

import java.util.function.Consumer;

/**
 * What the notebook executor puts in place of a Jupyter Java kernel's {@code display(Object)}: the session's
 * {@code display} forwards here, and the executor records what arrives. Public because JShell snippets call it.
 */
public final class KernelStandIn {

    private static volatile Consumer<Object> recorder;

    private KernelStandIn() {
    }

    /** The definition evaluated in each session, with IJava's and JJava's signature. */
    static final String DISPLAY_FUNCTION =
            "String display(Object o) { return " + KernelStandIn.class.getName() + ".display(o); }";

    static void recordTo(Consumer<Object> target) {
        recorder = target;
    }

    public static String display(Object o) {
        Consumer<Object> r = recorder;
        if (r == null) {
            throw new IllegalStateException("display() called outside a notebook run");
        }
        r.accept(o);
        return "display";
    }
}
