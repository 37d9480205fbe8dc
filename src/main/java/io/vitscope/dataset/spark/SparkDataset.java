package io.vitscope.dataset.spark;

import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.dataset.DatasetJob;
import io.vitscope.dataset.DatasetResult;
import io.vitscope.dataset.DatasetSummary;
import io.vitscope.dataset.GroundTruth;
import io.vitscope.dataset.ModelSpec;
import io.vitscope.predict.Inputs;
import io.vitscope.hub.Sha256;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Runs a {@link DatasetJob} on Spark: lists the files, scores them in Spark tasks ({@link PartitionScorer}), writes
 * {@code predictions/} as Parquet through Spark's output commit protocol (a retried task's rows replace its failed
 * attempt's, never add to them), reads the committed rows back into a {@link DatasetSummary} and writes it with
 * its charts.
 *
 * <pre>{@code
 * DatasetResult r = SparkDataset.run(new DatasetJob("images/fashion", "out", "local[2]", null,
 *         ScoreOptions.defaults(), null, null, ModelSpec.embedded(), true, Map.of()), DatasetJob.Progress.NONE);
 * }</pre>
 */
public final class SparkDataset {

    /** Files taken from a folder: the endings {@code predict} reads from a folder, in either case. */
    static final String IMAGE_GLOB = "*.{" + Inputs.IMAGE_ENDINGS.stream().filter(e -> !e.equals("npy")).sorted()
            .flatMap(e -> java.util.stream.Stream.of(e, e.toUpperCase(Locale.ROOT))).collect(Collectors.joining(","))
            + "}";

    private static final StructType INPUT = DataTypes.createStructType(List.of(
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("content", DataTypes.BinaryType, true),
            DataTypes.createStructField("missing", DataTypes.StringType, true)));

    private SparkDataset() {}

    /** Runs the job in a Spark session of its own (or the one {@code spark-submit} started), stopped at the end. */
    public static DatasetResult run(DatasetJob job, DatasetJob.Progress progress) {
        long t0 = System.nanoTime();
        SparkSession.Builder b = SparkSession.builder().appName("vitscope dataset")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.ui.enabled", String.valueOf(job.showUi()))
                .config("spark.sql.sources.ignoreCorruptFiles", "false")
                // The model's files go out with SparkContext.addFile, which a session with isolated artifacts (Spark
                // 4's default) would keep from this session's tasks.
                .config("spark.sql.artifact.isolation.enabled", "false");
        job.conf().forEach(b::config);
        if (job.master() != null) {
            b.master(job.master());
        } else if (System.getProperty("spark.master") == null) {
            b.master("local[*]");
        }
        SparkSession spark = b.getOrCreate();
        try {
            return run(spark, job, null, progress, t0);
        } finally {
            spark.stop();
        }
    }

    /** Runs the job in a session the caller owns; {@code t0} (System.nanoTime) is when the caller started. */
    public static DatasetResult run(SparkSession spark, DatasetJob job, DatasetJob.Progress progress, long t0) {
        return run(spark, job, null, progress, t0);
    }

