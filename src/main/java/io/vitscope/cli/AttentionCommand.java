package io.vitscope.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.VitscopeException;
import io.vitscope.analysis.Attention;
import io.vitscope.analysis.AttentionRollout;
import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.experiment.Classifier;
import io.vitscope.experiment.Input;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.experiment.Prediction;
import io.vitscope.model.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.plot.Plots;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import io.vitscope.relevance.Method;
import io.vitscope.relevance.Relevance;
import io.vitscope.relevance.RelevanceMap;
import io.vitscope.weights.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vitscope attention}: NoPdb's ViT tutorial figure — the image with each patch as bright as the attention it
 * receives, one panel per head of one block — or the attention rollout through blocks 0..I as one panel.
 *
 * <p>Abbreviations: N heads, T tokens, P panels, G_h × G_w the patch grid.
 */
@Command(name = "attention", mixinStandardHelpOptions = true,
        description = {"Plot how much attention each patch of an image receives in one block (one panel per head), "
                + "or the attention rollout through blocks 0..I (one panel).",
            "Modes: mean = per head, attn[h, :, 1:] averaged over all query rows (the NoPdb tutorial); "
                + "cls = the class token's row attn[h, 0, 1:]; rollout = Abnar & Zuidema's rollout of the class "
                + "token (head fusion and discard as in vit-explain).",
            "Gradient modes (one panel, the relevance of the --target class, see docs/relevance.md): chefer = Chefer et "
                + "al.'s rule; grad-rollout = rollout of mean_h(A*dA)+ with each block's own gradient; attn-gradcam = "
                + "Grad-CAM on the last block's attention; integrated-gradients = IG from a zero baseline (normalised), "
                + "Gauss-Legendre rule, summed per patch."})
public final class AttentionCommand implements Callable<Integer> {

    enum Mode {
        mean(null), cls(null), rollout(null), chefer(Method.CHEFER), grad_rollout(Method.GRAD_ROLLOUT),
        attn_gradcam(Method.ATTN_GRADCAM), integrated_gradients(Method.INTEGRATED_GRADIENTS);

        final Method method;

        Mode(Method method) {
            this.method = method;
        }

        String cliName() {
            return name().replace('_', '-');
        }

        static String names() {
            StringBuilder sb = new StringBuilder();
            for (Mode m : values()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(m.cliName());
            }
            return sb.toString();
        }
    }

    /** Takes the modes as written on the command line ({@code grad-rollout}). */
    static final class ModeConverter implements ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            for (Mode m : Mode.values()) {
                if (m.cliName().equals(value.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--mode must be one of " + Mode.names() + ", got '" + value + "'");
        }
    }

    enum FusionName { mean, max, min }

    enum Format { png, svg }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "IMAGE",
            description = "An image file, or a .npy tensor [3,H,W] / [N,3,H,W] already preprocessed (see --index).")
    Path image;

    @Option(names = "--block", paramLabel = "I",
            description = "The block, 0-based: blocks.I (the tutorial's fifth block is 4). For rollout, the last block "
                    + "rolled through. Required for mean, cls and rollout; the gradient modes use every block.")
    Integer block;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The figure, FILE.png or FILE.svg.")
    Path out;

    @Option(names = "--mode", defaultValue = "mean", converter = ModeConverter.class,
            description = "mean, cls, rollout, chefer, grad-rollout, attn-gradcam or integrated-gradients "
                    + "(default ${DEFAULT-VALUE}).")
    Mode mode;

    @Option(names = "--target", paramLabel = "CLASS",
            description = "Gradient modes: the class index whose logit is explained (default: the top-1).")
    Integer target;

    @Option(names = "--ig-steps", paramLabel = "N",
            description = "integrated-gradients: Gauss-Legendre points on the path (default 50).")
    Integer igSteps;

    @Option(names = "--heads", paramLabel = "all|LIST", defaultValue = "all",
            description = "Heads to show, e.g. 0,3,5 (default ${DEFAULT-VALUE}); mean and cls only.")
    String heads;

    @Option(names = "--fusion", description = "Rollout head fusion: mean, max or min (default mean).")
    FusionName fusion;

    @Option(names = "--discard", paramLabel = "R",
            description = "rollout and grad-rollout: zero this fraction of the smallest fused weights per block, in "
                    + "[0, 1) (default 0).")
    Double discard;

