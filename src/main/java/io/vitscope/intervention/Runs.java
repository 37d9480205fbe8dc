package io.vitscope.intervention;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import io.vitscope.VitscopeException;
import io.vitscope.predict.Input;
import io.vitscope.model.Block;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import io.vitscope.files.Outputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** What every analysis here shares: argument checks, batching, reading rows back, writing results. */
final class Runs {

    private Runs() {}

    /** Module path → block index, for blocks ({@code blocks.3}) and their attention ({@code blocks.3.attn}). */
    static Map<String, Integer> blockOfPath(VisionTransformer model) {
        Map<String, Integer> out = new HashMap<>();
        List<Block> blocks = model.blocks();
        for (int i = 0; i < blocks.size(); i++) {
            out.put(blocks.get(i).path(), i);
            out.put(blocks.get(i).attn().path(), i);
        }
        return out;
    }

    /** One image as the model takes it, (1, C, H, W), from (C, H, W) or (1, C, H, W); fails naming {@code what}. */
    static NDArray image(LoadedModel model, NDArray image, String what) {
        if (image == null) {
            throw new InvalidArgumentException(what + " is missing");
        }
        VitConfig c = model.config();
        Shape s = image.getShape();
        Shape want = new Shape(1, c.inChans(), c.imgHeight(), c.imgWidth());
        NDArray x = s.dimension() == 3 ? image.expandDims(0) : image;
        if (!x.getShape().equals(want) || image.getDataType() != DataType.FLOAT32) {
            throw new InvalidArgumentException(what + " must be one preprocessed float32 image of shape " + want
                    + " or (" + c.inChans() + ", " + c.imgHeight() + ", " + c.imgWidth() + "), got "
                    + image.getDataType() + " " + s);
        }
        return x;
    }

    /** An {@link Input} as a (1, C, H, W) tensor in {@code manager}. */
    static NDArray image(LoadedModel model, Input input, NDManager manager) {
        VitConfig c = model.config();
        return manager.create(input.tensor(), new Shape(1, c.inChans(), c.imgHeight(), c.imgWidth()));
    }

    /** The image repeated {@code n} times along the batch axis: (n, C, H, W). */
    static NDArray repeat(NDArray image, int n) {
        return image.repeat(0, n);                                             // (n, C, H, W)
    }

    /** One run's class-0 logits (K) and mean attention entropy per block (L). */
    record Observed(float[] logits, double[] entropy) {}

    /**
     * One forward of a single image with a probe: {@code setup} adds its breakpoints, an {@link EntropyMeter}
     * records the attention entropy; with a setup that only reads, the result is the unprobed forward's.
     */
    static Observed observe(VisionTransformer vit, NDArray x, Consumer<Probe> setup) {
        try (NDManager scope = x.getManager().newSubManager(); Probe probe = Probe.on(vit)) {
            setup.accept(probe);
            EntropyMeter meter = EntropyMeter.install(probe, vit);
            // Every token, whatever the probe watches: the clean and probed runs then differ only by what it changes.
            NDArray logits = vit.forwardEveryToken(x);                         // (1, K)
            logits.attach(scope);
            return new Observed(rows(logits)[0], meter.element(0));
        }
    }

    /** log softmax in double precision. */
    static double[] logSoftmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] - lse;
        }
        return out;
    }

    static void requireBatch(int batch) {
        if (batch < 1) {
            throw new InvalidArgumentException("batch must be at least 1, got " + batch);
        }
    }

    /** A class index in [0, K); -1 means "choose for me" and is returned as is. */
    static int requireClass(int c, LoadedModel model, String parameter, boolean allowAuto) {
        int k = model.config().numClasses();
        if ((allowAuto && c == -1) || (c >= 0 && c < k)) {
            return c;
        }
        throw new InvalidArgumentException(parameter + " " + c + " is out of range: " + model.name() + " has " + k
                + " classes, numbered 0.." + (k - 1));
    }

    /** Logits (B, K) as rows. */
    static float[][] rows(NDArray logits) {
        int b = (int) logits.getShape().get(0);
        int k = (int) logits.getShape().get(1);
        float[] flat = logits.toFloatArray();
        float[][] out = new float[b][k];
        for (int i = 0; i < b; i++) {
            System.arraycopy(flat, i * k, out[i], 0, k);
        }
        return out;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static void writeNpy(Path file, float[][] a) {
        int r = a.length;
        int c = r == 0 ? 0 : a[0].length;
        float[] flat = new float[r * c];
        for (int i = 0; i < r; i++) {
            System.arraycopy(a[i], 0, flat, i * c, c);
        }
        writeNpy(file, new long[] {r, c}, flat);
    }

    static void writeNpy(Path file, long[] shape, float[] flat) {
        try {
            Npy.write(file, shape, flat);
        } catch (IOException e) {
            throw cannotWrite(file, e);
        }
    }

    static void writeJson(Path file, Object value) {
        String json = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
                .toJson(value);
        Outputs.writeString(file, "file", json + "\n");
    }

    private static VitscopeException cannotWrite(Path file, IOException e) {
        return new VitscopeException("cannot write " + file + " (" + e.getMessage() + "); choose a folder you can "
                + "write to", e);
    }

    static float[] flatten(float[][] a) {
        int c = a.length == 0 ? 0 : a[0].length;
        float[] flat = new float[a.length * c];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, flat, i * c, c);
        }
        return flat;
    }

    static float[][] copy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }
}
