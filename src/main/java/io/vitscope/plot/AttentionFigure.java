package io.vitscope.plot;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.InvalidArgumentException;
import io.vitscope.VitscopeException;
import io.vitscope.analysis.AttentionRollout.Fusion;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Intervention;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * NoPdb's ViT tutorial figure in one call: an image, a model, a block, a mode and the heads in; the image with each
 * patch as bright as the attention it receives out, one panel per head — or the attention rollout through blocks
 * 0..I as one panel. {@code vitscope attention} and the notebooks draw it with this.
 *
 * <pre>{@code
 * AttentionFigure fig = AttentionFigure.request(classifier, input, 4).optHeads(0, 3).draw();
 * fig.save(Path.of("attn.png"), Plots.Format.PNG, 1000);
 * Display.show(fig.grid(), 900);
 * }</pre>
 *
 * <p>Modes: {@code MEAN} = per head, {@code attn[h, :, 1:]} averaged over all query rows (the NoPdb tutorial);
 * {@code CLS} = the class token's row {@code attn[h, 0, 1:]}; {@code ROLLOUT} = Abnar &amp; Zuidema's rollout of
 * the class token (head fusion and discard as in vit-explain).
 *
 * @param grid the figure
 * @param weights what the panels show, before any display normalisation, (panels, G_h, G_w)
 * @param top1 the model's best class for the input (under the intervention, if any)
 */
public record AttentionFigure(AttentionGrid grid, float[][][] weights, Prediction top1) {

    /** What a panel shows. */
    public enum Mode { MEAN, CLS, ROLLOUT }

    /** Starts a request for block {@code block}'s attention over {@code input}. */
    public static Builder request(Classifier classifier, Input input, int block) {
        return new Builder(classifier, input, block);
    }

    /** Writes the figure, PNG or SVG, {@code width} pixels wide (the height follows). */
    public Path save(Path file, Plots.Format format, int width) {
        return Plots.save(grid, file, format, width, 0);
    }

