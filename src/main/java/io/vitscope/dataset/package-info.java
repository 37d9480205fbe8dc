/**
 * Datasets: the predict pipeline and the logit-scaling experiment over a whole image set, as plain functions and
 * values with no Spark type in them — {@link io.vitscope.dataset.DatasetRows#score} (files in, one
 * {@link io.vitscope.dataset.DatasetRow} per image and factor out), ground truth
 * ({@link io.vitscope.dataset.GroundTruth}), the model as a value that travels ({@link io.vitscope.dataset.ModelSpec}),
 * and the aggregate ({@link io.vitscope.dataset.DatasetSummary}, with its charts). A Spark task, a test's single-JVM
 * reference and a server call the same function.
 *
 * <p>May use: {@code experiment} (the classifier, logit scaling), {@code probe}, {@code model}, {@code analysis},
 * {@code image}, {@code plot}, {@code hub} (SHA-256). Not Spark: that is {@code io.vitscope.dataset.spark}.
 */
package io.vitscope.dataset;
