package io.vitscope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.checkpoint.StateDicts;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The golden files under {@code src/test/resources/golden}, written by PyTorch through
 * {@code scripts/make_goldens.py} (see the README there for every file's shape and meaning).
 */
public final class Golden {

    private Golden() {}

    public static Path dir(String name) {
        try {
            return Paths.get(Golden.class.getResource("/golden/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("golden folder " + name + " is missing: run scripts/make_goldens.py", e);
        }
    }

    /** The tiny golden model as a timm hub folder ({@code config.json} with model_args, {@code model.safetensors}). */
    public static final String TINY_TIMM_HUB_CONFIG = """
            {"architecture": "vit_golden_tiny", "num_classes": 10,
             "model_args": {"img_size": [32, 32], "patch_size": 8, "in_chans": 3, "embed_dim": 32, "depth": 3,
                            "num_heads": 4, "mlp_ratio": 2.0, "qkv_bias": true, "layer_norm_eps": 1e-6},
             "pretrained_cfg": {"input_size": [3, 32, 32], "mean": [0.485, 0.456, 0.406],
                                "std": [0.229, 0.224, 0.225], "crop_pct": 0.875, "interpolation": "bicubic"},
             "label_names": ["aardvark", "bicycle", "cumulus", "dulcimer", "espresso", "fjord", "gazebo",
                             "harmonica", "iguana", "jackfruit"]}
            """;

    /** Writes the tiny golden model as a timm hub folder {@code dir} (created): the goldens' own model, eps 1e-6. */
    public static Path tinyTimmHubFolder(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), TINY_TIMM_HUB_CONFIG);
            Files.copy(file("tiny/timm.safetensors"), dir.resolve("model.safetensors"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path file(String name) {
        return dir(name);
    }

    public static NpyArray npy(String name) {
        return Npy.read(file(name));
    }

    /** The architecture in a golden folder's config.json (img_size [h, w], patch_size, …). */
    public static VitConfig config(String folder) {
        try {
            JsonObject c = JsonParser.parseString(Files.readString(dir(folder).resolve("config.json"))).getAsJsonObject();
            var size = c.getAsJsonArray("img_size");
            return new VitConfig(size.get(0).getAsInt(), size.get(1).getAsInt(), c.get("patch_size").getAsInt(),
                    c.get("in_chans").getAsInt(), c.get("num_classes").getAsInt(), c.get("embed_dim").getAsInt(),
                    c.get("depth").getAsInt(), c.get("num_heads").getAsInt(), c.get("mlp_ratio").getAsDouble(),
                    c.get("qkv_bias").getAsBoolean(), c.get("layer_norm_eps").getAsDouble());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The golden model of a folder with the weights of {@code file} (timm layout). */
    public static VisionTransformer model(String folder, String file) {
        VisionTransformer m = new VisionTransformer(config(folder));
        Path p = dir(folder).resolve(file);
        try (Safetensors st = Safetensors.open(p)) {
            StateDicts.load(m, st.sources(), p, folder);
        }
        return m;
    }

    public static VisionTransformer model(String folder) {
        return model(folder, "timm.safetensors");
    }

    /**
     * The golden model of a folder in float64: the float32 weights widened exactly, so that its results differ from
     * the golden {@code _f64.npy} values only by float64 rounding (see {@link Bound#FLOAT64_SCALE}).
     */
    public static VisionTransformer model64(String folder) {
        VisionTransformer m = new VisionTransformer(config(folder));
        Path p = dir(folder).resolve("timm.safetensors");
        try (Safetensors st = Safetensors.open(p)) {
            Map<String, TensorSource> wide = new LinkedHashMap<>();
            st.sources().forEach((name, src) -> wide.put(name, new TensorSource() {
                @Override
                public String name() {
                    return src.name();
                }

                @Override
                public long[] shape() {
                    return src.shape();
                }

                @Override
                public Path file() {
                    return src.file();
                }

                @Override
                public void readInto(java.nio.ByteBuffer dst) {
                    src.readInto(dst);
                }

                @Override
                public NDArray toNDArray(ai.djl.ndarray.NDManager manager) {
                    try (NDArray narrow = src.toNDArray(manager)) {
                        return narrow.toType(DataType.FLOAT64, true);
                    }
                }
            }));
            StateDicts.load(m, wide, p, folder + " (float64)");
        }
        return m;
    }

    /** A golden float32 input as a float64 array of {@code manager} (exactly: float64 holds every float32). */
    public static NDArray input64(String file, ai.djl.ndarray.NDManager manager) {
        try (NDArray narrow = npy(file).toNDArray(manager)) {
            return narrow.toType(DataType.FLOAT64, true);
        }
    }

    /** Largest absolute difference between a tensor and a golden array of the same shape. */
    public static double maxAbsDiff(NDArray actual, NpyArray expected) {
        assertArrayEquals(expected.shape(), actual.getShape().getShape(), "shape");
        float[] a = actual.toFloatArray();
        float[] e = expected.floats();
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }

    /** Largest absolute difference between two arrays, which must have the same length (checked first). */
    public static double maxAbsDiff(float[] a, float[] e) {
        org.junit.jupiter.api.Assertions.assertEquals(e.length, a.length, "length of the result vs the reference");
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }
}
