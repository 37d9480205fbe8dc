package io.vitscope.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.analysis.AttentionMaps;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.predict.Prediction;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.image.ImageReader;
import io.vitscope.model.Block;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.AttentionFigure;
import io.vitscope.plot.AttentionGrid;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the explorer page asks of one loaded model, as library calls: top-k, attention maps, the token-to-token
 * attention of a block, a capture, the logit-scaling sweep and the figure — each the same function the matching
 * command calls ({@code predict}, {@code attention}, {@code capture}, {@code experiment}). Knows nothing of HTTP.
 *
 * <p>Thread-safe: the model is shared and read-only; every request's probes (logit scaling, captures, its time
 * limit) are started on the thread that runs it, and probes only see forwards on their own thread.
 *
 * <p>Abbreviations: K classes, N heads, T tokens, P panels, G_h × G_w the patch grid.
 */
public final class Explorer {

    private final LoadedModel loaded;
    private final Classifier classifier;
    private final ImageReader reader;
    private final Map<String, MapMode> modes = new LinkedHashMap<>();

    /** An explorer of {@code loaded} with the CLI's image decoder and its guards, and the built-in map modes. */
    public Explorer(LoadedModel loaded) {
        this(loaded, ImageReader.defaults());
    }

    public Explorer(LoadedModel loaded, ImageReader reader) {
        this.loaded = loaded;
        this.reader = reader;
        this.classifier = new Classifier(loaded, reader);
        MapMode.builtIn().forEach(this::withMode);
    }

    /** Adds (or replaces) a kind of map; the page lists it at its next load. Returns this explorer. */
    public synchronized Explorer withMode(MapMode mode) {
        modes.put(mode.name(), mode);
        return this;
    }

    public synchronized List<MapMode> modes() {
        return List.copyOf(modes.values());
    }

    public LoadedModel model() {
        return loaded;
    }

    /** The request ran past its time limit; the forward stopped at the next block. */
    public static final class TimeLimitExceeded extends RuntimeException {
        TimeLimitExceeded(String message) {
            super(message);
        }
    }

    /**
     * Decodes an uploaded image with the same reader and guards as the CLI (format sniffed from the bytes,
     * decompression-bomb pixel limit) and applies the model's eval transform.
     *
     * @throws io.vitscope.InvalidInputException when the bytes are not an image it reads
     */
    public Input decode(byte[] data, String name) {
        return new Input(name, classifier.transform().apply(reader.read(data, name)));
    }

    /** The model's view of the input (resized, cropped, de-normalised), the picture the maps line up with. */
    public BufferedImage view(Input input) {
        return classifier.transform().denormalize(input.tensor());
    }

