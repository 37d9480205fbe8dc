package io.vitscope.relevance;

import io.vitscope.InvalidArgumentException;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.plot.Plots;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.probe.Intervention;
import io.vitscope.probe.Probe;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One gradient relevance map over its image in one call — what {@code vitscope attention --mode chefer|grad-rollout|
 * attn-gradcam|integrated-gradients} draws; the gradient counterpart of {@code plot.AttentionFigure}.
 *
 * <pre>{@code
 * RelevanceFigure fig = RelevanceFigure.request(classifier, input, Method.CHEFER).optTarget(207).draw();
 * fig.save(Path.of("chefer.png"), Plots.Format.PNG, 800);
 * }</pre>
 *
 * @param grid the one-panel figure
 * @param map the relevance of the target class, raw (integrated gradients' negatives included)
 * @param label the target class's label
 */
public record RelevanceFigure(AttentionGrid grid, RelevanceMap map, String label) {

    /** Starts a request for {@code method}'s relevance map of {@code input}; {@link Method#RANDOM} is not drawn. */
    public static Builder request(Classifier classifier, Input input, Method method) {
        return new Builder(classifier, input, method);
    }

    /** Writes the figure, PNG or SVG, {@code width} pixels wide (the height follows). */
    public Path save(Path file, Plots.Format format, int width) {
        return Plots.save(grid, file, format, width, 0);
    }

    /** Writes the raw map as a float32 {@code .npy} of shape [1, G_h, G_w]. */
    public Path saveWeights(Path file) {
        return map.save(file);
    }

    /** "chefer of class 2 two, 1 panel on a 4x4 patch grid". */
    public String describe() {
        return map.method().cliName() + " of class " + map.target() + " " + label + ", 1 panel on a "
                + map.gridHeight() + "x" + map.gridWidth() + " patch grid";
    }

    /** A figure request: set what is required in {@link #request}, add options, then {@link #draw()}. */
    public static final class Builder {

        private final Classifier classifier;
        private final Input input;
        private final Method method;
        private Integer target;
        private Double discard;
        private Integer steps;
        private Intervention intervention;

        private Builder(Classifier classifier, Input input, Method method) {
            this.classifier = classifier;
            this.input = input;
            this.method = method;
        }

        /** The class whose logit is explained (default: the top-1). */
        public Builder optTarget(int target) {
            this.target = target;
            return this;
        }

        /** Grad-rollout: zero this fraction of each block's smallest fused weights, in [0, 1) (default 0). */
        public Builder optDiscard(double discard) {
            this.discard = discard;
            return this;
        }

        /** Integrated gradients: Gauss–Legendre points on the path, 1..1000 (default {@link Relevance#IG_STEPS}). */
        public Builder optSteps(int steps) {
            this.steps = steps;
            return this;
        }

        /** Something done to the forward first, such as {@code LogitScaling.of(3)}; named in the title. */
        public Builder optIntervention(Intervention intervention) {
            this.intervention = intervention;
            return this;
        }

        /**
         * Runs the forward and backward passes (under the intervention, if any) and draws the map.
         *
         * @throws InvalidArgumentException naming the parameter: a target out of range, options that do not apply
         */
        public RelevanceFigure draw() {
            LoadedModel loaded = classifier.model();
            VitConfig cfg = loaded.config();
            if (method == Method.RANDOM) {
                throw new InvalidArgumentException("method", "method random is a baseline for faithfulness, not a "
                        + "map to draw; use chefer, grad-rollout, attn-gradcam or integrated-gradients");
            }
            if (target != null && (target < 0 || target >= cfg.numClasses())) {
                throw new InvalidArgumentException("target", "target " + target + " is out of range: "
                        + loaded.name() + " has " + cfg.numClasses() + " classes, use 0.." + (cfg.numClasses() - 1));
            }
            if (discard != null && method != Method.GRAD_ROLLOUT) {
                throw new InvalidArgumentException("discard", "discard applies to grad-rollout only");
            }
            if (discard != null && !(discard >= 0 && discard < 1)) {
                throw new InvalidArgumentException("discard", "discard must be in [0, 1), got " + discard);
            }
            if (steps != null && method != Method.INTEGRATED_GRADIENTS) {
                throw new InvalidArgumentException("steps", "steps apply to integrated-gradients only");
            }
            if (steps != null && (steps < 1 || steps > 1000)) {
                throw new InvalidArgumentException("steps", "steps must be in 1..1000, got " + steps);
            }
            int t = target == null ? Relevance.TOP1 : target;
            RelevanceMap map;
            try (Probe probe = Probe.on(loaded.model())) {
                if (intervention != null) {
                    intervention.install(probe);
                }
                map = switch (method) {
                    case GRAD_ROLLOUT -> Relevance.gradRollout(loaded.model(), input.tensor(), t,
                            discard == null ? 0 : discard);
                    case INTEGRATED_GRADIENTS -> Relevance.integratedGradients(loaded.model(), input.tensor(), t,
                            steps == null ? Relevance.IG_STEPS : steps);
                    default -> Relevance.of(method, loaded.model(), input.tensor(), t);
                };
            }
            String label = loaded.labels().get(map.target());
            BufferedImage shown = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
            String what = method.cliName() + (discard != null && discard > 0 ? " (discard " + Plots.number(discard)
                    + ")" : "") + (intervention == null ? "" : ", " + intervention.describe());
            String title = Path.of(input.source()).getFileName() + " — " + loaded.name() + " — " + what + " — class "
                    + label + " (logit " + String.format(Locale.ROOT, "%.3f", map.logit()) + ")";
            return new RelevanceFigure(map.plot(shown, title), map, label);
        }
    }
}
