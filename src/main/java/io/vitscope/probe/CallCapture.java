package io.vitscope.probe;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Captures calls of the modules its target matches: the most recent one ({@link Probe#captureCall}) or every one in
 * order ({@link Probe#captureCalls}). Closing it closes its probe when it was opened on its own
 * ({@code Probe.captureCall(model, "blocks.4.attn")}).
 */
public final class CallCapture implements AutoCloseable {

    private final Probe probe;
    private final Target target;
    private final boolean keepAll;
    private final boolean ownsProbe;
    private final List<CallRecord> records = new ArrayList<>();

    CallCapture(Probe probe, Target target, boolean keepAll, boolean ownsProbe) {
        this.probe = probe;
        this.target = target;
        this.keepAll = keepAll;
        this.ownsProbe = ownsProbe;
    }

    Target target() {
        return target;
    }

    synchronized void add(CallRecord record) {
        if (probe.closed()) {
            record.close();                 // the probe was closed (from another thread) while this call ran
            return;
        }
        if (!keepAll && !records.isEmpty()) {
            records.remove(0).close();
        }
        records.add(record);
    }

    /** The most recent captured call; fails clearly when no matching call ran while the probe was active. */
    public synchronized CallRecord get() {
        if (records.isEmpty()) {
            throw new IllegalStateException("No call of " + target + " was captured: run the model on this thread "
                    + "while the probe is open (probes belong to the thread that started them)");
        }
        return records.get(records.size() - 1);
    }

    /** The most recent captured call, if any. */
    public synchronized Optional<CallRecord> last() {
        return records.isEmpty() ? Optional.empty() : Optional.of(records.get(records.size() - 1));
    }

    /** Every captured call kept, in call order (only the last one for {@code captureCall}). */
    public synchronized List<CallRecord> all() {
        return Collections.unmodifiableList(new ArrayList<>(records));
    }

    /** Frees the captured tensors; the capture keeps recording new calls. */
    public synchronized void clear() {
        records.forEach(CallRecord::close);
        records.clear();
    }

    /**
     * Writes every kept call to one {@code .npz}: {@code <path>/<local>} (and {@code <path>/arg_<name>},
     * {@code <path>/return}); a path called more than once gets {@code <path>#<k>/…} for its k-th call from 0.
     */
    public void save(java.nio.file.Path file) {
        NpzExport.save(file, all(), true);
    }

    @Override
    public void close() {
        if (ownsProbe) {
            probe.close();
        } else {
            probe.remove(this);
            clear();
        }
    }

    @Override
    public String toString() {
        return "CallCapture[" + target + ", " + records.size() + " call(s)]";
    }
}
