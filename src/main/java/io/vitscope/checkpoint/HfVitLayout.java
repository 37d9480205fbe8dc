package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.DType;
import io.vitscope.weights.TensorSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hugging Face transformers' {@code ViTForImageClassification} / {@code ViTModel} parameter names converted to timm's,
 * the inverse of transformers' {@code convert_vit_timm_to_pytorch.py} and in the spirit of timm's
 * {@code checkpoint_filter_fn}: a pure name → tensor map function that reads no data.
 *
 * <pre>
 * vit.embeddings.cls_token                                   → cls_token                (1, 1, D)
 * vit.embeddings.position_embeddings                         → pos_embed                (1, T, D)
 * vit.embeddings.patch_embeddings.projection.{weight,bias}   → patch_embed.proj.*       (D, C, P, P), (D)
 * vit.encoder.layer.N.layernorm_before.*                     → blocks.N.norm1.*
 * vit.encoder.layer.N.attention.attention.{query,key,value}.* → blocks.N.attn.qkv.*     (3D, D), (3D): q, k, v along dim 0
 * vit.encoder.layer.N.attention.output.dense.*               → blocks.N.attn.proj.*
 * vit.encoder.layer.N.layernorm_after.*                      → blocks.N.norm2.*
 * vit.encoder.layer.N.intermediate.dense.*                   → blocks.N.mlp.fc1.*       (M, D)
 * vit.encoder.layer.N.output.dense.*                         → blocks.N.mlp.fc2.*       (D, M)
 * vit.layernorm.*                                            → norm.*
 * classifier.*                                               → head.*                   (K, D)
 * </pre>
 *
 * The {@code vit.} prefix is optional ({@code ViTModel} checkpoints have none). HF's pooler ({@code pooler.dense.*},
 * a dense + tanh on the class token that {@code ViTForImageClassification} never uses and timm does not have) and the
 * masked-image-modeling {@code embeddings.mask_token} are dropped with one WARN log line; {@link #ignoredNames} lists
 * them for callers that report it themselves. Names not recognised pass through unchanged, as in timm, so that the
 * model's strict loading reports them as unexpected.
 *
 * <p>The concatenated qkv tensors are lazy too: their three parts are read, one after the other into the one buffer,
 * only when the model asks for the data.
 */
public final class HfVitLayout {

    private static final Logger LOG = LoggerFactory.getLogger(HfVitLayout.class);

    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final Pattern QKV = Pattern.compile("attention\\.attention\\.(query|key|value)\\.(weight|bias)");
    private static final List<String> QKV_PARTS = List.of("query", "key", "value");

    private static final Map<String, String> TOP = Map.of(
            "embeddings.cls_token", "cls_token",
            "embeddings.position_embeddings", "pos_embed",
            "embeddings.patch_embeddings.projection.weight", "patch_embed.proj.weight",
            "embeddings.patch_embeddings.projection.bias", "patch_embed.proj.bias",
            "layernorm.weight", "norm.weight",
            "layernorm.bias", "norm.bias");

    private static final Map<String, String> IN_LAYER = Map.ofEntries(
            Map.entry("layernorm_before.weight", "norm1.weight"),
            Map.entry("layernorm_before.bias", "norm1.bias"),
            Map.entry("attention.output.dense.weight", "attn.proj.weight"),
            Map.entry("attention.output.dense.bias", "attn.proj.bias"),
            Map.entry("layernorm_after.weight", "norm2.weight"),
            Map.entry("layernorm_after.bias", "norm2.bias"),
            Map.entry("intermediate.dense.weight", "mlp.fc1.weight"),
            Map.entry("intermediate.dense.bias", "mlp.fc1.bias"),
            Map.entry("output.dense.weight", "mlp.fc2.weight"),
            Map.entry("output.dense.bias", "mlp.fc2.bias"));

    private static final List<String> IGNORED = List.of("pooler.dense.weight", "pooler.dense.bias",
            "embeddings.mask_token");

    private HfVitLayout() {}

    /** The timm name of an HF name, or null when it is ignored or not a ViT parameter (qkv parts map to qkv). */
    static String timmName(String hfName) {
        if (hfName.startsWith("classifier.")) {
            return "head." + hfName.substring("classifier.".length());
        }
        String n = stripPrefix(hfName);
        String top = TOP.get(n);
        if (top != null) {
            return top;
        }
        Matcher m = LAYER.matcher(n);
        if (m.matches()) {
            String rest = m.group(2);
            Matcher q = QKV.matcher(rest);
            if (q.matches()) {
                return "blocks." + m.group(1) + ".attn.qkv." + q.group(2);
            }
            String inLayer = IN_LAYER.get(rest);
            if (inLayer != null) {
                return "blocks." + m.group(1) + "." + inLayer;
            }
        }
        return null;
    }

    private static String stripPrefix(String name) {
        return name.startsWith("vit.") ? name.substring(4) : name;
    }

    /** The names of an HF checkpoint that {@link #toTimm} leaves out on purpose (the pooler, the mask token). */
    public static List<String> ignoredNames(Collection<String> hfNames) {
        List<String> out = new ArrayList<>();
        for (String n : hfNames) {
            if (IGNORED.contains(stripPrefix(n))) {
                out.add(n);
            }
        }
        return out;
    }

    /** Whether a name is one of HF ViT's own (used to tell the layout apart). */
    static boolean isHfVitName(String name) {
        String n = stripPrefix(name);
        return TOP.containsKey(n) && !n.startsWith("layernorm") || LAYER.matcher(n).matches();
    }

    /**
     * Converts an HF ViT checkpoint's tensors to timm names, in the input's order (a qkv tensor takes the place of
     * its first part). No data is read.
     */
    public static Map<String, TensorSource> toTimm(Map<String, ? extends TensorSource> hf) {
        Map<String, TensorSource> out = new LinkedHashMap<>();
        Map<String, TensorSource[]> qkvParts = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        Path file = hf.values().stream().map(TensorSource::file).filter(f -> f != null).findFirst().orElse(null);
        for (Map.Entry<String, ? extends TensorSource> e : hf.entrySet()) {
            String hfName = e.getKey();
            TensorSource source = e.getValue();
            if (IGNORED.contains(stripPrefix(hfName))) {
                continue;
            }
            String timm = timmName(hfName);
            if (timm == null) {
                timm = hfName; // unknown: passed through for the loader to report
            }
            String previous = origin.putIfAbsent(timm, hfName);
            Matcher q = LAYER.matcher(stripPrefix(hfName));
            Matcher qkv = q.matches() ? QKV.matcher(q.group(2)) : null;
            if (qkv != null && qkv.matches()) {
                TensorSource[] parts = qkvParts.computeIfAbsent(timm, k -> new TensorSource[3]);
                int i = QKV_PARTS.indexOf(qkv.group(1));
                if (parts[i] != null) {
                    throw new InvalidInputException(file, "tensors '" + parts[i].name() + "' and '" + hfName
                            + "' both map to " + timm + " (" + qkv.group(1) + " part)");
                }
                parts[i] = source;
                out.putIfAbsent(timm, null); // its place; filled below
                continue;
            }
            if (previous != null) {
                throw new InvalidInputException(file, "tensors '" + previous + "' and '" + hfName + "' both map to "
                        + timm + ": the checkpoint mixes names with and without the 'vit.' prefix");
            }
            out.put(timm, renamed(timm, source));
        }
        for (Map.Entry<String, TensorSource[]> e : qkvParts.entrySet()) {
            out.put(e.getKey(), concat(file, e.getKey(), e.getValue()));
        }
        List<String> ignored = ignoredNames(hf.keySet());
        if (!ignored.isEmpty()) {
            LOG.warn("Ignoring {} of {}: timm's ViT has no pooler or mask token; the classifier reads the final "
                    + "norm's class token", ignored, file == null ? "the checkpoint" : file.getFileName());
        }
        return Collections.unmodifiableMap(out);
    }

    /** q, k and v stacked along dim 0: {@code (D, D) ×3 → (3D, D)} for weights, {@code (D) ×3 → (3D)} for biases. */
    private static TensorSource concat(Path file, String name, TensorSource[] parts) {
        for (int i = 0; i < 3; i++) {
            if (parts[i] == null) {
                TensorSource present = Arrays.stream(parts).filter(p -> p != null).findFirst().orElseThrow();
                throw new InvalidInputException(file, name + " needs query, key and value tensors but the "
                        + QKV_PARTS.get(i) + " part is missing (found '" + present.name() + "')");
            }
        }
        long[] shape = parts[0].shape();
        for (int i = 1; i < 3; i++) {
            if (!Arrays.equals(parts[i].shape(), shape) || shape.length == 0) {
                throw new InvalidInputException(file, "query, key and value tensors for " + name
                        + " must share one shape of rank 1 or more; found " + Shapes.format(parts[0].shape()) + ", "
                        + Shapes.format(parts[1].shape()) + " and " + Shapes.format(parts[2].shape()));
            }
        }
        long[] stacked = shape.clone();
        stacked[0] = Math.multiplyExact(shape[0], 3);
        List<TensorSource> list = List.of(parts);
        String description = name + " " + Shapes.format(stacked) + " = cat(" + parts[0].name() + ", " + parts[1].name()
                + ", " + parts[2].name() + ")";
        // The stack is as unfit for weights as its least fit part.
        DType dtype = Arrays.stream(parts).map(TensorSource::dtype).filter(t -> !t.isFloatingPoint()).findFirst()
                .orElse(parts[0].dtype());
        return TensorSource.derived(name, stacked, file, dtype, description, dst -> {
            for (TensorSource p : list) {
                p.readInto(dst); // each part is contiguous, so stacking along dim 0 is appending
            }
        });
    }

    /** The same data under another name. */
    static TensorSource renamed(String name, TensorSource source) {
        if (source.name().equals(name)) {
            return source;
        }
        return TensorSource.derived(name, source.shape(), source.file(), source.dtype(),
                name + " " + Shapes.format(source.shape()) + " <- " + source.name(), source::readInto);
    }
}
