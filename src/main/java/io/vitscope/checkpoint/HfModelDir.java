package io.vitscope.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.vitscope.InvalidInputException;
import io.vitscope.image.DataConfig.CropMode;
import io.vitscope.image.DataConfig.Interpolation;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VitConfig;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face model directory as {@code save_pretrained} leaves it: {@code config.json} (a transformers
 * {@code ViTConfig}), {@code model.safetensors}, and optionally {@code preprocessor_config.json} (a
 * {@code ViTImageProcessor}).
 *
 * <p>Keys missing from {@code config.json} take {@code ViTConfig}'s defaults, as transformers does (older configs lack
 * {@code qkv_bias}, for instance); keys present with the wrong type, and values vitscope cannot honour (another
 * {@code hidden_act} than exact GELU, a non-square patch), are {@link InvalidInputException}s naming the file and the
 * key. Without {@code preprocessor_config.json} the data config is {@code ViTImageProcessor}'s default at the
 * model's input size.
 *
 * @param dir the directory
 * @param config the architecture
 * @param classNames class names by index, from {@code id2label} ({@code LABEL_i} when the config has none)
 * @param dataConfig how to prepare an image, from {@code preprocessor_config.json}
 * @param weights the {@code model.safetensors} file (HF layout: see {@link HfVitLayout})
 */
public record HfModelDir(Path dir, VitConfig config, List<String> classNames, DataConfig dataConfig, Path weights) {

    public static final String CONFIG = ModelDir.CONFIG;
    public static final String PREPROCESSOR = "preprocessor_config.json";
    public static final String WEIGHTS = ModelDir.WEIGHTS;

    /** A generous bound on sizes and widths: beyond it a config is corrupt, not ambitious. */
    static final int MAX_SIDE = 1 << 16;

    /** transformers' {@code IMAGENET_STANDARD_MEAN} / {@code _STD}, ViTImageProcessor's defaults. */
    private static final double[] STANDARD = {0.5, 0.5, 0.5};

    public HfModelDir {
        classNames = List.copyOf(classNames);
    }

