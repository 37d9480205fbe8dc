package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Google's JAX/Flax ViT checkpoints ({@code .npz} of the original ViT release, AugReg, and big_vision) converted to
 * timm's names and layouts exactly as timm's {@code _load_weights} ({@code timm/models/vision_transformer.py}) does: a
 * pure name → tensor function; the transposes run lazily when the model reads a tensor.
 *
 * <pre>
 * Flax name (after the prefix)                             timm name            transform
 * embedding/kernel             (P, P, C, D)  HWIO          patch_embed.proj.weight  transpose(3, 2, 0, 1) → (D, C, P, P)
 * embedding/bias               (D)                         patch_embed.proj.bias
 * cls                          (1, 1, D)                   cls_token
 * Transformer/posembed_input/pos_embedding (1, T', D)      pos_embed            resampled when T' ≠ T (below)
 * Transformer/encoder_norm/{scale,bias}                    norm.{weight,bias}
 * head/kernel                  (D, K)                      head.weight          transpose → (K, D)
 * head/bias                    (K)                         head.bias
 * Transformer/encoderblock_N/
 *   LayerNorm_0/{scale,bias}                               blocks.N.norm1.*
 *   MultiHeadDotProductAttention_1/{query,key,value}/kernel (D, N, Dh)
 *                                                          blocks.N.attn.qkv.weight  each flatten(1).T, cat → (3D, D)
 *   MultiHeadDotProductAttention_1/{query,key,value}/bias  (N, Dh)
 *                                                          blocks.N.attn.qkv.bias    each reshape(-1), cat → (3D)
 *   MultiHeadDotProductAttention_1/out/kernel (N, Dh, D)   blocks.N.attn.proj.weight transpose(2, 0, 1).flatten(1)
 *   MultiHeadDotProductAttention_1/out/bias   (D)          blocks.N.attn.proj.bias
 *   LayerNorm_2/{scale,bias}                               blocks.N.norm2.*
 *   MlpBlock_3/Dense_{0,1}/kernel (in, out)                blocks.N.mlp.fc{1,2}.weight  transpose
 *   MlpBlock_3/Dense_{0,1}/bias                            blocks.N.mlp.fc{1,2}.bias
 * </pre>
 *
 * Prefixes, as timm tells them apart: none (the original release), {@code opt/target/} (checkpoints saved with the
 * optimizer), and {@code params/} or {@code params/img/} (big_vision, whose blocks use
 * {@code MultiHeadDotProductAttention_0}, {@code MlpBlock_0}, {@code LayerNorm_1} and whose position embedding is
 * {@code pos_embedding} at the top). A {@code pre_logits} layer (the representation layer of the first in21k
 * checkpoints) is dropped with a warning, as timm no longer loads it. Other names pass through unchanged, so strict
 * loading reports them as unexpected.
 *
 * <p><b>Position embeddings are resampled</b> when the checkpoint's grid differs from the model's (a checkpoint
 * trained at 224 used at 384, or the reverse), as timm's {@code resample_abs_pos_embed} does when called from
 * {@code _load_weights}: the class token's embedding is kept, the square grid of the rest is resized with bilinear
 * interpolation ({@code align_corners=False}, no antialias), see {@link #resample}.
 */
public final class FlaxVitLayout {

    private static final Logger LOG = LoggerFactory.getLogger(FlaxVitLayout.class);

    private static final Pattern BLOCK = Pattern.compile("Transformer/encoderblock_(\\d+)/(.+)");
    private static final List<String> QKV = List.of("query", "key", "value");

    private FlaxVitLayout() {}

    /** Whether the names are a Flax ViT's ({@code embedding/kernel}, {@code Transformer/encoderblock_N/...}). */
    public static boolean matches(Collection<String> names) {
        return names.stream().anyMatch(n -> n.endsWith("embedding/kernel") || n.contains("Transformer/encoderblock_"));
    }

    /** The prefix timm's {@code _load_weights} would use for these names. */
    public static String prefix(Collection<String> names) {
        if (names.contains("opt/target/embedding/kernel")) {
            return "opt/target/";
        }
        if (names.contains("params/embedding/kernel")) {
            return "params/";
        }
        if (names.contains("params/img/embedding/kernel")) {
            return "params/img/";
        }
        return "";
    }

    /**
     * Converts a Flax checkpoint's tensors to timm's names and layouts.
     *
     * @param gridHeight the model's patch grid (rows), or 0 to keep the checkpoint's position embedding as it is
     * @param gridWidth the model's patch grid (columns)
     */
    public static Map<String, TensorSource> toTimm(Path file, Map<String, ? extends TensorSource> tensors,
                                                   int gridHeight, int gridWidth) {
        String prefix = prefix(tensors.keySet());
        boolean bigVision = prefix.startsWith("params/");
        String mha = bigVision ? "MultiHeadDotProductAttention_0/" : "MultiHeadDotProductAttention_1/";
        String mlp = bigVision ? "MlpBlock_0/" : "MlpBlock_3/";
        String ln2 = bigVision ? "LayerNorm_1/" : "LayerNorm_2/";
        String posName = bigVision ? "pos_embedding" : "Transformer/posembed_input/pos_embedding";

        Map<String, TensorSource> out = new LinkedHashMap<>();
        Map<String, TensorSource[]> qkvWeights = new LinkedHashMap<>();
        Map<String, TensorSource[]> qkvBiases = new LinkedHashMap<>();
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, ? extends TensorSource> e : tensors.entrySet()) {
            String full = e.getKey();
            TensorSource t = e.getValue();
            if (!full.startsWith(prefix)) {
                out.put(full, t);
                continue;
            }
            String n = full.substring(prefix.length());
            switch (n) {
                case "embedding/kernel" -> {
                    long[] s = t.shape();
                    requireRank(file, t, 4);
                    out.put("patch_embed.proj.weight", Tensors.permuted("patch_embed.proj.weight", t,
                            new int[] {3, 2, 0, 1}, new long[] {s[3], s[2], s[0], s[1]}));
                    continue;
                }
                case "embedding/bias" -> {
                    out.put("patch_embed.proj.bias", Tensors.renamed("patch_embed.proj.bias", t));
                    continue;
                }
                case "cls" -> {
                    out.put("cls_token", Tensors.renamed("cls_token", t));
                    continue;
                }
                case "Transformer/encoder_norm/scale" -> {
                    out.put("norm.weight", Tensors.renamed("norm.weight", t));
                    continue;
                }
                case "Transformer/encoder_norm/bias" -> {
                    out.put("norm.bias", Tensors.renamed("norm.bias", t));
                    continue;
                }
                case "head/kernel" -> {
                    out.put("head.weight", transposed("head.weight", file, t));
                    continue;
                }
                case "head/bias" -> {
                    out.put("head.bias", Tensors.renamed("head.bias", t));
                    continue;
                }
                default -> { }
            }
            if (n.equals(posName)) {
                out.put("pos_embed", gridHeight > 0 ? resampled(file, t, gridHeight, gridWidth)
                        : Tensors.renamed("pos_embed", t));
                continue;
            }
            if (n.startsWith("pre_logits/")) {
                dropped.add(full);
                continue;
            }
            Matcher m = BLOCK.matcher(n);
            if (!m.matches()) {
                out.put(full, t);
                continue;
            }
            String b = "blocks." + m.group(1) + ".";
            String rest = m.group(2);
            String mapped = switch (rest) {
                case "LayerNorm_0/scale" -> b + "norm1.weight";
                case "LayerNorm_0/bias" -> b + "norm1.bias";
                default -> null;
            };
            if (rest.equals(ln2 + "scale")) {
                mapped = b + "norm2.weight";
            } else if (rest.equals(ln2 + "bias")) {
                mapped = b + "norm2.bias";
            }
            if (mapped != null) {
                out.put(mapped, Tensors.renamed(mapped, t));
                continue;
            }
            if (rest.startsWith(mha)) {
                String[] parts = rest.substring(mha.length()).split("/");
                if (parts.length == 2 && QKV.contains(parts[0])) {
                    int i = QKV.indexOf(parts[0]);
                    String name = b + "attn.qkv." + (parts[1].equals("kernel") ? "weight" : "bias");
                    if (parts[1].equals("kernel") || parts[1].equals("bias")) {
                        out.putIfAbsent(name, null); // its place; filled below
                        (parts[1].equals("kernel") ? qkvWeights : qkvBiases)
                                .computeIfAbsent(name, k -> new TensorSource[3])[i] = t;
                        continue;
                    }
                }
                if (parts.length == 2 && parts[0].equals("out") && parts[1].equals("kernel")) {
                    requireRank(file, t, 3);
                    long[] s = t.shape(); // (N, Dh, D)
                    out.put(b + "attn.proj.weight", Tensors.permuted(b + "attn.proj.weight", t, new int[] {2, 0, 1},
                            new long[] {s[2], s[0] * s[1]}));
                    continue;
                }
                if (parts.length == 2 && parts[0].equals("out") && parts[1].equals("bias")) {
                    out.put(b + "attn.proj.bias", Tensors.renamed(b + "attn.proj.bias", t));
                    continue;
                }
            }
            if (rest.startsWith(mlp + "Dense_")) {
                String[] parts = rest.substring((mlp + "Dense_").length()).split("/");
                if (parts.length == 2 && (parts[0].equals("0") || parts[0].equals("1"))) {
                    String fc = b + "mlp.fc" + (Integer.parseInt(parts[0]) + 1) + ".";
                    if (parts[1].equals("kernel")) {
                        out.put(fc + "weight", transposed(fc + "weight", file, t));
                        continue;
                    }
                    if (parts[1].equals("bias")) {
                        out.put(fc + "bias", Tensors.renamed(fc + "bias", t));
                        continue;
                    }
                }
            }
            out.put(full, t);
        }
        for (Map.Entry<String, TensorSource[]> e : qkvWeights.entrySet()) {
            TensorSource[] p = complete(file, e.getKey(), e.getValue());
            List<TensorSource> parts = new ArrayList<>();
            long rows = 0;
            long cols = -1;
            for (int i = 0; i < 3; i++) {
                requireRank(file, p[i], 3);
                long[] s = p[i].shape(); // (D, N, Dh) -> flatten(1).T = (N*Dh, D)
                parts.add(Tensors.permuted(e.getKey() + "[" + QKV.get(i) + "]", p[i], new int[] {1, 2, 0},
                        new long[] {s[1] * s[2], s[0]}));
                rows += s[1] * s[2];
                cols = s[0];
            }
            out.put(e.getKey(), Tensors.concat(e.getKey(), parts, new long[] {rows, cols}));
        }
        for (Map.Entry<String, TensorSource[]> e : qkvBiases.entrySet()) {
            TensorSource[] p = complete(file, e.getKey(), e.getValue());
            long n = p[0].size() + p[1].size() + p[2].size();
            out.put(e.getKey(), Tensors.concat(e.getKey(), List.of(p), new long[] {n}));
        }
        out.values().removeIf(v -> v == null);
        if (!dropped.isEmpty()) {
            LOG.warn("Ignoring {} of {}: timm's ViT has no representation (pre_logits) layer and does not load it",
                    dropped, file == null ? "the checkpoint" : file.getFileName());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorSource[] complete(Path file, String name, TensorSource[] parts) {
        for (int i = 0; i < 3; i++) {
            if (parts[i] == null) {
                throw new InvalidInputException(file, name + " needs query, key and value tensors but the "
                        + QKV.get(i) + " one is missing");
            }
        }
        return parts;
    }

    private static TensorSource transposed(String name, Path file, TensorSource t) {
        requireRank(file, t, 2);
        long[] s = t.shape();
        return Tensors.permuted(name, t, new int[] {1, 0}, new long[] {s[1], s[0]});
    }

    private static void requireRank(Path file, TensorSource t, int rank) {
        if (t.shape().length != rank) {
            throw new InvalidInputException(file, "tensor '" + t.name() + "' " + Shapes.format(t.shape())
                    + " should have rank " + rank + " in a Flax ViT checkpoint");
        }
    }

    /** The position embedding resampled to the model's grid when it differs, as {@code pos_embed}. */
    private static TensorSource resampled(Path file, TensorSource pos, int gh, int gw) {
        long[] s = pos.shape();
        if (s.length != 3 || s[0] != 1) {
            return Tensors.renamed("pos_embed", pos); // strict loading reports the shape
        }
        long tokens = s[1];
        if (tokens == (long) gh * gw + 1) {
            return Tensors.renamed("pos_embed", pos);
        }
        int old = (int) Math.round(Math.sqrt(tokens - 1));
        if ((long) old * old != tokens - 1) {
            throw new InvalidInputException(file, "the position embedding has " + tokens + " tokens: 1 class token "
                    + "plus " + (tokens - 1) + ", which is not a square grid to resample to the model's " + gh + "x" + gw);
        }
        int d = (int) s[2];
        LOG.warn("Resampling the position embedding of {} from a {}x{} grid to {}x{} (bilinear, as timm's "
                + "resample_abs_pos_embed)", file == null ? "the checkpoint" : file.getFileName(), old, old, gh, gw);
        long[] outShape = {1, (long) gh * gw + 1, d};
        return TensorSource.derived("pos_embed", outShape, file, "pos_embed " + Shapes.format(outShape) + " = resample("
                + pos.name() + " " + Shapes.format(s) + ", " + gh + "x" + gw + ")", dst -> {
                    float[] in = pos.toFloatArray();
                    float[] res = resample(in, old, old, gh, gw, d);
                    ByteBuffer le = dst.order() == ByteOrder.LITTLE_ENDIAN ? dst
                            : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                    le.asFloatBuffer().put(res);
                    le.position(le.position() + res.length * Float.BYTES);
                    if (le != dst) {
                        dst.position(le.position());
                    }
                });
    }

    /**
     * timm's {@code resample_abs_pos_embed(posemb, new_size, num_prefix_tokens=1, interpolation='bilinear',
     * antialias=False)}: the first token is kept; the others, a row-major (oldH, oldW) grid of D-vectors, are resized
     * to (newH, newW) as {@code F.interpolate(mode='bilinear', align_corners=False)} does — source coordinate
     * {@code (dst + 0.5) * in / out - 0.5} clamped at 0, the two neighbours weighted linearly, the last row and column
     * repeated at the edge.
     *
     * @param posemb (1, 1 + oldH × oldW, D) row-major
     * @return (1, 1 + newH × newW, D) row-major
     */
    static float[] resample(float[] posemb, int oldH, int oldW, int newH, int newW, int d) {
        float[] out = new float[(1 + newH * newW) * d];
        System.arraycopy(posemb, 0, out, 0, d);
        int[] y0 = new int[newH];
        int[] y1 = new int[newH];
        float[] ly = new float[newH];
        indices(oldH, newH, y0, y1, ly);
        int[] x0 = new int[newW];
        int[] x1 = new int[newW];
        float[] lx = new float[newW];
        indices(oldW, newW, x0, x1, lx);
        FloatBuffer src = FloatBuffer.wrap(posemb);
        for (int oy = 0; oy < newH; oy++) {
            float h1 = ly[oy];
            float h0 = 1f - h1;
            for (int ox = 0; ox < newW; ox++) {
                float w1 = lx[ox];
                float w0 = 1f - w1;
                int a = d * (1 + y0[oy] * oldW + x0[ox]);
                int b = d * (1 + y0[oy] * oldW + x1[ox]);
                int c = d * (1 + y1[oy] * oldW + x0[ox]);
                int e = d * (1 + y1[oy] * oldW + x1[ox]);
                int o = d * (1 + oy * newW + ox);
                for (int k = 0; k < d; k++) {
                    out[o + k] = h0 * (w0 * src.get(a + k) + w1 * src.get(b + k))
                            + h1 * (w0 * src.get(c + k) + w1 * src.get(e + k));
                }
            }
        }
        return out;
    }

    /** PyTorch's {@code area_pixel_compute_source_index} and {@code compute_indices_weights_linear} (no cubic). */
    private static void indices(int in, int out, int[] i0, int[] i1, float[] lambda) {
        float scale = (float) in / out;
        for (int o = 0; o < out; o++) {
            float src = scale * (o + 0.5f) - 0.5f;
            if (src < 0) {
                src = 0;
            }
            int lo = (int) src;
            i0[o] = lo;
            i1[o] = lo + (lo < in - 1 ? 1 : 0);
            lambda[o] = Math.min(Math.max(src - lo, 0f), 1f);
        }
    }
}
