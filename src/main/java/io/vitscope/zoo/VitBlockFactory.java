package io.vitscope.zoo;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.model.VisionTransformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.WeakHashMap;

/**
 * DJL's {@code blockFactory} hook: builds vitscope's {@link VisionTransformer} from the folder or file DJL resolved
 * from {@code Criteria.optModelUrls(...)} — a timm hub folder, a Hugging Face folder, or any checkpoint file vitscope
 * reads (safetensors, {@code .pth/.pt/.bin}, Flax {@code .npz}) with a timm {@code config.json} beside it or shapes
 * that match a preset. The argument {@code arch} (a preset name) chooses the architecture explicitly.
 *
 * <p>The ViT's parameters are freed when the DJL model is closed (they are attached to its manager).
 */
public final class VitBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    private static final List<String> EXTENSIONS = List.of(".safetensors", ".pth", ".pt", ".bin", ".npz");

    /** Which loaded model (data config, labels) each block came from, for {@link VitTranslatorFactory}. */
    private static final Map<Block, LoadedModel> LOADED = Collections.synchronizedMap(new WeakHashMap<>());

    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) throws IOException {
        Object arch = arguments == null ? null : arguments.get("arch");
        LoadedModel vit = Models.load(arch == null ? null : arch.toString(), target(modelPath, model.getName()));
        register(model, vit);
        return vit.model();
    }

    /** Records a loaded model for its block and ties its memory to the DJL model's. */
    static void register(Model model, LoadedModel vit) {
        LOADED.put(vit.model(), vit);
        model.getNDManager().attachInternal("vitscope-" + UUID.randomUUID(), vit);
    }

    /** The loaded model a block was built from, if this factory built it. */
    static Optional<LoadedModel> loaded(Block block) {
        return Optional.ofNullable(LOADED.get(block));
    }

    /**
     * The checkpoint in the folder named like the model (for a file URL DJL passes the parent folder and the file's
     * name), else the folder itself when it is a model folder (config.json), else its only checkpoint.
     */
    static Path target(Path dir, String name) throws IOException {
        if (Files.isRegularFile(dir)) {
            return dir;
        }
        List<Path> candidates;
        try (var files = Files.list(dir)) {
            candidates = files.filter(f -> EXTENSIONS.stream().anyMatch(e -> f.getFileName().toString().endsWith(e)))
                    .sorted().toList();
        }
        for (Path f : candidates) {
            String file = f.getFileName().toString();
            if (name != null && (file.equals(name) || file.substring(0, file.lastIndexOf('.')).equals(name))) {
                return f;
            }
        }
        if (Files.isRegularFile(dir.resolve("config.json"))) {
            return dir; // a timm hub or Hugging Face folder
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        throw new IOException(dir + ": " + (candidates.isEmpty() ? "no checkpoint (" + String.join(", ", EXTENSIONS)
                + ") in this folder" : "several checkpoints in this folder and none named " + name + ": point the URL "
                + "at the file"));
    }
}