    /** Writes {@link #weights()} as a float32 {@code .npy} of shape [P, G_h, G_w]. */
    public Path saveWeights(Path file) {
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
            Npy.write(file, new long[] {p, gh, gw}, flat);
        } catch (IOException e) {
            throw new VitscopeException("cannot write " + file + " (" + e.getMessage()
                    + "); choose a folder you can write to", e);
        }
        return file;
    }

    /** "12 panels on a 14x14 patch grid". */
    public String describe() {
        int panels = weights.length;
        return panels + (panels == 1 ? " panel" : " panels") + " on a " + weights[0].length + "x"
                + weights[0][0].length + " patch grid";
    }

    /** A figure request: set what is required in {@link #request}, add options, then {@link #draw()}. */
    public static final class Builder {

        private final Classifier classifier;
        private final Input input;
        private final int block;
        private Mode mode = Mode.MEAN;
        private int[] heads;
        private Fusion fusion;
        private Double discard;
        private Intervention intervention;
        private int columns = 4;
        private boolean sharedScale;

        private Builder(Classifier classifier, Input input, int block) {
            this.classifier = classifier;
            this.input = input;
            this.block = block;
        }

        /** What the panels show (default {@code MEAN}). */
        public Builder optMode(Mode mode) {
            this.mode = mode;
            return this;
        }

        /** The heads to show, in this order (default all); {@code MEAN} and {@code CLS} only. */
        public Builder optHeads(int... heads) {
            this.heads = heads == null ? null : heads.clone();
            return this;
        }

        /** Rollout's head fusion (default {@code MEAN}). */
        public Builder optFusion(Fusion fusion) {
            this.fusion = fusion;
            return this;
        }

        /** Rollout: zero this fraction of the smallest fused weights per block, in [0, 1) (default 0). */
        public Builder optDiscard(double discard) {
            this.discard = discard;
            return this;
        }

        /** Something done to the forward first, such as {@code LogitScaling.of(3)}; named in the title. */
        public Builder optIntervention(Intervention intervention) {
            this.intervention = intervention;
            return this;
        }

        /** Panels per row (default 4: 12 heads make 3 rows of 4). */
        public Builder optColumns(int columns) {
            this.columns = columns;
            return this;
        }

        /** Scale every panel to the largest weight of all panels instead of each to its own. */
        public Builder optSharedScale(boolean shared) {
            this.sharedScale = shared;
            return this;
        }

        /**
         * Runs the model on the input with the captures the mode needs and draws the figure.
         *
         * @throws InvalidArgumentException naming the parameter: a block or head out of range, options that do not
         *     apply to the mode
         */
        public AttentionFigure draw() {
            LoadedModel loaded = classifier.model();
            VitConfig cfg = loaded.config();
            if (block < 0 || block >= cfg.depth()) {
                throw new InvalidArgumentException("block", "block " + block + " is out of range: " + loaded.name()
                        + " has " + cfg.depth() + " blocks, use 0.." + (cfg.depth() - 1));
            }
            if (mode == Mode.ROLLOUT && heads != null) {
                throw new InvalidArgumentException("heads", "heads apply to the mean and cls modes; rollout fuses "
                        + "all heads (choose how with fusion)");
            }
            if (mode != Mode.ROLLOUT && (fusion != null || discard != null)) {
                throw new InvalidArgumentException("fusion", "fusion and discard apply to the rollout mode only");
            }
            int[] shown = heads == null ? allHeads(cfg.numHeads()) : checkHeads(heads, cfg.numHeads());
            Fusion f = fusion == null ? Fusion.MEAN : fusion;
            double d = discard == null ? 0 : discard;
            int gh = cfg.gridHeight();
            int gw = cfg.gridWidth();
            float[][][] weights;                                                             // (panels, G_h, G_w)
            List<String> titles = new ArrayList<>();
            Prediction top1;
            try (Probe probe = Probe.on(loaded.model()); NDManager manager = NDManager.newBaseManager()) {
                if (intervention != null) {
                    intervention.install(probe);
                }
                CallCapture capture = mode == Mode.ROLLOUT ? probe.captureCalls("blocks.*.attn")
                        : probe.captureCall("blocks." + block + ".attn");
                NDArray logits = classifier.logits(classifier.batch(manager, List.of(input)));    // (1, K)
                top1 = classifier.top(logits, 1).get(0).get(0);
                if (mode == Mode.ROLLOUT) {
                    weights = new float[][][] {
                        AttentionPlots.rolloutGrid(capture.all().subList(0, block + 1), f, d, gh, gw)};
                    titles.add(block == 0 ? "rollout · block 0" : "rollout · blocks 0–" + block);
                } else {
                    float[][][] all = PatchWeights.grid(capture.get().tensor("attn"),          // (1, N, T, T)
                            mode == Mode.CLS ? PatchWeights.Mode.CLS : PatchWeights.Mode.MEAN, gh, gw); // (N, G_h, G_w)
                    weights = new float[shown.length][][];
                    for (int i = 0; i < shown.length; i++) {
                        weights[i] = all[shown[i]];
                        titles.add("block " + block + " · head " + shown[i]);
                    }
                }
            }
            BufferedImage image = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
            AttentionGrid grid = AttentionGrid.builder().setImage(image).setWeights(weights).optPanelTitles(titles)
                    .optTitle(title(loaded, top1, f, d)).optColumns(columns)
                    .optScale(sharedScale ? AttentionGrid.Scale.SHARED : AttentionGrid.Scale.PER_PANEL).build();
            return new AttentionFigure(grid, weights, top1);
        }

        private String title(LoadedModel loaded, Prediction top1, Fusion f, double d) {
            String what = switch (mode) {
                case MEAN -> "blocks." + block + ".attn, mean over queries";
                case CLS -> "blocks." + block + ".attn, class token's row";
                case ROLLOUT -> "rollout through blocks 0–" + block + " (" + f.name().toLowerCase(Locale.ROOT)
                        + " fusion" + (d > 0 ? ", discard " + Plots.number(d) : "") + ")";
            };
            String changed = intervention == null ? "" : ", " + intervention.describe();
            return Path.of(input.source()).getFileName() + " — " + loaded.name() + " — " + what + " — top-1: "
                    + top1.label() + " (" + String.format(Locale.ROOT, "%.3f", top1.probability()) + changed + ")";
        }

        private static int[] allHeads(int n) {
            int[] all = new int[n];
            for (int h = 0; h < n; h++) {
                all[h] = h;
            }
            return all;
        }

        private static int[] checkHeads(int[] heads, int n) {
            for (int i = 0; i < heads.length; i++) {
                if (heads[i] < 0 || heads[i] >= n) {
                    throw new InvalidArgumentException("heads", "heads " + heads[i] + " is out of range: the model "
                            + "has " + n + " heads, use 0.." + (n - 1));
                }
                for (int j = 0; j < i; j++) {
                    if (heads[j] == heads[i]) {
                        throw new InvalidArgumentException("heads", "heads lists head " + heads[i] + " twice");
                    }
                }
            }
            return heads;
        }
    }
}
