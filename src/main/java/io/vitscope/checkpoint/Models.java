package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.image.DataConfig;
import io.vitscope.model.Presets.Preset;
import io.vitscope.model.Presets;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds a ready model from what a user has: a preset name, a checkpoint file, a timm hub folder, a Hugging Face
 * model folder — or nothing, which gives the embedded Fashion-MNIST model.
 */
public final class Models {

    /** The embedded default model's folder, under {@code models/} in the project and on the class path. */
    public static final String DEFAULT_MODEL = "fashion_vit";
    /**
     * The system property naming vitscope's home: the project folder, which holds {@code models/fashion_vit}
     * ({@code scripts/vitscope} sets it). Not to be confused with the model cache ({@code hub.ModelCache}).
     */
    public static final String HOME_PROPERTY = "vitscope.home";

    private static final String CONFIG = ModelDir.CONFIG;
    private static final String WEIGHTS = ModelDir.WEIGHTS;

    private Models() {}

    /**
     * Loads weights into an architecture.
     *
     * @param arch a preset name ({@code vit_base_patch16_224}); may be null when {@code weights} is a folder with a
     *     config (timm hub or Hugging Face) or a file with a timm {@code config.json} beside it
     * @param weights a checkpoint file — safetensors, a PyTorch {@code .pth/.pt/.bin} (zip or legacy) or a Google/Flax
     *     {@code .npz}, in timm, Hugging Face, torchvision or Flax names, told apart automatically — or a folder
     */
    public static LoadedModel load(String arch, Path weights) {
        if (!Files.exists(weights)) {
            throw InvalidInputException.missing(weights, "no such file or folder");
        }
        if (Files.isDirectory(weights)) {
            return loadFolder(arch, weights);
        }
        Path sibling = weights.resolveSibling(CONFIG);
        if (arch == null && Files.isRegularFile(sibling)) {
            if (!HubConfig.isTransformersConfig(sibling)) {
                return loadFolderConfig(weights, sibling);
            }
            // A Hugging Face folder's config.json beside the file: the file is that folder's weights.
            HfModelDir hf = HfModelDir.read(weights.toAbsolutePath().getParent(), weights);
            return loadInto(weights.toAbsolutePath().getParent().getFileName().toString(), hf.config(), hf.dataConfig(),
                    Optional.of(hf.classNames()), weights, false);
        }
        if (arch == null) {
            return loadInferred(weights);
        }
        Preset preset = Presets.get(arch);
        return loadInto(preset.name(), preset.config(), preset.dataConfig(), Optional.empty(), weights, true);
    }

    /** A file without a config: its architecture read from its shapes, when they match a preset. */
    private static LoadedModel loadInferred(Path weights) {
        Optional<Architectures> inferred;
        try (Checkpoints.Opened ck = Checkpoints.open(weights)) {
            inferred = Architectures.infer(Checkpoints.toTimm(weights, ck.tensors(), 0, 0));
        }
        Optional<Preset> preset = inferred.flatMap(Architectures::preset).flatMap(Presets::find);
        if (preset.isEmpty()) {
            throw new InvalidInputException(weights, "cannot tell which architecture these weights are for"
                    + inferred.map(a -> " (their shapes say " + a + ", which is no preset)").orElse("")
                    + ": the file alone does not say its architecture, and no config.json is beside it. Give the "
                    + "model's folder (a Hugging Face folder: config.json, model.safetensors; or a timm one: "
                    + "config.json, model.safetensors), put its config.json beside the file, or name the architecture "
                    + "(one of " + String.join(", ", Presets.names()) + ")");
        }
        Preset p = preset.get();
        return loadInto(p.name(), p.config(), p.dataConfig(), Optional.empty(), weights, true);
    }

    private static LoadedModel loadFolder(String arch, Path dir) {
        Path config = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        // Both formats name their config config.json: tell them apart by content. A timm hub folder (what
        // 'vitscope fetch' leaves in the cache) read as a Hugging Face one would take ViTConfig's defaults for
        // every key and two classes.
        if (Files.isRegularFile(config) && HubConfig.isHubConfig(config)) {
            return loadFolderConfig(weights, config);
        }
        if (HfModelDir.looksLike(dir)) {
            HfModelDir hf = HfModelDir.read(dir);
            String name = arch != null ? arch : dir.getFileName().toString();
            return loadInto(name, hf.config(), hf.dataConfig(), Optional.of(hf.classNames()), hf.weights(), false);
        }
        if (Files.isRegularFile(weights) && arch != null) {
            return load(arch, weights);
        }
        throw new InvalidInputException(dir, "this folder is not a model: expected " + WEIGHTS + " with a timm or "
                + "Hugging Face " + CONFIG + " beside it");
    }

    private static LoadedModel loadFolderConfig(Path weights, Path config) {
        HubConfig hub = HubConfig.read(config);
        return loadInto(hub.architecture(), hub.config(), hub.dataConfig(), hub.labels(), weights, false);
    }

