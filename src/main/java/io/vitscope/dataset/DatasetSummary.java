package io.vitscope.dataset;

import com.google.gson.GsonBuilder;
import io.vitscope.plot.DatasetCharts;
import io.vitscope.plot.Plots;
import io.vitscope.files.Outputs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.JFreeChart;

/**
 * What a dataset run found, over all its rows: {@code DIR/summary.json} and the two charts beside it.
 *
 * @param model the model's name
 * @param weightsSha256 hex SHA-256 of the weights file, or null when there is no single file
 * @param images distinct files
 * @param errors files that could not be used
 * @param labelled files with a known true class
 * @param factors one entry per logit scale, in the order they ran
 */
public record DatasetSummary(String model, String weightsSha256, long images, long errors, long labelled,
                             List<FactorSummary> factors) {

    /**
     * One logit scale over the dataset.
     *
     * @param scored images the model ran on
     * @param accuracy top-1 accuracy over the scored images with a label; null when none has one
     * @param top5Accuracy the true class among the row's top classes (up to 5); null when none has a label
     * @param flipRate the share of scored images whose top-1 differs from their top-1 at factor 1; null when factor 1
     *     did not run
     * @param meanEntropy mean attention entropy of each block in nats over images and heads, (L)
     * @param entropyHeads the same per head, (L, N)
     */
    public record FactorSummary(double factor, long scored, Double accuracy, Double top5Accuracy, Double flipRate,
                                double[] meanEntropy, double[][] entropyHeads) {}

    /** The factor-1 summary, else the first. */
    public FactorSummary reference() {
        return factors.stream().filter(f -> f.factor() == 1).findFirst().orElse(factors.get(0));
    }

    /**
     * Writes {@code summary.json}, {@code entropy_heads.png} and {@code accuracy_vs_factor.png} into {@code dir}, all
     * three or none ({@link Outputs#intoFolder}); other files in {@code dir} are kept.
     */
    public void save(Path dir) {
        Outputs.intoFolder(dir, "dir", staging -> {
            Outputs.writeString(staging.resolve("summary.json"), "dir", toJson());
            if (scoredAny()) {
                Plots.save(entropyChart(), staging.resolve("entropy_heads.png"), Plots.Format.PNG, 800, 640);
            }
            Plots.save(accuracyChart(), staging.resolve("accuracy_vs_factor.png"), Plots.Format.PNG, 800, 500);
        });
    }

    private boolean scoredAny() {
        return factors.stream().anyMatch(f -> f.scored() > 0);
    }

    /** The block × head heatmap of mean attention entropy at factor 1 (or the first factor). */
    public JFreeChart entropyChart() {
        FactorSummary f = reference();
        return DatasetCharts.entropyHeads(model + ": mean attention entropy per head, " + f.scored()
                + " images, factor " + number(f.factor()), f.entropyHeads());
    }

    /** Accuracy (when labels are known) and the top-1 flip rate against the logit scale. */
    public JFreeChart accuracyChart() {
        double[] x = factors.stream().mapToDouble(FactorSummary::factor).toArray();
        Map<String, double[]> series = new LinkedHashMap<>();
        if (labelled > 0) {
            series.put("top-1 accuracy", factors.stream().mapToDouble(f -> orNaN(f.accuracy())).toArray());
            series.put("top-5 accuracy", factors.stream().mapToDouble(f -> orNaN(f.top5Accuracy())).toArray());
        }
        series.put("top-1 changed vs factor 1", factors.stream().mapToDouble(f -> orNaN(f.flipRate())).toArray());
        return DatasetCharts.versusFactor(model + " on " + (images - errors) + " images: attention logits × factor", x,
                series);
    }

    public String toJson() {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().serializeSpecialFloatingPointValues().create()
                .toJson(this) + "\n";
    }

    /** A plain-text table: factor, images, accuracy, flip rate, mean entropy of the first and last block. */
    public String table() {
        StringBuilder sb = new StringBuilder("factor  scored  top-1 acc  top-5 acc  top-1 changed  entropy block 0 .. "
                + (factors.isEmpty() ? 0 : factors.get(0).meanEntropy().length - 1) + "\n");
        for (FactorSummary f : factors) {
            double[] e = f.meanEntropy();
            sb.append(String.format(Locale.ROOT, "%-7s %6d  %9s  %9s  %13s  %s%n", number(f.factor()), f.scored(),
                    percent(f.accuracy()), percent(f.top5Accuracy()), percent(f.flipRate()),
                    e.length == 0 ? "-" : String.format(Locale.ROOT, "%.3f .. %.3f", e[0], e[e.length - 1])));
        }
        return sb.toString();
    }

    private static String percent(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    private static double orNaN(Double v) {
        return v == null ? Double.NaN : v;
    }

    static String number(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    /** Accumulates rows in any order (each row once) into a summary. */
    public static final class Builder {

        private final String model;
        private final String weightsSha256;
        private final double[] factors;
        private final Map<String, Boolean> imageFailed = new HashMap<>();
        private final Map<String, Boolean> imageLabelled = new HashMap<>();
        private final long[] scored;
        private final long[] labelledScored;
        private final long[] correct;
        private final long[] correct5;
        private final double[][][] entropySum;                          // (S, L, N)
        private final List<Map<String, Integer>> top1 = new ArrayList<>();

        public Builder(String model, String weightsSha256, double[] factors) {
            this.model = model;
            this.weightsSha256 = weightsSha256;
            this.factors = factors.clone();
            int s = factors.length;
            scored = new long[s];
            labelledScored = new long[s];
            correct = new long[s];
            correct5 = new long[s];
            entropySum = new double[s][][];
            for (int i = 0; i < s; i++) {
                top1.add(new HashMap<>());
            }
        }

        public Builder add(DatasetRow row) {
            int f = factorIndex(row.factor());
            imageFailed.merge(row.path(), !row.ok(), Boolean::logicalOr);
            imageLabelled.put(row.path(), row.label() != null);
            if (!row.ok()) {
                return this;
            }
            scored[f]++;
            top1.get(f).put(row.path(), row.top1());
            if (row.label() != null) {
                labelledScored[f]++;
                if (row.top1() == row.label()) {
                    correct[f]++;
                }
                for (int r = 0; r < Math.min(5, row.topIndex().length); r++) {
                    if (row.topIndex()[r] == row.label()) {
                        correct5[f]++;
                    }
                }
            }
            float[][] e = row.entropy();                                 // (L, N)
            if (entropySum[f] == null) {
                entropySum[f] = new double[e.length][e[0].length];
            }
            for (int b = 0; b < e.length; b++) {
                for (int h = 0; h < e[b].length; h++) {
                    entropySum[f][b][h] += e[b][h];
                }
            }
            return this;
        }

        private int factorIndex(double factor) {
            for (int i = 0; i < factors.length; i++) {
                if (factors[i] == factor) {
                    return i;
                }
            }
            throw new IllegalArgumentException("a row for factor " + factor + ", which was not run");
        }

        public DatasetSummary build() {
            int one = -1;
            for (int i = 0; i < factors.length; i++) {
                if (factors[i] == 1) {
                    one = i;
                }
            }
            List<FactorSummary> out = new ArrayList<>();
            for (int f = 0; f < factors.length; f++) {
                double[][] heads = entropySum[f] == null ? new double[0][] : new double[entropySum[f].length][];
                double[] blocks = new double[heads.length];
                for (int b = 0; b < heads.length; b++) {
                    heads[b] = new double[entropySum[f][b].length];
                    for (int h = 0; h < heads[b].length; h++) {
                        heads[b][h] = entropySum[f][b][h] / scored[f];
                        blocks[b] += heads[b][h] / heads[b].length;
                    }
                }
                Double flip = null;
                if (one >= 0 && scored[f] > 0) {
                    Map<String, Integer> ref = top1.get(one);
                    long flips = top1.get(f).entrySet().stream()
                            .filter(e -> !e.getValue().equals(ref.get(e.getKey()))).count();
                    flip = (double) flips / scored[f];
                }
                Double acc = labelledScored[f] == 0 ? null : (double) correct[f] / labelledScored[f];
                Double acc5 = labelledScored[f] == 0 ? null : (double) correct5[f] / labelledScored[f];
                out.add(new FactorSummary(factors[f], scored[f], acc, acc5, flip, blocks, heads));
            }
            long errors = imageFailed.values().stream().filter(b -> b).count();
            long labelled = imageLabelled.values().stream().filter(b -> b).count();
            return new DatasetSummary(model, weightsSha256, imageFailed.size(), errors, labelled, List.copyOf(out));
        }
    }
}
