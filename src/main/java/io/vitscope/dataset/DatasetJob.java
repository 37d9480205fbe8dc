package io.vitscope.dataset;

import io.vitscope.InvalidArgumentException;
import java.util.Map;

/**
 * A dataset run as plain values, what {@code vitscope dataset} parses its options into and the Spark runner
 * ({@code io.vitscope.dataset.spark.SparkDataset}) executes.
 *
 * @param input a folder (recursive), a glob, a {@code .txt} file of paths, or a {@code .csv}/{@code .parquet} table
 *     with a {@code path} column (and optionally {@code label}); any file-system URI Spark reads
 * @param out the output folder: {@code predictions/} (Parquet), {@code summary.json}, two charts
 * @param master Spark's master URL; null for the one {@code spark-submit} set, else {@code local[*]}
 * @param partitions how many Spark tasks split the images; null to let Spark decide (at least the default
 *     parallelism)
 * @param labelsFrom {@code folder} (the parent folder's name is the class) or {@code column} (the table's
 *     {@code label} column); null for none
 * @param truth a CSV of {@code path,label}; null for none
 * @param showUi whether to start Spark's web UI
 * @param conf further Spark settings ({@code spark.executor.memory=4g}); may be empty
 */
public record DatasetJob(String input, String out, String master, Integer partitions, ScoreOptions options,
                         String labelsFrom, String truth, ModelSpec model, boolean showUi, Map<String, String> conf) {

    public DatasetJob {
        conf = conf == null ? Map.of() : Map.copyOf(conf);
        if (input == null || input.isBlank()) {
            throw new InvalidArgumentException("input", "input: give a folder, a glob, a list of paths or a table");
        }
        if (out == null || out.isBlank()) {
            throw new InvalidArgumentException("out", "out: give the folder to write the results into");
        }
        if (partitions != null && partitions < 1) {
            throw new InvalidArgumentException("partitions", "partitions must be at least 1, got " + partitions);
        }
        if (labelsFrom != null && !labelsFrom.equals("folder") && !labelsFrom.equals("column")) {
            throw new InvalidArgumentException("labelsFrom", "labelsFrom must be 'folder' or 'column', got '" + labelsFrom + "'");
        }
        if (labelsFrom != null && truth != null) {
            throw new InvalidArgumentException("labelsFrom", "labels come either from a truth CSV or from " + labelsFrom
                    + ", not both");
        }
    }

    /** What a run reports while it goes: Spark tasks done out of the total, rows written so far. */
    public interface Progress {

        /** Once Spark is up; {@code uiUrl} is null when the UI is off. */
        default void started(String uiUrl, String master, int partitions) {}

        void update(int tasksDone, int tasksTotal, long rowsWritten, double seconds);

        Progress NONE = (d, t, r, s) -> { };
    }
}
