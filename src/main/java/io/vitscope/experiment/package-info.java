/**
 * Experiments and their result writers: {@code LogitScaling} (NoPdb's {@code attn = attn * s}, also as a probe
 * {@code Intervention}), {@code ScalingExperiment} (the top-k and attention entropy over several factors) and
 * {@code ScalingWriter} ({@code scale.csv}, {@code scale.json}, charts and attention grids of a result).
 *
 * <p>May use: {@code predict}, {@code probe}, {@code model}, {@code checkpoint}, {@code analysis}, {@code plot}, the
 * root's errors.
 */
package io.vitscope.experiment;
