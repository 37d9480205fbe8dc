package io.vitscope.experiment;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.analysis.AttentionEntropy;
import io.vitscope.analysis.AttentionMaps;
import io.vitscope.model.VisionTransformer;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * NoPdb's logit-scaling experiment over several factors: for each factor s, one forward of one image with
 * {@code attn = attn * s} before every attention softmax ({@link LogitScaling}), recording the top-k classes, the
 * full probability vector, every block's mean attention entropy and the attention of one block for plotting.
 *
 * <pre>{@code
 * ScalingExperiment.Result r = new ScalingExperiment(classifier).run(input, new double[] {0.5, 1, 2, 3, 5}, 5, -1);
 * r.at(3).top().get(0).label();             // the top-1 under attn * 3
 * r.at(3).entropy()[4];                     // mean entropy of blocks.4.attn, in nats
 * }</pre>
 *
 * <p>Dimension letters as in the glossary ({@code io/vitscope/package-info.java}).
 */
public final class ScalingExperiment {

    private final Classifier classifier;

    public ScalingExperiment(Classifier classifier) {
        this.classifier = classifier;
    }

    /**
     * What one factor did.
     *
     * @param factor the logit scale s (1 = the unchanged model)
     * @param top the k most probable classes, best first
     * @param probabilities the softmax output, (K)
     * @param entropy mean attention entropy of each block in nats, (depth), block 0 first
     * @param attention the post-softmax attention of {@link Result#block()}, (N, T, T)
     */
    public record FactorResult(double factor, List<Prediction> top, float[] probabilities, double[] entropy,
                               float[][][] attention) {}

    /**
     * The whole run, factors in the order given.
     *
     * @param source the input's name ({@link Input#source()})
     * @param block the block whose attention each {@link FactorResult} keeps
     */
    public record Result(String source, String model, int block, List<FactorResult> factors) {

        /**
         * Writes {@code scale.csv}, {@code scale.json}, {@code probabilities.png} and the attention figures into
         * {@code dir} ({@link ScalingWriter}); returns the files written.
         *
         * @param classifier the classifier the experiment ran with; {@code input} the input it ran on
         * @param width the attention figures' width in pixels
         */
        public List<Path> save(Path dir, Classifier classifier, Input input, int width) {
            return ScalingWriter.write(this, classifier, input, dir, width);
        }

        /** The result for {@code factor}; fails naming the factors that ran. */
        public FactorResult at(double factor) {
            for (FactorResult f : factors) {
                if (f.factor() == factor) {
                    return f;
                }
            }
            throw new InvalidArgumentException("factor", "factor " + factor + " was not run; the factors were "
                    + Arrays.toString(factorValues()));
        }

        /** The factors, (S). */
        public double[] factorValues() {
            return factors.stream().mapToDouble(FactorResult::factor).toArray();
        }

        /** Softmax outputs, (S, K). */
        public float[][] probabilities() {
            return factors.stream().map(FactorResult::probabilities).toArray(float[][]::new);
        }

        /**
         * The classes worth plotting against the factor: the union of each factor's top {@code perFactor} classes;
         * when that is more than {@code cap}, the {@code cap} with the highest probability at any factor. Ordered by
         * first appearance (factor order, then rank), so the unscaled top-1 tends to come first.
         *
         * @return class indices
         */
        public List<Integer> classesToPlot(int perFactor, int cap) {
            if (perFactor < 1 || cap < 1) {
                throw new IllegalArgumentException("classes to plot: perFactor and cap must be at least 1, got "
                        + perFactor + " and " + cap);
            }
            Set<Integer> union = new LinkedHashSet<>();
            for (FactorResult f : factors) {
                for (Prediction p : f.top().subList(0, Math.min(perFactor, f.top().size()))) {
                    union.add(p.index());
                }
            }
            List<Integer> ordered = new ArrayList<>(union);
            if (ordered.size() <= cap) {
                return ordered;
            }
            List<Integer> byPeak = new ArrayList<>(ordered);
            byPeak.sort(Comparator.comparingDouble((Integer k) -> -peak(k)).thenComparingInt(ordered::indexOf));
            Set<Integer> kept = Set.copyOf(byPeak.subList(0, cap));
            ordered.removeIf(k -> !kept.contains(k));
            return ordered;
        }

