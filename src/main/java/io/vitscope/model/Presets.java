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
        // DeiT distilled (timm's VisionTransformerDistilled): dist_token and head_dist, output the mean of both heads.
        deitDistilled("deit_tiny_distilled_patch16_224", 192, 3);
        deitDistilled("deit_small_distilled_patch16_224", 384, 6);
        deitDistilled("deit_base_distilled_patch16_224", 768, 12);
        // torchvision's ViTs (torchvision.models.vit_*): its preprocessing for its IMAGENET1K_V1 weights is resize 256
        // bilinear, centre crop 224, ImageNet mean/std, i.e. crop_pct 224/256.
        torchvision("vit_b_16", 16, 768, 12, 12);
        torchvision("vit_b_32", 32, 768, 12, 12);
        torchvision("vit_l_16", 16, 1024, 24, 16);
        torchvision("vit_l_32", 32, 1024, 24, 16);
        torchvision("vit_h_14", 14, 1280, 32, 16);
    }

    /** torchvision's eval transform for its ViT weights, for a square input of this size. */
    public static DataConfig torchvisionDataConfig(int size) {
        return DataConfig.rgb(size, 224.0 / 256.0, Interpolation.BILINEAR, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD);
    }

    private static void deitDistilled(String name, int dim, int heads) {
        register(new Preset(name, VitConfig.of(224, 16, 3, 1000, dim, 12, heads, 4.0).withDistilled(true),
                DataConfig.rgb(224, 0.875, Interpolation.BICUBIC, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD),
                "fb_in1k"));
    }

    private static void torchvision(String name, int patch, int dim, int depth, int heads) {
        register(new Preset(name, VitConfig.of(224, patch, 3, 1000, dim, depth, heads, 4.0),
                torchvisionDataConfig(224), "IMAGENET1K_V1"));
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

    /** Every preset, in registration order. */
    public static java.util.Collection<Preset> all() {
        return Collections.unmodifiableCollection(REGISTRY.values());
    }

    public static Set<String> names() {
        return Collections.unmodifiableSet(REGISTRY.keySet());
    }
}
