/**
 * Starting DJL's PyTorch engine the way vitscope wants it: {@code Engines.start(threads)}, the one entry point that
 * whoever starts the engine calls (the CLI's root, the tests' set-up, a notebook's first cell), and
 * {@code MklFastPath}, which must be in place before libtorch loads.
 *
 * <p>May use: DJL, the root's errors. No other room.
 */
package io.vitscope.engine;
