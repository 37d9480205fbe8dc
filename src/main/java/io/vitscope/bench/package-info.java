/**
 * How fast a model runs here: {@code Bench} (forward latency, the machine's matmul rate measured in the same run,
 * the probe's overhead) returning a {@code Report}; {@code FolderBench} (the folder pipeline's rate against the
 * forward alone, interleaved rounds, a confidence interval); {@code PeakEstimate} (an estimated float32 peak from the CPU's
 * cores, vector width and clock, stated as an estimate).
 *
 * <p>May use: {@code checkpoint}, {@code model}, {@code probe}, {@code experiment} ({@code LogitScaling}), {@code predict},
 * {@code engine} (threads, MKL status), the root's errors.
 */
package io.vitscope.bench;
