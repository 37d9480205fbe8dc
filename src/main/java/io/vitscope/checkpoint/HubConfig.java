package io.vitscope.checkpoint;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.vitscope.InvalidInputException;
import io.vitscope.image.DataConfig.CropMode;
import io.vitscope.image.DataConfig.Interpolation;
import io.vitscope.image.DataConfig;
import io.vitscope.checkpoint.HfModelDir.Json;
import io.vitscope.model.Presets.Preset;
import io.vitscope.model.Presets;
import io.vitscope.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code config.json} timm writes beside a checkpoint on the Hugging Face hub: {@code architecture} (a
 * registered name), {@code num_classes}, optional {@code model_args} (which override or, for an architecture that is
 * not a preset, define the network), {@code pretrained_cfg} (the data config) and {@code label_names}.
 * vitscope's own models (such as the embedded Fashion-MNIST one) use the same format.
 */
public record HubConfig(String architecture, VitConfig config, DataConfig dataConfig, Optional<List<String>> labels) {

    /**
     * Whether a {@code config.json} is timm's hub format rather than a transformers one (both formats use the name);
     * false when it is unreadable, for the Hugging Face reader to report.
     */
    static boolean isHubConfig(Path config) {
        try {
            JsonElement json = JsonParser.parseString(Files.readString(config));
            return json.isJsonObject() && isHubConfig(json.getAsJsonObject());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether a {@code config.json} is a transformers one (it names its {@code model_type}). */
    static boolean isTransformersConfig(Path config) {
        try {
            JsonElement json = JsonParser.parseString(Files.readString(config));
            return json.isJsonObject() && json.getAsJsonObject().has("model_type");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether a JSON object looks like a timm hub config rather than a transformers one. */
    static boolean isHubConfig(JsonObject json) {
        return json.has("architecture") && !json.has("model_type");
    }

    public static HubConfig read(Path file) {
        JsonObject json;
        try {
            JsonElement el = JsonParser.parseString(Files.readString(file));
            if (!el.isJsonObject()) {
                throw new InvalidInputException(file, "the model config must hold a JSON object, found "
                        + Json.kind(el));
            }
            json = el.getAsJsonObject();
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read the model config (" + e.getMessage() + ")");
        } catch (JsonParseException e) {
            throw new InvalidInputException(file, "the model config is not valid JSON (" + e.getMessage() + ")");
        }
        try {
            return parse(file, json);
        } catch (IllegalArgumentException e) {
            // What no single key decides (embed_dim not divisible by num_heads, img_size by patch_size, ...).
            throw new InvalidInputException(file, "bad model config: " + e.getMessage(), e);
        }
    }

    /** Every value is type- and range-checked by key, so that each error names the file, the key and what fits. */
    static HubConfig parse(Path file, JsonObject root) {
        Json json = new Json(file, root);
        if (!json.has("architecture")) {
            throw new InvalidInputException(file, "the model config has no 'architecture' key (a timm config.json names "
                    + "it) and no 'model_type' (a Hugging Face one names it): this is not a model's config");
        }
        String arch = json.string("architecture", null);
        Optional<Preset> preset = Presets.find(arch);
        Json args = json.object("model_args");
        if (preset.isEmpty() && args.obj.size() == 0) {
            throw new InvalidInputException(file, "architecture '" + arch + "' is not a preset and the config has no "
                    + "'model_args' to build it from. Presets: " + String.join(", ", Presets.names()));
        }
        VitConfig base = preset.map(Preset::config).orElse(null);
        int[] size = args.has("img_size") ? dims(args, "img_size", 2)
                : base == null ? null : new int[] {base.imgHeight(), base.imgWidth()};
        int classes = json.has("num_classes")
                ? json.integer("num_classes", 0, 1, VitConfig.MAX_CLASSES)
                : args.integer("num_classes", base == null ? -1 : base.numClasses(), 1, VitConfig.MAX_CLASSES);
        if (classes < 0) {
            throw json.bad("num_classes", "is required for an architecture that is not a preset (an integer from 1 to "
                    + VitConfig.MAX_CLASSES + ")");
        }
        int patch = intArg(args, "patch_size", base == null ? null : base.patchSize(), MAX_SIDE);
        if (required(args, size, "img_size")[0] % patch != 0 || size[1] % patch != 0) {
            throw args.bad("img_size", size[0] + "x" + size[1] + " is not a multiple of key 'model_args.patch_size' "
                    + patch);
        }
        int chans = intArg(args, "in_chans", base == null ? 3 : base.inChans(), 3);
        if (chans == 2) {
            throw args.bad("in_chans", "is 2; images are read as 1 (grayscale) or 3 (RGB) channels");
        }
        int dim = intArg(args, "embed_dim", base == null ? null : base.embedDim(), MAX_WIDTH);
        int heads = intArg(args, "num_heads", base == null ? null : base.numHeads(), MAX_WIDTH);
        if (dim % heads != 0) {
            throw args.bad("num_heads", heads + " does not divide key 'model_args.embed_dim' " + dim
                    + " (each head gets embed_dim / num_heads dimensions)");
        }
        double mlpRatio = args.number("mlp_ratio", base == null ? 4.0 : base.mlpRatio(), Double.MIN_VALUE, MAX_MLP_RATIO);
        if ((int) (dim * mlpRatio) < 1) {
            throw args.bad("mlp_ratio", mlpRatio + " times key 'model_args.embed_dim' " + dim + " leaves no MLP hidden unit");
        }
        VitConfig config = new VitConfig(
                size[0], size[1], patch, chans, classes, dim,
                intArg(args, "depth", base == null ? null : base.depth(), VitConfig.MAX_DEPTH),
                heads,
                mlpRatio,
                args.bool("qkv_bias", base == null || base.qkvBias()),
                args.number("layer_norm_eps", 1e-6, Double.MIN_VALUE, MAX_EPS),
                args.bool("distilled", base != null ? base.distilled() : arch != null && arch.contains("_distilled_")));
        DataConfig data = dataConfig(json.object("pretrained_cfg"), preset.map(Preset::dataConfig).orElse(null), config);
        Optional<List<String>> labels = Optional.empty();
        if (json.has("label_names")) {
            List<String> names = json.strings("label_names");
            if (names.size() != classes) {
                throw json.bad("label_names", "has " + names.size() + " names but the model has " + classes
                        + " classes (num_classes): give one name per class, in class-index order");
            }
            labels = Optional.of(names);
        }
        return new HubConfig(arch, config, data, labels);
    }

    /** Generous bounds that no real ViT comes near: beyond them a config is corrupt, not ambitious. */
    private static final int MAX_SIDE = 1 << 16;
    private static final int MAX_WIDTH = 1 << 16;
    private static final double MAX_MLP_RATIO = 64;
    private static final double MAX_EPS = 0.5;

    private static DataConfig dataConfig(Json cfg, DataConfig preset, VitConfig config) {
        int[] input = cfg.has("input_size") ? dims(cfg, "input_size", 3) : null;
        int chans = input != null ? input[0] : config.inChans();
        int h = input != null ? input[1] : config.imgHeight();
        int w = input != null ? input[2] : config.imgWidth();
        // Checked before any per-channel array is sized by it; a ViT's position embedding fixes H and W too.
        if (chans != config.inChans() || h != config.imgHeight() || w != config.imgWidth()) {
            throw cfg.bad("input_size", "is [" + chans + ", " + h + ", " + w + "] but the model takes ["
                    + config.inChans() + ", " + config.imgHeight() + ", " + config.imgWidth() + "]");
        }
        if (chans != 1 && chans != 3) {
            throw cfg.bad("input_size", "has " + chans + " channels; images are read as 1 (grayscale) or 3 (RGB)");
        }
        double cropPct = cfg.number("crop_pct", preset != null ? preset.cropPct() : 0.9, DataConfig.MIN_CROP_PCT, 1);
        Interpolation interp = cfg.has("interpolation")
                ? Interpolation.parse(cfg.choice("interpolation", null, "nearest", "bilinear", "bicubic"))
                : preset != null ? preset.interpolation() : Interpolation.BICUBIC;
        CropMode mode = CropMode.valueOf(cfg.choice("crop_mode", "center", "center", "squash").toUpperCase(Locale.ROOT));
        double[] mean = cfg.has("mean") || preset == null ? cfg.perChannel("mean", new double[] {0.5}, chans) : preset.mean();
        double[] std = cfg.has("std") || preset == null ? cfg.perChannel("std", new double[] {0.5}, chans) : preset.std();
        for (int c = 0; c < chans; c++) {
            if (!Double.isFinite(mean[c])) {
                throw cfg.bad("mean", "must hold finite numbers, found " + java.util.Arrays.toString(mean));
            }
            if (!(std[c] > 0 && Double.isFinite(std[c]))) {
                throw cfg.bad("std", "must hold positive finite numbers, found " + java.util.Arrays.toString(std));
            }
        }
        return new DataConfig(chans, h, w, cropPct, interp, mode, mean, std);
    }

    private static int intArg(Json args, String key, Integer fallback, int max) {
        if (!args.has(key) && fallback == null) {
            throw args.bad(key, "is required for an architecture that is not a preset (an integer from 1 to " + max + ")");
        }
        return args.integer(key, fallback == null ? 0 : fallback, 1, max);
    }

    private static int[] required(Json args, int[] v, String key) {
        if (v == null) {
            throw args.bad(key, "is required for an architecture that is not a preset");
        }
        return v;
    }

    /**
     * An integer (a square side, or for {@code input_size} a square RGB size) or a list of {@code n} positive
     * integers.
     */
    private static int[] dims(Json j, String key, int n) {
        JsonElement e = j.obj.get(key);
        String form = n == 2 ? "an integer or [height, width]" : "an integer or [channels, height, width]";
        if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            if (a.size() != n) {
                throw j.bad(key, "must be " + form + ", found " + Json.kind(e));
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = j.integer(key, a.get(i), 1, MAX_SIDE);
            }
            return out;
        }
        int v = j.integer(key, 0, 1, MAX_SIDE);
        return n == 2 ? new int[] {v, v} : new int[] {3, v, v};
    }

    /**
     * The {@code config.json} of a model, as timm's hub writes it ({@code architecture}, {@code model_args},
     * {@code pretrained_cfg}) plus vitscope's {@code label_names} and {@code training}: what {@link #read} reads back.
     *
     * @param training what to record under {@code "training"} (strings, numbers, booleans, lists of numbers), in order
     */
    public static String toJson(String architecture, VitConfig c, DataConfig d, List<String> labels,
                             Map<String, Object> training) {
        JsonObject root = new JsonObject();
        root.addProperty("architecture", architecture);
        JsonObject args = new JsonObject();
        args.add("img_size", intArray(c.imgHeight(), c.imgWidth()));
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
        pre.add("input_size", intArray(d.inChans(), d.height(), d.width()));
        pre.addProperty("interpolation", d.interpolation().timmName());
        pre.addProperty("crop_pct", d.cropPct());
        pre.addProperty("crop_mode", d.cropMode().name().toLowerCase(java.util.Locale.ROOT));
        pre.add("mean", doubleArray(d.mean()));
        pre.add("std", doubleArray(d.std()));
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
                t.add(k, doubleArray(a));
            } else {
                t.addProperty(k, String.valueOf(v));
            }
        });
        root.add("training", t);
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
    }

    private static JsonArray intArray(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    private static JsonArray doubleArray(double... values) {
        JsonArray a = new JsonArray();
        for (double v : values) {
            a.add(v);
        }
        return a;
    }
}
