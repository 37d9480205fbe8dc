/**
 * The dataset run on Apache Spark: listing the input (folder, glob, path list, table), scoring partitions in tasks
 * ({@code PartitionScorer}, calling {@link io.vitscope.dataset.DatasetRows#score}), the Parquet schema
 * ({@link io.vitscope.dataset.spark.RowSchema}) and the driver's run ({@link io.vitscope.dataset.spark.SparkDataset}).
 * The only package that imports Spark; nothing else loads it, so commands other than {@code dataset} never pay for it.
 *
 * <p>May use: {@code io.vitscope.dataset} and what it uses, Spark, Hadoop's file-system API.
 */
package io.vitscope.dataset.spark;
