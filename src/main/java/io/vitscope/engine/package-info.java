/**
 * Starting DJL's PyTorch engine the way vitscope wants it: {@code Engines.start(threads)}, the one entry point that
 * whoever starts the engine calls (the CLI's root, the tests' set-up, a notebook's first cell), and
 * {@code MklFastPath}, which must be in place before libtorch loads; {@code Engines.preload()} loads libtorch's
 * libraries on a background thread, for a command line that will need them. And the products a grad-free forward runs
 * outside libtorch's operators, through the native library's MKL and libtorch's own OpenMP threads:
 * {@code SlicedGemm} (a linear layer with the weight's rows split between the threads), {@code PackedGemm} (the same on
 * weights packed once) and {@code FusedAttention} (an attention call's core, from the qkv projection to the merged
 * heads, in one step).
 *
 * <p>May use: DJL, the root's errors. No other room.
 */
package io.vitscope.engine;
