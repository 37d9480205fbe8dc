package io.vitscope.probe;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A set of captures and breakpoints on one model, active on the thread that started it — NoPdb's {@code NoPdb()}
 * object, and the scope of everything it captured.
 *
 * <pre>{@code
 * try (Probe probe = Probe.on(model)) {
 *     probe.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)")
 *          .exec(f -> f.set("attn", f.get("attn").mul(3)));
 *     CallCapture attnCall = probe.captureCall("blocks.4.attn");
 *     model.forward(images);
 *     NDArray attn = attnCall.get().tensor("attn");     // (B, N, T, T)
 * }                                                     // captured tensors are freed here
 * }</pre>
 *
 * <p>Scope: a probe sees only forwards that run on the thread that started it, so concurrent predictions with
 * different probes never see each other's. Targets are resolved when added: an unknown path, pattern, class or
 * site fails at once, listing the valid ones. Captured tensors belong to the probe until it is closed.
 */
public final class Probe implements AutoCloseable {

    /** Started probes on all threads: the one field an unprobed forward reads. */
    private static final AtomicInteger ACTIVE = new AtomicInteger();
    /**
     * Each thread's started probes. A probe keeps the list it was registered in, so that closing it from another
     * thread unregisters it at once (copy-on-write: the owning thread's {@link #enter} reads it without a lock).
     */
    private static final ThreadLocal<List<Probe>> STARTED = ThreadLocal.withInitial(CopyOnWriteArrayList::new);
    private static volatile NDManager records;

    private final Probed root;
    private final List<CallCapture> captures = new ArrayList<>();
    private final List<Breakpoint> breakpoints = new ArrayList<>();
    private final Map<Probed, Interest> interest = new IdentityHashMap<>();
    private NDManager kept;
    private Thread thread;
    private List<Probe> registry;           // STARTED's list of the thread it is started on
    private volatile boolean closed;     // read without the lock by CallCapture.add (which holds its own)

    private record Interest(List<CallCapture> captures, List<Breakpoint> breakpoints) {
        boolean none() {
            return captures.isEmpty() && breakpoints.isEmpty();
        }
    }

    private Probe(Probed root) {
        this.root = root;
    }

    /** A probe on {@code model}, started on this thread. Close it to stop and free what it captured. */
    public static Probe on(Probed model) {
        if (model == null) {
            throw new IllegalArgumentException("Probe.on needs a model");
        }
        return new Probe(model).start();
    }

    /** A probe not bound to a model: only class targets ({@code Attention.class}) can be used, in any model. */
    public static Probe anywhere() {
        return new Probe(null).start();
    }

