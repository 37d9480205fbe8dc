/**
 * Tensor files: safetensors, {@code .npy} and {@code .npz} reading and writing, dtypes, atomic file writes.
 *
 * <p>May use: the root's errors and {@code files} (the shared atomic writer). Knows nothing of models.
 */
package io.vitscope.weights;
