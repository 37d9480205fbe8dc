package io.vitscope.probe;

import ai.djl.ndarray.NDArray;
import java.util.Set;

/**
 * What a breakpoint action sees when it stops at a site: the module, the site and the locals bound so far — NoPdb's
 * frame for {@code bp.exec(...)} and {@code bp.eval(...)}.
 */
public interface Hit {

    /** The module's path, e.g. {@code blocks.4.attn}. */
    String path();

    Class<?> moduleClass();

    Site site();

    /** Names of the arguments and locals bound so far, in the order they were bound. */
    Set<String> names();

    /** A tensor local (or argument) by name; fails listing the names bound so far. */
    NDArray get(String name);

    /** An integer local ({@code B}, {@code N}, {@code C}) by name. */
    int getInt(String name);

    /**
     * Replaces the site's variable (see {@link Site#variable()}); the forward continues with the new value. The new
     * tensor must have the old one's shape and data type.
     */
    void set(String name, NDArray value);
}
