package io.vitscope.checkpoint;

import io.vitscope.model.Presets;
import io.vitscope.model.Presets.Preset;
import io.vitscope.model.VitConfig;
import io.vitscope.weights.TensorSource;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The architecture a timm-named state dict was made for, read from its tensor shapes: patch size, channels and width
 * from {@code patch_embed.proj.weight}, the grid from {@code pos_embed}, depth from the highest block index, the MLP
 * ratio from {@code fc1}, classes from {@code head}, distillation from {@code dist_token}. The number of heads is not
 * in any shape: it is taken from the preset with the same shapes, else guessed as D / 64 (every ViT preset but
 * ViT-H uses 64-wide heads) and said to be a guess.
 *
 * @param preset the preset whose architecture this is, if one matches every inferred number
 * @param headsGuessed whether the number of heads is a guess (no preset matched)
 */
public record Architectures(VitConfig config, Optional<String> preset, boolean headsGuessed) {

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\..*");

    /** The architecture of these timm-named tensors, or empty when the essential tensors are missing or odd. */
    public static Optional<Architectures> infer(Map<String, ? extends TensorSource> timm) {
        try {
            TensorSource proj = timm.get("patch_embed.proj.weight");
            TensorSource pos = timm.get("pos_embed");
            TensorSource fc1 = timm.get("blocks.0.mlp.fc1.weight");
            TensorSource head = timm.get("head.weight");
            if (proj == null || pos == null || fc1 == null || head == null) {
                return Optional.empty();
            }
            long[] p = proj.shape();
            long[] t = pos.shape();
            if (p.length != 4 || p[2] != p[3] || t.length != 3) {
                return Optional.empty();
            }
            int d = (int) p[0];
            int chans = (int) p[1];
            int patch = (int) p[2];
            boolean distilled = timm.containsKey("dist_token");
            long patches = t[1] - (distilled ? 2 : 1);
            int grid = (int) Math.round(Math.sqrt(patches));
            if ((long) grid * grid != patches) {
                return Optional.empty();
            }
            int depth = 0;
            for (String n : timm.keySet()) {
                Matcher m = BLOCK.matcher(n);
                if (m.matches()) {
                    depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
                }
            }
            double mlpRatio = fc1.shape()[0] / (double) d;
            int classes = (int) head.shape()[0];
            boolean qkvBias = timm.containsKey("blocks.0.attn.qkv.bias");
            for (Preset preset : Presets.all()) {
                VitConfig c = preset.config();
                if (c.embedDim() == d && c.patchSize() == patch && c.depth() == depth && c.mlpRatio() == mlpRatio
                        && c.distilled() == distilled && c.inChans() == chans) {
                    VitConfig fit = new VitConfig(grid * patch, grid * patch, patch, chans, classes, d, depth,
                            c.numHeads(), mlpRatio, qkvBias, c.layerNormEps(), distilled);
                    boolean exact = fit.equals(c);
                    return Optional.of(new Architectures(fit, exact ? Optional.of(preset.name()) : Optional.empty(),
                            false));
                }
            }
            int heads = d % 64 == 0 ? d / 64 : 1;
            return Optional.of(new Architectures(new VitConfig(grid * patch, grid * patch, patch, chans, classes, d,
                    depth, heads, mlpRatio, qkvBias, 1e-6, distilled), Optional.empty(), true));
        } catch (RuntimeException e) {
            return Optional.empty(); // shapes that make no config: the caller reports the architecture as unknown
        }
    }

    @Override
    public String toString() {
        VitConfig c = config;
        return (c.distilled() ? "distilled " : "") + "ViT patch " + c.patchSize() + ", " + c.imgHeight() + "x"
                + c.imgWidth() + ", " + c.inChans() + " channels, dim " + c.embedDim() + ", depth " + c.depth()
                + ", heads " + c.numHeads() + (headsGuessed ? " (guessed: D / 64; not in the weights)" : "")
                + ", mlp ratio " + c.mlpRatio() + ", " + c.numClasses() + " classes"
                + preset.map(p -> " = preset " + p).orElse("");
    }
}
