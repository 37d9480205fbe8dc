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

    /**
     * Whether an enabled breakpoint of this call stops at one of {@code sites}. Where none does, a module may compute
     * the statements between those sites in one step, binding the same locals for captures (Attention's fused core).
     */
    public boolean stopsAtAny(Site... sites) {
        return false;
    }

    /**
     * Whether anything in this call may read its locals: a capture, or a breakpoint that is enabled. A module may skip
     * making locals (views, kept intermediates) that nothing reads.
     */
    public boolean readsLocals() {
        return false;
    }

    /**
     * Whether nothing in this call can see it past {@code sites}: no capture (a capture records the locals and the
     * return value), and every breakpoint on this module, enabled or not, stops only at those sites. A module may
     * then compute the rest differently in ways that only such a probe could notice (the last block's MLP line on the
     * tokens the output reads).
     */
    public boolean seesOnly(Site... sites) {
        return true;
    }

    /** Ends the call (also when the forward failed). */
    @Override
    public void close() {}
}
