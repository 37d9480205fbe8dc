package io.vitscope.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One captured call of a module's forward, as NoPdb's {@code CallCapture} holds it: the arguments as they came in,
 * every local by name with its value when the call returned (in the order the locals were first bound), the return
 * value, the caller's stack and the call's duration.
 *
 * <p>Tensors are owned by the record (and through it by the probe): valid after the forward returns, freed when the
 * record is replaced (by {@link CallCapture}) or the probe is closed. Integers ({@code B}, {@code N}, {@code C}) are
 * boxed {@link Integer}s.
 */
public final class CallRecord implements AutoCloseable {

    private final String path;
    private final Class<?> moduleClass;
    private final Map<String, Object> args;
    private final Map<String, Object> locals;
    private final NDArray returnValue;
    private final List<StackWalker.StackFrame> stack;
    private final Duration duration;
    private final NDManager manager;

    CallRecord(String path, Class<?> moduleClass, LinkedHashMap<String, Object> args, LinkedHashMap<String, Object> locals,
               NDArray returnValue, List<StackWalker.StackFrame> stack, Duration duration, NDManager manager) {
        this.path = path;
        this.moduleClass = moduleClass;
        this.args = Collections.unmodifiableMap(args);
        this.locals = Collections.unmodifiableMap(locals);
        this.returnValue = returnValue;
        this.stack = stack;
        this.duration = duration;
        this.manager = manager;
    }

    /** The module's path, e.g. {@code blocks.4.attn}. */
    public String path() {
        return path;
    }

    public Class<?> moduleClass() {
        return moduleClass;
    }

    /** Arguments by name, as the call received them. */
    public Map<String, Object> args() {
        return args;
    }

    /** Locals by name, each with its value when the call returned, in the order they were first bound. */
    public Map<String, Object> locals() {
        return locals;
    }

    /** A tensor local; fails listing the locals when there is no such tensor. */
    public NDArray tensor(String name) {
        Object v = locals.get(name);
        if (v instanceof NDArray a) {
            return a;
        }
        throw new IllegalArgumentException(missing(name, v, "tensor"));
    }

    /** An integer local ({@code B}, {@code N}, {@code C}). */
    public int integer(String name) {
        Object v = locals.get(name);
        if (v instanceof Integer i) {
            return i;
        }
        throw new IllegalArgumentException(missing(name, v, "integer"));
    }

    /** A tensor argument by name. */
    public NDArray arg(String name) {
        Object v = args.get(name);
        if (v instanceof NDArray a) {
            return a;
        }
        throw new IllegalArgumentException("No tensor argument '" + name + "' in the call of " + path + ". Arguments: "
                + args.keySet());
    }

    private String missing(String name, Object v, String kind) {
        return (v == null ? "No local '" + name + "'" : "Local '" + name + "' is not a " + kind)
                + " in the call of " + path + " (" + moduleClass.getSimpleName() + "). Locals: " + describeLocals();
    }

    /** {@code name (shape)} for every local, e.g. {@code attn (1, 12, 197, 197)}. */
    public String describeLocals() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Object> e : locals.entrySet()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append(' ');
            sb.append(e.getValue() instanceof NDArray a ? a.getShape().toString() : "= " + e.getValue());
        }
        return sb.toString();
    }

    /** The return value, or null when the call returned nothing. */
    public NDArray returnValue() {
        return returnValue;
    }

    /** The Java stack of the code that called the module, innermost first. */
    public List<StackWalker.StackFrame> stack() {
        return stack;
    }

    /** Wall time from the call's entry to its return, including probe work inside it. */
    public Duration duration() {
        return duration;
    }

    /**
     * Writes the call to an {@code .npz} file numpy reads: each local by name (integers as 0-d int64 arrays), each
     * argument as {@code arg_<name>}, the return value as {@code return}.
     */
    public void save(java.nio.file.Path file) {
        NpzExport.save(file, List.of(this), false);
    }

    @Override
    public void close() {
        manager.close();
    }

    @Override
    public String toString() {
        return "CallRecord[" + path + " (" + moduleClass.getSimpleName() + "), locals: " + describeLocals() + "]";
    }
}
