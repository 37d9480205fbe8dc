package io.vitscope.relevance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.InvalidArgumentException;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * Chefer, Gur &amp; Wolf's perturbation test (CVPR 2021, "Transformer Interpretability Beyond Attention Visualization",
 * §4; their {@code pertubation_eval_from_hdf5.py}), which scores a relevance method by what its map predicts.
 *
 * <p>Per image and method: the map of the image's top-1 class is upsampled bilinearly to the input size
 * ({@link Upsample}); for p = 0, 10, …, 90 %, the k = ⌊H·W·p/100⌋ pixels with the largest values (positive
 * perturbation) or the smallest (negative) are set to 0 in [0, 1] pixel space, in every channel, before normalisation —
 * so a perturbed pixel's model input is {@code (0 − mean) / std}, computed as the eval transform computes it. Ties go to
 * the lower row-major pixel index (Chefer's {@code topk} leaves them unspecified). Accuracy at p is the share of images
 * whose top-1 stays the unperturbed top-1 (1 at p = 0 by definition). The AUC is the trapezoid over p as a fraction,
 * × 100 (at most 90): a low positive AUC (removing the most relevant pixels first destroys the prediction fast) and a
 * high negative AUC are good.
 *
 * <p>Batching: a chunk of images shares one backward pass for every attention method's map, and all perturbed copies
 * (18 per image and method) go through the model in large batches without gradients.
 */
public final class Faithfulness {

    /** The perturbation steps in percent of the pixels. */
    public static final int[] PERCENTS = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    /** The methods of Chefer's table plus the attention baselines vitscope has. */
    public static final List<Method> DEFAULT_METHODS = List.of(Method.CHEFER, Method.GRAD_ROLLOUT, Method.ATTN_GRADCAM,
            Method.ROLLOUT, Method.MEAN, Method.RANDOM);
    private static final long GRADIENT_BUDGET_BYTES = 768L << 20;
    private static final long FORWARD_BUDGET_BYTES = 256L << 20;

    private Faithfulness() {}

    /**
     * @param methods which maps to score
     * @param seed seeds {@link Method#RANDOM}'s maps (image i's map depends on the seed and i only)
     */
    public record Options(List<Method> methods, long seed) {
        public Options {
            if (methods == null || methods.isEmpty()) {
                throw new InvalidArgumentException("methods", "methods: name at least one, from " + Method.names());
            }
            if (methods.stream().distinct().count() != methods.size()) {
                throw new InvalidArgumentException("methods", "methods: " + methods + " names a method twice");
            }
            methods = List.copyOf(methods);
        }

        public static Options defaults() {
            return new Options(DEFAULT_METHODS, 0);
        }
    }

    /**
     * Runs the test on {@code count} images.
     *
     * @param images image i's model input (C, H, W), normalised with {@code data}, flattened; called once per image
     * @param progress told the number of images done after each chunk; may be null
     */
    public static FaithfulnessResult run(VisionTransformer model, DataConfig data, int count, IntFunction<float[]> images,
                                         Options options, IntConsumer progress) {
        return run(model, data, modelName(model.config()), count, images, options, progress);
    }

    /** {@link #run(VisionTransformer, DataConfig, int, IntFunction, Options, IntConsumer)} on a loaded model. */
    public static FaithfulnessResult run(LoadedModel loaded, int count, IntFunction<float[]> images, Options options,
                                         IntConsumer progress) {
        return run(loaded.model(), loaded.dataConfig(), loaded.name(), count, images, options, progress);
    }

    private static FaithfulnessResult run(VisionTransformer model, DataConfig data, String name, int count,
                                          IntFunction<float[]> images, Options options, IntConsumer progress) {
        VitConfig c = model.config();
        if (count < 1) {
            throw new InvalidArgumentException("images", "images: the test needs at least one image, got none");
        }
        if (data.inChans() != c.inChans() || data.height() != c.imgHeight() || data.width() != c.imgWidth()) {
            throw new IllegalArgumentException("data config " + data + " does not describe the model's "
                    + c.inChans() + "x" + c.imgHeight() + "x" + c.imgWidth() + " input");
        }
        int per = c.inChans() * c.imgHeight() * c.imgWidth();
        long gradBytes = Relevance.activationBytes(c);
        int chunk = (int) Math.max(1, Math.min(64, GRADIENT_BUDGET_BYTES / gradBytes));
        int forwardBatch = (int) Math.max(PERCENTS.length * 2 - 2, Math.min(512, FORWARD_BUDGET_BYTES / (gradBytes / 3)));
        Counter counter = new Counter(model, data, options.methods(), forwardBatch);
        for (int from = 0; from < count; from += chunk) {
            int n = Math.min(chunk, count - from);
            float[] batch = new float[n * per];
            for (int i = 0; i < n; i++) {
                float[] x = images.apply(from + i);
                Relevance.requireImage(c, x);
                System.arraycopy(x, 0, batch, i * per, per);
            }
            Map<Method, List<float[]>> maps = maps(model, batch, n, from, options);
            counter.add(batch, n, maps);
            if (progress != null) {
                progress.accept(from + n);
            }
        }
        return counter.result(name);
    }

    /**
     * The curves for maps computed elsewhere, all scored against the images' unperturbed top-1.
     *
     * @param images (B, C, H, W) normalised, flattened
     * @param maps per method, B maps of (G_h · G_w)
     */
    public static FaithfulnessResult score(VisionTransformer model, DataConfig data, float[] images,
                                           Map<Method, List<float[]>> maps) {
        int n = maps.values().iterator().next().size();
        Counter counter = new Counter(model, data, new ArrayList<>(maps.keySet()), 256);
        counter.add(images, n, maps);
        return counter.result(modelName(model.config()));
    }

    private static String modelName(VitConfig c) {
        return c.depth() + "-block ViT, " + c.imgHeight() + "x" + c.imgWidth() + " input, patch " + c.patchSize();
    }

    /** Every requested map of a chunk, the attention methods from one capture. */
    private static Map<Method, List<float[]>> maps(VisionTransformer model, float[] batch, int n, long firstIndex,
                                                   Options options) {
        Map<Method, List<float[]>> out = new EnumMap<>(Method.class);
        int[] top1 = new int[n];
        java.util.Arrays.fill(top1, Relevance.TOP1);
        Gradients.Capture capture = null;
        for (Method m : options.methods()) {
            switch (m) {
                case RANDOM, INTEGRATED_GRADIENTS ->
                        out.put(m, Relevance.maps(m, model, batch, top1, options.seed(), firstIndex));
                default -> {
                    if (capture == null) {
                        capture = Gradients.of(model, batch, top1, true, false);
                    }
                    List<float[]> list = new ArrayList<>(n);
                    for (int b = 0; b < n; b++) {
                        Gradients.AttentionGradients g = capture.image(b);
                        list.add(switch (m) {
                            case CHEFER -> Rules.chefer(g);
                            case GRAD_ROLLOUT -> Rules.gradRollout(g, 0);
                            case ATTN_GRADCAM -> Rules.attnGradcam(g);
                            case ROLLOUT -> Rules.rollout(g.attention());
                            case MEAN -> Rules.mean(g.attention());
                            case CLS -> Rules.cls(g.attention());
                            default -> throw new AssertionError(m);
                        });
                    }
                    out.put(m, list);
                }
            }
        }
        return out;
    }

    /** Accumulates how many images keep their top-1 at each step. */
    private static final class Counter {
        private final VisionTransformer model;
        private final VitConfig c;
        private final List<Method> methods;
        private final int forwardBatch;
        private final float[] black;                   // (C) the normalised value of a 0 pixel
        private final Map<Method, long[]> positive = new EnumMap<>(Method.class);
        private final Map<Method, long[]> negative = new EnumMap<>(Method.class);
        private int images;

        Counter(VisionTransformer model, DataConfig data, List<Method> methods, int forwardBatch) {
            this.model = model;
            this.c = model.config();
            this.methods = methods;
            this.forwardBatch = forwardBatch;
            this.black = new float[c.inChans()];
            for (int ch = 0; ch < black.length; ch++) {
                // EvalTransform's arithmetic on a 0 pixel: (0 / 255f - (float) mean) / (float) std.
                black[ch] = (0f / 255f - (float) data.mean()[ch]) / (float) data.std()[ch];
            }
            for (Method m : methods) {
                positive.put(m, new long[PERCENTS.length]);
                negative.put(m, new long[PERCENTS.length]);
            }
        }

        void add(float[] batch, int n, Map<Method, List<float[]>> maps) {
            int per = c.inChans() * c.imgHeight() * c.imgWidth();
            int hw = c.imgHeight() * c.imgWidth();
            int[] top1 = top1(batch, n);
            Pending pending = new Pending(per);
            for (Method m : methods) {
                for (int b = 0; b < n; b++) {
                    float[] map = maps.get(m).get(b);
                    for (float v : map) {
                        if (!Float.isFinite(v)) {
                            throw new IllegalStateException(m + " map of image " + (images + b) + " holds " + v);
                        }
                    }
                    float[] up = Upsample.bilinear(map, c.gridHeight(), c.gridWidth(), c.imgHeight(), c.imgWidth());
                    for (int dir = 0; dir < 2; dir++) {
                        int[] order = order(up, dir == 0);
                        for (int s = 1; s < PERCENTS.length; s++) {
                            int k = (int) ((long) hw * PERCENTS[s] / 100);
                            float[] x = java.util.Arrays.copyOfRange(batch, b * per, (b + 1) * per);
                            for (int r = 0; r < k; r++) {
                                for (int ch = 0; ch < black.length; ch++) {
                                    x[ch * hw + order[r]] = black[ch];
                                }
                            }
                            long[] counts = dir == 0 ? positive.get(m) : negative.get(m);
                            pending.add(x, top1[b], counts, s);
                            if (pending.size == forwardBatch) {
                                pending.flush();
                            }
                        }
                    }
                    positive.get(m)[0]++;
                    negative.get(m)[0]++;
                }
            }
            pending.flush();
            images += n;
        }

        /** Pixel indices by value, largest first ({@code descending}) or smallest first; ties by lower index. */
        static int[] order(float[] v, boolean descending) {
            long[] keys = new long[v.length];
            for (int i = 0; i < v.length; i++) {
                float f = (descending ? -v[i] : v[i]) + 0f;     // + 0f: −0 and +0 are one value, as np.argsort sees them
                int bits = Float.floatToIntBits(f);
                bits ^= (bits >> 31) & 0x7fffffff;              // order-preserving as a signed int
                keys[i] = ((long) bits << 32) | i;
            }
            java.util.Arrays.sort(keys);
            int[] order = new int[v.length];
            for (int i = 0; i < v.length; i++) {
                order[i] = (int) keys[i];
            }
            return order;
        }

        private int[] top1(float[] batch, int n) {
            float[] logits = forward(batch, n);
            int k = c.numClasses();
            int[] out = new int[n];
            for (int b = 0; b < n; b++) {
                out[b] = Gradients.argMax(logits, b * k, k);
            }
            return out;
        }

        private float[] forward(float[] batch, int n) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = m.create(batch, new Shape(n, c.inChans(), c.imgHeight(), c.imgWidth())); // (B, C, H, W)
                return model.forward(x).toFloatArray();                                             // (B, K)
            }
        }

        /** Perturbed inputs waiting for a forward, and where each one's result is counted. */
        private final class Pending {
            final int per;
            final float[] data;
            final int[] expected;
            final long[][] counts;
            final int[] step;
            int size;

            Pending(int per) {
                this.per = per;
                this.data = new float[forwardBatch * per];
                this.expected = new int[forwardBatch];
                this.counts = new long[forwardBatch][];
                this.step = new int[forwardBatch];
            }

            void add(float[] x, int top1, long[] count, int s) {
                System.arraycopy(x, 0, data, size * per, per);
                expected[size] = top1;
                counts[size] = count;
                step[size] = s;
                size++;
            }

            void flush() {
                if (size == 0) {
                    return;
                }
                float[] logits = forward(size == forwardBatch ? data : java.util.Arrays.copyOf(data, size * per), size);
                int k = c.numClasses();
                for (int i = 0; i < size; i++) {
                    if (Gradients.argMax(logits, i * k, k) == expected[i]) {
                        counts[i][step[i]]++;
                    }
                }
                size = 0;
            }
        }

        FaithfulnessResult result(String model) {
            Map<Method, double[]> pos = new EnumMap<>(Method.class);
            Map<Method, double[]> neg = new EnumMap<>(Method.class);
            for (Method m : methods) {
                pos.put(m, share(positive.get(m)));
                neg.put(m, share(negative.get(m)));
            }
            return new FaithfulnessResult(model, images, methods, PERCENTS.clone(), pos, neg);
        }

        private double[] share(long[] counts) {
            double[] out = new double[counts.length];
            for (int i = 0; i < counts.length; i++) {
                out[i] = (double) counts[i] / images;
            }
            return out;
        }
    }
}
