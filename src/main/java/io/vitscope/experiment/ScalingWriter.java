package io.vitscope.experiment;

import com.google.gson.GsonBuilder;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.experiment.ScalingExperiment.FactorResult;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.plot.LogitScalingChart;
import io.vitscope.plot.Plots;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.files.Outputs;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;

/**
 * Writes a {@link ScalingExperiment.Result} into a folder: {@code scale.csv} (one row per factor: the top-k as rank
 * columns, then every block's mean entropy), {@code scale.json} (the same with the model and weights named),
 * {@code probabilities.png} (each plotted class's probability against the factor) and
 * {@code attention_factor_<f>.png} (the recorded block's heads at factor 1, or the smallest, and at the largest).
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 */
public final class ScalingWriter {

    /** At most this many classes are drawn in probabilities.png, so that the legend stays readable. */
    public static final int MAX_CLASSES_PLOTTED = 8;

    private ScalingWriter() {}

    /**
     * Writes every file.
     *
     * @param classifier the classifier the experiment ran with (its model's labels, name and input transform)
     * @param input the input it ran on, drawn under the attention
     * @param width the attention figures' width in pixels
     * @return the files written, in the order above
     */
    public static List<Path> write(ScalingExperiment.Result result, Classifier classifier, Input input, Path dir,
                                   int width) {
        LoadedModel loaded = classifier.model();
        List<Path> written = new ArrayList<>();
        // staged, then moved into dir together: a failure (a figure too large, a full disk) adds nothing to dir
        Outputs.intoFolder(dir, "dir", staging -> {
            written.add(Outputs.writeString(staging.resolve("scale.csv"), "dir", csv(result, loaded.config().depth())));
            written.add(Outputs.writeString(staging.resolve("scale.json"), "dir", json(result, loaded)));
            written.add(writeChart(result, loaded, staging));
            written.addAll(writeGrids(result, classifier, input, staging, width));
        });
        return written.stream().map(p -> dir.resolve(p.getFileName().toString())).toList();
    }

    /** One row per factor: the top-k as rank columns, then every block's mean entropy. */
    static String csv(ScalingExperiment.Result result, int depth) {
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
            sb.append(Plots.number(f.factor()));
            for (Prediction p : f.top()) {
                sb.append(',').append(p.index()).append(',').append(csvField(p.label())).append(',')
                        .append((double) p.probability());
            }
            for (double e : f.entropy()) {
                sb.append(',').append(e);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n")
                ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String json(ScalingExperiment.Result result, LoadedModel loaded) {
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
            m.put("top", Prediction.toJson(f.top()));
            m.put("entropy", f.entropy());
            list.add(m);
        }
        o.put("factors", list);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }

    private static Path writeChart(ScalingExperiment.Result result, LoadedModel loaded, Path dir) {
        double[] xs = result.factorValues();
        Map<String, double[]> series = new LinkedHashMap<>();
        int top = result.factors().get(0).top().size();
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
        return Plots.save(chart, dir.resolve("probabilities.png"), Plots.Format.PNG, 900, 520);
    }

    /** Block I's heads at factor 1 (or the smallest) and at the largest factor, drawn alike for comparison. */
    private static List<Path> writeGrids(ScalingExperiment.Result result, Classifier classifier, Input input, Path dir,
                                         int width) {
        VitConfig cfg = classifier.model().config();
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
                    cfg.gridWidth());                                                        // (N, G_h, G_w)
            String title = fileName(result) + " — " + result.model() + " — blocks." + result.block()
                    + ".attn, mean over queries — attention logits × " + Plots.number(f)
                    + " — top-1: " + top1.label() + " (" + String.format(Locale.ROOT, "%.3f", top1.probability())
                    + ")";
            AttentionGrid grid = AttentionGrid.builder().setImage(shown).setWeights(w)
                    .optPanelTitles(AttentionGrid.headTitles(result.block(), w.length)).optTitle(title).build();
            Path file = dir.resolve("attention_factor_" + Plots.number(f) + ".png");
            Plots.save(grid, file, Plots.Format.PNG, width, 0);
            written.add(file);
        }
        return written;
    }

    private static String fileName(ScalingExperiment.Result result) {
        return String.valueOf(Path.of(result.source()).getFileName());
    }
}
