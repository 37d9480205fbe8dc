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
import io.vitscope.model.Presets.Preset;
import io.vitscope.model.Presets;
import io.vitscope.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /** Whether a JSON object looks like a timm hub config rather than a transformers one. */
    static boolean isHubConfig(JsonObject json) {
        return json.has("architecture") && !json.has("model_type");
    }

    public static HubConfig read(Path file) {
        JsonObject json;
        try {
            json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read the model config (" + e.getMessage() + ")");
        } catch (JsonParseException | IllegalStateException e) {
            throw new InvalidInputException(file, "the model config is not a JSON object (" + e.getMessage() + ")");
        }
        try {
            return parse(file, json);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException
                 | ClassCastException | NullPointerException e) {
            throw new InvalidInputException(file, "bad model config: " + e.getMessage());
        }
    }

    static HubConfig parse(Path file, JsonObject json) {
        if (!json.has("architecture")) {
            throw new InvalidInputException(file, "the model config has no 'architecture' key (a timm config.json names it)");
        }
        String arch = json.get("architecture").getAsString();
        Optional<Preset> preset = Presets.find(arch);
        JsonObject args = json.has("model_args") ? json.getAsJsonObject("model_args") : new JsonObject();
        if (preset.isEmpty() && args.size() == 0) {
            throw new InvalidInputException(file, "architecture '" + arch + "' is not a preset and the config has no "
                    + "'model_args' to build it from. Presets: " + String.join(", ", Presets.names()));
        }
        VitConfig base = preset.map(Preset::config).orElse(null);
        int[] size = args.has("img_size") ? ints(args.get("img_size"), 2) : base == null ? null
                : new int[] {base.imgHeight(), base.imgWidth()};
        int numClasses = json.has("num_classes") ? json.get("num_classes").getAsInt()
                : args.has("num_classes") ? args.get("num_classes").getAsInt() : base == null ? -1 : base.numClasses();
        VitConfig config = new VitConfig(
                required(size, "img_size")[0], size[1],
                intArg(args, "patch_size", base == null ? null : base.patchSize()),
                intArg(args, "in_chans", base == null ? 3 : base.inChans()),
                numClasses,
                intArg(args, "embed_dim", base == null ? null : base.embedDim()),
                intArg(args, "depth", base == null ? null : base.depth()),
                intArg(args, "num_heads", base == null ? null : base.numHeads()),
                args.has("mlp_ratio") ? args.get("mlp_ratio").getAsDouble() : base == null ? 4.0 : base.mlpRatio(),
                args.has("qkv_bias") ? args.get("qkv_bias").getAsBoolean() : base == null || base.qkvBias(),
                args.has("layer_norm_eps") ? args.get("layer_norm_eps").getAsDouble() : 1e-6);
        DataConfig data = dataConfig(json.has("pretrained_cfg") ? json.getAsJsonObject("pretrained_cfg") : new JsonObject(),
                preset.map(Preset::dataConfig).orElse(null), config);
        Optional<List<String>> labels = Optional.empty();
        if (json.has("label_names")) {
            List<String> names = new ArrayList<>();
            for (JsonElement e : json.getAsJsonArray("label_names")) {
                names.add(e.getAsString());
            }
            labels = Optional.of(names);
        }
        return new HubConfig(arch, config, data, labels);
    }

    private static DataConfig dataConfig(JsonObject cfg, DataConfig preset, VitConfig config) {
        int[] input = cfg.has("input_size") ? ints(cfg.get("input_size"), 3) : null;
        int chans = input != null ? input[0] : config.inChans();
        int h = input != null ? input[1] : config.imgHeight();
        int w = input != null ? input[2] : config.imgWidth();
        // Checked before any per-channel array is sized by it; a ViT's position embedding fixes H and W too.
        if (chans != config.inChans() || h != config.imgHeight() || w != config.imgWidth()) {
            throw new IllegalArgumentException("pretrained_cfg.input_size is [" + chans + ", " + h + ", " + w
                    + "] but the model takes [" + config.inChans() + ", " + config.imgHeight() + ", "
                    + config.imgWidth() + "]");
        }
        double cropPct = cfg.has("crop_pct") ? cfg.get("crop_pct").getAsDouble() : preset != null ? preset.cropPct() : 0.9;
        Interpolation interp = cfg.has("interpolation") ? Interpolation.parse(cfg.get("interpolation").getAsString())
                : preset != null ? preset.interpolation() : Interpolation.BICUBIC;
        CropMode mode = cfg.has("crop_mode")
                ? CropMode.valueOf(cfg.get("crop_mode").getAsString().toUpperCase(Locale.ROOT)) : CropMode.CENTER;
        double[] mean = cfg.has("mean") ? doubles(cfg.get("mean")) : preset != null ? preset.mean() : fill(chans, 0.5);
        double[] std = cfg.has("std") ? doubles(cfg.get("std")) : preset != null ? preset.std() : fill(chans, 0.5);
        return new DataConfig(chans, h, w, cropPct, interp, mode, mean, std);
    }

    private static int intArg(JsonObject args, String key, Integer fallback) {
        if (args.has(key)) {
            return args.get(key).getAsInt();
        }
        if (fallback == null) {
            throw new IllegalArgumentException("model_args needs '" + key + "'");
        }
        return fallback;
    }

    private static int[] required(int[] v, String key) {
        if (v == null) {
            throw new IllegalArgumentException("model_args needs '" + key + "'");
        }
        return v;
    }

    private static int[] ints(JsonElement e, int n) {
        if (e.isJsonPrimitive()) {
            int v = e.getAsInt();
            return n == 2 ? new int[] {v, v} : new int[] {3, v, v};
        }
        JsonArray a = e.getAsJsonArray();
        if (a.size() != n) {
            throw new IllegalArgumentException("expected " + n + " numbers, got " + a);
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    private static double[] doubles(JsonElement e) {
        JsonArray a = e.getAsJsonArray();
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsDouble();
        }
        return out;
    }

    private static double[] fill(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
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
