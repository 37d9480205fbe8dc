package io.vitscope.probe;

import ai.djl.ndarray.NDArray;

/**
 * The probe's view of one running call of a module's forward. Module code announces its arguments, locals and sites
 * through it, one short call per statement:
 *
 * <pre>{@code
 * try (Frame f = Probe.enter(this)) {
 *     x = f.arg("x", x);                                   // entry site
 *     NDArray qkv = f.let("qkv", ...);                     // a local
 *     attn = f.at(PRE_SOFTMAX, attn);                      // a site: breakpoints may replace attn
 *     return f.exit(x);                                    // return site
 * }
 * }</pre>
 *
 * <p>When no probe is active this is {@link #IDLE}: every method returns its argument, so an unprobed forward pays
 * one field check on entry and a virtual call per statement.
 */
public class Frame implements AutoCloseable {

    /** The frame of every call nobody probes. */
    public static final Frame IDLE = new Frame();

    Frame() {}

    /**
     * Binds the module's (single tensor) argument and stops at the entry site, where breakpoints may replace it.
     * The argument is recorded as it came in; the returned value is what the forward should use.
     */
    public NDArray arg(String name, NDArray value) {
        return value;
    }

    /** Binds a tensor local; returns it unchanged. */
    public NDArray let(String name, NDArray value) {
        return value;
    }

    /** Binds an integer local ({@code B}, {@code N}, {@code C}); returns it unchanged. */
    public int let(String name, int value) {
        return value;
    }

    /** Stops at {@code site}: breakpoints there run and may replace the site's variable, whose value is returned. */
    public NDArray at(Site site, NDArray value) {
        return value;
    }

    /** The return site: breakpoints may replace the return value; captures record the call. */
    public NDArray exit(NDArray value) {
        return value;
    }

    /** Ends the call (also when the forward failed). */
    @Override
    public void close() {}
}
