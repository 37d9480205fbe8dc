package io.vitscope.checkpoint;

import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.weights.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a trained model as a directory the way timm's hub repositories hold one: {@code model.safetensors}
 * (F32 tensors under timm's parameter names) and {@code config.json} ({@code architecture}, {@code model_args},
 * {@code pretrained_cfg}), plus vitscope's {@code label_names} and {@code training} record; the JSON is
 * {@link HubConfig#toJson}'s, the one writer of the format {@link HubConfig#read} reads.
 */
public final class ModelDir {

    /** The weights' file name in a model folder (timm's hub, Hugging Face, vitscope's own): defined here only. */
    public static final String WEIGHTS = "model.safetensors";
    /** The config's file name in a model folder (timm's hub and Hugging Face both use it): defined here only. */
    public static final String CONFIG = "config.json";

    private ModelDir() {}

    /** Whether {@code dir} already holds a model (its weights or its config), which a write would replace. */
    public static boolean holdsModel(Path dir) {
        return Files.exists(dir.resolve(WEIGHTS), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(dir.resolve(CONFIG), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * @param training what to record about the run under {@code "training"} (values: strings, numbers, booleans,
     *     lists of numbers); insertion order is kept
     * @param replace whether a model already in {@code dir} may be replaced; when false and {@link #holdsModel} is
     *     true, nothing is written and a {@link FileAlreadyExistsException} is thrown
     */
    public static void write(Path dir, String architecture, VisionTransformer model, DataConfig dataConfig,
                             List<String> labels, Map<String, Object> training, boolean replace) throws IOException {
        if (!replace && holdsModel(dir)) {
            throw new FileAlreadyExistsException(dir.toString(), null,
                    "it holds a model already; pass replace = true to replace it");
        }
        Files.createDirectories(dir);
        SafetensorsWriter weights = new SafetensorsWriter().metadata("format", "pt");
        model.namedParameters().forEach((name, p) -> weights.add(name, p.getArray()));
        weights.write(dir.resolve(WEIGHTS));
        String json = HubConfig.toJson(architecture, model.config(), dataConfig, labels, training);
        Path tmp = dir.resolve(CONFIG + ".tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
