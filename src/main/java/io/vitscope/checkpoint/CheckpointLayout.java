package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.TensorSource;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** How a ViT checkpoint names its parameters: timm's way, or Hugging Face transformers' way. */
public enum CheckpointLayout {
    /** timm's {@code VisionTransformer} names: {@code patch_embed.proj.weight}, {@code blocks.N.attn.qkv.weight}. */
    TIMM,
    /** transformers' {@code ViTForImageClassification} / {@code ViTModel} names: {@code vit.encoder.layer.N...}. */
    HF_VIT;

    /**
     * Tells the layout from the tensor names; an {@link InvalidInputException} naming the file and a few of the
     * names when it is neither.
     */
    public static CheckpointLayout detect(Path file, Collection<String> names) {
        boolean timm = names.stream().anyMatch(n -> n.equals("patch_embed.proj.weight") || n.startsWith("blocks."));
        boolean hf = names.stream().anyMatch(HfVitLayout::isHfVitName);
        if (timm && !hf) {
            return TIMM;
        }
        if (hf && !timm) {
            return HF_VIT;
        }
        String sample = names.stream().limit(6).map(n -> "'" + n + "'").collect(Collectors.joining(", "));
        String what = timm
                ? "mixes timm names (patch_embed.*, blocks.N.*) with Hugging Face ones (vit.encoder.layer.N.*)"
                : "is neither a timm ViT checkpoint (patch_embed.proj.weight, blocks.N.*) nor a Hugging Face "
                        + "ViT one (vit.embeddings.*, vit.encoder.layer.N.*)";
        throw new InvalidInputException(file, "this checkpoint " + what + "; found " + names.size() + " tensors"
                + (names.isEmpty() ? "" : ": " + sample + (names.size() > 6 ? ", ..." : "")));
    }

    /** The tensors under timm's names: as they are for a timm checkpoint, converted for an HF one. */
    public static Map<String, TensorSource> toTimm(Path file, Map<String, ? extends TensorSource> tensors) {
        return switch (detect(file, tensors.keySet())) {
            case TIMM -> Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            case HF_VIT -> HfVitLayout.toTimm(tensors);
        };
    }
}
