package io.vitscope.cli;

import io.vitscope.dataset.DatasetJob;
import io.vitscope.dataset.DatasetResult;
import io.vitscope.dataset.ModelSpec;
import io.vitscope.dataset.ScoreOptions;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.hub.ModelCache;
import io.vitscope.model.Presets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vitscope dataset}: the predict pipeline and the logit-scaling experiment over a whole image set, on Apache
 * Spark. Nothing of Spark is referenced outside {@link #call()}: Spark's classes load only when this command runs,
 * so the other commands start as fast as without it.
 */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = {"Score every image of a dataset on Apache Spark (in this JVM with local[*], or a cluster): "
                + "one row per image and logit-scale factor in DIR/predictions/*.parquet, then DIR/summary.json, "
                + "DIR/entropy_heads.png and DIR/accuracy_vs_factor.png. See docs/datasets.md.",
            "A file that cannot be decoded gives rows with 'error' set; the run goes on."})
public final class DatasetCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ParentCommand
    Main parent;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "INPUT",
            description = "A folder (read recursively), a glob, a .txt file of paths, or a .csv/.parquet table with a "
                    + "'path' column (and optionally 'label'); any file-system URI Spark reads.")
    String input;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder for the results.")
    String out;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master: local[*], local[N], spark://HOST:PORT, yarn... (default: the one "
                    + "spark-submit set, else local[*]).")
    String master;

    @Option(names = "--partitions", paramLabel = "N", description = "Spark tasks to split the images into.")
    Integer partitions;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Images per forward (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5",
            description = "Classes kept per row (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--scale-attn-logits", paramLabel = "LIST", defaultValue = "1",
            description = "Comma-separated attention logit factors, one row per image and factor, e.g. 0.5,1,2,3,5 "
                    + "(default ${DEFAULT-VALUE}: the model as is).")
    String factors;

    @Option(names = "--labels-from", paramLabel = "folder|column",
            description = "Ground truth from each file's parent folder (a class index or class name, as "
                    + "torchvision's ImageFolder) or from the input table's 'label' column.")
    String labelsFrom;

    @Option(names = "--truth", paramLabel = "FILE.csv",
            description = "Ground truth from a CSV of path,label (label: class index or name).")
    Path truth;

    @Option(names = "--save-attention", paramLabel = "BLOCKS",
            description = "Also store the class token's attention rows of these blocks (e.g. 0,11): one column "
                    + "attention_block<i> (heads x tokens) each.")
    String saveAttention;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting, e.g. --conf spark.executor.memory=4g (repeatable).")
    Map<String, String> conf;

    @Option(names = "--no-ui", description = "Do not start Spark's web UI (by default it starts and its address is "
            + "printed).")
    boolean noUi;

    @Override
    public Integer call() {
        ScoreOptions options = new ScoreOptions(parseFactors(), top, batch, blocks());
        if (labelsFrom != null) {
            labelsFrom = labelsFrom.toLowerCase(Locale.ROOT);
            BadValue.check(labelsFrom.equals("folder") || labelsFrom.equals("column"), spec,
                    "--labels-from must be 'folder' or 'column', got '" + labelsFrom + "'");
            BadValue.check(truth == null, spec, "--labels-from and --truth both give labels: choose one");
        }
        BadValue.check(partitions == null || partitions >= 1, spec, "--partitions must be at least 1, got "
                + partitions);
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        boolean verbose = parent != null && parent.verbose;
        quietSpark(verbose);
        DatasetJob job = new DatasetJob(input, out, master, partitions, options, labelsFrom,
                truth == null ? null : truth.toString(), modelSpec(), !noUi, conf);
        ProgressLine line = new ProgressLine(stderr, System.console() != null, options.factors().length);
        DatasetResult r = io.vitscope.dataset.spark.SparkDataset.run(job, line);
        line.finish();
        stdout.print(r.summary().table());
        stdout.printf(Locale.ROOT, "%d images (%d unusable, %d labelled) x %d factors = %d rows in %d tasks; "
                        + "scoring %.1f s (%.1f images/s), %.1f s in all%n", r.summary().images(),
                r.summary().errors(), r.summary().labelled(), options.factors().length, r.rows(), r.partitions(),
                r.scoringSeconds(), r.imagesPerSecond(), r.seconds());
        stdout.println("Wrote " + out + "/predictions (Parquet), summary.json, entropy_heads.png, accuracy_vs_factor.png");
        stdout.flush();
        return Main.OK;
    }

    private double[] parseFactors() {
        String[] parts = factors.trim().split("\\s*,\\s*");
        double[] fs = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                fs[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new BadValue(spec, "--scale-attn-logits takes positive numbers separated by commas, like "
                        + "0.5,1,2,3,5; got '" + factors + "'");
            }
        }
        try {
            ScalingExperiment.requireFactors(fs);
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, "--scale-attn-logits: " + e.getMessage());
        }
        return fs;
    }

    private int[] blocks() {
        if (saveAttention == null || saveAttention.isBlank()) {
            return new int[0];
        }
        try {
            return Arrays.stream(saveAttention.trim().split("\\s*,\\s*")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new BadValue(spec, "--save-attention takes block numbers separated by commas, like 0,11; got '"
                    + saveAttention + "'");
        }
    }

    /** The model options as file names an executor can load from. */
    private ModelSpec modelSpec() {
        String labels = modelOptions.labels == null ? null : modelOptions.labels.toAbsolutePath().toString();
        if (modelOptions.weights != null) {
            String arch = modelOptions.model == null ? null : Presets.get(modelOptions.model).name();
            return new ModelSpec(arch, modelOptions.weights.toAbsolutePath().toString(), labels);
        }
        if (modelOptions.model != null) {
            Presets.get(modelOptions.model);
            return new ModelSpec(null, ModelCache.atDefaultRoot().requireWeights(modelOptions.model).getParent()
                    .toAbsolutePath().toString(), labels);
        }
        return new ModelSpec(null, null, labels);
    }

    /**
     * Spark and Hadoop log through slf4j-simple here (the pom leaves out log4j2's SLF4J binding): warnings such as
     * "native-hadoop library not loaded" or "hostname resolves to a loopback address" are not the user's business
     * unless they ask with --verbose. slf4j-simple reads per-logger levels when each logger is created, so setting
     * them before Spark's classes load is enough.
     */
    private static void quietSpark(boolean verbose) {
        String level = verbose ? "info" : "error";
        for (String p : new String[] {"org.apache.spark", "org.apache.hadoop", "org.sparkproject", "io.netty",
            "org.apache.parquet", "org.apache.spark.util.Utils"}) {
            System.setProperty("org.slf4j.simpleLogger.log." + p, level);
        }
    }

    /** Tasks done / total and images per second, redrawn in place on a terminal; nothing when piped. */
    private static final class ProgressLine implements DatasetJob.Progress {
        private final PrintWriter err;
        private final boolean terminal;
        private final int factors;
        private boolean drawn;

        ProgressLine(PrintWriter err, boolean terminal, int factors) {
            this.err = err;
            this.terminal = terminal;
            this.factors = factors;
        }

        @Override
        public void started(String uiUrl, String master, int partitions) {
            err.println("vitscope: Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION() + " on " + master
                    + ", " + partitions + " tasks" + (uiUrl == null ? "" : "; Spark UI: " + uiUrl));
            err.flush();
        }

        @Override
        public synchronized void update(int done, int total, long rows, double seconds) {
            if (!terminal) {
                return;
            }
            long images = rows / factors;
            err.printf(Locale.ROOT, "\rdataset: %d/%d tasks, %d images, %.1f images/s   ", done, total, images,
                    seconds > 0 ? images / seconds : 0.0);
            err.flush();
            drawn = true;
        }

        synchronized void finish() {
            if (drawn) {
                err.println();
                err.flush();
            }
        }
    }
}