    /** NoPdb's {@code capture_call}: the last call of one module, in a probe of its own closed with the capture. */
    public static CallCapture captureCall(Probed model, String path) {
        Probe p = on(model);
        try {
            CallCapture c = new CallCapture(p, Target.path(model, path), false, true);
            p.add(c);
            return c;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** NoPdb's {@code capture_calls}: every call of the matching modules, in a probe of its own. */
    public static CallCapture captureCalls(Probed model, String pathOrPattern) {
        Probe p = on(model);
        try {
            CallCapture c = new CallCapture(p, Target.path(model, pathOrPattern), true, true);
            p.add(c);
            return c;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    // ---- captures ----

    /**
     * Whether {@code pathOrPattern} is a pattern ({@code blocks.*.attn}, {@code blocks.[0-5].attn}, {@code **.qkv}),
     * which can match several modules, rather than one module's path: the test every target string goes through.
     */
    public static boolean isPattern(String pathOrPattern) {
        return Target.isPattern(pathOrPattern.trim());
    }

    /** The most recent call of the module at {@code path} (or matching a pattern such as {@code blocks.*.attn}). */
    public CallCapture captureCall(String pathOrPattern) {
        return add(new CallCapture(this, Target.path(root, pathOrPattern), false, false));
    }

    /** The most recent call of this module. */
    public CallCapture captureCall(Probed module) {
        return add(new CallCapture(this, Target.module(root, module), false, false));
    }

    /** The most recent call of any module of this class. */
    public CallCapture captureCall(Class<? extends Probed> type) {
        return add(new CallCapture(this, Target.type(root, type), false, false));
    }

    /** Every call of the matching modules, in call order. */
    public CallCapture captureCalls(String pathOrPattern) {
        return add(new CallCapture(this, Target.path(root, pathOrPattern), true, false));
    }

    public CallCapture captureCalls(Probed module) {
        return add(new CallCapture(this, Target.module(root, module), true, false));
    }

    public CallCapture captureCalls(Class<? extends Probed> type) {
        return add(new CallCapture(this, Target.type(root, type), true, false));
    }

    // ---- breakpoints ----

    /**
     * A breakpoint at {@code site} (a site name such as {@code pre_softmax}, {@code entry}, {@code return}, or a
     * statement's source text such as {@code attn = attn.softmax(dim=-1)}) in every module of {@code type}.
     */
    public Breakpoint breakpoint(Class<? extends Probed> type, String site) {
        return add(Target.type(root, type), site);
    }

    /** A breakpoint at a declared site in every module of the site's class. */
    public Breakpoint breakpoint(Site site) {
        if (site == null) {
            throw new IllegalArgumentException("No site given (null): pass a declared site such as Attention.PRE_SOFTMAX");
        }
        @SuppressWarnings("unchecked")
        Class<? extends Probed> owner = (Class<? extends Probed>) site.owner();
        return add(Target.type(root, owner), site.name());
    }

    /** A breakpoint at {@code site} in the module at {@code path}, or in every module a pattern matches. */
    public Breakpoint breakpoint(String pathOrPattern, String site) {
        return add(Target.path(root, pathOrPattern), site);
    }

    /** A breakpoint at {@code site} in one module. */
    public Breakpoint breakpoint(Probed module, String site) {
        return add(Target.module(root, module), site);
    }

    private Breakpoint add(Target target, String site) {
        List<Site> sites = new ArrayList<>();
        for (Class<?> c : target.classes()) {
            try {
                sites.add(Site.find(c, site));
            } catch (IllegalArgumentException e) {
                throw new InvalidArgumentException(target + " includes " + c.getSimpleName() + " modules, and "
                        + e.getMessage().substring(0, 1).toLowerCase() + e.getMessage().substring(1));
            }
        }
        Breakpoint bp = new Breakpoint(this, target, sites);
        synchronized (this) {
            requireOpen();
            breakpoints.add(bp);
            interest.clear();
        }
        return bp;
    }

    private synchronized CallCapture add(CallCapture capture) {
        requireOpen();
        captures.add(capture);
        interest.clear();
        return capture;
    }

    synchronized void remove(CallCapture capture) {
        captures.remove(capture);
        interest.clear();
    }

    /** Removes a breakpoint from this probe. */
    public synchronized void remove(Breakpoint bp) {
        breakpoints.remove(bp);
        interest.clear();
    }

    // ---- life cycle ----

    /** Starts (or resumes) the probe on the calling thread. */
    public synchronized Probe start() {
        requireOpen();
        if (thread != null) {
            if (thread != Thread.currentThread()) {
                throw new IllegalStateException("This probe is already started on thread " + thread.getName()
                        + "; stop it there first (a probe belongs to one thread at a time)");
            }
            return this;
        }
        thread = Thread.currentThread();
        registry = STARTED.get();
        registry.add(this);
        ACTIVE.incrementAndGet();
        return this;
    }

    /** Stops the probe: forwards run unobserved; what it captured stays readable. Call on the thread that started it. */
    public synchronized Probe stop() {
        if (thread == null) {
            return this;
        }
        if (thread != Thread.currentThread()) {
            throw new IllegalStateException("Stop a probe on the thread that started it (" + thread.getName() + ")");
        }
        unregister();
        return this;
    }

    private void unregister() {
        registry.remove(this);
        registry = null;
        ACTIVE.decrementAndGet();
        thread = null;
    }

    public synchronized boolean started() {
        return thread != null;
    }

    /** Stops the probe and frees every tensor it captured. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (thread != null) {
            unregister();                   // also from another thread: the list is the starting thread's own
        }
        closed = true;
        for (CallCapture c : captures) {
            c.clear();
        }
        captures.clear();
        breakpoints.clear();
        interest.clear();
        if (kept != null) {
            kept.close();
        }
    }

    boolean closed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("This probe is closed: open a new one");
        }
    }

    // ---- the module side ----

    /**
     * Called by a module as its forward begins. Returns {@link Frame#IDLE} unless a started probe on this thread
     * wants this module — with no probe started anywhere, that is a single field read.
     */
    public static Frame enter(Probed module) {
        if (ACTIVE.get() == 0) {
            return Frame.IDLE;
        }
        // Iterate, never index: another thread may close one of these probes meanwhile (the iterator is a snapshot).
        Interest first = null;
        List<CallCapture> cs = null;
        List<Breakpoint> bs = null;
        for (Probe p : STARTED.get()) {
            Interest i = p.interestIn(module);
            if (i.none()) {
                continue;
            }
            if (first == null) {
                first = i;
                continue;
            }
            if (cs == null) {
                cs = new ArrayList<>(first.captures());
                bs = new ArrayList<>(first.breakpoints());
            }
            cs.addAll(i.captures());
            bs.addAll(i.breakpoints());
        }
        if (first == null) {
            return Frame.IDLE;
        }
        return cs == null ? new ActiveFrame(module, first.captures(), first.breakpoints()) : new ActiveFrame(module, cs, bs);
    }

    /**
     * Whether a started probe on this thread targets any of {@code modules} (a capture, or a breakpoint even while
     * disabled: it may be enabled mid-forward). Where none does, a forward may leave out work whose results only such
     * a probe could see. With no probe started anywhere, a single field read.
     */
    public static boolean observesAny(List<? extends Probed> modules) {
        if (ACTIVE.get() == 0) {
            return false;
        }
        for (Probe p : STARTED.get()) {
            for (Probed m : modules) {
                if (!p.interestIn(m).none()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** How many probes are registered as started on the calling thread (what {@link #enter} walks). */
    static int registeredOnThisThread() {
        return STARTED.get().size();
    }

    private synchronized Interest interestIn(Probed module) {
        Interest i = interest.get(module);
        if (i == null) {
            List<CallCapture> cs = new ArrayList<>();
            for (CallCapture c : captures) {
                if (c.target().matches(module)) {
                    cs.add(c);
                }
            }
            List<Breakpoint> bs = new ArrayList<>();
            for (Breakpoint b : breakpoints) {
                if (b.target().matches(module)) {
                    bs.add(b);
                }
            }
            i = new Interest(List.copyOf(cs), List.copyOf(bs));
            interest.put(module, i);
        }
        return i;
    }

    /** A memory scope for one captured call; its tensors are recognisable as captured (see {@link #isRecorded}). */
    static NDManager newRecordManager() {
        NDManager base = records;
        if (base == null) {
            synchronized (Probe.class) {
                if (records == null) {
                    records = NDManager.newBaseManager();
                }
                base = records;
            }
        }
        return base.newSubManager();
    }

    /** Whether a tensor already belongs to a captured call (so a second capture must copy it, not move it). */
    static boolean isRecorded(NDArray a) {
        NDManager base = records;
        return base != null && a.getManager().getParentManager() == base;
    }

    /** Copies a tensor into this probe's scope (breakpoint {@code eval} values). */
    synchronized NDArray keep(NDArray a) {
        if (kept == null) {
            kept = Probe.newRecordManager();
        }
        NDArray c = a.duplicate();
        c.attach(kept);
        return c;
    }
}