        private double peak(int k) {
            double m = 0;
            for (FactorResult f : factors) {
                m = Math.max(m, f.probabilities()[k]);
            }
            return m;
        }
    }

    /** The block the experiment plots when none is chosen: the tutorial's fifth ({@code blocks.4}) if it exists. */
    public static int defaultBlock(int depth) {
        return depth > 4 ? 4 : depth / 2;
    }

    /**
     * Checks the factors: at least one, each positive and finite, none repeated.
     *
     * @throws IllegalArgumentException saying which factor is wrong
     */
    public static void requireFactors(double[] factors) {
        if (factors == null || factors.length == 0) {
            throw new InvalidArgumentException("factors", "give at least one logit scale factor, e.g. 0.5,1,2,3,5");
        }
        for (int i = 0; i < factors.length; i++) {
            if (!LogitScaling.isValidFactor(factors[i])) {
                throw new InvalidArgumentException("factors", "logit scale factors must each be " + LogitScaling.VALID
                        + ", got " + factors[i]);
            }
            for (int j = 0; j < i; j++) {
                if (factors[j] == factors[i]) {
                    throw new InvalidArgumentException("factors", "logit scale factor " + factors[i] + " is given twice");
                }
            }
        }
    }

    /** {@link #run(Input, double[], int, int, Consumer)} without a listener. */
    public Result run(Input input, double[] factors, int topK, int block) {
        return run(input, factors, topK, block, f -> { });
    }

    /**
     * Runs one forward per factor, in order.
     *
     * @param topK how many classes each factor records
     * @param block whose attention to keep, 0-based; negative for {@link #defaultBlock(int)}
     * @param onEach called after each factor (progress bars, live tables)
     */
    public Result run(Input input, double[] factors, int topK, int block, Consumer<FactorResult> onEach) {
        requireFactors(factors);
        if (topK < 1) {
            throw new InvalidArgumentException("topK", "top-k must be at least 1, got " + topK);
        }
        VisionTransformer model = classifier.model().model();
        int depth = model.config().depth();
        int b = block < 0 ? defaultBlock(depth) : block;
        if (b >= depth) {
            throw new InvalidArgumentException("block", "block " + b + " is out of range: " + classifier.model().name()
                    + " has " + depth + " blocks, numbered 0.." + (depth - 1));
        }
        List<FactorResult> results = new ArrayList<>(factors.length);
        for (double factor : factors) {
            FactorResult r = runOne(model, input, factor, topK, b);
            results.add(r);
            onEach.accept(r);
        }
        return new Result(input.source(), classifier.model().name(), b, List.copyOf(results));
    }

    private FactorResult runOne(VisionTransformer model, Input input, double factor, int topK, int block) {
        try (Probe probe = Probe.on(model); NDManager manager = NDManager.newBaseManager()) {
            if (factor != 1) {
                LogitScaling.install(probe, factor);
            }
            CallCapture calls = probe.captureCalls("blocks.*.attn");
            NDArray logits = classifier.logits(classifier.batch(manager, List.of(input)));   // (1, K)
            List<Prediction> top = classifier.top(logits, topK).get(0);
            float[] probabilities = logits.softmax(-1).toFloatArray();                        // (K)
            List<CallRecord> records = calls.all();                                           // one per block
            double[] entropy = new double[records.size()];
            for (int i = 0; i < entropy.length; i++) {
                entropy[i] = AttentionEntropy.mean(records.get(i).tensor("attn"));            // (1, N, T, T)
            }
            float[][][] attention = AttentionMaps.of(records.get(block).tensor("attn"));          // (N, T, T)
            return new FactorResult(factor, top, probabilities, entropy, attention);
        }
    }
}