    /** As above, with the ground truth given directly (tests), when {@code truthOverride} is not null. */
    static DatasetResult run(SparkSession spark, DatasetJob job, GroundTruth truthOverride,
                             DatasetJob.Progress progress, long t0) {
        boolean local = spark.sparkContext().isLocal();
        ModelSpec spec = resolveEmbedded(job.model());
        LoadedModel model = local ? spec.shared() : spec.load();   // local: the executors are this JVM, share it
        try {
            GroundTruth truth = GroundTruth.none();
            if ("folder".equals(job.labelsFrom())) {
                truth = GroundTruth.fromFolder(model.labels());
            } else if (job.truth() != null) {
                truth = GroundTruth.fromTable(GroundTruth.readCsv(Path.of(job.truth()), model.labels()));
            }
            Listing listing = list(spark, job.input(), model.labels(), "column".equals(job.labelsFrom()));
            if (listing.truth() != null) {
                truth = listing.truth();
            }
            if (truthOverride != null) {
                truth = truthOverride;
            }
            Dataset<Row> files = listing.files();
            int parallelism = spark.sparkContext().defaultParallelism();
            int partitions = files.rdd().getNumPartitions();
            if (job.partitions() != null) {
                files = files.repartition(job.partitions());
                partitions = job.partitions();
            } else if (partitions < parallelism) {
                files = files.repartition(parallelism);
                partitions = parallelism;
            }
            boolean shipped = !local;
            String folderFile = shipped ? ship(spark, spec) : null;
            progress.started(spark.sparkContext().uiWebUrl().isDefined() ? spark.sparkContext().uiWebUrl().get() : null,
                    spark.sparkContext().master(), partitions);
            TaskCounter counter = new TaskCounter(progress);
            spark.sparkContext().addSparkListener(counter);
            String predictions = job.out().replaceAll("/+$", "") + "/predictions";
            long s0 = System.nanoTime();
            try {
                files.mapPartitions(new PartitionScorer(spec, shipped, folderFile, truth, job.options()),
                                Encoders.row(RowSchema.of(job.options().attentionBlocks())))
                        .write().mode(SaveMode.Overwrite).parquet(predictions);
            } catch (Exception e) {   // Scala throws SparkException, a checked exception, undeclared
                throw failed(e);
            }
            double scoring = (System.nanoTime() - s0) / 1e9;
            spark.sparkContext().removeSparkListener(counter);

            DatasetSummary.Builder summary = new DatasetSummary.Builder(model.name(), weightsSha256(model),
                    job.options().factors());
            long rows = 0;
            Iterator<Row> it = spark.read().parquet(predictions).toLocalIterator();
            while (it.hasNext()) {
                summary.add(RowSchema.fromRow(it.next(), job.options().attentionBlocks()));
                rows++;
            }
            DatasetSummary s = summary.build();
            saveSummary(spark, s, job.out());
            return new DatasetResult(job.out(), s, rows, partitions, (System.nanoTime() - t0) / 1e9, scoring);
        } finally {
            if (!local) {
                model.close();
            }
        }
    }

    /** The files of the input, and the labels a table brought. */
    private record Listing(Dataset<Row> files, GroundTruth truth) {}

    private static Listing list(SparkSession spark, String input, List<String> labels, boolean labelColumn) {
        String lower = input.toLowerCase(Locale.ROOT);
        boolean table = lower.endsWith(".csv") || lower.endsWith(".parquet") || lower.endsWith(".txt");
        if (labelColumn && !table) {
            throw new InvalidArgumentException("labelsFrom", "labels from a column need a table input (.csv or .parquet with "
                    + "path and label columns), got " + input);
        }
        if (!table) {
            boolean glob = input.contains("*") || input.contains("?") || input.contains("{") || input.contains("[");
            var reader = spark.read().format("binaryFile");
            if (!glob) {
                reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", IMAGE_GLOB);
            }
            Dataset<Row> files;
            try {
                files = reader.load(input).select("path", "content");
            } catch (Exception e) {   // AnalysisException (no such path) is checked, and thrown undeclared
                throw new InvalidInputException(null, input + ": " + firstLine(e));
            }
            List<Row> empty = emptyFiles(spark, input, glob);
            return new Listing(withMissing(files).unionByName(spark.createDataFrame(empty, INPUT)), null);
        }
        Dataset<Row> t;
        if (lower.endsWith(".txt")) {
            t = spark.read().text(input).withColumnRenamed("value", "path");
        } else if (lower.endsWith(".csv")) {
            t = spark.read().option("header", "true").csv(input);
        } else {
            t = spark.read().parquet(input);
        }
        if (!Arrays.asList(t.columns()).contains("path")) {
            throw new InvalidInputException(null, input + ": the table has no 'path' column (columns: "
                    + String.join(", ", t.columns()) + ")");
        }
        boolean hasLabel = Arrays.asList(t.columns()).contains("label");
        if (labelColumn && !hasLabel) {
            throw new InvalidInputException(null, input + ": labels from a column, but the table has no 'label' "
                    + "column (columns: " + String.join(", ", t.columns()) + ")");
        }
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        URI base = new org.apache.hadoop.fs.Path(input).toUri();
        List<String> present = new ArrayList<>();
        List<Row> missing = new ArrayList<>();
        Map<String, Integer> byPath = new HashMap<>();
        int line = 1;
        Dataset<Row> cols = hasLabel ? t.select("path", "label") : t.select("path");
        for (Row r : cols.collectAsList()) {
            line++;
            if (r.isNullAt(0) || r.getString(0).isBlank()) {
                continue;
            }
            String path = qualify(r.getString(0).strip(), base, conf);
            if (labelColumn && !r.isNullAt(1)) {
                byPath.put(path, GroundTruth.parseLabel(String.valueOf(r.get(1)).strip(), labels,
                        Path.of(input), line));
            }
            long size = size(path, conf);
            if (size > 0) {
                present.add(path);
            } else {
                missing.add(RowFactory.create(path, null, path + (size == 0 ? ": the file is empty (0 bytes)"
                        : ": no such file")));
            }
        }
        if (present.isEmpty() && missing.isEmpty()) {
            throw new InvalidInputException(null, input + ": the table lists no paths");
        }
        Dataset<Row> files = spark.createDataFrame(missing, INPUT);
        if (!present.isEmpty()) {
            files = withMissing(spark.read().format("binaryFile").load(present.toArray(String[]::new))
                    .select("path", "content")).unionByName(files);
        }
        return new Listing(files, labelColumn ? GroundTruth.fromTable(byPath) : null);
    }

