package io.vitscope.dataset;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.vitscope.VitscopeException;
import io.vitscope.analysis.AttentionEntropy;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.predict.Prediction;
import io.vitscope.hub.Sha256;
import io.vitscope.model.Attention;
import io.vitscope.probe.Probe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The per-image work of a dataset run, as a plain function: files in, one {@link DatasetRow} per image and factor
 * out, in input order (all factors of the first image, then the next). A Spark task, the single-JVM reference in
 * the tests and a server all call this; nothing here knows about Spark.
 *
 * <pre>{@code
 * List<DatasetRow> rows = DatasetRows.score(new Classifier(model), images,
 *         new ScoreOptions(new double[] {1, 3}, 5, 8, new int[0]));
 * }</pre>
 *
 * <p>A file that cannot be decoded gives rows with {@link DatasetRow#error()} set; it never throws. Probes are
 * started on the calling thread, so concurrent callers sharing one model (two Spark tasks in one executor) never see
 * each other's scaling or captures. Every native array is freed before this returns.
 *
 * <p>Abbreviations: B batch, K classes, L blocks, N heads, T tokens.
 */
public final class DatasetRows {

    private DatasetRows() {}

    /** Scores {@code images} under every factor of {@code options}. */
    public static List<DatasetRow> score(Classifier classifier, List<DatasetImage> images, ScoreOptions options) {
        int depth = classifier.model().config().depth();
        for (int b : options.attentionBlocks()) {
            if (b >= depth) {
                throw new InvalidArgumentException("attentionBlocks", "attention block " + b + " is out of range: "
                        + classifier.model().name() + " has " + depth + " blocks, numbered 0.." + (depth - 1));
            }
        }
        int n = images.size();
        String[] sha = new String[n];
        String[] error = new String[n];
        List<Input> inputs = new ArrayList<>();
        List<Integer> inputImage = new ArrayList<>();            // which image each input came from
        for (int i = 0; i < n; i++) {
            DatasetImage im = images.get(i);
            if (im.content() == null) {
                error[i] = im.readError();
                continue;
            }
            sha[i] = Sha256.of(im.content());
            try {
                float[] x = classifier.transform().apply(classifier.reader().read(im.content(), im.path()));
                inputs.add(new Input(im.path(), x));
                inputImage.add(i);
            } catch (VitscopeException e) {
                error[i] = e.getMessage();
            } catch (RuntimeException e) {  // a decoder bug on a hostile file must not end the job
                error[i] = im.path() + ": cannot decode the image (" + e.getClass().getSimpleName() + ": "
                        + e.getMessage() + ")";
            }
        }
        double[] factors = options.factors();
        DatasetRow[][] rows = new DatasetRow[n][factors.length];
        for (int f = 0; f < factors.length; f++) {
            for (int from = 0; from < inputs.size(); from += options.batch()) {
                int to = Math.min(inputs.size(), from + options.batch());
                List<DatasetRow> scored = scoreBatch(classifier, inputs.subList(from, to), factors[f], options);
                for (int j = from; j < to; j++) {
                    int i = inputImage.get(j);
                    DatasetRow r = scored.get(j - from);
                    rows[i][f] = new DatasetRow(r.path(), sha[i], r.factor(), r.topIndex(), r.topLabel(), r.topProb(),
                            images.get(i).label(), r.entropy(), r.attention(), null);
                }
            }
        }
        List<DatasetRow> out = new ArrayList<>(n * factors.length);
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < factors.length; f++) {
                DatasetImage im = images.get(i);
                out.add(rows[i][f] != null ? rows[i][f]
                        : new DatasetRow(im.path(), sha[i], factors[f], null, null, null, im.label(), null, null,
                                error[i]));
            }
        }
        return out;
    }

    /** What one attention layer's breakpoint saw, for every image of the batch. */
    private record BlockHit(int block, double[][] entropy, float[][][] clsRows) {}   // (B, N), (B, N, T) or null

    /** One forward of a batch under one factor; rows without sha256 and label, filled in by the caller. */
    private static List<DatasetRow> scoreBatch(Classifier classifier, List<Input> batch, double factor,
                                               ScoreOptions options) {
        int[] keep = options.attentionBlocks();
        try (NDManager manager = NDManager.newBaseManager(); Probe probe = Probe.on(classifier.model().model())) {
            if (factor != 1) {
                LogitScaling.install(probe, factor);
            }
            List<BlockHit> hits = probe.breakpoint(Attention.POST_SOFTMAX).eval(hit -> {
                int block = blockIndex(hit.path());
                NDArray attn = hit.get("attn");                                        // (B, N, T, T)
                float[][][] cls = null;
                if (Arrays.stream(keep).anyMatch(k -> k == block)) {
                    try (NDArray row = attn.get(new NDIndex().addAllDim().addAllDim().addIndices(0))) { // (B, N, T)
                        cls = split(row.toFloatArray(), (int) row.getShape().get(0), (int) row.getShape().get(1));
                    }
                }
                return new BlockHit(block, AttentionEntropy.perHead(attn), cls);
            });
            NDArray logits = classifier.logits(classifier.batch(manager, batch));     // (B, K)
            List<List<Prediction>> tops = classifier.top(logits, options.topK());
            int depth = classifier.model().config().depth();
            List<DatasetRow> out = new ArrayList<>(batch.size());
            for (int b = 0; b < batch.size(); b++) {
                float[][] entropy = new float[depth][];                                // (L, N)
                List<float[][]> attention = new ArrayList<>(keep.length);
                for (int k : keep) {
                    attention.add(null);
                }
                for (BlockHit h : hits) {
                    entropy[h.block()] = toFloats(h.entropy()[b]);
                    for (int k = 0; k < keep.length; k++) {
                        if (keep[k] == h.block()) {
                            attention.set(k, h.clsRows()[b]);
                        }
                    }
                }
                List<Prediction> top = tops.get(b);
                out.add(new DatasetRow(batch.get(b).source(), null, factor,
                        top.stream().mapToInt(Prediction::index).toArray(),
                        top.stream().map(Prediction::label).toArray(String[]::new),
                        toFloats(top), null, entropy, List.copyOf(attention), null));
            }
            return out;
        }
    }

    /** {@code blocks.4.attn} → 4. */
    private static int blockIndex(String path) {
        String[] parts = path.split("\\.");
        if (parts.length != 3 || !parts[0].equals("blocks")) {
            throw new IllegalStateException("an attention layer outside blocks.<i>.attn: " + path);
        }
        return Integer.parseInt(parts[1]);
    }

    private static float[][][] split(float[] flat, int b, int n) {                   // (B·N·T) → (B, N, T)
        int t = flat.length / (b * n);
        float[][][] out = new float[b][n][];
        for (int i = 0; i < b; i++) {
            for (int h = 0; h < n; h++) {
                out[i][h] = Arrays.copyOfRange(flat, (i * n + h) * t, (i * n + h + 1) * t);
            }
        }
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    private static float[] toFloats(List<Prediction> top) {
        float[] out = new float[top.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = top.get(i).probability();
        }
        return out;
    }
}