    /** Whether a directory looks like one (it has a {@code config.json}). */
    public static boolean looksLike(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG));
    }

    /** Reads and checks the directory's configs and finds its weights file. */
    public static HfModelDir read(Path dir) {
        return read(dir, null);
    }

    /** Reads and checks the directory's configs, for {@code weights} (null: the directory's own weights file). */
    public static HfModelDir read(Path dir, Path weights) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir, "is not a directory: a Hugging Face model directory holds "
                    + CONFIG + " and " + WEIGHTS);
        }
        Path configFile = dir.resolve(CONFIG);
        Json config = Json.read(configFile);
        VitConfig vit = vitConfig(config);
        List<String> classes = classNames(config);
        if (classes.size() != vit.numClasses()) {
            vit = vit.withNumClasses(classes.size());
        }
        Path preFile = dir.resolve(PREPROCESSOR);
        DataConfig data = Files.exists(preFile)
                ? dataConfig(Json.read(preFile), vit)
                : defaultDataConfig(vit);
        return new HfModelDir(dir, vit, classes, data, weights != null ? weights : weightsFile(dir));
    }

    private static Path weightsFile(Path dir) {
        Path w = dir.resolve(WEIGHTS);
        if (Files.isRegularFile(w)) {
            return w;
        }
        if (Files.exists(dir.resolve(WEIGHTS + ".index.json"))) {
            throw new InvalidInputException(w, "missing: the checkpoint is sharded (model.safetensors.index.json), "
                    + "which is not supported; save it unsharded with save_pretrained(dir, max_shard_size=\"10GB\")");
        }
        if (Files.exists(dir.resolve("pytorch_model.bin"))) {
            throw new InvalidInputException(w, "missing: only safetensors weights are read and this directory has "
                    + "pytorch_model.bin; convert it with ViTForImageClassification.from_pretrained(dir)"
                    + ".save_pretrained(dir, safe_serialization=True)");
        }
        throw new InvalidInputException(w, "missing: a Hugging Face model directory needs its weights in " + WEIGHTS);
    }

    // ------------------------------------------------------------------------------------------ config.json

    /** The architecture from a {@code ViTConfig} dict (missing keys take ViTConfig's defaults). */
    static VitConfig vitConfig(Json c) {
        String modelType = c.string("model_type", "vit");
        if (!modelType.equals("vit")) {
            throw c.bad("model_type", "is '" + modelType + "'; only plain ViT ('vit') models are supported");
        }
        String act = c.string("hidden_act", "gelu");
        if (!act.equals("gelu")) {
            throw c.bad("hidden_act", "is '" + act + "'; only 'gelu' (exact, erf-based GELU as timm's nn.GELU) is "
                    + "supported");
        }
        int[] image = c.size("image_size", 224);
        int[] patch = c.size("patch_size", 16);
        for (int i = 0; i < 2; i++) {
            c.integer("image_size", c.obj.get("image_size") == null ? null : image[i], 1, MAX_SIDE);
            c.integer("patch_size", c.obj.get("patch_size") == null ? null : patch[i], 1, MAX_SIDE);
        }
        if (patch[0] != patch[1]) {
            throw c.bad("patch_size", "is " + patch[0] + "x" + patch[1] + "; only square patches are supported");
        }
        if (image[0] % patch[0] != 0 || image[1] % patch[0] != 0) {
            throw c.bad("image_size", image[0] + "x" + image[1] + " is not a multiple of key 'patch_size' " + patch[0]);
        }
        int channels = c.integer("num_channels", 3, 1, 3);
        if (channels == 2) {
            throw c.bad("num_channels", "is 2; images are read as 1 (grayscale) or 3 (RGB) channels");
        }
        int hidden = c.integer("hidden_size", 768, 1, MAX_SIDE);
        int layers = c.integer("num_hidden_layers", 12, 1, VitConfig.MAX_DEPTH);
        int heads = c.integer("num_attention_heads", 12, 1, MAX_SIDE);
        if (hidden % heads != 0) {
            throw c.bad("num_attention_heads", heads + " does not divide key 'hidden_size' " + hidden
                    + " (each head gets hidden_size / num_attention_heads dimensions)");
        }
        int intermediate = c.integer("intermediate_size", 3072, 1, 64 * MAX_SIDE);
        boolean qkvBias = c.bool("qkv_bias", true);
        double eps = c.number("layer_norm_eps", 1e-12, Double.MIN_VALUE, 0.5);
        double mlpRatio = (double) intermediate / hidden;
        try {
            VitConfig v = new VitConfig(image[0], image[1], patch[0], channels, 1, hidden, layers, heads, mlpRatio,
                    qkvBias, eps);
            if (v.mlpHidden() != intermediate) {
                throw c.bad("intermediate_size", intermediate + " is not reproducible as hidden_size × mlp_ratio");
            }
            return v;
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(c.file, e.getMessage(), e);
        }
    }

    /** Class names by index from {@code id2label}; without it, {@code num_labels} (default 2) names LABEL_i. */
    static List<String> classNames(Json c) {
        JsonElement el = c.obj.get("id2label");
        if (el == null || el.isJsonNull()) {
            int n = c.integer("num_labels", 2);
            if (n <= 0 || n > VitConfig.MAX_CLASSES) {
                throw c.bad("num_labels", "must be between 1 and " + VitConfig.MAX_CLASSES + ", found " + n);
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                names.add("LABEL_" + i);
            }
            return names;
        }
        if (!el.isJsonObject()) {
            throw c.bad("id2label", "must be an object from class index to name, found " + Json.kind(el));
        }
        TreeMap<Integer, String> byIndex = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : el.getAsJsonObject().entrySet()) {
            int index;
            try {
                index = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException x) {
                throw c.bad("id2label", "has key '" + e.getKey() + "', which is not a class index");
            }
            JsonElement v = e.getValue();
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                throw c.bad("id2label", "entry " + index + " must be a string, found " + Json.kind(v));
            }
            if (byIndex.put(index, v.getAsString()) != null) {
                throw c.bad("id2label", "names class " + index + " twice");
            }
        }
        if (byIndex.isEmpty()) {
            throw c.bad("id2label", "is empty");
        }
        for (int i = 0; i < byIndex.size(); i++) {
            if (!byIndex.containsKey(i)) {
                throw c.bad("id2label", "has " + byIndex.size() + " entries but no class " + i
                        + "; indices must run from 0 to " + (byIndex.size() - 1));
            }
        }
        return new ArrayList<>(byIndex.values());
    }

    // ------------------------------------------------------------------------------------------ preprocessor

    /** ViTImageProcessor's defaults at the model's input size: bilinear squash, mean and std 0.5. */
    static DataConfig defaultDataConfig(VitConfig vit) {
        int c = vit.inChans();
        try {
            return new DataConfig(c, vit.imgHeight(), vit.imgWidth(), 1.0, Interpolation.BILINEAR, CropMode.SQUASH,
                    fill(0.5, c), fill(0.5, c));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(null, "no data config for a " + c + "-channel model: " + e.getMessage(), e);
        }
    }

    /**
     * The data config of a {@code ViTImageProcessor} dict: resize straight to {@code size} (SQUASH, crop_pct 1),
     * rescale by 1/255, normalize. A {@code crop_pct} or {@code crop_size} key (processors that crop, such as
     * DeiT's) gives timm's CENTER mode instead, with crop_pct = crop / resize size. Note that DeiT's processor
     * resizes both sides to {@code size} before cropping whereas timm's CENTER resizes the shorter side: the
     * two agree on square images only.
     */
    static DataConfig dataConfig(Json p, VitConfig vit) {
        int channels = vit.inChans();
        boolean doResize = p.bool("do_resize", true);
        int[] size = p.has("size") ? p.processorSize("size") : new int[] {224, 224};
        Interpolation interpolation = switch (p.integer("resample", 2)) {
            case 0 -> Interpolation.NEAREST;
            case 2 -> Interpolation.BILINEAR;
            case 3 -> Interpolation.BICUBIC;
            default -> throw p.bad("resample", "is " + p.integer("resample", 2)
                    + "; supported are 0 (nearest), 2 (bilinear) and 3 (bicubic)");
        };
        int height = size[0];
        int width = size[1];
        double cropPct = 1.0;
        CropMode mode = CropMode.SQUASH;
        boolean doCrop = p.bool("do_center_crop", true);
        if (doResize && doCrop && p.has("crop_size")) {
            int[] crop = p.processorSize("crop_size");
            cropPct = Math.min((double) crop[0] / height, 1.0);
            if (cropPct < DataConfig.MIN_CROP_PCT) {
                throw p.bad("crop_size", crop[0] + " is less than " + DataConfig.MIN_CROP_PCT + " of size " + height
                        + ": crop_size / size must be from " + DataConfig.MIN_CROP_PCT + " to 1");
            }
            height = crop[0];
            width = crop[1];
            mode = CropMode.CENTER;
        } else if (doResize && doCrop && p.has("crop_pct")) {
            cropPct = p.number("crop_pct", 1.0, DataConfig.MIN_CROP_PCT, 1);
            mode = CropMode.CENTER;
        }
        if (!doResize) {
            // No resize: inputs must already have the model's size; squashing to it is then the identity.
            height = vit.imgHeight();
            width = vit.imgWidth();
        }
        if (height != vit.imgHeight() || width != vit.imgWidth()) {
            String key = mode == CropMode.CENTER ? "crop_size" : "size";
            throw p.bad(key, "(" + Json.kind(p.obj.get(key)) + ") gives " + height + "x" + width
                    + " inputs but config.json's image_size is " + vit.imgHeight() + "x" + vit.imgWidth());
        }
        double[] mean = p.bool("do_normalize", true) ? p.perChannel("image_mean", STANDARD, channels) : fill(0, channels);
        double[] std = p.bool("do_normalize", true) ? p.perChannel("image_std", STANDARD, channels) : fill(1, channels);
        // DataConfig scales pixels by 1/255 before normalizing; another rescale_factor r (or none: r = 1) is the
        // same as mean and std divided by 255·r: (X·r − m) / s = (X/255 − m/(255r)) / (s/(255r)).
        // Bounded so that mean and std divided by 255·r below stay finite and non-zero.
        double r = p.bool("do_rescale", true) ? p.number("rescale_factor", 1 / 255.0, 1e-6, 1) : 1.0;
        for (int c = 0; c < channels; c++) {
            if (!Double.isFinite(mean[c])) {
                throw p.bad("image_mean", "must hold finite numbers, found " + Arrays.toString(mean));
            }
            if (!(std[c] > 0 && Double.isFinite(std[c]))) {
                throw p.bad("image_std", "must hold positive finite numbers, found " + Arrays.toString(std));
            }
        }
        double k = 255 * r;
        if (Math.abs(k - 1) > 1e-9) {
            for (int c = 0; c < channels; c++) {
                mean[c] /= k;
                std[c] /= k;
            }
        }
        try {
            return new DataConfig(channels, height, width, cropPct, interpolation, mode, mean, std);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(p.file, e.getMessage(), e);
        }
    }

    private static double[] fill(double v, int n) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    // ------------------------------------------------------------------------------------------ typed access

    /** A JSON object read from a file, with typed getters whose errors name the file and the key. */
    static final class Json {
        final Path file;
        final JsonObject obj;
        /** The path of this object in the file ({@code "pretrained_cfg."}), prefixed to every key in messages. */
        final String prefix;

        Json(Path file, JsonObject obj) {
            this(file, obj, "");
        }

        private Json(Path file, JsonObject obj, String prefix) {
            this.file = file;
            this.obj = obj;
            this.prefix = prefix;
        }

        /** The object under {@code key} (empty when absent), whose errors name {@code key.inner}. */
        Json object(String key) {
            if (!has(key)) {
                return new Json(file, new JsonObject(), prefix + key + ".");
            }
            JsonElement e = obj.get(key);
            if (!e.isJsonObject()) {
                throw bad(key, "must be an object, found " + kind(e));
            }
            return new Json(file, e.getAsJsonObject(), prefix + key + ".");
        }

        /** An integer from {@code min} to {@code max}; "twelve", 12.7 and 1e10 are errors naming the range. */
        int integer(String key, int dflt, int min, int max) {
            if (!has(key)) {
                return dflt;
            }
            return integer(key, obj.get(key), min, max);
        }

        /** Checks a value already read from {@code key} (null: the key is absent) against the range. */
        void integer(String key, Integer value, int min, int max) {
            if (value != null && (value < min || value > max)) {
                throw bad(key, "must be an integer from " + min + " to " + max + ", found " + kind(obj.get(key)));
            }
        }

        /** {@code e} (the value of {@code key}, or an element of it) as an integer from {@code min} to {@code max}. */
        int integer(String key, JsonElement e, int min, int max) {
            String range = "an integer from " + min + " to " + max;
            int v;
            try {
                v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                        ? new BigDecimal(e.getAsString()).intValueExact() : Integer.MIN_VALUE;
            } catch (ArithmeticException | NumberFormatException x) {
                v = Integer.MIN_VALUE;
            }
            if (v < min || v > max) {
                throw bad(key, "must be " + range + ", found " + kind(e));
            }
            return v;
        }

        /** A finite number from {@code min} to {@code max}, both included. */
        double number(String key, double dflt, double min, double max) {
            if (!has(key)) {
                return dflt;
            }
            JsonElement e = obj.get(key);
            double v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : Double.NaN;
            if (!(v >= min && v <= max)) {
                throw bad(key, "must be a number from " + min + " to " + max + ", found " + kind(e));
            }
            return v;
        }

        /** One of {@code choices} (compared ignoring case), returned in lower case. */
        String choice(String key, String dflt, String... choices) {
            String v = string(key, dflt);
            for (String c : choices) {
                if (c.equalsIgnoreCase(v.strip())) {
                    return c;
                }
            }
            throw bad(key, "is '" + v + "'; it must be one of " + String.join(", ", choices));
        }

        /** A list of strings; a null or a number in it is an error naming its index. */
        List<String> strings(String key) {
            JsonElement e = obj.get(key);
            if (!e.isJsonArray()) {
                throw bad(key, "must be a list of strings, found " + kind(e));
            }
            List<String> out = new ArrayList<>();
            JsonArray a = e.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                JsonElement v = a.get(i);
                if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                    throw bad(key, "entry " + i + " must be a string, found " + kind(v));
                }
                out.add(v.getAsString());
            }
            return out;
        }

        static Json read(Path file) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(file, "missing: a Hugging Face model directory needs it");
            } catch (IOException e) {
                throw new InvalidInputException(file, "cannot read: " + e, e);
            }
            JsonElement el;
            try {
                el = JsonParser.parseString(text); // lenient: Python's json writes NaN and Infinity
            } catch (JsonParseException | IllegalStateException e) {
                throw new InvalidInputException(file, "is not valid JSON: " + e.getMessage(), e);
            }
            if (!el.isJsonObject()) {
                throw new InvalidInputException(file, "must hold a JSON object, found " + kind(el));
            }
            return new Json(file, el.getAsJsonObject());
        }

        boolean has(String key) {
            JsonElement e = obj.get(key);
            return e != null && !e.isJsonNull();
        }

        InvalidInputException bad(String key, String problem) {
            return new InvalidInputException(file, "key '" + prefix + key + "' " + problem);
        }

        String string(String key, String dflt) {
            if (!has(key)) {
                return dflt;
            }
            JsonElement e = obj.get(key);
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
                throw bad(key, "must be a string, found " + kind(e));
            }
            return e.getAsString();
        }

        boolean bool(String key, boolean dflt) {
            if (!has(key)) {
                return dflt;
            }
            JsonElement e = obj.get(key);
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean())) {
                throw bad(key, "must be true or false, found " + kind(e));
            }
            return e.getAsBoolean();
        }

        double number(String key, double dflt) {
            return has(key) ? number(key, obj.get(key)) : dflt;
        }

        private double number(String key, JsonElement e) {
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
                throw bad(key, "must be a number, found " + kind(e));
            }
            return e.getAsDouble();
        }

        int integer(String key, int dflt) {
            return has(key) ? integer(key, obj.get(key)) : dflt;
        }

        private int integer(String key, JsonElement e) {
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
                throw bad(key, "must be an integer, found " + kind(e));
            }
            try {
                return new BigDecimal(e.getAsString()).intValueExact();
            } catch (ArithmeticException | NumberFormatException x) {
                throw bad(key, "must be an integer, found " + kind(e));
            }
        }

        /** An int (square) or a two-element [height, width] list, as ViTConfig's image_size and patch_size. */
        int[] size(String key, int dflt) {
            if (!has(key)) {
                return new int[] {dflt, dflt};
            }
            JsonElement e = obj.get(key);
            if (e.isJsonArray()) {
                JsonArray a = e.getAsJsonArray();
                if (a.size() != 2) {
                    throw bad(key, "must be an integer or [height, width], found " + kind(e));
                }
                return new int[] {integer(key, a.get(0)), integer(key, a.get(1))};
            }
            int v = integer(key, e);
            return new int[] {v, v};
        }

        /**
         * An image processor size: an int (square, as transformers' {@code get_size_dict} reads it),
         * {"height", "width"}, or {"shortest_edge"} (taken as square, which holds for the center crop that follows).
         */
        int[] processorSize(String key) {
            JsonElement e = obj.get(key);
            if (e.isJsonObject()) {
                Json sub = object(key);
                if (sub.has("height") && sub.has("width")) {
                    return new int[] {sub.integer("height", 0, 1, MAX_SIDE), sub.integer("width", 0, 1, MAX_SIDE)};
                }
                if (sub.has("shortest_edge")) {
                    int s = sub.integer("shortest_edge", 0, 1, MAX_SIDE);
                    return new int[] {s, s};
                }
                throw bad(key, "must be an integer, {\"height\", \"width\"} or {\"shortest_edge\"}, found " + kind(e));
            }
            int v = integer(key, e, 1, MAX_SIDE);
            return new int[] {v, v};
        }

        /** A number (every channel) or a list of one number per channel. */
        double[] perChannel(String key, double[] dflt, int channels) {
            if (!has(key)) {
                if (dflt.length != channels) {
                    return fill(dflt[0], channels);
                }
                return dflt.clone();
            }
            JsonElement e = obj.get(key);
            if (e.isJsonArray()) {
                JsonArray a = e.getAsJsonArray();
                if (a.size() != channels) {
                    throw bad(key, "has " + a.size() + " values for a " + channels + "-channel model");
                }
                double[] out = new double[channels];
                for (int i = 0; i < channels; i++) {
                    out[i] = number(key, a.get(i));
                }
                return out;
            }
            return fill(number(key, e), channels);
        }

        static String kind(JsonElement e) {
            if (e == null || e.isJsonNull()) {
                return "null";
            }
            if (e.isJsonObject()) {
                return e.toString().length() <= 40 ? e.toString() : "an object";
            }
            if (e.isJsonArray()) {
                return e.toString().length() <= 40 ? e.toString() : "an array";
            }
            JsonPrimitive p = e.getAsJsonPrimitive();
            String s = p.toString();
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