    /**
     * One input under one logit scale with a time limit, ready to run.
     *
     * @param scale the attention logit scale (1 = the unchanged model)
     * @param deadline {@link System#nanoTime()} after which the forward stops at its next block
     */
    public Pass pass(Input input, double scale, long deadline) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new io.vitscope.InvalidArgumentException("scale must be a positive number, got " + scale);
        }
        return new Pass(input, scale, deadline);
    }

    /** Reads what a forward left: its logits (1, K) and the captured calls, in call order. */
    @FunctionalInterface
    public interface PassReader<T> {
        T read(NDArray logits, List<CallRecord> calls);
    }

    /** One forward's set-up: the input, the logit scale and the deadline. */
    public final class Pass {
        private final Input input;
        private final double scale;
        private final long deadline;

        private Pass(Input input, double scale, long deadline) {
            this.input = input;
            this.scale = scale;
            this.deadline = deadline;
        }

        public Input input() {
            return input;
        }

        public double scale() {
            return scale;
        }

        public int gridHeight() {
            return loaded.config().gridHeight();
        }

        public int gridWidth() {
            return loaded.config().gridWidth();
        }

        /**
         * Runs the model once with the modules matching {@code capture} captured (none when null), and reads the
         * result before the captured tensors are freed.
         */
        public <T> T run(String capture, PassReader<T> reader) {
            checkDeadline();
            try (Probe probe = Probe.on(loaded.model()); NDManager manager = NDManager.newBaseManager()) {
                limitTime(probe);
                if (scale != 1) {
                    LogitScaling.install(probe, scale);
                }
                CallCapture calls = capture == null ? null : probe.captureCalls(capture);
                NDArray logits = classifier.logits(classifier.batch(manager, List.of(input)));  // (1, K)
                return reader.read(logits, calls == null ? List.of() : calls.all());
            }
        }

        /** A breakpoint at every block's entry that stops the forward once the deadline has passed. */
        private void limitTime(Probe probe) {
            probe.breakpoint(Block.PRE_ATTN).when(h -> System.nanoTime() - deadline > 0).exec(h -> {
                throw timeUp();
            });
        }

        private void checkDeadline() {
            if (System.nanoTime() - deadline > 0) {
                throw timeUp();
            }
        }

        private TimeLimitExceeded timeUp() {
            return new TimeLimitExceeded("the request ran past its time limit; try again when the server is less "
                    + "busy, or start it with a longer --timeout");
        }
    }

    /** The top-k, exactly as {@code Classifier.top} ranks them (what {@code predict} prints). */
    public List<Prediction> predict(Pass pass, int top) {
        if (top < 1) {
            throw new io.vitscope.InvalidArgumentException("top must be at least 1, got " + top);
        }
        return pass.run(null, (logits, calls) -> classifier.top(logits, top).get(0));
    }

    /** The maps of one mode (what {@code attention --save-weights} writes for the same options). */
    public MapMode.Maps maps(Pass pass, int block, String mode) {
        return mode(mode).compute(pass, checkBlock(block));
    }

    /** Every head's token-to-token attention in one block, post-softmax. @return (N, T, T) */
    public float[][][] tokens(Pass pass, int block) {
        int b = checkBlock(block);
        return pass.run("blocks." + b + ".attn", (logits, calls) -> AttentionMaps.of(calls.get(0).tensor("attn")));
    }

    /** {@link #tokens} as a float32 {@code .npy} (N, T, T), for numpy and the page's hover views. */
    public byte[] tokensNpy(Pass pass, int block) {
        float[][][] a = tokens(pass, block);                                                 // (N, T, T)
        int n = a.length;
        int t = a[0].length;
        float[] flat = new float[n * t * t];
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(a[h][i], 0, flat, (h * t + i) * t, t);
            }
        }
        return viaFile(".npy", f -> Npy.write(f, new long[] {n, t, t}, flat));
    }

    /** The {@code .npz} that {@code vitscope capture --call blocks.I.attn} writes for the same input and scale. */
    public byte[] capture(Pass pass, int block) {
        int b = checkBlock(block);
        return pass.run("blocks." + b + ".attn", (logits, calls) -> viaFile(".npz", calls.get(0)::save));
    }

    private interface FileWriter {
        void write(Path file) throws IOException;
    }

    /** The library writes these formats to files only; a request's copy goes through a temporary file. */
    private static byte[] viaFile(String ending, FileWriter writer) {
        try {
            Path tmp = Files.createTempFile("vitscope-serve", ending);
            try {
                writer.write(tmp);
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a temporary " + ending + " file", e);
        }
    }

    /** NoPdb's logit-scaling sweep ({@code vitscope experiment}), with the request's time limit on each forward. */
    public ScalingExperiment.Result scaling(Input input, double[] factors, int top, int block, long deadline) {
        ScalingExperiment.requireFactors(factors);
        int b = checkBlock(block);
        Pass limit = pass(input, 1, deadline);
        limit.checkDeadline();
        try (Probe probe = Probe.on(loaded.model())) {
            limit.limitTime(probe); // probes on one thread all see its forwards, the experiment's own included
            return new ScalingExperiment(classifier).run(input, factors, top, b);
        }
    }

    /**
     * The figure {@code vitscope attention} draws for the same options: for the built-in modes the same library call
     * ({@link AttentionFigure}), for added modes their maps in the same grid.
     */
    public AttentionGrid figure(Pass pass, int block, String mode) {
        MapMode m = mode(mode);
        AttentionFigure.Mode builtIn = m == MapMode.MEAN ? AttentionFigure.Mode.MEAN
                : m == MapMode.CLS ? AttentionFigure.Mode.CLS : m == MapMode.ROLLOUT ? AttentionFigure.Mode.ROLLOUT : null;
        if (builtIn != null) {
            pass.checkDeadline();
            try (Probe probe = Probe.on(loaded.model())) {
                pass.limitTime(probe); // probes on one thread all see its forwards, the figure's own included
                return AttentionFigure.request(classifier, pass.input(), checkBlock(block)).optMode(builtIn)
                        .optIntervention(pass.scale() == 1 ? null : LogitScaling.of(pass.scale())).draw().grid();
            }
        }
        MapMode.Maps maps = m.compute(pass, checkBlock(block));
        BufferedImage shown = AttentionPlots.forDisplay(view(pass.input()));
        String scaled = pass.scale() == 1 ? "" : ", attention logits × " + pass.scale();
        return AttentionGrid.builder().setImage(shown).setWeights(maps.weights()).optPanelTitles(maps.titles())
                .optTitle(Path.of(pass.input().source()).getFileName() + " — " + loaded.name() + " — mode "
                        + mode + scaled).build();
    }

    private MapMode mode(String name) {
        MapMode m;
        synchronized (this) {
            m = modes.get(name == null ? "" : name.toLowerCase(Locale.ROOT));
        }
        if (m == null) {
            throw new io.vitscope.InvalidArgumentException("mode must be one of " + String.join(", ", modeNames()) + ", got '"
                    + name + "'");
        }
        return m;
    }

    private synchronized List<String> modeNames() {
        return new ArrayList<>(modes.keySet());
    }

    private int checkBlock(int block) {
        VitConfig cfg = loaded.config();
        if (block < 0 || block >= cfg.depth()) {
            throw new io.vitscope.InvalidArgumentException("block " + block + " is out of range: " + loaded.name() + " has "
                    + cfg.depth() + " blocks, use 0.." + (cfg.depth() - 1));
        }
        return block;
    }
}
