package io.vitscope.probe;

/**
 * Something a probe does to a forward, packaged so that a capability can take it as an option without knowing what
 * it is: it installs its breakpoints on a probe and says in a few words what it changed (for figure titles).
 *
 * <pre>{@code
 * Intervention x3 = LogitScaling.of(3);       // "attention logits × 3"
 * try (Probe probe = Probe.on(model)) {
 *     x3.install(probe);
 *     model.forward(x);
 * }
 * }</pre>
 */
public interface Intervention {

    /** Adds this intervention's breakpoints to {@code probe}. */
    void install(Probe probe);

    /** What it changes, for titles and logs. */
    String describe();
}
