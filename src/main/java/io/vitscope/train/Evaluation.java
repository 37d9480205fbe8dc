package io.vitscope.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import java.nio.FloatBuffer;
import java.util.function.IntConsumer;

/** Top-1, top-5 and per-class accuracy of a model on a Fashion-MNIST split, through the inference forward. */
public final class Evaluation {

    /**
     * @param confusion {@code confusion[label][predicted]} counts
     */
    public record Result(int n, int top1Correct, int top5Correct, int[][] confusion) {

        public double top1() {
            return (double) top1Correct / n;
        }

        public double top5() {
            return (double) top5Correct / n;
        }

        public int classCount(int label) {
            int s = 0;
            for (int c : confusion[label]) {
                s += c;
            }
            return s;
        }

        /** The fraction of images of that class classified right (NaN if it has none). */
        public double classAccuracy(int label) {
            int total = classCount(label);
            return total == 0 ? Double.NaN : (double) confusion[label][label] / total;
        }

        /** The class most often predicted for images of {@code label}, other than {@code label} itself (-1: none). */
        public int mostConfusedWith(int label) {
            int best = -1;
            for (int p = 0; p < confusion[label].length; p++) {
                if (p != label && confusion[label][p] > 0 && (best < 0 || confusion[label][p] > confusion[label][best])) {
                    best = p;
                }
            }
            return best;
        }
    }

    private Evaluation() {}

    /**
     * Classifies every image of {@code data}, {@code batch} at a time, with no augmentation.
     *
     * @param progress told the number of images done after each batch; may be null
     */
    public static Result run(VisionTransformer model, FashionMnist data, DataConfig dataConfig, int batch,
                             IntConsumer progress) {
        int n = data.size();
        int k = model.config().numClasses();
        int hw = FashionMnist.SIZE * FashionMnist.SIZE;
        Batches batches = new Batches(dataConfig);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        float[] x = new float[Math.min(batch, n) * hw];
        int[][] confusion = new int[k][k];
        int top1 = 0;
        int top5 = 0;
        try (NDManager manager = model.manager().newSubManager()) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                int b = to - from;
                batches.fill(x, data.images(), order, from, to, Batches.Augment.NONE, null);
                float[] logits;
                try (NDManager scope = manager.newSubManager()) {
                    NDArray images = scope.create(FloatBuffer.wrap(x, 0, b * hw), new Shape(b, 1,
                            FashionMnist.SIZE, FashionMnist.SIZE));                         // (B, 1, 28, 28)
                    logits = model.forward(images).toFloatArray();                      // (B, K)
                }
                for (int i = 0; i < b; i++) {
                    int label = data.label(from + i);
                    int rank = rankOf(logits, i * k, k, label);
                    int predicted = argMax(logits, i * k, k);
                    confusion[label][predicted]++;
                    top1 += predicted == label ? 1 : 0;
                    top5 += rank < 5 ? 1 : 0;
                }
                if (progress != null) {
                    progress.accept(to);
                }
            }
        }
        return new Result(n, top1, top5, confusion);
    }

    /** How many classes score strictly higher than {@code label} (ties count in the label's favour). */
    private static int rankOf(float[] logits, int off, int k, int label) {
        float mine = logits[off + label];
        int rank = 0;
        for (int c = 0; c < k; c++) {
            if (logits[off + c] > mine) {
                rank++;
            }
        }
        return rank;
    }

    private static int argMax(float[] logits, int off, int k) {
        int best = 0;
        for (int c = 1; c < k; c++) {
            if (logits[off + c] > logits[off + best]) {
                best = c;
            }
        }
        return best;
    }
}
