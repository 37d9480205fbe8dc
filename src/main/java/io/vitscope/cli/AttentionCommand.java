package io.vitscope.cli;

import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.plot.AttentionFigure;
import io.vitscope.plot.Plots;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
                + "token (head fusion and discard as in vit-explain)."})
public final class AttentionCommand implements Callable<Integer> {

    enum Mode { mean, cls, rollout }

    enum FusionName { mean, max, min }

    enum Format { png, svg }

    @Spec
    CommandSpec spec;

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

    @Option(names = "--block", paramLabel = "I", required = true,
            description = "The block, 0-based: blocks.I (the tutorial's fifth block is 4). For rollout, the last block "
                    + "rolled through.")
    int block;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The figure, FILE.png or FILE.svg.")
    Path out;

    @Option(names = "--mode", defaultValue = "mean", description = "mean, cls or rollout (default ${DEFAULT-VALUE}).")
    Mode mode;

    @Option(names = "--heads", paramLabel = "all|LIST", defaultValue = "all",
            description = "Heads to show, e.g. 0,3,5 (default ${DEFAULT-VALUE}); mean and cls only.")
    String heads;

    @Option(names = "--fusion", description = "Rollout head fusion: mean, max or min (default mean).")
    FusionName fusion;

    @Option(names = "--discard", paramLabel = "R",
            description = "Rollout: zero this fraction of the smallest fused weights per block, in [0, 1) (default 0).")
    Double discard;

    @Option(names = "--format", description = "png or svg (default: from the --out extension).")
    Format format;

    @Option(names = "--save-weights", paramLabel = "FILE.npy",
            description = "Also write the plotted weights as float32 [panels, grid_h, grid_w], before any display "
                    + "normalisation.")
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
        AttentionFigure figure;
        try (LoadedModel loaded = modelOptions.load()) {
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
        }
        if (saveWeights != null) {
            figure.saveWeights(saveWeights);
        }
        figure.save(out, fmt, size.width);
        stdout.println("Wrote " + out + " (" + figure.describe() + "; top-1 " + figure.top1().label() + " "
                + String.format(Locale.ROOT, "%.4f", figure.top1().probability()) + ")");
        if (saveWeights != null) {
            float[][][] w = figure.weights();
            stdout.println("Wrote " + saveWeights + " [" + w.length + ", " + w[0].length + ", " + w[0][0].length + "]");
        }
        stdout.flush();
        return Main.OK;
    }

    /** Checks what can be checked before the model loads; returns the output format. */
    private Plots.Format checkOptions() {
        BadValue.check(columns >= 1, spec, "--columns must be at least 1, got " + columns);
        if (mode != Mode.rollout) {
            BadValue.check(fusion == null && discard == null, spec, "--fusion and --discard apply to --mode rollout only");
        } else {
            BadValue.check("all".equalsIgnoreCase(heads.trim()), spec, "--heads applies to --mode mean and cls; "
                    + "rollout fuses all heads (choose how with --fusion)");
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