    /**
     * Spark's file sources skip files of 0 bytes without a word; here each becomes a row with its error. Lists the
     * folder (recursively) or the glob on the driver: metadata only, no file is opened.
     */
    private static List<Row> emptyFiles(SparkSession spark, String input, boolean glob) {
        List<Row> out = new ArrayList<>();
        try {
            org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(input);
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            org.apache.hadoop.fs.GlobFilter images = new org.apache.hadoop.fs.GlobFilter(IMAGE_GLOB);
            if (glob) {
                org.apache.hadoop.fs.FileStatus[] matched = fs.globStatus(root);
                for (org.apache.hadoop.fs.FileStatus st : matched == null ? new org.apache.hadoop.fs.FileStatus[0]
                        : matched) {
                    if (st.isFile() && st.getLen() == 0) {
                        out.add(emptyRow(st.getPath()));
                    }
                }
                return out;
            }
            // listStatus, not listFiles: a LocatedFileStatus asks for permissions, which Hadoop's local file system
            // without its native library gets by running 'ls -ld' once per file (minutes for 10,000 files).
            ArrayDeque<org.apache.hadoop.fs.Path> folders = new ArrayDeque<>(List.of(root));
            while (!folders.isEmpty()) {
                for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(folders.poll())) {
                    if (st.isDirectory()) {
                        folders.add(st.getPath());
                    } else if (st.getLen() == 0 && images.accept(st.getPath())) {
                        out.add(emptyRow(st.getPath()));
                    }
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(null, input + ": cannot list the files (" + e.getMessage() + ")");
        }
        return out;
    }

    private static Row emptyRow(org.apache.hadoop.fs.Path p) {
        return RowFactory.create(p.toString(), null, p + ": the file is empty (0 bytes)");
    }

    private static Dataset<Row> withMissing(Dataset<Row> files) {
        return files.withColumn("missing", org.apache.spark.sql.functions.lit(null).cast(DataTypes.StringType));
    }

    /** A path of a table, made absolute (relative ones against the table's folder) and given its scheme. */
    private static String qualify(String path, URI table, Configuration conf) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
            if (!p.isAbsolute() && p.toUri().getScheme() == null) {
                p = new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(table).getParent(), path);
            }
            return p.getFileSystem(conf).makeQualified(p).toString();
        } catch (IOException | IllegalArgumentException e) {
            return path;
        }
    }

    /** The file's size, or -1 when it is not a readable file. */
    private static long size(String path, Configuration conf) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
            org.apache.hadoop.fs.FileStatus st = p.getFileSystem(conf).getFileStatus(p);
            return st.isFile() ? st.getLen() : -1;
        } catch (IOException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** The embedded model named by its folder, so that executors elsewhere can be sent it. */
    private static ModelSpec resolveEmbedded(ModelSpec spec) {
        if (spec.weights() != null) {
            return spec;
        }
        return new ModelSpec(null, Models.defaultModelDir().toAbsolutePath().toString(), spec.labels());
    }

    /**
     * Sends the model's files to every executor ({@code SparkContext.addFile}; a cluster does not take local folders,
     * so a model folder goes file by file, into the root {@link PartitionScorer} then loads it from). A weights file
     * travels with the {@code config.json} beside it, which names its architecture.
     *
     * @return for a folder, the name of one of its files (executors find the folder through it); else null
     */
    private static String ship(SparkSession spark, ModelSpec spec) {
        Path weights = Path.of(spec.weights()).toAbsolutePath();
        List<Path> files = new ArrayList<>();
        try {
            if (Files.isDirectory(weights)) {
                try (var s = Files.list(weights)) {
                    files.addAll(s.filter(Files::isRegularFile).toList());
                }
            } else {
                files.add(weights);
                if (Files.isRegularFile(weights.resolveSibling("config.json"))) {
                    files.add(weights.resolveSibling("config.json"));
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(weights, "cannot list the model's files (" + e.getMessage() + ")");
        }
        if (spec.labels() != null) {
            files.add(Path.of(spec.labels()).toAbsolutePath());
        }
        for (Path f : files) {
            spark.sparkContext().addFile(f.toString());
        }
        return Files.isDirectory(weights) ? files.get(0).getFileName().toString() : null;
    }

    private static String weightsSha256(LoadedModel model) {
        Path p = Path.of(model.source());
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return Sha256.of(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** summary.json and the charts: straight into a local folder, else written locally and copied. */
    private static void saveSummary(SparkSession spark, DatasetSummary s, String out) {
        URI uri = new org.apache.hadoop.fs.Path(out).toUri();
        if (uri.getScheme() == null || uri.getScheme().equals("file")) {
            s.save(Path.of(uri.getPath()));
            return;
        }
        try {
            Path tmp = Files.createTempDirectory("vitscope-summary");
            s.save(tmp);
            org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(out);
            FileSystem fs = dst.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (var files = Files.list(tmp)) {
                for (Path f : files.toList()) {
                    fs.copyFromLocalFile(true, true, new org.apache.hadoop.fs.Path(f.toUri()),
                            new org.apache.hadoop.fs.Path(dst, f.getFileName().toString()));
                }
            }
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            throw new VitscopeException("cannot write the summary to " + out + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A failed Spark job as one line: the task's own error when it was vitscope's (a model that does not load on an
     * executor), else Spark's first line; the whole story stays in the cause for --verbose.
     */
    private static RuntimeException failed(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof VitscopeException v) {
            return v instanceof InvalidInputException ? new InvalidInputException(null, v.getMessage(), e)
                    : new VitscopeException(v.getMessage(), e);
        }
        return new VitscopeException("the Spark job failed: " + firstLine(root), e);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Counts finished tasks of the stages that score (the last stage submitted) for the progress line. */
    private static final class TaskCounter extends SparkListener {
        private final DatasetJob.Progress progress;
        private volatile long t0 = System.nanoTime();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicInteger total = new AtomicInteger();
        private final AtomicLong rows = new AtomicLong();
        private volatile int stage = -1;

        TaskCounter(DatasetJob.Progress progress) {
            this.progress = progress;
        }

        @Override
        public void onStageSubmitted(SparkListenerStageSubmitted e) {
            stage = e.stageInfo().stageId();
            t0 = System.nanoTime();    // the rate is the current stage's: the scoring stage follows a shuffle's
            done.set(0);
            rows.set(0);
            total.set(e.stageInfo().numTasks());
            progress.update(0, total.get(), 0, (System.nanoTime() - t0) / 1e9);
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd e) {
            if (e.stageId() != stage || !e.taskInfo().successful()) {
                return;
            }
            long written = e.taskMetrics() == null ? 0 : e.taskMetrics().outputMetrics().recordsWritten();
            progress.update(done.incrementAndGet(), total.get(), rows.addAndGet(written),
                    (System.nanoTime() - t0) / 1e9);
        }
    }
}
