package io.vitscope.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A call that at least one capture or breakpoint is interested in. Locals are held by reference while the call
 * runs; when it returns, each capture takes them over.
 *
 * <p>Ownership at return, to keep capturing cheap: locals the call created are moved (not copied) into the
 * record's memory scope — the forward never writes a tensor in place, so the record sees exactly the value the
 * call produced, and once the call has returned nothing else reads them. Arguments, locals that are one of the
 * arguments, and the return value (which the caller goes on computing with) are copied: so a record can be freed at
 * any moment — a capture cleared by a breakpoint action, a probe closed from another thread mid-forward — without
 * freeing a tensor the forward still needs.
 *
 * <p>A tensor given to {@link #set} stays its giver's: the forward continues with a copy placed in the memory scope
 * of the value it replaces, so it lives exactly as long as that value would have (see the package documentation).
 * A copy made at the entry site replaces an argument, which belongs to the caller's scope: it is freed when the call
 * ends unless the call returned it or moved it elsewhere.
 */
final class ActiveFrame extends Frame implements Hit {

    private final Probed module;
    private final List<CallCapture> captures;
    private final List<Breakpoint> breakpoints;
    private final LinkedHashMap<String, Object> args = new LinkedHashMap<>();
    private final LinkedHashMap<String, Object> locals = new LinkedHashMap<>();
    private final long start;
    private final List<StackWalker.StackFrame> stack;
    private Site current;
    private NDArray currentValue;
    private String currentVariable;
    private List<NDArray> entryCopies;      // copies set at the entry site, and the manager each was placed in
    private List<NDManager> entryScopes;
    private NDArray exitValue;

    ActiveFrame(Probed module, List<CallCapture> captures, List<Breakpoint> breakpoints) {
        this.module = module;
        this.captures = captures;
        this.breakpoints = breakpoints;
        this.stack = captures.isEmpty() ? List.of() : callerStack();
        this.start = System.nanoTime();
    }

    private static List<StackWalker.StackFrame> callerStack() {
        return StackWalker.getInstance().walk(s -> s
                .dropWhile(f -> f.getClassName().startsWith("io.vitscope.probe."))
                .limit(64)
                .toList());
    }

    @Override
    public NDArray arg(String name, NDArray value) {
        args.put(name, value);
        locals.put(name, value);
        return fire(Site.entry(module.getClass()), name, value);
    }

    @Override
    public NDArray let(String name, NDArray value) {
        locals.put(name, value);
        return value;
    }

    @Override
    public int let(String name, int value) {
        locals.put(name, value);
        return value;
    }

    @Override
    public NDArray at(Site site, NDArray value) {
        return fire(site, site.variable(), value);
    }

    @Override
    public NDArray exit(NDArray value) {
        NDArray result = fire(Site.ret(module.getClass()), "return", value);
        exitValue = result;
        if (!captures.isEmpty()) {
            record(result);
        }
        return result;
    }

    @Override
    public boolean readsLocals() {
        if (!captures.isEmpty()) {
            return true;
        }
        for (Breakpoint bp : breakpoints) {
            if (bp.enabled()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean stopsAtAny(Site... sites) {
        for (Breakpoint bp : breakpoints) {
            if (bp.enabled()) {
                for (Site s : sites) {
                    if (bp.stopsAt(s)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Override
    public boolean seesOnly(Site... sites) {
        if (!captures.isEmpty()) {
            return false;
        }
        for (Breakpoint bp : breakpoints) {
            for (Site s : bp.sites()) {
                if (s.owner() == module.getClass() && !java.util.Arrays.asList(sites).contains(s)) {
                    return false;
                }
            }
        }
        return true;
    }

    private NDArray fire(Site site, String variable, NDArray value) {
        if (breakpoints.isEmpty()) {
            return value;
        }
        current = site;
        currentVariable = variable;
        currentValue = value;
        try {
            for (Breakpoint bp : breakpoints) {
                if (bp.stopsAt(site)) {
                    bp.fire(this);
                }
            }
            if (variable != null && !variable.equals("return") && currentValue != value) {
                locals.put(variable, currentValue);
            }
            return currentValue;
        } finally {
            current = null;
        }
    }

    private void record(NDArray returnValue) {
        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        Set<NDArray> argValues = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Object v : args.values()) {
            if (v instanceof NDArray a) {
                argValues.add(a);
            }
        }
        // The first capture takes ownership of the call's own tensors; any further capture copies from it.
        Map<NDArray, NDArray> owned = new IdentityHashMap<>();
        for (CallCapture capture : captures) {
            NDManager manager = Probe.newRecordManager();
            LinkedHashMap<String, Object> recordArgs = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : args.entrySet()) {
                NDArray a = (NDArray) e.getValue();
                recordArgs.put(e.getKey(), adopt(a, manager, owned, false));
            }
            LinkedHashMap<String, Object> recordLocals = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : locals.entrySet()) {
                Object v = e.getValue();
                if (v instanceof NDArray a) {
                    boolean movable = !argValues.contains(a) && a != returnValue;
                    v = adopt(a, manager, owned, movable);
                }
                recordLocals.put(e.getKey(), v);
            }
            NDArray ret = returnValue == null ? null : adopt(returnValue, manager, owned, false);
            capture.add(new CallRecord(module.path(), module.getClass(), recordArgs, recordLocals, ret, stack, duration,
                    manager));
        }
    }

    /** Moves a tensor the call created into the record's scope, or copies it when it is not the call's to give. */
    private static NDArray adopt(NDArray a, NDManager manager, Map<NDArray, NDArray> owned, boolean movable) {
        NDArray mine = owned.get(a);
        if (mine != null) {
            if (mine.getManager() == manager) {
                return mine;                       // the same tensor under two names in this record
            }
            NDArray c = mine.duplicate();
            c.attach(manager);
            return c;
        }
        NDArray result;
        if (movable && !Probe.isRecorded(a)) {
            a.attach(manager);
            result = a;
        } else {
            result = a.duplicate();
            result.attach(manager);
        }
        owned.put(a, result);
        return result;
    }

    // ---- Hit: what breakpoint actions see ----

    @Override
    public String path() {
        return module.path();
    }

    @Override
    public Class<?> moduleClass() {
        return module.getClass();
    }

    @Override
    public Site site() {
        requireStopped();
        return current;
    }

    @Override
    public Set<String> names() {
        return java.util.Collections.unmodifiableSet(locals.keySet());
    }

    @Override
    public NDArray get(String name) {
        requireStopped();
        if (name.equals(currentVariable)) {
            return currentValue;
        }
        Object v = locals.get(name);
        if (v instanceof NDArray a) {
            return a;
        }
        throw new IllegalArgumentException((v == null ? "No local '" + name + "'" : "Local '" + name + "' is not a tensor")
                + " at " + current + " in " + module.path() + ". Bound so far: " + locals.keySet());
    }

    @Override
    public int getInt(String name) {
        requireStopped();
        Object v = locals.get(name);
        if (v instanceof Integer i) {
            return i;
        }
        throw new IllegalArgumentException("No integer local '" + name + "' at " + current + " in " + module.path()
                + ". Bound so far: " + locals.keySet());
    }

    @Override
    public void set(String name, NDArray value) {
        requireStopped();
        if (currentVariable == null || !currentVariable.equals(name)) {
            throw new IllegalArgumentException("At " + current + " only '" + currentVariable + "' can be replaced (it is what"
                    + " the next statement reads), not '" + name + "'. Stop at another site to change other locals: "
                    + Site.describe(Site.of(module.getClass())));
        }
        if (value == null) {
            throw new IllegalArgumentException("Cannot set '" + name + "' to null at " + current);
        }
        if (value.isReleased()) {
            throw new IllegalArgumentException("Cannot set '" + name + "' at " + current + " in " + module.path()
                    + " to a tensor that was already closed");
        }
        if (!value.getShape().equals(currentValue.getShape()) || value.getDataType() != currentValue.getDataType()) {
            throw new IllegalArgumentException("Cannot set '" + name + "' at " + current + " in " + module.path()
                    + " to a " + value.getDataType() + " tensor of shape " + value.getShape() + ": the forward expects "
                    + currentValue.getDataType() + " " + currentValue.getShape());
        }
        // The forward frees, moves or returns what it computes with; the caller's tensor must survive all three.
        NDManager scope = currentValue.getManager();
        // A copy autograd follows: DJL's duplicate() (libtorch clone, detached) would cut a replacement such as
        // relevance's A + leaf off the graph; to(dtype, copy = true) copies and keeps it.
        NDArray copy = value.toType(value.getDataType(), true);
        copy.attach(scope);
        if (current.kind() == Site.Kind.ENTRY) {
            if (entryCopies == null) {
                entryCopies = new ArrayList<>();
                entryScopes = new ArrayList<>();
            }
            entryCopies.add(copy);
            entryScopes.add(scope);
        }
        currentValue = copy;
    }

    private void requireStopped() {
        if (current == null) {
            throw new IllegalStateException("This frame of " + module.path() + " is not stopped at a site any more:"
                    + " read locals only inside a breakpoint action");
        }
    }

    /**
     * Frees the copies set at the entry site that are still in the caller's scope where they were placed (the call
     * neither returned them nor moved them into a scope of its own). A call that failed records nothing: its tensors
     * stay with the forward's scopes, which free them.
     */
    @Override
    public void close() {
        if (entryCopies == null) {
            return;
        }
        for (int i = 0; i < entryCopies.size(); i++) {
            NDArray c = entryCopies.get(i);
            if (c != exitValue && !c.isReleased() && c.getManager() == entryScopes.get(i)) {
                c.close();
            }
        }
    }
}
