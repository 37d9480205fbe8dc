/**
 * Tensor files: safetensors, {@code .npy} and {@code .npz} reading and writing, dtypes, atomic file writes.
 *
 * <p>May use: the root's errors. Knows nothing of models.
 */
package io.vitscope.weights;
