package io.vitscope.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.vitscope.model.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.weights.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a trained model as a directory the way timm's hub repositories hold one: {@code model.safetensors}
 * (F32 tensors under timm's parameter names) and {@code config.json} ({@code architecture}, {@code model_args},
 * {@code pretrained_cfg}), plus vitscope's {@code label_names} and {@code training} record.
 */
public final class ModelDir {

    public static final String WEIGHTS = "model.safetensors";
    public static final String CONFIG = "config.json";

    private ModelDir() {}

    /** Whether {@code dir} already holds a model (its weights or its config), which a write would replace. */
    public static boolean holdsModel(Path dir) {
        return Files.exists(dir.resolve(WEIGHTS), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                || Files.exists(dir.resolve(CONFIG), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * @param training what to record about the run under {@code "training"} (values: strings, numbers, booleans,
     *     lists of numbers); insertion order is kept
     * @param replace whether a model already in {@code dir} may be replaced; when false and {@link #holdsModel} is
     *     true, nothing is written and a {@link java.nio.file.FileAlreadyExistsException} is thrown
     */
    public static void write(Path dir, String architecture, VisionTransformer model, DataConfig dataConfig,
                             List<String> labels, Map<String, Object> training, boolean replace) throws IOException {
        if (!replace && holdsModel(dir)) {
            throw new java.nio.file.FileAlreadyExistsException(dir.toString(), null,
                    "it holds a model already; pass replace = true to replace it");
        }
        Files.createDirectories(dir);
        SafetensorsWriter weights = new SafetensorsWriter().metadata("format", "pt");
        model.namedParameters().forEach((name, p) -> weights.add(name, p.getArray()));
        weights.write(dir.resolve(WEIGHTS));
        String json = configJson(architecture, model.config(), dataConfig, labels, training);
        Path tmp = dir.resolve(CONFIG + ".tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String configJson(String architecture, VitConfig c, DataConfig d, List<String> labels,
                             Map<String, Object> training) {
        JsonObject root = new JsonObject();
        root.addProperty("architecture", architecture);
        JsonObject args = new JsonObject();
        args.add("img_size", ints(c.imgHeight(), c.imgWidth()));
        args.addProperty("patch_size", c.patchSize());
        args.addProperty("in_chans", c.inChans());
        args.addProperty("num_classes", c.numClasses());
        args.addProperty("embed_dim", c.embedDim());
        args.addProperty("depth", c.depth());
        args.addProperty("num_heads", c.numHeads());
        args.addProperty("mlp_ratio", c.mlpRatio());
        args.addProperty("qkv_bias", c.qkvBias());
        args.addProperty("layer_norm_eps", c.layerNormEps());
        root.add("model_args", args);
        JsonObject pre = new JsonObject();
        pre.add("input_size", ints(d.inChans(), d.height(), d.width()));
        pre.addProperty("interpolation", d.interpolation().timmName());
        pre.addProperty("crop_pct", d.cropPct());
        pre.addProperty("crop_mode", d.cropMode().name().toLowerCase(java.util.Locale.ROOT));
        pre.add("mean", doubles(d.mean()));
        pre.add("std", doubles(d.std()));
        pre.addProperty("num_classes", c.numClasses());
        root.add("pretrained_cfg", pre);
        JsonArray names = new JsonArray();
        labels.forEach(names::add);
        root.add("label_names", names);
        JsonObject t = new JsonObject();
        training.forEach((k, v) -> {
            if (v instanceof Number num) {
                t.addProperty(k, num);
            } else if (v instanceof Boolean b) {
                t.addProperty(k, b);
            } else if (v instanceof double[] a) {
                t.add(k, doubles(a));
            } else {
                t.addProperty(k, String.valueOf(v));
            }
        });
        root.add("training", t);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    private static JsonArray ints(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    private static JsonArray doubles(double... values) {
        JsonArray a = new JsonArray();
        for (double v : values) {
            a.add(v);
        }
        return a;
    }
}
