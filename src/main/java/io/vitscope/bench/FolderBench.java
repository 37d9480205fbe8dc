package io.vitscope.bench;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.engine.Engines;
import io.vitscope.engine.MklFastPath;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Inputs;
import io.vitscope.predict.PredictionRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Does predicting a folder run at the forward's speed (issue 15: at least 95% of it)? Three variants, interleaved in
 * rounds in one process so that the machine's drift spreads over all of them, each round on the next
 * {@code imagesPerRound} files of the folder (cycling):
 * <ul>
 *   <li><b>forward</b>: batches of inputs decoded beforehand — array creation, forward, softmax and top-5 only, the
 *       work the pipeline's calling thread does per batch;</li>
 *   <li><b>pipeline</b>: {@link PredictionRun} over the round's files — reading, decoding and preprocessing on its
 *       reader thread, overlapped with the forwards;</li>
 *   <li><b>decode</b>: the same files read and preprocessed alone on one thread — what a pipeline without overlap
 *       would add to every forward.</li>
 * </ul>
 * The figure is each round's ratio of forward to pipeline time per image (the pipeline's rate as a fraction of the
 * forward-only rate), its mean over rounds with a 95% confidence interval (Student's t over rounds), and the ratio a
 * serial pipeline would reach, forward / (forward + decode).
 */
public final class FolderBench {

    /** What a run measures; {@code batch} inputs per forward, {@code rounds} timed after {@code warmup}. */
    public record Options(Path folder, int batch, int imagesPerRound, int warmup, int rounds) {
        public Options {
            if (batch < 1) {
                throw new InvalidArgumentException("batch", "batch must be at least 1, got " + batch);
            }
            if (imagesPerRound < batch) {
                throw new InvalidArgumentException("imagesPerRound", "imagesPerRound must be at least the batch ("
                        + batch + "), got " + imagesPerRound);
            }
            if (warmup < 0) {
                throw new InvalidArgumentException("warmup", "warmup must be 0 or more, got " + warmup);
            }
            if (rounds < 2) {
                throw new InvalidArgumentException("rounds", "rounds must be at least 2 for a confidence interval, got "
                        + rounds);
            }
        }
    }

    /**
     * A run's figures; times in ms per image.
     *
     * @param ratio       per round, forward / pipeline time per image
     * @param ratioMean   the mean of {@code ratio}
     * @param ratioLow    its 95% confidence interval's lower end
     * @param ratioHigh   and upper end
     * @param serialRatio forward / (forward + decode), medians: what decoding in series with the forward would give
     */
    public record Report(String model, String weights, String cpu, int threads, String mkl, double loadBefore,
                         double loadAfter, String folder, int files, int batch, int imagesPerRound, int warmup,
                         int rounds, Bench.Stats forward, Bench.Stats pipeline, Bench.Stats decode, double[] ratio,
                         double ratioMean, double ratioLow, double ratioHigh, double serialRatio) {

        /** The whole report as pretty-printed JSON. */
        public String toJson() {
            return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(this);
        }
    }

    private final LoadedModel loaded;
    private final Options options;

    public FolderBench(LoadedModel loaded, Options options) {
        this.loaded = loaded;
        this.options = options;
    }

    /**
     * Runs every round; {@code progress} gets a line as each round starts.
     *
     * @throws InvalidInputException when the folder holds fewer readable images than one batch
     */
    public Report run(Consumer<String> progress) {
        double loadBefore = Bench.loadAverage();
        Classifier classifier = new Classifier(loaded);
        List<Path> files = Inputs.expand(List.of(options.folder()));
        List<Input> first = new ArrayList<>();
        for (int i = 0; i < files.size() && first.size() < options.batch(); i++) {
            try {
                first.addAll(classifier.read(files.get(i)));
            } catch (InvalidInputException e) {
                // an unusable file: the pipeline reports it; the forward variant takes the next one
            }
        }
        if (first.size() < options.batch()) {
            throw new InvalidInputException(options.folder(), "holds " + first.size() + " readable images, fewer than "
                    + "one batch of " + options.batch());
        }
        float[] packed = Classifier.pack(first.subList(0, options.batch()));
        int rounds = options.rounds();
        double[] forward = new double[rounds];
        double[] pipeline = new double[rounds];
        double[] decode = new double[rounds];
        double[] ratio = new double[rounds];
        int next = 0;
        for (int r = -options.warmup(); r < rounds; r++) {
            progress.accept(r < 0 ? "warm-up round " + (r + options.warmup() + 1) : "round " + (r + 1) + " of " + rounds);
            List<Path> chunk = new ArrayList<>(options.imagesPerRound());
            for (int i = 0; i < options.imagesPerRound(); i++) {
                chunk.add(files.get((next + i) % files.size()));
            }
            next = (next + options.imagesPerRound()) % files.size();
            double f = 0;
            double p = 0;
            double d = 0;
            // Rotate the order so that no variant always follows the same one (caches, the allocator, the reader's
            // files in the page cache: decode runs after the pipeline half of the time, before it the other half).
            for (int j = 0; j < 3; j++) {
                switch (Math.floorMod(j + r, 3)) {
                    case 0 -> f = forwardOnly(classifier, packed, options.imagesPerRound());
                    case 1 -> p = pipeline(classifier, chunk);
                    default -> d = decodeOnly(classifier, chunk);
                }
            }
            if (r >= 0) {
                forward[r] = f;
                pipeline[r] = p;
                decode[r] = d;
                ratio[r] = f / p;
            }
        }
        double mean = 0;
        for (double x : ratio) {
            mean += x / rounds;
        }
        double var = 0;
        for (double x : ratio) {
            var += (x - mean) * (x - mean) / (rounds - 1);
        }
        double half = studentT975(rounds - 1) * Math.sqrt(var / rounds);
        Bench.Stats fs = Bench.Stats.of(forward);
        Bench.Stats ds = Bench.Stats.of(decode);
        return new Report(loaded.name(), loaded.source(), Bench.cpuModel(), Engines.threads(), MklFastPath.status(),
                loadBefore, Bench.loadAverage(), options.folder().toString(), files.size(), options.batch(),
                options.imagesPerRound(), options.warmup(), rounds, fs, Bench.Stats.of(pipeline), ds, ratio, mean,
                mean - half, mean + half, fs.median() / (fs.median() + ds.median()));
    }

    /** ms per image of {@code images} inputs' forwards on one pre-decoded batch, as the pipeline runs them. */
    private double forwardOnly(Classifier classifier, float[] packed, int images) {
        int batch = options.batch();
        long t0 = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int done = 0; done < images; done += batch) {
                int n = Math.min(batch, images - done);
                try (NDManager scope = manager.newSubManager()) {
                    float[] x = n == batch ? packed : java.util.Arrays.copyOf(packed, packed.length / batch * n);
                    classifier.top(classifier.logits(classifier.batch(scope, x, n)), 5);
                }
            }
        }
        return (System.nanoTime() - t0) / 1e6 / images;
    }

    /** ms per image predicted through the whole pipeline. */
    private double pipeline(Classifier classifier, List<Path> files) {
        long t0 = System.nanoTime();
        // The weights stay as the caller left them (bench packs unless --no-pack): both variants run the same forward.
        PredictionRun.Summary s = PredictionRun.builder(classifier).setInputs(files).optBatch(options.batch())
                .optPackWeights(loaded.model().isPacked()).build().run(r -> { });
        return (System.nanoTime() - t0) / 1e6 / Math.max(1, s.predicted());
    }

    /** ms per image read and preprocessed on this thread alone. */
    private double decodeOnly(Classifier classifier, List<Path> files) {
        long t0 = System.nanoTime();
        int n = 0;
        for (Path f : files) {
            try {
                n += classifier.read(f).size();
            } catch (InvalidInputException e) {
                // counted as in the pipeline: time spent, no image
            }
        }
        return (System.nanoTime() - t0) / 1e6 / Math.max(1, n);
    }

    /** Student's t distribution's 97.5% quantile for {@code df} degrees of freedom (two-sided 95% interval). */
    static double studentT975(int df) {
        double[] table = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
            2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
            2.045, 2.042};
        return df <= table.length ? table[df - 1] : 1.96 + 2.4 / df; // within 0.002 of the exact quantile above 30
    }
}
