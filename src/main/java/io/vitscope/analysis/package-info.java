/**
 * Maths on attention arrays: {@code AttentionMaps} (captured tensors to plain arrays, shape checks),
 * {@code PatchWeights}, {@code AttentionRollout}, {@code AttentionEntropy}.
 *
 * <p>May use: DJL's NDArray (to copy tensors out), the root's errors. No other room: it knows nothing of models.
 */
package io.vitscope.analysis;
