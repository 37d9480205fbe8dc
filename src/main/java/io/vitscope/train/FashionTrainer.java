package io.vitscope.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains a {@link VisionTransformer} on Fashion-MNIST through DJL's training API: the model is the block of a DJL
 * {@link Model}, a {@link Trainer} with softmax cross-entropy and AdamW runs the steps, and a
 * {@link GradientCollector} records each forward for its backward. Everything random (initialisation, shuffling,
 * augmentation) comes from the seed, so a run with the same options and thread count repeats.
 */
public final class FashionTrainer {

    /** Hears about the run as it goes; every method is optional. */
    public interface Listener {
        default void epochStarted(int epoch, int epochs, int steps) {}

        default void stepDone(int step, float loss) {}

        default void epochEnded(EpochStats stats) {}

        /** A step whose loss or gradient was not finite was skipped (its update not applied); {@code loss} may be finite. */
        default void stepSkipped(int epoch, int step, float loss) {}

        Listener NONE = new Listener() {};
    }

    /**
     * One epoch's figures.
     *
     * @param trainLoss mean training loss over the epoch's (augmented) training batches, in nats: the cross-entropy,
     *     against the smoothed target when label smoothing is on (so it cannot reach 0)
     * @param trainTop1 fraction of those batches' images classified right while training
     * @param testTop1 top-1 on the test split after the epoch, or NaN when no test split was given
     * @param lr learning rate at the epoch's last step
     * @param seconds wall time of the epoch's training steps (evaluation excluded)
     * @param skippedSteps steps whose loss or gradient was not finite, so their update was not applied
     */
    public record EpochStats(int epoch, int epochs, double trainLoss, double trainTop1, double testTop1, double lr,
                             double seconds, int skippedSteps) {}

    /** The run's figures: one entry per epoch, the training wall time, and the final test evaluation (or null). */
    public record Result(List<EpochStats> epochs, double trainSeconds, Evaluation.Result test) {}

    /** Gradient-norm clipping threshold; ViT training is known to need it (Dosovitskiy et al. 2020 clip at 1). */
    static final double CLIP_NORM = 1.0;
    /** Steps with a non-finite loss or gradient tolerated before the run is declared diverged. */
    static final int MAX_SKIPPED = 20;

    private final DataConfig dataConfig;
    private final TrainOptions options;

    public FashionTrainer(DataConfig dataConfig, TrainOptions options) {
        this.dataConfig = dataConfig;
        this.options = options;
    }

