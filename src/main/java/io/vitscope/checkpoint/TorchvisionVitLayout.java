package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.TensorSource;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * torchvision's {@code VisionTransformer} ({@code vit_b_16}, {@code vit_b_32}, {@code vit_l_16}, {@code vit_l_32},
 * {@code vit_h_14}; {@code torchvision/models/vision_transformer.py}) parameter names converted to timm's: a pure
 * name → tensor function that reads no data. Every tensor keeps its layout — torchvision's
 * {@code nn.MultiheadAttention} packs q, k, v along dim 0 exactly as timm's qkv Linear does, and both use
 * LayerNorm eps 1e-6 and exact GELU — so the conversion is a renaming.
 *
 * <pre>
 * class_token                                              → cls_token           (1, 1, D)
 * conv_proj.{weight,bias}                                  → patch_embed.proj.*  (D, C, P, P), (D)
 * encoder.pos_embedding                                    → pos_embed           (1, T, D)
 * encoder.layers.encoder_layer_N.ln_1.*                    → blocks.N.norm1.*
 * encoder.layers.encoder_layer_N.self_attention.in_proj_{weight,bias} → blocks.N.attn.qkv.*  (3D, D), (3D)
 * encoder.layers.encoder_layer_N.self_attention.out_proj.* → blocks.N.attn.proj.*
 * encoder.layers.encoder_layer_N.ln_2.*                    → blocks.N.norm2.*
 * encoder.layers.encoder_layer_N.mlp.{0,linear_1}.*        → blocks.N.mlp.fc1.*  (M, D)
 * encoder.layers.encoder_layer_N.mlp.{3,linear_2}.*        → blocks.N.mlp.fc2.*  (D, M)
 * encoder.ln.*                                             → norm.*
 * heads.head.*                                             → head.*              (K, D)
 * </pre>
 *
 * ({@code mlp.linear_1/2} are the names before torchvision 0.13, which its {@code MLPBlock} still accepts.) Names
 * not in the table ({@code heads.pre_logits.*} of a model built with a representation layer) pass through
 * unchanged, so that strict loading reports them as unexpected.
 */
public final class TorchvisionVitLayout {

    private static final Pattern LAYER = Pattern.compile("encoder\\.layers\\.encoder_layer_(\\d+)\\.(.+)");

    private static final Map<String, String> TOP = Map.of(
            "class_token", "cls_token",
            "conv_proj.weight", "patch_embed.proj.weight",
            "conv_proj.bias", "patch_embed.proj.bias",
            "encoder.pos_embedding", "pos_embed",
            "encoder.ln.weight", "norm.weight",
            "encoder.ln.bias", "norm.bias",
            "heads.head.weight", "head.weight",
            "heads.head.bias", "head.bias");

    private static final Map<String, String> IN_LAYER = Map.ofEntries(
            Map.entry("ln_1.weight", "norm1.weight"),
            Map.entry("ln_1.bias", "norm1.bias"),
            Map.entry("self_attention.in_proj_weight", "attn.qkv.weight"),
            Map.entry("self_attention.in_proj_bias", "attn.qkv.bias"),
            Map.entry("self_attention.out_proj.weight", "attn.proj.weight"),
            Map.entry("self_attention.out_proj.bias", "attn.proj.bias"),
            Map.entry("ln_2.weight", "norm2.weight"),
            Map.entry("ln_2.bias", "norm2.bias"),
            Map.entry("mlp.0.weight", "mlp.fc1.weight"),
            Map.entry("mlp.0.bias", "mlp.fc1.bias"),
            Map.entry("mlp.linear_1.weight", "mlp.fc1.weight"),
            Map.entry("mlp.linear_1.bias", "mlp.fc1.bias"),
            Map.entry("mlp.3.weight", "mlp.fc2.weight"),
            Map.entry("mlp.3.bias", "mlp.fc2.bias"),
            Map.entry("mlp.linear_2.weight", "mlp.fc2.weight"),
            Map.entry("mlp.linear_2.bias", "mlp.fc2.bias"));

    private TorchvisionVitLayout() {}

    /** Whether the names are torchvision's ViT ones. */
    public static boolean matches(Collection<String> names) {
        return names.contains("conv_proj.weight") || names.contains("class_token")
                || names.stream().anyMatch(n -> LAYER.matcher(n).matches());
    }

    /** timm's name of a torchvision name, or the name itself when it is not in the table. */
    public static String timmName(String name) {
        String top = TOP.get(name);
        if (top != null) {
            return top;
        }
        Matcher m = LAYER.matcher(name);
        if (m.matches()) {
            String inLayer = IN_LAYER.get(m.group(2));
            if (inLayer != null) {
                return "blocks." + m.group(1) + "." + inLayer;
            }
        }
        return name;
    }

    /** The tensors under timm's names, in the input's order; no data is read. */
    public static Map<String, TensorSource> toTimm(Path file, Map<String, ? extends TensorSource> tensors) {
        Map<String, TensorSource> out = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends TensorSource> e : tensors.entrySet()) {
            String timm = timmName(e.getKey());
            String previous = origin.putIfAbsent(timm, e.getKey());
            if (previous != null) {
                throw new InvalidInputException(file, "tensors '" + previous + "' and '" + e.getKey() + "' both map to "
                        + timm + " (the checkpoint mixes mlp.0/mlp.3 with the older mlp.linear_1/linear_2 names)");
            }
            out.put(timm, Tensors.renamed(timm, e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }
}