    @Option(names = "--scale-attn-logits", paramLabel = "S",
            description = "Multiply every attention layer's pre-softmax logits by S first (NoPdb's 'attn = attn * 3').")
    Double scale;

    @Option(names = "--format", description = "png or svg (default: from the --out extension).")
    Format format;

    @Option(names = "--save-weights", paramLabel = "FILE.npy",
            description = "Also write the plotted weights as float32 [panels, grid_h, grid_w], before any display "
                    + "normalisation (gradient modes: [1, grid_h, grid_w], integrated gradients' negatives included).")
    Path saveWeights;

    @Option(names = "--index", paramLabel = "B", defaultValue = "0",
            description = "Which image of an [N,3,H,W] .npy tensor (default ${DEFAULT-VALUE}).")
    int index;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "4",
            description = "Panels per row (default ${DEFAULT-VALUE}: 12 heads make 3 rows of 4).")
    int columns;

    @Option(names = "--width", paramLabel = "PX", defaultValue = "1000",
            description = "Figure width in pixels; the height follows (default ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--shared-scale",
            description = "Scale every panel to the largest weight of all panels (comparable panels, one colour bar) "
                    + "instead of each to its own.")
    boolean sharedScale;

    @Override
    public Integer call() {
        Plots.Format fmt = checkOptions();
        PrintWriter stdout = spec.commandLine().getOut();
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager();
             Probe probe = Probe.on(loaded.model())) {
            VitConfig cfg = loaded.config();
            if (block != null && (block < 0 || block >= cfg.depth())) {
                throw new IllegalArgumentException("--block " + block + " is out of range: " + loaded.name() + " has "
                        + cfg.depth() + " blocks, use 0.." + (cfg.depth() - 1));
            }
            int[] headList = parseHeads(heads, cfg.numHeads());
            Classifier classifier = new Classifier(loaded);
            Input input = pick(classifier.read(image));

            if (scale != null) {
                LogitScaling.install(probe, scale);
            }
            if (mode.method != null) {
                return gradientMode(loaded, classifier, input, stdout, fmt);
            }
            CallCapture capture = mode == Mode.rollout ? probe.captureCalls("blocks.*.attn")
                    : probe.captureCall("blocks." + block + ".attn");
            NDArray logits = classifier.logits(classifier.batch(manager, List.of(input)));    // (1, K)
            Prediction top1 = classifier.top(logits, 1).get(0).get(0);

            int gh = cfg.gridHeight();
            int gw = cfg.gridWidth();
            float[][][] weights;                                                             // (P, G_h, G_w)
            List<String> titles = new ArrayList<>();
            if (mode == Mode.rollout) {
                List<NDArray> blocks = new ArrayList<>();
                for (CallRecord c : capture.all().subList(0, block + 1)) {
                    blocks.add(c.tensor("attn"));                                            // (1, N, T, T)
                }
                float[] r = AttentionRollout.rolloutOf(blocks, fusion(), discard == null ? 0 : discard); // (L)
                weights = new float[][][] {Attention.toGrid(r, gh, gw)};
                titles.add(block == 0 ? "rollout · block 0" : "rollout · blocks 0–" + block);
            } else {
                float[][][] all = PatchWeights.grid(capture.get().tensor("attn"),             // (1, N, T, T)
                        mode == Mode.cls ? PatchWeights.Mode.CLS : PatchWeights.Mode.MEAN, gh, gw); // (N, G_h, G_w)
                weights = new float[headList.length][][];
                for (int i = 0; i < headList.length; i++) {
                    weights[i] = all[headList[i]];
                    titles.add("block " + block + " · head " + headList[i]);
                }
            }
            if (saveWeights != null) {
                writeWeights(weights);
            }

            BufferedImage shown = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
            AttentionGrid grid = AttentionGrid.builder().setImage(shown).setWeights(weights).optPanelTitles(titles)
                    .optTitle(title(input, loaded, top1)).optColumns(columns)
                    .optScale(sharedScale ? AttentionGrid.Scale.SHARED : AttentionGrid.Scale.PER_PANEL).build();
            Plots.save(grid, out, fmt, width, 0);
            stdout.println("Wrote " + out + " (" + describe(weights.length, gh, gw) + "; top-1 " + top1.label() + " "
                    + String.format(Locale.ROOT, "%.4f", top1.probability()) + ")");
            if (saveWeights != null) {
                stdout.println("Wrote " + saveWeights + " [" + weights.length + ", " + gh + ", " + gw + "]");
            }
        }
        stdout.flush();
        return Main.OK;
    }

    /** Checks what can be checked before the model loads; returns the output format. */
    private Plots.Format checkOptions() {
        if (width < 100) {
            throw new IllegalArgumentException("--width must be at least 100 pixels, got " + width);
        }
        if (columns < 1) {
            throw new IllegalArgumentException("--columns must be at least 1, got " + columns);
        }
        if (index < 0) {
            throw new IllegalArgumentException("--index must be 0 or more, got " + index);
        }
        boolean gradient = mode.method != null;
        if (gradient && block != null) {
            throw new IllegalArgumentException("--block applies to --mode mean, cls and rollout; " + mode.cliName()
                    + " uses every block");
        }
        if (!gradient && block == null) {
            throw new IllegalArgumentException("--block is required for --mode " + mode.cliName()
                    + " (0-based, e.g. --block 4)");
        }
        if (!gradient && (target != null || igSteps != null)) {
            throw new IllegalArgumentException("--target and --ig-steps apply to the gradient modes (chefer, "
                    + "grad-rollout, attn-gradcam, integrated-gradients)");
        }
        if (igSteps != null && mode != Mode.integrated_gradients) {
            throw new IllegalArgumentException("--ig-steps applies to --mode integrated-gradients only");
        }
        if (igSteps != null && (igSteps < 1 || igSteps > 1000)) {
            throw new IllegalArgumentException("--ig-steps must be in 1..1000, got " + igSteps);
        }
        if (target != null && target < 0) {
            throw new IllegalArgumentException("--target must be a class index (0 or more), got " + target);
        }
        if (fusion != null && mode != Mode.rollout) {
            throw new IllegalArgumentException("--fusion applies to --mode rollout only");
        }
        if (discard != null && mode != Mode.rollout && mode != Mode.grad_rollout) {
            throw new IllegalArgumentException("--discard applies to --mode rollout and grad-rollout only");
        }
        if ((mode == Mode.rollout || gradient) && !"all".equalsIgnoreCase(heads.trim())) {
            throw new IllegalArgumentException("--heads applies to --mode mean and cls; " + mode.cliName()
                    + " uses all heads" + (mode == Mode.rollout ? " (choose how with --fusion)" : ""));
        }
        if (discard != null && !(discard >= 0 && discard < 1)) {
            throw new IllegalArgumentException("--discard must be in [0, 1), got " + discard);
        }
        if (scale != null && !(scale > 0 && Double.isFinite(scale))) {
            throw new IllegalArgumentException("--scale-attn-logits must be a positive number, got " + scale);
        }
        parseHeads(heads, Integer.MAX_VALUE); // the syntax now, the range once the model is known
        if (format != null) {
            return format == Format.svg ? Plots.Format.SVG : Plots.Format.PNG;
        }
        try {
            return Plots.Format.of(out);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot tell the format of --out " + out
                    + ": name it .png or .svg, or pass --format png|svg");
        }
    }

    /** "all" or a comma-separated list of distinct head indices in [0, n). */
    static int[] parseHeads(String spec, int n) {
        String s = spec.trim();
        if (s.equalsIgnoreCase("all")) {
            int[] all = new int[n == Integer.MAX_VALUE ? 0 : n];
            for (int h = 0; h < all.length; h++) {
                all[h] = h;
            }
            return all;
        }
        String[] parts = s.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--heads must be 'all' or head numbers like 0,3,5, got '" + spec
                        + "'");
            }
            if (out[i] < 0 || out[i] >= n) {
                throw new IllegalArgumentException("--heads " + out[i] + " is out of range: the model has " + n
                        + " heads, use 0.." + (n - 1));
            }
            for (int j = 0; j < i; j++) {
                if (out[j] == out[i]) {
                    throw new IllegalArgumentException("--heads lists head " + out[i] + " twice");
                }
            }
        }
        return out;
    }

    private Input pick(List<Input> inputs) {
        if (index >= inputs.size()) {
            throw new IllegalArgumentException("--index " + index + " is out of range: " + image + " holds "
                    + inputs.size() + (inputs.size() == 1 ? " image, use 0" : " images, use 0.." + (inputs.size() - 1)));
        }
        return inputs.get(index);
    }

    private Fusion fusion() {
        return fusion == null ? Fusion.MEAN : Fusion.valueOf(fusion.name().toUpperCase(Locale.ROOT));
    }

    private String title(Input input, LoadedModel loaded, Prediction top1) {
        String what = switch (mode) {
            case mean -> "blocks." + block + ".attn, mean over queries";
            case cls -> "blocks." + block + ".attn, class token's row";
            case rollout -> "rollout through blocks 0–" + block + " (" + fusion().name().toLowerCase(Locale.ROOT)
                    + " fusion" + (discard != null && discard > 0 ? ", discard " + number(discard) : "") + ")";
            default -> throw new IllegalStateException("gradient modes have their own title");
        };
        String scaled = scale == null ? "" : ", attention logits × " + number(scale);
        return Path.of(input.source()).getFileName() + " — " + loaded.name() + " — " + what + " — top-1: "
                + top1.label() + " (" + String.format(Locale.ROOT, "%.3f", top1.probability()) + scaled + ")";
    }

    /** A gradient mode: one relevance map of the target class, plotted as one panel. */
    private int gradientMode(LoadedModel loaded, Classifier classifier, Input input, PrintWriter stdout,
                             Plots.Format fmt) {
        VitConfig cfg = loaded.config();
        if (target != null && target >= cfg.numClasses()) {
            throw new IllegalArgumentException("--target " + target + " is out of range: " + loaded.name() + " has "
                    + cfg.numClasses() + " classes, use 0.." + (cfg.numClasses() - 1));
        }
        int t = target == null ? Relevance.TOP1 : target;
        RelevanceMap map = switch (mode) {
            case grad_rollout -> Relevance.gradRollout(loaded.model(), input.tensor(), t, discard == null ? 0 : discard);
            case integrated_gradients -> Relevance.integratedGradients(loaded.model(), input.tensor(), t,
                    igSteps == null ? Relevance.IG_STEPS : igSteps);
            default -> Relevance.of(mode.method, loaded.model(), input.tensor(), t);
        };
        if (saveWeights != null) {
            map.save(saveWeights);
        }
        String label = loaded.labels().get(map.target());
        BufferedImage shown = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
        String what = mode.cliName() + (discard != null && discard > 0 ? " (discard " + number(discard) + ")" : "")
                + (scale == null ? "" : ", attention logits × " + number(scale));
        String title = Path.of(input.source()).getFileName() + " — " + loaded.name() + " — " + what + " — class "
                + label + " (logit " + String.format(Locale.ROOT, "%.3f", map.logit()) + ")";
        Plots.save(map.plot(shown, title), out, fmt, width, 0);
        stdout.println("Wrote " + out + " (" + mode.cliName() + " of class " + map.target() + " " + label + ", "
                + describe(1, cfg.gridHeight(), cfg.gridWidth()) + ")");
        if (mode == Mode.integrated_gradients) {
            stdout.printf(Locale.ROOT, "completeness gap: sum IG - (y(x) - y(x')) = %.4g (y(x) = %.4g)%n",
                    map.completenessGap(), map.logit());
        }
        if (saveWeights != null) {
            stdout.println("Wrote " + saveWeights + " [1, " + cfg.gridHeight() + ", " + cfg.gridWidth() + "]");
        }
        stdout.flush();
        return Main.OK;
    }

    /** 3 not 3.0, 0.5 as 0.5. */
    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
    }

    private static String describe(int panels, int gh, int gw) {
        return panels + (panels == 1 ? " panel" : " panels") + " on a " + gh + "x" + gw + " patch grid";
    }

    private void writeWeights(float[][][] weights) {
        int p = weights.length;
        int gh = weights[0].length;
        int gw = weights[0][0].length;
        float[] flat = new float[p * gh * gw];
        int i = 0;
        for (float[][] panel : weights) {
            for (float[] row : panel) {
                System.arraycopy(row, 0, flat, i, gw);
                i += gw;
            }
        }
        try {
            Npy.write(saveWeights, new long[] {p, gh, gw}, flat);
        } catch (IOException e) {
            throw new VitscopeException("cannot write " + saveWeights + " (" + e.getMessage()
                    + "); choose a folder you can write to", e);
        }
    }
}
