package io.vitscope.cli;

import com.google.gson.GsonBuilder;
import io.vitscope.VitscopeException;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.experiment.ScalingExperiment.FactorResult;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.plot.LogitScalingChart;
import io.vitscope.plot.Plots;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jfree.chart.JFreeChart;
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

        /** At most this many classes are drawn in probabilities.png, so that the legend stays readable. */
        static final int MAX_CLASSES_PLOTTED = 8;

        @Spec
        CommandSpec spec;

        @Mixin
        ModelOptions modelOptions;

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

        @Option(names = "--index", paramLabel = "B", defaultValue = "0",
                description = "Which image of an [N,3,H,W] .npy tensor (default ${DEFAULT-VALUE}).")
        int index;

        @Option(names = "--width", paramLabel = "PX", defaultValue = "1000",
                description = "Width of the attention figures in pixels (default ${DEFAULT-VALUE}).")
        int width;

        @Override
        public Integer call() {
            double[] fs = parseFactors(factors);
            if (top < 1) {
                throw new IllegalArgumentException("--top must be at least 1, got " + top);
            }
            if (index < 0) {
                throw new IllegalArgumentException("--index must be 0 or more, got " + index);
            }
            if (width < 100) {
                throw new IllegalArgumentException("--width must be at least 100 pixels, got " + width);
            }
            if (block != null && block < 0) {
                throw new IllegalArgumentException("--block must be 0 or more, got " + block);
            }
            PrintWriter stdout = spec.commandLine().getOut();
            PrintWriter stderr = spec.commandLine().getErr();
            try (LoadedModel loaded = modelOptions.load()) {
                VitConfig cfg = loaded.config();
                if (block != null && block >= cfg.depth()) {
                    throw new IllegalArgumentException("--block " + block + " is out of range: " + loaded.name()
                            + " has " + cfg.depth() + " blocks, use 0.." + (cfg.depth() - 1));
                }
                Classifier classifier = new Classifier(loaded);
                List<Input> inputs = classifier.read(image);
                if (index >= inputs.size()) {
                    throw new IllegalArgumentException("--index " + index + " is out of range: " + image + " holds "
                            + inputs.size() + " image(s)");
                }
                Input input = inputs.get(index);
                ScalingExperiment.Result result;
                try (TerminalBar progress = TerminalBar.onTerminal(stderr, "scale", fs.length, "factors")) {
                    result = new ScalingExperiment(classifier).run(input, fs, top, block == null ? -1 : block,
                            f -> progress.step(1));
                }
                createDirectories();
                writeCsv(result, cfg.depth());
                writeJson(result, loaded);
                writeChart(result, loaded);
                List<Path> grids = writeGrids(result, classifier, input, cfg);
                printTable(stdout, result);
                stdout.println("Wrote " + out.resolve("scale.csv") + ", scale.json, probabilities.png, "
                        + String.join(", ", grids.stream().map(p -> p.getFileName().toString()).toList()));
            }
            stdout.flush();
            return Main.OK;
        }

        static double[] parseFactors(String list) {
            String[] parts = list.trim().split("\\s*,\\s*");
            double[] fs = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    fs[i] = Double.parseDouble(parts[i]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--factors must be positive numbers separated by commas, like "
                            + "0.5,1,2,3,5; got '" + list + "'");
                }
            }
            try {
                ScalingExperiment.requireFactors(fs);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--factors: " + e.getMessage());
            }
            return fs;
        }

        private void createDirectories() {
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new VitscopeException("cannot create " + out + " (" + e.getMessage()
                        + "); choose a folder you can write to", e);
            }
        }

        private void write(String name, String text) {
            try {
                Files.writeString(out.resolve(name), text, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new VitscopeException("cannot write " + out.resolve(name) + " (" + e.getMessage()
                        + "); choose a folder you can write to", e);
            }
        }

        /** One row per factor: the top-k as rank columns, then every block's mean entropy. */
        private void writeCsv(ScalingExperiment.Result result, int depth) {
            StringBuilder sb = new StringBuilder("factor");
            int k = result.factors().get(0).top().size();
            for (int r = 1; r <= k; r++) {
                sb.append(",top").append(r).append("_index,top").append(r).append("_label,top").append(r)
                        .append("_probability");
            }
            for (int b = 0; b < depth; b++) {
                sb.append(",entropy_block").append(b);
            }
            sb.append('\n');
            for (FactorResult f : result.factors()) {
                sb.append(AttentionCommand.number(f.factor()));
                for (Prediction p : f.top()) {
                    sb.append(',').append(p.index()).append(',').append(csv(p.label())).append(',')
                            .append((double) p.probability());
                }
                for (double e : f.entropy()) {
                    sb.append(',').append(e);
                }
                sb.append('\n');
            }
            write("scale.csv", sb.toString());
        }

        private static String csv(String s) {
            return s.contains(",") || s.contains("\"") || s.contains("\n")
                    ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
        }

        private void writeJson(ScalingExperiment.Result result, LoadedModel loaded) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("image", result.source());
            o.put("model", loaded.name());
            o.put("weights", loaded.source());
            o.put("attention_block", result.block());
            o.put("entropy_unit", "nats");
            List<Map<String, Object>> list = new ArrayList<>();
            for (FactorResult f : result.factors()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("factor", f.factor());
                List<Map<String, Object>> preds = new ArrayList<>();
                for (Prediction p : f.top()) {
                    Map<String, Object> pm = new LinkedHashMap<>();
                    pm.put("rank", p.rank());
                    pm.put("index", p.index());
                    pm.put("label", p.label());
                    pm.put("probability", (double) p.probability());
                    preds.add(pm);
                }
                m.put("top", preds);
                m.put("entropy", f.entropy());
                list.add(m);
            }
            o.put("factors", list);
            write("scale.json", new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
        }

        private void writeChart(ScalingExperiment.Result result, LoadedModel loaded) {
            double[] xs = result.factorValues();
            Map<String, double[]> series = new LinkedHashMap<>();
            for (int k : result.classesToPlot(top, MAX_CLASSES_PLOTTED)) {
                double[] y = new double[xs.length];
                for (int s = 0; s < xs.length; s++) {
                    y[s] = result.factors().get(s).probabilities()[k];
                }
                String name = loaded.labels().get(k);
                series.put(series.containsKey(name) ? name + " (" + k + ")" : name, y);
            }
            JFreeChart chart = LogitScalingChart.create(fileName(result) + " — " + loaded.name()
                    + " — every block's attention logits × factor", xs, series);
            Plots.save(chart, out.resolve("probabilities.png"), Plots.Format.PNG, 900, 520);
        }

        /** Block I's heads at factor 1 (or the smallest) and at the largest factor, drawn alike for comparison. */
        private List<Path> writeGrids(ScalingExperiment.Result result, Classifier classifier, Input input,
                                      VitConfig cfg) {
            double[] xs = result.factorValues();
            double base = xs[0];
            double largest = xs[0];
            for (double x : xs) {
                base = Math.min(base, x);
                largest = Math.max(largest, x);
            }
            for (double x : xs) {
                if (x == 1) {
                    base = 1;
                }
            }
            BufferedImage shown = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
            List<Path> written = new ArrayList<>();
            for (double f : base == largest ? new double[] {base} : new double[] {base, largest}) {
                FactorResult r = result.at(f);
                Prediction top1 = r.top().get(0);
                float[][][] w = PatchWeights.grid(r.attention(), PatchWeights.Mode.MEAN, cfg.gridHeight(),
                        cfg.gridWidth());                                                    // (N, G_h, G_w)
                String title = fileName(result) + " — " + result.model() + " — blocks." + result.block()
                        + ".attn, mean over queries — attention logits × " + AttentionCommand.number(f)
                        + " — top-1: " + top1.label() + " (" + String.format(Locale.ROOT, "%.3f", top1.probability())
                        + ")";
                AttentionGrid grid = AttentionGrid.builder().setImage(shown).setWeights(w)
                        .optPanelTitles(AttentionGrid.headTitles(result.block(), w.length)).optTitle(title).build();
                Path file = out.resolve("attention_factor_" + AttentionCommand.number(f) + ".png");
                Plots.save(grid, file, Plots.Format.PNG, width, 0);
                written.add(file);
            }
            return written;
        }

        private static String fileName(ScalingExperiment.Result result) {
            return String.valueOf(Path.of(result.source()).getFileName());
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
                        AttentionCommand.number(f.factor()), label, p.probability(), f.entropy()[result.block()], mean);
            }
        }
    }
}
