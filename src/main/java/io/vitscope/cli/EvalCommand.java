package io.vitscope.cli;

import io.vitscope.InvalidInputException;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.ModelDir;
import io.vitscope.checkpoint.Models;
import io.vitscope.model.VitConfig;
import io.vitscope.train.Evaluation;
import io.vitscope.train.FashionMnist;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vitscope eval}: a model directory's accuracy on the Fashion-MNIST test set. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {
            "Classify the 10,000 Fashion-MNIST test images with a model directory (model.safetensors and"
                    + " config.json; default: the shipped models/fashion_vit) and print its top-1 and top-5 accuracy"
                    + " and a per-class accuracy table.",
            "Images are prepared as at inference: x / 255, then normalised with the model's mean and std."},
        footer = {"", "Fashion-MNIST on Debian: apt-get install dataset-fashion-mnist"})
public class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** Which model; none = the shipped models/fashion_vit (under -Dvitscope.home, the project folder). */
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with the Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate the first N test images only (default: all).")
    int limit;

    @Option(names = "--batch", paramLabel = "N", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch = 500;

    @Mixin
    ThreadsOption threads;

    private final boolean terminal;

    public EvalCommand() {
        this(System.console() != null);
    }

    /** For tests: whether to draw a progress bar as on a terminal. */
    EvalCommand(boolean terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BadValue.check(limit >= 0 && batch >= 1, spec,
                "--limit must be ≥ 0 and --batch ≥ 1, got " + limit + " and " + batch);
        threads.start();
        Path dir = modelOptions.weights != null ? modelOptions.weights : Models.defaultModelDir();
        if (modelOptions.weights != null && !Files.isRegularFile(dir) && !Files.isRegularFile(dir.resolve(ModelDir.CONFIG))) {
            throw new InvalidInputException(dir, ModelDir.CONFIG + " not found: pass a model folder (" + ModelDir.CONFIG
                    + " and " + ModelDir.WEIGHTS + ") with --weights, or train one with: scripts/vitscope train");
        }
        long t0;
        Evaluation.Result r;
        List<String> labels;
        String architecture;
        String source;
        try (LoadedModel loaded = modelOptions.load()) {
            VitConfig c = loaded.config();
            if (c.inChans() != 1 || c.imgHeight() != FashionMnist.SIZE || c.imgWidth() != FashionMnist.SIZE
                    || c.numClasses() != FashionMnist.LABELS.size()) {
                throw new InvalidInputException(dir, "holds a model for " + c.inChans() + "x" + c.imgHeight() + "x"
                        + c.imgWidth() + " images and " + c.numClasses() + " classes; Fashion-MNIST needs 1x28x28 and 10");
            }
            FashionMnist test = FashionMnist.load(data, FashionMnist.Split.TEST).head(limit);
            t0 = System.nanoTime();
            try (TerminalBar bar = TerminalBar.of(terminal, err, "eval", test.size(), "images")) {
                r = Evaluation.run(loaded.model(), test, loaded.dataConfig(), batch, bar::stepTo);
            }
            labels = loaded.labels();
            architecture = loaded.name();
            source = loaded.source();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        out.printf(Locale.ROOT, "%s (%s) on %,d Fashion-MNIST test images%s%n", architecture,
                modelOptions.model != null && modelOptions.weights == null ? source : dir, r.n(),
                limit > 0 ? " (--limit " + limit + ")" : "");
        out.printf(Locale.ROOT, "top-1 %.2f%%  (%d/%d)%n", 100 * r.top1(), r.top1Correct(), r.n());
        out.printf(Locale.ROOT, "top-5 %.2f%%  (%d/%d)%n", 100 * r.top5(), r.top5Correct(), r.n());
        out.println();
        out.printf(Locale.ROOT, "%-3s %-12s %7s %9s  %s%n", "#", "class", "images", "accuracy", "most often mistaken for");
        for (int k = 0; k < labels.size(); k++) {
            int other = r.mostConfusedWith(k);
            String confused = other < 0 ? "-" : String.format(Locale.ROOT, "%s (%d)", labels.get(other),
                    r.confusion()[k][other]);
            out.printf(Locale.ROOT, "%-3d %-12s %7d %8.2f%%  %s%n", k, labels.get(k), r.classCount(k),
                    100 * r.classAccuracy(k), confused);
        }
        out.printf(Locale.ROOT, "%nEvaluated in %.1f s%n", seconds);
        out.flush();
        return 0;
    }
}
