package io.vitscope.dataset;

import io.vitscope.InvalidArgumentException;
import io.vitscope.experiment.ScalingExperiment;
import java.io.Serializable;
import java.util.Arrays;

/**
 * What {@link DatasetRows#score} computes per image.
 *
 * @param factors attention logit scales, one row per image and factor (1 = the model as is)
 * @param topK classes kept per row (fewer when the model has fewer)
 * @param batch images per forward
 * @param attentionBlocks blocks whose class-token attention rows are kept (0-based); empty for none
 */
public record ScoreOptions(double[] factors, int topK, int batch, int[] attentionBlocks) implements Serializable {

    public ScoreOptions {
        ScalingExperiment.requireFactors(factors);
        if (topK < 1) {
            throw new InvalidArgumentException("topK", "top-k must be at least 1, got " + topK);
        }
        if (batch < 1) {
            throw new InvalidArgumentException("batch", "batch must be at least 1 image, got " + batch);
        }
        attentionBlocks = attentionBlocks == null ? new int[0] : attentionBlocks.clone();
        for (int b : attentionBlocks) {
            if (b < 0) {
                throw new InvalidArgumentException("attentionBlocks", "attention blocks are numbered from 0, got " + b);
            }
        }
        factors = factors.clone();
    }

    /** One pass of the unchanged model, top 5, batches of 8. */
    public static ScoreOptions defaults() {
        return new ScoreOptions(new double[] {1}, 5, 8, new int[0]);
    }

    @Override
    public String toString() {
        return "ScoreOptions[factors=" + Arrays.toString(factors) + ", topK=" + topK + ", batch=" + batch
                + ", attentionBlocks=" + Arrays.toString(attentionBlocks) + "]";
    }
}
