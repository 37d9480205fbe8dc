package io.vitscope.cli;

import io.vitscope.VitscopeException;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.train.Batches;
import io.vitscope.train.FashionMnist;
import io.vitscope.train.FashionTrainer;
import io.vitscope.train.FashionVit;
import io.vitscope.checkpoint.ModelDir;
import io.vitscope.checkpoint.Models;
import io.vitscope.train.TrainOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vitscope train}: retrains the default Fashion-MNIST model from scratch. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {
            "Train vitscope's default model (a 12-block ViT, patch 4, width 64, for 28x28 grayscale) from scratch on"
                    + " Fashion-MNIST with AdamW and a warm-up + cosine learning-rate schedule, then write"
                    + " model.safetensors and config.json to --out.",
            "The run is reproducible: the seed fixes the initialisation, the shuffling and the augmentation"
                    + " (for the same thread count and CPU; across machines expect the same accuracy within 0.3 points).",
            "Without --out it writes a new folder runs/fashion_vit-<date-time>; it never replaces a model without --force."},
        footer = {"", "Fashion-MNIST on Debian: apt-get install dataset-fashion-mnist"})
public class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with the Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where to write the model (default: a new folder runs/fashion_vit-<UTC date-time> under"
                    + " -Dvitscope.home or the working directory). A folder that holds a model already is refused"
                    + " unless --force is given.")
    Path out;

    @Option(names = "--force", description = "Replace the model in --out if it holds one (e.g. the shipped"
            + " models/fashion_vit).")
    boolean force;

    @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training set (default: ${DEFAULT-VALUE}).")
    int epochs = TrainOptions.DEFAULTS.epochs();

    @Option(names = "--batch", paramLabel = "N", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batch = TrainOptions.DEFAULTS.batchSize();

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed = TrainOptions.DEFAULTS.seed();

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr = TrainOptions.DEFAULTS.lr();

    @Option(names = "--weight-decay", paramLabel = "WD", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay = TrainOptions.DEFAULTS.weightDecay();

    @Option(names = "--warmup", paramLabel = "EPOCHS",
            description = "Epochs of linear learning-rate warm-up (default: ${DEFAULT-VALUE}).")
    double warmup = TrainOptions.DEFAULTS.warmupEpochs();

    @Option(names = "--flip", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Random horizontal flips of training images (default: on; --no-flip to turn off).")
    boolean flip;

    @Option(names = "--crop-pad", paramLabel = "PX",
            description = "Random 28x28 crops of training images zero-padded by PX pixels (default: ${DEFAULT-VALUE}, off).")
    int cropPad = TrainOptions.DEFAULTS.augment().pad();

    @Option(names = "--patch-size", paramLabel = "P", description = "Patch side, a divisor of 28 (default: ${DEFAULT-VALUE}).")
    int patchSize = FashionVit.CONFIG.patchSize();

    @Option(names = "--embed-dim", paramLabel = "D",
            description = "Token width, a multiple of --heads (default: ${DEFAULT-VALUE}).")
    int embedDim = FashionVit.CONFIG.embedDim();

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads per block (default: ${DEFAULT-VALUE}).")
    int heads = FashionVit.CONFIG.numHeads();

    @Option(names = "--mlp-ratio", paramLabel = "R",
            description = "MLP hidden width as a multiple of the token width (default: ${DEFAULT-VALUE}).")
    double mlpRatio = FashionVit.CONFIG.mlpRatio();

    @Option(names = "--label-smoothing", paramLabel = "EPS",
            description = "Label smoothing of the cross-entropy target, in [0, 1) (default: ${DEFAULT-VALUE}).")
    double labelSmoothing = TrainOptions.DEFAULTS.labelSmoothing();

    @Option(names = "--limit", paramLabel = "N", description = "Train on the first N training images only (default: all).")
    Integer limit;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--no-test", description = "Skip the test-set evaluation after each epoch (faster).")
    boolean noTest;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors (no epoch lines, no progress bar).")
    boolean quiet;

    private final boolean terminal;

    public TrainCommand() {
        this(System.console() != null);
    }

    /** For tests: whether to draw a progress bar as on a terminal. */
    TrainCommand(boolean terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter log = quiet ? new PrintWriter(java.io.Writer.nullWriter()) : stdout;
        // Left out means all; an explicit 0 used to mean all too, silently (the library's convention), which reads
        // as "train on nothing".
        BadValue.check(limit == null || limit >= 1, spec, "--limit must be at least 1, got " + limit
                + " (leave it out to train on every image)");
        int limit = this.limit == null ? 0 : this.limit;
        TrainOptions options;
        try {
            options = new TrainOptions(epochs, batch, seed, lr, weightDecay, Math.min(warmup, epochs),
                    TrainOptions.DEFAULTS.finalLrFraction(), limit, new Batches.Augment(flip, cropPad), labelSmoothing);
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, e.getMessage());
        }
        threads.start();
        Path outDir = out != null ? out : Models.home().resolve("runs").resolve("fashion_vit-"
                + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(java.time.ZoneOffset.UTC)
                        .format(java.time.Instant.now()));
        // Checked before hours of training, and again by the write itself.
        BadValue.check(force || !ModelDir.holdsModel(outDir), spec, "--out " + outDir
                + " holds a model already; pass --force to replace it, or choose another folder");

        VitConfig config;
        try {
            VitConfig d = FashionVit.CONFIG;
            config = new VitConfig(d.imgHeight(), d.imgWidth(), patchSize, d.inChans(), d.numClasses(), embedDim,
                    d.depth(), heads, mlpRatio, d.qkvBias(), d.layerNormEps());
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, e.getMessage());
        }
        FashionMnist train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
        FashionMnist test = FashionMnist.load(data, FashionMnist.Split.TEST);
        log.printf(Locale.ROOT, "Training %s on Fashion-MNIST (%d training images%s, %d test images)%n",
                FashionVit.ARCHITECTURE, Math.min(train.size(), limit > 0 ? limit : train.size()),
                limit > 0 ? " of " + train.size() : "", test.size());
        log.printf(Locale.ROOT, "  model: %dx%d in %d channel, patch %d, D %d, %d blocks, %d heads, mlp_ratio %s, %d classes%n",
                config.imgHeight(), config.imgWidth(), config.inChans(), config.patchSize(), config.embedDim(),
                config.depth(), config.numHeads(), config.mlpRatio(), config.numClasses());
        log.printf(Locale.ROOT, "  data: %s%n", FashionVit.DATA_CONFIG);
        log.printf(Locale.ROOT, "  AdamW lr %s (warm-up %s epochs, cosine to %s), weight decay %s, batch %d, %d epochs,"
                        + " augment %s, label smoothing %s, seed %d%n", options.lr(), options.warmupEpochs(),
                options.lr() * options.finalLrFraction(), options.weightDecay(), options.batchSize(), options.epochs(),
                options.augment(), options.labelSmoothing(), options.seed());
        log.flush();

        // The parse result's original arguments are the whole command line, "train" included when run through Main.
        List<String> args = new java.util.ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        if (!args.isEmpty() && args.get(0).equals(spec.name())) {
            args.remove(0);
        }
        String command = "scripts/vitscope train " + String.join(" ", args);
        FashionTrainer.Result result;
        try (VisionTransformer vit = new VisionTransformer(config).initializeRandom(seed)) {
            log.printf(Locale.ROOT, "  %,d parameters (%.2f MB as float32)%n", countParameters(vit),
                    countParameters(vit) * 4 / 1e6);
            log.flush();
            result = train(vit, train, test, options, log, err);
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("dataset", "Fashion-MNIST");
            record.put("seed", seed);
            record.put("epochs", epochs);
            record.put("batch_size", options.batchSize());
            record.put("optimizer", "AdamW");
            record.put("lr", options.lr());
            record.put("weight_decay", options.weightDecay());
            record.put("warmup_epochs", options.warmupEpochs());
            record.put("schedule", "linear warm-up, cosine to " + options.finalLrFraction() + " x lr");
            record.put("augment", options.augment().toString());
            record.put("label_smoothing", options.labelSmoothing());
            record.put("train_images", Math.min(train.size(), limit > 0 ? limit : train.size()));
            if (result.test() != null) {
                record.put("test_top1", round(result.test().top1(), 4));
                record.put("test_top5", round(result.test().top5(), 4));
            }
            record.put("train_seconds", round(result.trainSeconds(), 1));
            record.put("skipped_steps", result.epochs().stream().mapToInt(FashionTrainer.EpochStats::skippedSteps).sum());
            record.put("threads", threads.threads != null ? threads.threads : Runtime.getRuntime().availableProcessors());
            record.put("epoch_test_top1", result.epochs().stream().mapToDouble(e -> round(e.testTop1(), 4)).toArray());
            record.put("command", command);
            try {
                ModelDir.write(outDir, FashionVit.ARCHITECTURE, vit, FashionVit.DATA_CONFIG, FashionMnist.LABELS, record,
                        force);
            } catch (IOException e) {
                throw new VitscopeException("Cannot write the model to " + outDir + ": " + e.getMessage(), e);
            }
        }
        log.printf(Locale.ROOT, "Trained in %.1f s (%.1f min)%s%n", result.trainSeconds(), result.trainSeconds() / 60,
                result.test() == null ? "" : String.format(Locale.ROOT, "; test top-1 %.2f%%, top-5 %.2f%%",
                        100 * result.test().top1(), 100 * result.test().top5()));
        log.println("Wrote " + outDir.resolve(ModelDir.WEIGHTS) + " and " + ModelDir.CONFIG);
        log.flush();
        return 0;
    }

    private FashionTrainer.Result train(VisionTransformer vit, FashionMnist train, FashionMnist test,
                                        TrainOptions options, PrintWriter log, PrintWriter err) {
        boolean bars = terminal && !quiet;
        FashionTrainer.Listener listener = new FashionTrainer.Listener() {
            private TerminalBar bar;
            private int firstStep;

            @Override
            public void epochStarted(int epoch, int epochs, int steps) {
                bar = TerminalBar.of(bars, err, "epoch " + epoch + "/" + epochs, steps, "steps");
                firstStep = -1;
            }

            @Override
            public void stepDone(int step, float loss) {
                if (firstStep < 0) {
                    firstStep = step - 1;
                }
                bar.stepTo(step - firstStep);
                bar.extra(String.format(Locale.ROOT, "loss %.3f", loss));
            }

            @Override
            public void stepSkipped(int epoch, int step, float loss) {
                err.printf(Locale.ROOT, "%nwarning: epoch %d step %d: loss %s or its gradient is not finite; step skipped%n",
                        epoch, step, loss);
                err.flush();
            }

            @Override
            public void epochEnded(FashionTrainer.EpochStats s) {
                bar.close();
                log.printf(Locale.ROOT, "epoch %2d/%d  train loss %.4f  train acc %6.2f%%  %s  lr %.2e  %.1f s%n",
                        s.epoch(), s.epochs(), s.trainLoss(), 100 * s.trainTop1(),
                        Double.isNaN(s.testTop1()) ? "test top-1    -   "
                                : String.format(Locale.ROOT, "test top-1 %6.2f%%", 100 * s.testTop1()),
                        s.lr(), s.seconds());
                log.flush();
            }
        };
        try {
            return new FashionTrainer(FashionVit.DATA_CONFIG, options).train(vit, train, noTest ? null : test, listener);
        } catch (IllegalStateException e) {
            throw new VitscopeException(e.getMessage(), e);
        }
    }

    private static long countParameters(VisionTransformer vit) {
        return vit.parameterShapes().values().stream().mapToLong(s -> s.size()).sum();
    }

    private static double round(double v, int places) {
        double f = Math.pow(10, places);
        return Math.round(v * f) / f;
    }

}
