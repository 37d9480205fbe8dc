package io.vitscope.probe;

import java.util.List;

/**
 * A module whose forward pass can be probed. Its path names it in the module tree, as timm's
 * {@code named_modules()} does ({@code blocks.4.attn}); the root's path is empty.
 *
 * <p>The probe layer knows nothing about what a module computes beyond this: its path, its class (whose statically
 * declared {@link Site}s are the places a breakpoint can stop) and its children.
 */
public interface Probed {

    /** The dotted path from the root, {@code ""} for the root itself. */
    String path();

    /** Direct children, in registration order. */
    List<? extends Probed> probedChildren();
}
