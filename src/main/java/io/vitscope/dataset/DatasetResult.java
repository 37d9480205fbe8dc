package io.vitscope.dataset;

/**
 * A finished dataset run.
 *
 * @param out the output folder
 * @param rows rows in {@code out/predictions} (images × factors)
 * @param partitions Spark tasks that scored them
 * @param seconds wall time from Spark's start to the summary written
 * @param scoringSeconds the scoring-and-writing job alone
 */
public record DatasetResult(String out, DatasetSummary summary, long rows, int partitions, double seconds,
                            double scoringSeconds) {

    /** Images per second while scoring (every factor of an image counts once). */
    public double imagesPerSecond() {
        return summary.images() / scoringSeconds;
    }
}
