package io.vitscope.train;

import io.vitscope.InvalidArgumentException;

/**
 * How {@link FashionTrainer} trains: AdamW (Loshchilov and Hutter 2019) with a linear warm-up to {@code lr} and a
 * cosine decay to {@code lr × finalLrFraction}, the recipe of DeiT and timm's {@code train.py} at a small scale.
 *
 * @param epochs passes over the training set
 * @param batchSize images per step
 * @param seed seeds the parameter initialisation, the shuffling and the augmentation
 * @param lr peak learning rate
 * @param weightDecay AdamW's decoupled weight decay
 * @param warmupEpochs epochs of linear warm-up from 0 (may be fractional)
 * @param finalLrFraction the cosine schedule's last value as a fraction of {@code lr}
 * @param limit train on the first {@code limit} images only (0: all)
 * @param augment augmentation of the training images
 * @param labelSmoothing ε of label smoothing (Szegedy et al. 2016; timm's {@code --smoothing}): the target puts
 *     {@code 1 - ε + ε/K} on the true class and {@code ε/K} on each other class; 0 is plain cross-entropy
 */
public record TrainOptions(int epochs, int batchSize, long seed, double lr, double weightDecay, double warmupEpochs,
                           double finalLrFraction, int limit, Batches.Augment augment, double labelSmoothing) {

    public static final TrainOptions DEFAULTS =
            new TrainOptions(12, 128, 0, 1e-3, 0.05, 1.0, 0.01, 0, new Batches.Augment(true, 0), 0.1);

    public TrainOptions {
        check(epochs > 0, "epochs must be positive, got " + epochs);
        check(batchSize > 0 && batchSize <= 4096, "batch size must be 1–4096, got " + batchSize);
        check(lr > 0 && Double.isFinite(lr), "learning rate must be positive, got " + lr);
        check(weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be ≥ 0, got " + weightDecay);
        check(warmupEpochs >= 0 && warmupEpochs <= epochs, "warm-up must be 0–epochs, got " + warmupEpochs);
        check(finalLrFraction >= 0 && finalLrFraction <= 1, "final lr fraction must be in [0, 1], got " + finalLrFraction);
        check(limit >= 0, "limit must be ≥ 0, got " + limit);
        check(augment != null, "augment is required (Augment.NONE for none)");
        check(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1), got " + labelSmoothing);
    }

    /** Without label smoothing. */
    public TrainOptions(int epochs, int batchSize, long seed, double lr, double weightDecay, double warmupEpochs,
                        double finalLrFraction, int limit, Batches.Augment augment) {
        this(epochs, batchSize, seed, lr, weightDecay, warmupEpochs, finalLrFraction, limit, augment, 0.0);
    }

    public TrainOptions withEpochs(int n) {
        return new TrainOptions(n, batchSize, seed, lr, weightDecay, Math.min(warmupEpochs, n), finalLrFraction, limit,
                augment, labelSmoothing);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new InvalidArgumentException("Invalid training options: " + message);
        }
    }
}
