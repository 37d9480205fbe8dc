package io.vitscope.predict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.image.EvalTransform;
import io.vitscope.image.ImageReader;
import io.vitscope.image.DataConfig;
import io.vitscope.checkpoint.LoadedModel;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The predict pipeline: files → timm's eval transform → the model → softmax → top-k. Probes started on the calling
 * thread see its forwards, as they see any forward.
 */
public final class Classifier {

    private final LoadedModel loaded;
    private final EvalTransform transform;
    private final ImageReader reader;

    public Classifier(LoadedModel loaded) {
        this(loaded, ImageReader.defaults());
    }

    public Classifier(LoadedModel loaded, ImageReader reader) {
        this.loaded = loaded;
        this.transform = new EvalTransform(loaded.dataConfig());
        this.reader = reader;
    }

    public LoadedModel model() {
        return loaded;
    }

    public EvalTransform transform() {
        return transform;
    }

    public ImageReader reader() {
        return reader;
    }

    /** The model inputs in a file (one for an image, N for an {@code [N, C, H, W]} tensor). */
    public List<Input> read(Path file) {
        return Inputs.read(file, transform, reader);
    }

    /** Stacks inputs into a batch. // (B, C, H, W) */
    public NDArray batch(NDManager manager, List<Input> inputs) {
        return batch(manager, pack(inputs), inputs.size());
    }

    /** A batch of {@code n} inputs packed by {@link #pack}. // (B, C, H, W) */
    public NDArray batch(NDManager manager, float[] packed, int n) {
        DataConfig c = loaded.dataConfig();
        return manager.create(FloatBuffer.wrap(packed), new Shape(n, c.inChans(), c.height(), c.width()));
    }

    /** The inputs' tensors back to back, (B, C, H, W) in C order: a batch's values before it becomes an array. */
    public static float[] pack(List<Input> inputs) {
        int per = inputs.isEmpty() ? 0 : inputs.get(0).tensor().length;
        float[] out = new float[per * inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            float[] t = inputs.get(i).tensor();
            if (t.length != per) {
                throw new IllegalArgumentException("inputs of different sizes cannot share a batch: " + per + " and "
                        + t.length + " values (" + inputs.get(i).source() + ")");
            }
            System.arraycopy(t, 0, out, i * per, per);
        }
        return out;
    }

    /** Logits for a batch. (B, C, H, W) → (B, K) */
    public NDArray logits(NDArray batch) {
        return loaded.model().forward(batch);
    }

    /**
     * The k most probable classes of each row of {@code logits} (B, K), best first.
     *
     * @throws NonFiniteLogitsException when a row's logits are NaN or infinite ({@link #rank} reports it per row)
     */
    public List<List<Prediction>> top(NDArray logits, int k) {
        List<List<Prediction>> out = new ArrayList<>();
        for (Ranking r : rank(logits, k)) {
            if (!r.finite()) {
                throw new NonFiniteLogitsException(null);
            }
            out.add(r.top());
        }
        return out;
    }

    /**
     * One row's top-k, or, when its logits are not all finite, no ranking ({@code finite() == false}, {@code top()}
     * empty): NaN probabilities have no order.
     */
    public record Ranking(List<Prediction> top, boolean finite) {
        public Ranking {
            top = List.copyOf(top);
        }
    }

    /** {@link #top} for each row of {@code logits} (B, K) separately, so that one row's overflow spares the others. */
    public List<Ranking> rank(NDArray logits, int k) {
        int classes = (int) logits.getShape().get(1);
        int kk = Math.min(k, classes);
        float[] raw = logits.toFloatArray();                                   // (B, K)
        float[] probs = logits.softmax(-1).toFloatArray();                     // (B, K)
        List<Ranking> out = new ArrayList<>();
        for (int b = 0; b < logits.getShape().get(0); b++) {
            boolean finite = true;
            for (int i = b * classes; i < (b + 1) * classes; i++) {
                finite &= Float.isFinite(raw[i]) && Float.isFinite(probs[i]);
            }
            out.add(finite ? new Ranking(topOf(probs, b * classes, classes, kk), true) : new Ranking(List.of(), false));
        }
        return out;
    }

    private List<Prediction> topOf(float[] probs, int offset, int classes, int k) {
        Integer[] idx = new Integer[classes];
        for (int i = 0; i < classes; i++) {
            idx[i] = i;
        }
        // Stable: ties keep index order, as torch.topk on CPU does for equal values in practice.
        java.util.Arrays.sort(idx, (a, b) -> Float.compare(probs[offset + b], probs[offset + a]));
        List<Prediction> top = new ArrayList<>(k);
        for (int r = 0; r < k; r++) {
            int i = idx[r];
            top.add(new Prediction(r + 1, i, loaded.labels().get(i), probs[offset + i]));
        }
        return top;
    }

    /** The top-k of one image file (the first image of a batch tensor). */
    public List<Prediction> predict(Path file, int k) {
        return predict(read(file).get(0), k);
    }

    /** The top-k of one input, in one call: batch of one, forward, softmax, top-k; its arrays freed on return. */
    public List<Prediction> predict(Input input, int k) {
        try (NDManager m = NDManager.newBaseManager()) {
            return top(logits(batch(m, List.of(input))), k).get(0);
        }
    }
}
