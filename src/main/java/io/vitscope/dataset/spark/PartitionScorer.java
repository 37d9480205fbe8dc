package io.vitscope.dataset.spark;

import io.vitscope.dataset.DatasetImage;
import io.vitscope.dataset.DatasetRow;
import io.vitscope.dataset.DatasetRows;
import io.vitscope.dataset.GroundTruth;
import io.vitscope.dataset.ModelSpec;
import io.vitscope.dataset.ScoreOptions;
import io.vitscope.predict.Classifier;
import io.vitscope.engine.Engines;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * One Spark task: the (path, content) rows of a partition in, {@link RowSchema} rows out, {@code batch} images per
 * call of {@link DatasetRows#score}. What travels with the task is this object: file names and options, never
 * tensors. The model is loaded once per executor JVM ({@link ModelSpec#shared()}); each batch's native memory is
 * freed before the next is read; libtorch gets the task's CPUs ({@code spark.task.cpus}) on the task's thread, so
 * an executor's concurrent tasks together use its cores and no more.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {

    private static final long serialVersionUID = 1L;

    private final ModelSpec model;
    private final boolean shipped;
    private final boolean weightsFolder;
    private final String folderFile;
    private final GroundTruth truth;
    private final ScoreOptions options;

    /**
     * @param shipped whether the spec's files were added with {@code SparkContext.addFile} and must be looked up
     *     with {@link SparkFiles#get} (a cluster), rather than opened where they are (local mode)
     * @param folderFile when the weights are a folder, the name of one of its shipped files
     */
    PartitionScorer(ModelSpec model, boolean shipped, String folderFile, GroundTruth truth, ScoreOptions options) {
        this.model = model;
        this.shipped = shipped;
        this.folderFile = folderFile;
        this.weightsFolder = java.nio.file.Files.isDirectory(java.nio.file.Path.of(model.weights()));  // on the driver
        this.truth = truth;
        this.options = options;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        TaskContext task = TaskContext.get();
        Engines.start(task == null ? 1 : Math.max(1, task.cpus()));   // MKL's fast path first, then this thread's count
        Classifier classifier = new Classifier(executorSpec().shared());
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && input.hasNext()) {
                    List<DatasetImage> batch = new ArrayList<>(options.batch());
                    while (batch.size() < options.batch() && input.hasNext()) {
                        batch.add(image(input.next()));
                    }
                    for (DatasetRow r : DatasetRows.score(classifier, batch, options)) {
                        ready.add(RowSchema.toRow(r, options.attentionBlocks().length));
                    }
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /** The spec as this JVM can load it: the shipped copies of the files on a cluster. */
    private ModelSpec executorSpec() {
        if (!shipped) {
            return model;
        }
        // Spark 4 fetches a session's files into a folder of its own: find it through one of them.
        String weights = weightsFolder ? java.nio.file.Path.of(SparkFiles.get(folderFile)).getParent().toString()
                : SparkFiles.get(name(model.weights()));
        return new ModelSpec(model.arch(), weights, model.labels() == null ? null : SparkFiles.get(name(model.labels())));
    }

    private static String name(String path) {
        return java.nio.file.Path.of(path).getFileName().toString();
    }

    /** A (path, content, missing) input row; {@code missing} carries why a listed file could not be found. */
    private DatasetImage image(Row row) {
        String path = row.getString(0);
        Integer label = truth.labelOf(path);
        if (row.isNullAt(1)) {
            return DatasetImage.unreadable(path, label, row.isNullAt(2) ? path + ": no content" : row.getString(2));
        }
        return DatasetImage.of(path, (byte[]) row.get(1), label);
    }
}