    /**
     * Trains {@code vit} in place. Its parameters must be set already ({@link VisionTransformer#initializeRandom}
     * with the run's seed, or loaded weights to fine-tune).
     *
     * @param test evaluated after every epoch when not null (for the log only: nothing is selected on it)
     */
    public Result train(VisionTransformer vit, FashionMnist train, FashionMnist test, Listener listener) {
        if (!vit.isInitialized()) {
            throw new IllegalStateException("Set the model's parameters first (initializeRandom(seed) or load weights)");
        }
        FashionMnist data = train.head(options.limit());
        int n = data.size();
        int batch = Math.min(options.batchSize(), n);
        int steps = (n + batch - 1) / batch;  // the last batch of an epoch may be smaller
        int total = steps * options.epochs();
        int warmup = (int) Math.round(options.warmupEpochs() * steps);
        float lr = (float) options.lr();
        Tracker schedule = Tracker.warmUp()
                .setMainTracker(Tracker.cosine()
                        .setBaseValue(lr)
                        .optFinalValue((float) (lr * options.finalLrFraction()))
                        .setMaxUpdates(Math.max(1, total - warmup))
                        .build())
                .optWarmUpSteps(warmup)
                .build();
        Optimizer adamW = Optimizer.adamW()
                .optLearningRateTracker(schedule)
                .optWeightDecays((float) options.weightDecay())
                .build();
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(adamW)
                .optDevices(new Device[] {Device.cpu()});

        Batches batches = new Batches(dataConfig);
        Random rng = new Random(options.seed());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int hw = FashionMnist.SIZE * FashionMnist.SIZE;
        float[] x = new float[batch * hw];
        long[] y = new long[batch];
        List<EpochStats> history = new ArrayList<>();
        Evaluation.Result lastTest = null;
        long t0 = System.nanoTime();
        double trainSeconds = 0;

        // The Model only lends the block to DJL's Trainer: the parameters stay in the VisionTransformer's own
        // manager, so closing the Model and the Trainer leaves the trained model usable.
        Model model = Model.newInstance("vit_fashion_mnist");
        model.setBlock(vit);
        try (Trainer trainer = model.newTrainer(config)) {
            trainer.initialize(new Shape(batch, dataConfig.inChans(), dataConfig.height(), dataConfig.width()));
            requireTrainable(vit);
            List<Parameter> params = new ArrayList<>(vit.namedParameters().values());
            int step = 0;
            int skipped = 0;
            for (int epoch = 1; epoch <= options.epochs(); epoch++) {
                listener.epochStarted(epoch, options.epochs(), steps);
                shuffle(order, rng);
                long e0 = System.nanoTime();
                double lossSum = 0;
                int epochSkipped = 0;
                long counted = 0;
                long correct = 0;
                for (int s = 0; s < steps; s++) {
                    int from = s * batch;
                    int to = Math.min(n, from + batch);
                    int b = to - from;
                    batches.fill(x, data.images(), order, from, to, options.augment(), rng);
                    Batches.fillLabels(y, data.labels(), order, from, to);
                    float loss;
                    boolean applied;
                    // Every array of the step lives in this scope; autograd keeps what backward needs in libtorch.
                    try (NDManager scope = trainer.getManager().newSubManager()) {
                        NDArray images = scope.create(FloatBuffer.wrap(x, 0, b * hw),
                                new Shape(b, dataConfig.inChans(), dataConfig.height(), dataConfig.width())); // (B, 1, 28, 28)
                        NDArray labels = scope.create(java.util.Arrays.copyOf(y, b));                   // (B)
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDArray logits = trainer.forward(new NDList(images)).singletonOrThrow();  // (B, K)
                            NDArray l = options.labelSmoothing() > 0
                                    ? smoothedCrossEntropy(logits, labels, options.labelSmoothing())
                                    : trainer.getLoss().evaluate(new NDList(labels), new NDList(logits));
                            collector.backward(l);
                            loss = l.getFloat();
                            correct += logits.argMax(1).eq(labels).countNonzero().getLong();
                        }
                        List<NDArray> grads = new ArrayList<>();
                        for (Parameter p : params) {
                            NDArray g = p.getArray().getGradient();  // a handle on the parameter's .grad
                            g.attach(scope);
                            grads.add(g);
                        }
                        double norm = Float.isFinite(loss) ? gradientNorm(grads) : Double.NaN;
                        applied = Double.isFinite(norm);
                        if (applied) {
                            clip(grads, norm);
                            trainer.step();
                        } else {
                            zero(grads);  // skip the update: a non-finite gradient would poison every weight
                        }
                    }
                    // A finite loss with a non-finite gradient is skipped too, and counted and reported like the
                    // rest: left silent, it hid that the backward read freed memory (see Attention#scaleOf).
                    if (!applied) {
                        skipped++;
                        epochSkipped++;
                        if (skipped > MAX_SKIPPED) {
                            throw new IllegalStateException("Training diverged: " + skipped + " steps had a non-finite"
                                    + " loss or gradient, the last at epoch " + epoch + " step " + (s + 1)
                                    + ": lower the learning rate or raise the warm-up");
                        }
                        listener.stepSkipped(epoch, s + 1, loss);
                        step++;
                        continue;
                    }
                    lossSum += (double) loss * b;
                    counted += b;
                    step++;
                    listener.stepDone(step, loss);
                }
                double seconds = (System.nanoTime() - e0) / 1e9;
                trainSeconds += seconds;
                double testTop1 = Double.NaN;
                if (test != null) {
                    lastTest = Evaluation.run(vit, test, dataConfig, 500, null);
                    testTop1 = lastTest.top1();
                }
                EpochStats stats = new EpochStats(epoch, options.epochs(), lossSum / counted, (double) correct / counted,
                        testTop1, schedule.getNewValue(step), seconds, epochSkipped);
                history.add(stats);
                listener.epochEnded(stats);
            }
        } finally {
            model.close();
        }
        return new Result(history, trainSeconds, lastTest);
    }

    /**
     * timm's {@code LabelSmoothingCrossEntropy}, {@code (1 - ε) · NLL + ε · mean over classes of -log p}, averaged
     * over the batch, written as the cross-entropy with the smoothed target {@code (1 - ε) · onehot + ε / K}, with the
     * log-probabilities from a log-softmax (never a log of a softmax, which underflows).
     *
     * <p>The scalars only touch the target, which needs no gradient: DJL's {@code mul(Number)} on a tensor in the
     * autograd graph would leave the backward a scalar in memory the JVM may free first (see {@code Attention}).
     *
     * @param logits (B, K)
     * @param labels (B) int64 class indices
     */
    static NDArray smoothedCrossEntropy(NDArray logits, NDArray labels, double eps) {
        int k = (int) logits.getShape().get(1);
        NDArray target = labels.oneHot(k).muli((float) (1 - eps)).addi((float) (eps / k)); // (B, K), no gradient
        NDArray logp = logits.logSoftmax(1);                                               // (B, K)
        return logp.mul(target).sum(new int[] {1}).neg().mean();                           // ()
    }

    /** The global L2 norm of all gradients, as {@code torch.nn.utils.clip_grad_norm_} computes it. */
    private static double gradientNorm(List<NDArray> grads) {
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray n = g.square().sum()) {
                sq += n.getFloat();
            }
        }
        return Math.sqrt(sq);
    }

    /** Scales the gradients down to a global norm of {@link #CLIP_NORM} when larger, as timm's {@code --clip-grad 1}. */
    private static void clip(List<NDArray> grads, double norm) {
        if (norm > CLIP_NORM) {
            float f = (float) (CLIP_NORM / (norm + 1e-6));
            for (NDArray g : grads) {
                g.muli(f);
            }
        }
    }

    /** Sets the gradients to zero, NaN included (x - x and 0 · x would keep a NaN). */
    private static void zero(List<NDArray> grads) {
        for (NDArray g : grads) {
            g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
        }
    }

    /** Fisher–Yates with the run's generator, so that the order depends on the seed only. */
    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** After {@code Trainer.initialize}, every parameter must record gradients, or it would silently never learn. */
    static void requireTrainable(VisionTransformer vit) {
        List<String> frozen = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : vit.namedParameters().entrySet()) {
            if (!e.getValue().getArray().hasGradient()) {
                frozen.add(e.getKey());
            }
        }
        if (!frozen.isEmpty()) {
            throw new IllegalStateException("These parameters do not require gradients after Trainer.initialize: "
                    + frozen);
        }
    }
}
