package io.vitscope.cli;

import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.files.Outputs;
import io.vitscope.plot.AttentionFigure;
import io.vitscope.plot.Plots;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.relevance.Method;
import io.vitscope.relevance.RelevanceFigure;
import java.io.PrintWriter;
import java.nio.file.Path;
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
 * receives, one panel per head of one block — or the attention rollout through blocks 0..I as one panel. The figure
 * is {@link AttentionFigure}'s; this parses the flags and reports what was written.
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

    @picocli.CommandLine.ParentCommand
    Main parent;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ImageIndexOption index;

    @Mixin
    FigureSizeOption size;

    @Mixin
    LogitScaleOption scale;

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

    @Option(names = "--format", description = "png or svg (default: from the --out extension).")
    Format format;

    @Option(names = "--save-weights", paramLabel = "FILE.npy",
            description = "Also write the plotted weights as float32 [panels, grid_h, grid_w], before any display "
                    + "normalisation (gradient modes: [1, grid_h, grid_w], integrated gradients' negatives included).")
    Path saveWeights;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "4",
            description = "Panels per row (default ${DEFAULT-VALUE}: 12 heads make 3 rows of 4).")
    int columns;

    @Option(names = "--shared-scale",
            description = "Scale every panel to the largest weight of all panels (comparable panels, one colour bar) "
                    + "instead of each to its own.")
    boolean sharedScale;

    @Override
    public Integer call() {
        Plots.Format fmt = checkOptions();
        int[] headList = parseHeads();
        PrintWriter stdout = spec.commandLine().getOut();
        if (mode.method != null) {
            return relevance(stdout, fmt);
        }
        AttentionFigure figure;
        long start = System.nanoTime();
        long loadedAt;
        long drawnAt;
        try (LoadedModel loaded = modelOptions.load()) {
            loadedAt = System.nanoTime();
            Classifier classifier = new Classifier(loaded);
            Input input = index.pick(classifier.read(image), image);
            AttentionFigure.Builder request = AttentionFigure.request(classifier, input, block)
                    .optMode(AttentionFigure.Mode.valueOf(mode.name().toUpperCase(Locale.ROOT)))
                    .optHeads(headList).optIntervention(scale.intervention()).optColumns(columns)
                    .optSharedScale(sharedScale);
            if (fusion != null) {
                request.optFusion(Fusion.valueOf(fusion.name().toUpperCase(Locale.ROOT)));
            }
            if (discard != null) {
                request.optDiscard(discard);
            }
            figure = request.draw();
            drawnAt = System.nanoTime();
        }
        if (saveWeights != null) {
            figure.saveWeights(saveWeights);
        }
        figure.save(out, fmt, size.width);
        timing(start, loadedAt, drawnAt);
        stdout.println("Wrote " + out + " (" + figure.describe() + "; top-1 " + figure.top1().label() + " "
                + String.format(Locale.ROOT, "%.4f", figure.top1().probability()) + ")");
        if (saveWeights != null) {
            float[][][] w = figure.weights();
            stdout.println("Wrote " + saveWeights + " [" + w.length + ", " + w[0].length + ", " + w[0][0].length + "]");
        }
        stdout.flush();
        return Main.OK;
    }

    /** A gradient mode: {@link RelevanceFigure}'s one-panel map of the target class. */
    private int relevance(PrintWriter stdout, Plots.Format fmt) {
        RelevanceFigure figure;
        long start = System.nanoTime();
        long loadedAt;
        long drawnAt;
        try (LoadedModel loaded = modelOptions.load()) {
            loadedAt = System.nanoTime();
            Classifier classifier = new Classifier(loaded);
            Input input = index.pick(classifier.read(image), image);
            RelevanceFigure.Builder request = RelevanceFigure.request(classifier, input, mode.method)
                    .optIntervention(scale.intervention());
            if (target != null) {
                request.optTarget(target);
            }
            if (discard != null) {
                request.optDiscard(discard);
            }
            if (igSteps != null) {
                request.optSteps(igSteps);
            }
            figure = request.draw();
            drawnAt = System.nanoTime();
        }
        if (saveWeights != null) {
            figure.saveWeights(saveWeights);
        }
        figure.save(out, fmt, size.width);
        timing(start, loadedAt, drawnAt);
        stdout.println("Wrote " + out + " (" + figure.describe() + ")");
        if (mode == Mode.integrated_gradients) {
            stdout.printf(Locale.ROOT, "completeness gap: sum IG - (y(x) - y(x')) = %.4g (y(x) = %.4g)%n",
                    figure.map().completenessGap(), figure.map().logit());
        }
        if (saveWeights != null) {
            stdout.println("Wrote " + saveWeights + " [1, " + figure.map().gridHeight() + ", "
                    + figure.map().gridWidth() + "]");
        }
        stdout.flush();
        return Main.OK;
    }

    /**
     * With {@code --verbose}, one line on stderr: the time to load the model, to compute the map (image read,
     * forward, backward where the mode needs it, and the figure's layout) and to write the files.
     */
    private void timing(long start, long loadedAt, long drawnAt) {
        if (parent != null && parent.verbose) {
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "vitscope: timing: load %.0f ms, map %.0f ms (%s), write %.0f ms%n",
                    (loadedAt - start) / 1e6, (drawnAt - loadedAt) / 1e6, mode.cliName(),
                    (System.nanoTime() - drawnAt) / 1e6);
            err.flush();
        }
    }

    /** Checks what can be checked before the model loads; returns the output format. */
    private Plots.Format checkOptions() {
        BadValue.check(columns >= 1, spec, "--columns must be at least 1, got " + columns);
        Outputs.checkFile(out, "out");
        if (saveWeights != null) {
            Outputs.checkFile(saveWeights, "saveWeights");
        }
        boolean gradient = mode.method != null;
        BadValue.check(!gradient || block == null, spec, "--block applies to --mode mean, cls and rollout; "
                + mode.cliName() + " uses every block");
        BadValue.check(gradient || block != null, spec, "--block is required for --mode " + mode.cliName()
                + " (0-based, e.g. --block 4)");
        BadValue.check(gradient || (target == null && igSteps == null), spec, "--target and --ig-steps apply to the "
                + "gradient modes (chefer, grad-rollout, attn-gradcam, integrated-gradients)");
        BadValue.check(igSteps == null || mode == Mode.integrated_gradients, spec,
                "--ig-steps applies to --mode integrated-gradients only");
        BadValue.check(igSteps == null || (igSteps >= 1 && igSteps <= 1000), spec,
                "--ig-steps must be in 1..1000, got " + igSteps);
        BadValue.check(target == null || target >= 0, spec,
                "--target must be a class index (0 or more), got " + target);
        BadValue.check(fusion == null || mode == Mode.rollout, spec, "--fusion applies to --mode rollout only");
        BadValue.check(discard == null || mode == Mode.rollout || mode == Mode.grad_rollout, spec,
                "--discard applies to --mode rollout and grad-rollout only");
        if (mode == Mode.rollout || gradient) {
            BadValue.check("all".equalsIgnoreCase(heads.trim()), spec, "--heads applies to --mode mean and cls; "
                    + mode.cliName() + " uses all heads" + (mode == Mode.rollout ? " (choose how with --fusion)" : ""));
        }
        BadValue.check(discard == null || (discard >= 0 && discard < 1), spec,
                "--discard must be in [0, 1), got " + discard);
        if (format != null) {
            return format == Format.svg ? Plots.Format.SVG : Plots.Format.PNG;
        }
        try {
            return Plots.Format.of(out);
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, "cannot tell the format of --out " + out
                    + ": name it .png or .svg, or pass --format png|svg");
        }
    }

    /** "all" (null: every head) or a comma-separated list of head numbers; their range is the figure's to check. */
    private int[] parseHeads() {
        String s = heads.trim();
        if (s.equalsIgnoreCase("all")) {
            return null;
        }
        String[] parts = s.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new BadValue(spec, "--heads must be 'all' or head numbers like 0,3,5, got '" + heads + "'");
            }
        }
        return out;
    }
}
