package io.vitscope.cli;

import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.experiment.ScalingExperiment.FactorResult;
import io.vitscope.plot.Plots;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.files.Outputs;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vitscope experiment}: experiments from the NoPdb tutorial, each a subcommand writing a folder of results. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Run an experiment and write its numbers and figures into a folder.",
        subcommands = {ExperimentCommand.Scale.class})
public final class ExperimentCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing the experiment to run: scale");
    }

    /** {@code vitscope experiment scale}: NoPdb's {@code attn = attn * 3}, over several factors. */
    @Command(name = "scale", mixinStandardHelpOptions = true,
            description = {"Multiply every attention layer's pre-softmax logits by each factor in turn (NoPdb's "
                    + "'attn = attn * 3', a softmax temperature of 1/factor) and record the top classes and each "
                    + "block's mean attention entropy.",
                "Writes DIR/scale.csv, DIR/scale.json, DIR/probabilities.png and DIR/attention_factor_<f>.png for "
                    + "factor 1 (or the smallest) and the largest factor."})
    public static final class Scale implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

        @Mixin
        ImageIndexOption index;

        @Mixin
        FigureSizeOption size;

        @Parameters(index = "0", paramLabel = "IMAGE",
                description = "An image file, or a .npy tensor [3,H,W] / [N,3,H,W] already preprocessed (see --index).")
        Path image;

        @Option(names = "--factors", paramLabel = "LIST", defaultValue = "0.5,1,2,3,5",
                description = "Comma-separated positive factors (default ${DEFAULT-VALUE}).")
        String factors;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder for the results.")
        Path out;

        @Option(names = "--block", paramLabel = "I",
                description = "The block whose attention is drawn, 0-based (default 4, or the middle block of "
                        + "models with 4 blocks or fewer).")
        Integer block;

        @Option(names = "--top", paramLabel = "K", defaultValue = "5",
                description = "How many classes to record per factor (default ${DEFAULT-VALUE}).")
        int top;

        @Override
        public Integer call() {
            double[] fs = parseFactors(factors);
            BadValue.check(top >= 1, spec, "--top must be at least 1, got " + top);
            BadValue.check(block == null || block >= 0, spec, "--block must be 0 or more, got " + block);
            Outputs.checkFolder(out, "out");
            PrintWriter stdout = spec.commandLine().getOut();
            PrintWriter stderr = spec.commandLine().getErr();
            try (LoadedModel loaded = modelOptions.load()) {
                Classifier classifier = new Classifier(loaded);
                Input input = index.pick(classifier.read(image), image);
                ScalingExperiment.Result result;
                try (TerminalBar progress = TerminalBar.onTerminal(stderr, "scale", fs.length, "factors")) {
                    result = new ScalingExperiment(classifier).run(input, fs, top, block == null ? -1 : block,
                            f -> progress.step(1));
                }
                List<Path> written = result.save(out, classifier, input, size.width);
                printTable(stdout, result);
                stdout.println("Wrote " + written.get(0) + ", " + String.join(", ", written.subList(1, written.size())
                        .stream().map(p -> p.getFileName().toString()).toList()));
            }
            stdout.flush();
            return Main.OK;
        }

        private double[] parseFactors(String list) {
            String[] parts = list.trim().split("\\s*,\\s*");
            double[] fs = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    fs[i] = Double.parseDouble(parts[i]);
                } catch (NumberFormatException e) {
                    throw new BadValue(spec, "--factors must be positive numbers separated by commas, like "
                            + "0.5,1,2,3,5; got '" + list + "'");
                }
            }
            try {
                ScalingExperiment.requireFactors(fs);
            } catch (IllegalArgumentException e) {
                throw new BadValue(spec, "--factors: " + e.getMessage());
            }
            return fs;
        }

        private static void printTable(PrintWriter out, ScalingExperiment.Result result) {
            int labelWidth = 12;
            for (FactorResult f : result.factors()) {
                labelWidth = Math.max(labelWidth, f.top().get(0).label().length());
            }
            labelWidth = Math.min(labelWidth, 40);
            out.printf(Locale.ROOT, "%-7s %-" + labelWidth + "s %11s %14s %15s%n", "factor", "top-1", "probability",
                    "entropy blk " + result.block(), "entropy (mean)");
            for (FactorResult f : result.factors()) {
                Prediction p = f.top().get(0);
                String label = p.label().length() > labelWidth ? p.label().substring(0, labelWidth - 1) + "…"
                        : p.label();
                double mean = 0;
                for (double e : f.entropy()) {
                    mean += e;
                }
                mean /= f.entropy().length;
                out.printf(Locale.ROOT, "%-7s %-" + labelWidth + "s %11.4f %14.4f %15.4f%n",
                        Plots.number(f.factor()), label, p.probability(), f.entropy()[result.block()], mean);
            }
        }
    }
}
