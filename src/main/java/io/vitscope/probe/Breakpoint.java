package io.vitscope.probe;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Stops at a site of every module its target matches and runs its actions there, in the order they were added —
 * NoPdb's {@code breakpoint(...)} with {@code exec} and {@code eval}.
 *
 * <pre>{@code
 * probe.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)")
 *      .exec(f -> f.set("attn", f.get("attn").mul(3)));
 * }</pre>
 */
public final class Breakpoint {

    private final Probe probe;
    private final Target target;
    private final List<Site> sites;
    private final List<Consumer<Hit>> actions = new ArrayList<>();
    private Predicate<Hit> condition = h -> true;
    private volatile boolean enabled = true;
    private int hits;

    Breakpoint(Probe probe, Target target, List<Site> sites) {
        this.probe = probe;
        this.target = target;
        this.sites = List.copyOf(sites);
    }

    /** Runs {@code action} at every hit; it may read locals and replace the site's variable. */
    public Breakpoint exec(Consumer<Hit> action) {
        requireNonNull(action, "exec needs an action (a Consumer<Hit>), got null");
        actions.add(action);
        return this;
    }

    /**
     * Evaluates {@code expression} at every hit and returns the list its values are appended to. Tensor values are
     * copied and owned by the probe, valid until it is closed.
     */
    public <T> List<T> eval(Function<Hit, T> expression) {
        requireNonNull(expression, "eval needs an expression (a Function<Hit, T>), got null");
        List<T> values = Collections.synchronizedList(new ArrayList<>());
        actions.add(hit -> {
            T value = expression.apply(hit);
            if (value instanceof NDArray a) {
                @SuppressWarnings("unchecked")
                T copy = (T) probe.keep(a);
                value = copy;
            }
            values.add(value);
        });
        return Collections.unmodifiableList(values);
    }

    /** Stops only when {@code condition} holds (evaluated before the actions). */
    public Breakpoint when(Predicate<Hit> condition) {
        requireNonNull(condition, "when needs a condition (a Predicate<Hit>), got null: use enable()/disable() to switch"
                + " the breakpoint on and off");
        this.condition = condition;
        return this;
    }

    public Breakpoint enable() {
        enabled = true;
        return this;
    }

    public Breakpoint disable() {
        enabled = false;
        return this;
    }

    public boolean enabled() {
        return enabled;
    }

    /** How many times the breakpoint stopped (condition true). */
    public int hits() {
        return hits;
    }

    /** The site it stops at, one per module class its target matches. */
    public List<Site> sites() {
        return sites;
    }

    /** Checked when the breakpoint is set up, not at the next forward, where the failure would point elsewhere. */
    private static void requireNonNull(Object o, String message) {
        if (o == null) {
            throw new IllegalArgumentException(message);
        }
    }

    boolean stopsAt(Site site) {
        for (Site s : sites) {
            if (s == site) {
                return true;
            }
        }
        return false;
    }

    Target target() {
        return target;
    }

    void fire(Hit hit) {
        if (!enabled || !condition.test(hit)) {
            return;
        }
        hits++;
        for (Consumer<Hit> action : actions) {
            action.accept(hit);
        }
    }

    @Override
    public String toString() {
        return "Breakpoint[" + target + " at " + sites.get(0).name() + (enabled ? "" : ", disabled") + ", hits=" + hits + "]";
    }
}
