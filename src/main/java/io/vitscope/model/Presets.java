package io.vitscope.model;

import io.vitscope.InvalidArgumentException;
import io.vitscope.image.DataConfig;
import static io.vitscope.image.DataConfig.IMAGENET_DEFAULT_MEAN;
import static io.vitscope.image.DataConfig.IMAGENET_DEFAULT_STD;
import static io.vitscope.image.DataConfig.IMAGENET_INCEPTION_MEAN;
import static io.vitscope.image.DataConfig.IMAGENET_INCEPTION_STD;

import io.vitscope.image.DataConfig.Interpolation;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The named architectures, as timm's model registry names them, each with the data config of its default
 * pretrained tag ({@code default_cfgs} in timm's {@code vision_transformer.py} and {@code deit.py}).
 */
public final class Presets {

    /** A registered architecture: what the network is and how its input is prepared. */
    public record Preset(String name, VitConfig config, DataConfig dataConfig, String defaultTag) {}

    private static final Map<String, Preset> REGISTRY = new LinkedHashMap<>();

    static {
        // ViT (Dosovitskiy et al. 2020): inception mean/std, crop_pct 0.9, bicubic.
        vit("vit_tiny_patch16_224", 16, 192, 12, 3, "augreg_in21k_ft_in1k");
        vit("vit_small_patch16_224", 16, 384, 12, 6, "augreg_in21k_ft_in1k");
        vit("vit_base_patch16_224", 16, 768, 12, 12, "orig_in21k_ft_in1k");
        vit("vit_base_patch32_224", 32, 768, 12, 12, "augreg_in21k_ft_in1k");
        vit("vit_large_patch16_224", 16, 1024, 24, 16, "augreg_in21k_ft_in1k");
        // DeiT (Touvron et al. 2021): ImageNet mean/std, crop_pct 0.875, bicubic.
        deit("deit_tiny_patch16_224", 192, 3);
        deit("deit_small_patch16_224", 384, 6);
        deit("deit_base_patch16_224", 768, 12);
    }

    private Presets() {}

    private static void vit(String name, int patch, int dim, int depth, int heads, String tag) {
        register(new Preset(name, VitConfig.of(224, patch, 3, 1000, dim, depth, heads, 4.0),
                DataConfig.rgb(224, 0.9, Interpolation.BICUBIC, IMAGENET_INCEPTION_MEAN, IMAGENET_INCEPTION_STD), tag));
    }

    private static void deit(String name, int dim, int heads) {
        register(new Preset(name, VitConfig.of(224, 16, 3, 1000, dim, 12, heads, 4.0),
                DataConfig.rgb(224, 0.875, Interpolation.BICUBIC, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD),
                "fb_in1k"));
    }

    private static void register(Preset preset) {
        REGISTRY.put(preset.name(), preset);
    }

    /** The preset of that timm name; a name with a tag ({@code vit_base_patch16_224.augreg_in21k}) finds its architecture. */
    public static Optional<Preset> find(String name) {
        String arch = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
        return Optional.ofNullable(REGISTRY.get(arch));
    }

    /** Like {@link #find} but throws an error listing the valid names. */
    public static Preset get(String name) {
        return find(name).orElseThrow(() -> new InvalidArgumentException(
                "Unknown model '" + name + "'. Valid models: " + String.join(", ", names())));
    }

    public static Set<String> names() {
        return Collections.unmodifiableSet(REGISTRY.keySet());
    }
}