    /**
     * @param presetData whether {@code data} is a preset's default (then a torchvision checkpoint gets torchvision's
     *     own preprocessing instead), rather than a config file's
     */
    private static LoadedModel loadInto(String name, VitConfig config, DataConfig data, Optional<List<String>> labels,
                                        Path weights, boolean presetData) {
        VisionTransformer model = new VisionTransformer(config);
        // Any format (safetensors, PyTorch zip/legacy, .npz) and any layout (timm, HF, torchvision, Flax).
        try (Checkpoints.Opened ck = Checkpoints.open(weights)) {
            if (presetData && Checkpoints.layout(weights, ck.tensors().keySet()) == Checkpoints.Layout.TORCHVISION
                    && config.imgHeight() == config.imgWidth() && config.inChans() == 3) {
                data = Presets.torchvisionDataConfig(config.imgHeight());
            }
            StateDicts.load(model, Checkpoints.toTimm(weights, ck.tensors(), config.gridHeight(), config.gridWidth()),
                    weights, name);
            List<String> names = labels.orElseGet(() -> defaultLabels(config.numClasses()));
            if (names.size() != config.numClasses()) {
                throw new InvalidInputException(weights, "the config names " + names.size() + " classes but the model has "
                        + config.numClasses());
            }
            return new LoadedModel(name, model, data, names, weights.toString());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * The same model with the class names in {@code labels} (one per line, as many as the model has classes); the
     * model is closed when the file cannot be used.
     */
    public static LoadedModel withLabels(LoadedModel loaded, Path labels) {
        try {
            return loaded.withLabels(readLabels(labels, loaded.config().numClasses()));
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /** A preset with freshly initialised weights: for benchmarks and tests, never for predictions that mean anything. */
    public static LoadedModel random(String arch, long seed) {
        Preset p = Presets.get(arch);
        VisionTransformer model = new VisionTransformer(p.config()).initializeRandom(seed);
        return new LoadedModel(p.name(), model, p.dataConfig(), defaultLabels(p.config().numClasses()),
                "random weights (seed " + seed + ")");
    }

    /**
     * The embedded model trained by this project on Fashion-MNIST ({@code models/fashion_vit}): found under the
     * folder named by {@code -Dvitscope.home}, then the working directory, then the class path.
     */
    public static LoadedModel loadDefault() {
        return load(null, defaultModelDir());
    }

    /**
     * Where the embedded model belongs in the project folder, {@code <home>/models/fashion_vit}, whether or not it is
     * there yet (training writes it): {@code -Dvitscope.home}, else the working directory.
     */
    public static Path projectModelDir() {
        return home().resolve("models").resolve(DEFAULT_MODEL);
    }

    /** vitscope's home, the project folder: {@code -Dvitscope.home}, else the working directory; absolute. */
    public static Path home() {
        String home = System.getProperty(HOME_PROPERTY);
        return Path.of(home != null && !home.isBlank() ? home : "").toAbsolutePath();
    }

    /** The embedded model's folder as {@link #loadDefault()} finds it. */
    public static Path defaultModelDir() {
        for (String base : new String[] {System.getProperty(HOME_PROPERTY), "."}) {
            if (base != null) {
                Path dir = Paths.get(base, "models", DEFAULT_MODEL);
                if (Files.isRegularFile(dir.resolve(WEIGHTS))) {
                    return dir;
                }
            }
        }
        URL url = Models.class.getResource("/models/" + DEFAULT_MODEL + "/" + WEIGHTS);
        if (url == null) {
            throw new VitscopeException("The embedded model (models/" + DEFAULT_MODEL + ") is missing from this build: "
                    + "run from the project folder, or name a model or its weights");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Paths.get(url.toURI()).getParent();
            }
            Path dir = Files.createTempDirectory("vitscope-" + DEFAULT_MODEL);
            for (String f : new String[] {WEIGHTS, CONFIG}) {
                try (InputStream in = Models.class.getResourceAsStream("/models/" + DEFAULT_MODEL + "/" + f)) {
                    Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
                dir.resolve(f).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException | URISyntaxException e) {
            throw new VitscopeException("Cannot unpack the embedded model: " + e.getMessage(), e);
        }
    }

    /** ImageNet-1k's class names for 1000 classes (index order: 0 tench … 970 alp), else {@code class_<i>}. */
    public static List<String> defaultLabels(int numClasses) {
        if (numClasses == 1000) {
            return imagenetLabels();
        }
        List<String> out = new ArrayList<>(numClasses);
        for (int i = 0; i < numClasses; i++) {
            out.add("class_" + i);
        }
        return out;
    }

    /** The 1000 ImageNet-1k class names shipped with vitscope. */
    public static List<String> imagenetLabels() {
        try (InputStream in = Models.class.getResourceAsStream("imagenet_classes.txt");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.lines().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Class names from a file, one per line; the count must equal the model's classes. */
    public static List<String> readLabels(Path file, int numClasses) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new InvalidInputException(file, "the labels file is not UTF-8 text");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read the labels file (" + e.getMessage() + ")");
        }
        lines = new ArrayList<>(lines);
        if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) {
            lines.set(0, lines.get(0).substring(1));      // a UTF-8 BOM (Windows editors write one), not the label
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1);
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                throw new InvalidInputException(file, "line " + (i + 1) + " is blank: every class needs a name (one"
                        + " per line, in class-index order; blank lines are allowed only at the end)");
            }
        }
        if (lines.size() != numClasses) {
            throw new InvalidInputException(file, "the labels file has " + lines.size() + " lines but the model has "
                    + numClasses + " classes: give one class name per line, in class-index order");
        }
        return lines.stream().map(String::strip).toList();
    }
}
