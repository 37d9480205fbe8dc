package io.vitscope.bench;

import com.google.gson.GsonBuilder;
import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.engine.Engines;
import io.vitscope.engine.MklFastPath;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.model.Linear;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How fast a model runs on this machine, and what the probe costs (issue #3): the machine's large-matmul rate measured
 * in the same process, then per batch size the forward's latency and, interleaved with it, the same forward under three
 * probe set-ups. Every time is wall time per image.
 *
 * <p>The probe variants run in rounds, one forward of each per round and the order rotated from round to round, so
 * that a drift in the machine's speed (other processes, thermal state) spreads over all of them instead of showing up
 * as one variant's overhead; overheads are the median over rounds of each round's ratio to its own unprobed forward.
 */
public final class Bench {

    /** ViT-B/16's MLP product at batch 8: (8·197 tokens × 768) · (768 × 3072). */
    public static final int[] MATMUL_SHAPE = {1576, 768, 3072};

    /** What a run measures. */
    public record Options(List<Integer> batches, int warmup, int iterations, boolean probes, int matmulIterations,
                          boolean breakdown, int floorRounds) {

        /** With the breakdown (linear layers alone, the unfused forward) interleaved. */
        public Options(List<Integer> batches, int warmup, int iterations, boolean probes, int matmulIterations) {
            this(batches, warmup, iterations, probes, matmulIterations, true);
        }

        /** With the disabled probe's floor timed in {@link #FLOOR_ROUNDS} rounds when probes are timed. */
        public Options(List<Integer> batches, int warmup, int iterations, boolean probes, int matmulIterations,
                       boolean breakdown) {
            this(batches, warmup, iterations, probes, matmulIterations, breakdown, FLOOR_ROUNDS);
        }

        public Options {
            batches = List.copyOf(batches);
            if (batches.isEmpty() || batches.stream().anyMatch(b -> b < 1)) {
                throw new InvalidArgumentException("batches", "Batch sizes must be at least 1, got " + batches);
            }
            if (warmup < 0) {
                throw new InvalidArgumentException("warmup", "warmup must be 0 or more, got " + warmup);
            }
            if (iterations < 1) {
                throw new InvalidArgumentException("iterations", "iterations must be at least 1, got " + iterations);
            }
            if (matmulIterations < 1) {
                throw new InvalidArgumentException("matmulIterations", "The matmul needs at least 1 iteration, got "
                        + matmulIterations);
            }
            if (floorRounds != 0 && floorRounds < MIN_FLOOR_ROUNDS) {
                throw new InvalidArgumentException("floorRounds", "The disabled probe's floor needs at least "
                        + MIN_FLOOR_ROUNDS + " rounds for an interval (0 skips it), got " + floorRounds);
            }
        }
    }

    /** A distribution of times, all in ms per image (or per product for the matmul). */
    public record Stats(double median, double min, double p25, double p75, double max, int n) {
        public static Stats of(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            return new Stats(quantile(s, 0.5), s[0], quantile(s, 0.25), quantile(s, 0.75), s[s.length - 1], s.length);
        }

        /** (max − min) / median, in percent: how much the iterations disagreed. */
        public double spreadPercent() {
            return 100 * (max - min) / median;
        }
    }

    /**
     * A distribution-free 95 % confidence interval for the median of {@code xs}: the order statistics
     * {@code [x(l), x(n-1-l)]} (0-based, sorted) with the largest {@code l} for which the interval misses the median
     * with probability {@code 2·P(Binomial(n, ½) ≤ l) ≤ 0.05}. It assumes only that the values are independent draws
     * of one distribution (rounds of an interleaved benchmark); below 6 values no such {@code l} exists and the
     * interval is the whole range.
     */
    public static double[] medianInterval(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int n = s.length;
        int l = 0;
        double tail = Math.pow(0.5, n); // P(X ≤ 0)
        double pk = tail;
        for (int k = 1; k < n / 2; k++) {
            pk = pk * (n - k + 1) / k; // P(X = k)
            if (2 * (tail + pk) > 0.05) {
                break;
            }
            tail += pk;
            l = k;
        }
        if (2 * Math.pow(0.5, n) > 0.05) {
            return new double[] {s[0], s[n - 1]};
        }
        return new double[] {s[l], s[n - 1 - l]};
    }

    /** The large SGEMM's rate: median over iterations, and the best one. */
    public record Matmul(int m, int k, int n, Stats ms, double gflops, double bestGflops) {}

    /** One probe set-up's time and its overhead against the unprobed forward of the same rounds. */
    public record ProbeCost(String variant, String description, Stats msPerImage, double overheadPercent,
                            double overheadP25, double overheadP75, double overheadLow, double overheadHigh) {}

    /**
     * Where a forward's time goes: its linear layers' products ({@code x·Wᵀ + b}, the same calls on inputs of the
     * same shapes, with the model's own weights) replayed alone, interleaved in the same rounds as the forward. The
     * rest of the forward is everything else: the attention's two batched products, softmax, LayerNorm, GELU, the
     * residual adds, copies and the Java side. Next to it, the same forward with the attention statements run one by
     * one on libtorch ({@link io.vitscope.engine.FusedAttention} off), interleaved too: the fused step's gain is the
     * median over rounds of (unfused / fused − 1), with its 95 % interval (NaN where the fused step is unavailable).
     * Likewise the forward that computes the last block's MLP for every token ({@code forwardEveryToken}): the
     * pruned gain is what leaving out the tokens the logits do not read saves. The replayed products are the
     * forward's own, the last MLP's on the prefix tokens only.
     */
    public record Breakdown(Stats linearMsPerImage, double linearGflops, double linearSharePercent,
                            Stats unfusedMsPerImage, double fusedGainPercent, double fusedGainLow,
                            double fusedGainHigh, Stats everyTokenMsPerImage, double prunedGainPercent,
                            double prunedGainLow, double prunedGainHigh) {}

    /**
     * What a started probe whose only breakpoints are disabled costs, in absolute time per forward, measured where it
     * can be resolved ({@link #disabledProbeFloor}): {@code microsPerForward} is the median over rounds of the
     * difference, with its distribution-free 95 % interval {@code [low, high]}; {@code twinForwardMs} is the twin's
     * unprobed forward.
     */
    public record ProbeFloor(String twin, int rounds, double twinForwardMs, double microsPerForward, double low,
                             double high) {

        /** The floor as a share of a forward of {@code forwardMs} (the whole batch's forward, not per image), in %. */
        public double[] percentOf(double forwardMs) {
            return new double[] {microsPerForward / 10 / forwardMs, low / 10 / forwardMs, high / 10 / forwardMs};
        }
    }

    /** Everything measured at one batch size. */
    public record BatchResult(int batch, Stats msPerImage, double gflops, double efficiencyMeasured,
                              double efficiencyEstimatedPeak, Breakdown breakdown, List<ProbeCost> probes) {}

    /** A whole run; {@code gflopPerImage} is what a forward computes ({@code VitConfig.forwardFlopsPerImage}). */
    public record Report(String model, String weights, double gflopPerImage, String cpu, int threads,
                         String mkl, int packedLayers, double loadBefore, double loadAfter, Matmul matmul,
                         PeakEstimate peak,
                         int warmup, int iterations, List<BatchResult> batches, ProbeFloor disabledProbeFloor) {

        /** The whole report as pretty-printed JSON (NaN where a figure could not be measured). */
        public String toJson() {
            return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(this);
        }
    }

    /** Probe targets (issue #15): disabled ≤ 0.5 % overhead, capture-all ≤ 2 % at batch 8. */
    public enum Variant {
        NONE("no probe"),
        LINEAR("the forward's linear layers alone (x·Wᵀ + b, same shapes and weights)"),
        UNFUSED("the forward with the attention statements on libtorch (FusedAttention off)"),
        EVERY_TOKEN("the forward with the last block's MLP for every token (forwardEveryToken)"),
        DISABLED("started probe, x3 breakpoint on every Attention disabled"),
        CAPTURE_ALL("captureCalls(\"blocks.*.attn\"): every local of all attention calls, cleared each iteration"),
        BREAKPOINT_X3("x3 breakpoint before the softmax of every Attention (LogitScaling)");

        /** The variants that time a probe; the others are the plain forward and the breakdown's. */
        static final java.util.Set<Variant> PROBES = java.util.EnumSet.of(DISABLED, CAPTURE_ALL, BREAKPOINT_X3);

        final String description;

        Variant(String description) {
            this.description = description;
        }

        public String label() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    private final LoadedModel loaded;
    private final Options options;

    public Bench(LoadedModel loaded, Options options) {
        this.loaded = loaded;
        this.options = options;
    }

    /** Runs every measurement; {@code progress} gets a line as each part starts. */
    public Report run(java.util.function.Consumer<String> progress) {
        double loadBefore = loadAverage();
        progress.accept("matmul " + MATMUL_SHAPE[0] + "x" + MATMUL_SHAPE[1] + "x" + MATMUL_SHAPE[2]);
        Matmul mm = matmul(MATMUL_SHAPE[0], MATMUL_SHAPE[1], MATMUL_SHAPE[2], 3, options.matmulIterations());
        double gflop = loaded.config().forwardFlopsPerImage() / 1e9; // what a forward computes
        PeakEstimate peak = PeakEstimate.ofThisMachine();
        List<BatchResult> results = new ArrayList<>();
        for (int batch : options.batches()) {
            progress.accept("batch " + batch);
            Stats[] stats = new Stats[Variant.values().length];
            double[][] overheads = new double[Variant.values().length][];
            measure(batch, stats, overheads);
            Stats plain = stats[Variant.NONE.ordinal()];
            double rate = gflop / (plain.median() / 1e3);
            Stats linear = stats[Variant.LINEAR.ordinal()];
            Breakdown breakdown = null; // none without the breakdown variants
            if (linear != null) {
                double[] unfused = overheads[Variant.UNFUSED.ordinal()];
                double[] gainCi = unfused == null ? new double[] {Double.NaN, Double.NaN} : medianInterval(unfused);
                double[] every = overheads[Variant.EVERY_TOKEN.ordinal()];
                double[] everyCi = medianInterval(every);
                breakdown = new Breakdown(linear, linearFlopsPerImage() / 1e9 / (linear.median() / 1e3),
                        100 + Stats.of(overheads[Variant.LINEAR.ordinal()]).median(),
                        stats[Variant.UNFUSED.ordinal()], unfused == null ? Double.NaN : Stats.of(unfused).median(),
                        gainCi[0], gainCi[1], stats[Variant.EVERY_TOKEN.ordinal()], Stats.of(every).median(),
                        everyCi[0], everyCi[1]);
            }
            List<ProbeCost> costs = new ArrayList<>();
            if (options.probes()) {
                for (Variant v : Variant.values()) {
                    if (Variant.PROBES.contains(v)) {
                        Stats o = Stats.of(overheads[v.ordinal()]);
                        double[] ci = medianInterval(overheads[v.ordinal()]);
                        costs.add(new ProbeCost(v.label(), v.description, stats[v.ordinal()], o.median(), o.p25(),
                                o.p75(), ci[0], ci[1]));
                    }
                }
            }
            results.add(new BatchResult(batch, plain, rate, rate / mm.gflops(), rate / peak.gflops(), breakdown,
                    costs));
        }
        ProbeFloor floor = null;
        if (options.probes() && options.floorRounds() > 0) {
            progress.accept("disabled probe on a narrow twin");
            floor = disabledProbeFloor(loaded.config(), options.floorRounds());
        }
        return new Report(loaded.name(), loaded.source(), gflop, cpuModel(), Engines.threads(),
                MklFastPath.status(), packedLayers(), loadBefore, loadAverage(), mm, peak, options.warmup(),
                options.iterations(), results, floor);
    }

    /** Rounds of the twin's interleaved forwards: a few seconds, and an interval of tens of microseconds. */
    public static final int FLOOR_ROUNDS = 400;

    /** Below 6 values the order statistics give no 95 % interval ({@link #medianInterval}). */
    static final int MIN_FLOOR_ROUNDS = 6;

    /**
     * The disabled probe's own cost. The whole-model rounds above time it as the difference of two forwards of
     * hundreds of milliseconds that vary by percents from one to the next, so their interval (about ±1 % at batch 8
     * in 30 rounds) cannot tell 0.1 % from 0.5 %. But a started probe whose breakpoints are all disabled adds no
     * tensor operation: every Attention keeps its fused step (nothing stops, nothing reads a local) and no tensor is
     * kept or copied. What it adds is the Java side of entering and leaving each hooked call, which depends on the
     * number of calls, not on the model's widths or the batch. So it is timed here on a narrow twin of the model (the
     * same depth, heads, patch grid and hooks; 8 features per head), one image, {@code rounds} rounds of one forward
     * with the probe and one without in alternating order: a twin's forward takes milliseconds, and the median of the
     * per-round differences resolves microseconds. Its share of a real forward is then the ratio of the two times.
     */
    public static ProbeFloor disabledProbeFloor(io.vitscope.model.VitConfig config, int rounds) {
        if (rounds < MIN_FLOOR_ROUNDS) {
            throw new InvalidArgumentException("rounds", "The twin needs at least " + MIN_FLOOR_ROUNDS
                    + " rounds for an interval, got " + rounds);
        }
        var twin = new io.vitscope.model.VitConfig(config.imgHeight(), config.imgWidth(), config.patchSize(),
                config.inChans(), config.numClasses(), 8 * config.numHeads(), config.depth(), config.numHeads(),
                config.mlpRatio(), config.qkvBias(), config.layerNormEps(), config.distilled());
        double[] plain = new double[rounds];
        double[] diff = new double[rounds];
        try (VisionTransformer model = new VisionTransformer(twin).initializeRandom(0);
             NDManager manager = NDManager.newBaseManager();
             Probe disabled = Probe.on(model)) {
            LogitScaling.install(disabled, 3).disable();
            disabled.stop();
            manager.getEngine().setRandomSeed(0);
            NDArray image = manager.randomNormal(new Shape(1, twin.inChans(), twin.imgHeight(), twin.imgWidth()));
            int warmup = Math.max(20, rounds / 10);
            for (int round = -warmup; round < rounds; round++) {
                double[] us = new double[2];
                for (int j = 0; j < 2; j++) {
                    int v = (j + round) & 1; // 0: no probe, 1: the disabled probe; the order alternates
                    long t0 = System.nanoTime();
                    if (v == 1) {
                        disabled.start();
                    }
                    model.forward(image).close();
                    if (v == 1) {
                        disabled.stop();
                    }
                    us[v] = (System.nanoTime() - t0) / 1e3;
                }
                if (round >= 0) {
                    plain[round] = us[0] / 1e3;
                    diff[round] = us[1] - us[0];
                }
            }
        }
        double[] ci = medianInterval(diff);
        return new ProbeFloor(String.format(java.util.Locale.ROOT, "depth %d, %d heads, width %d, %d tokens",
                twin.depth(), twin.numHeads(), twin.embedDim(), twin.numTokens()), rounds, Stats.of(plain).median(),
                Stats.of(diff).median(), ci[0], ci[1]);
    }

    /**
     * The rate of one large float32 product through DJL (torch.matmul, i.e. MKL's SGEMM in libtorch): the ceiling
     * the forward, which spends ~95 % of its FLOPs in such products, can approach.
     */
    public static Matmul matmul(int m, int k, int n, int warmup, int iterations) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.randomNormal(new Shape(m, k));
            NDArray b = manager.randomNormal(new Shape(k, n));
            for (int i = 0; i < warmup; i++) {
                a.matMul(b).close();
            }
            double[] ms = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                c.close(); // the product runs synchronously on CPU: closing after it only frees
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Stats s = Stats.of(ms);
            double gflop = 2.0 * m * k * n / 1e9;
            return new Matmul(m, k, n, s, gflop / (s.median() / 1e3), gflop / (s.min() / 1e3));
        }
    }

    private void measure(int batch, Stats[] stats, double[][] overheads) {
        VisionTransformer model = loaded.model();
        List<Variant> variants = new ArrayList<>(List.of(Variant.values()));
        if (!options.probes()) {
            variants.removeAll(Variant.PROBES);
        }
        if (!options.breakdown()) {
            // the forward alone, as a peer is timed
            variants.removeAll(List.of(Variant.LINEAR, Variant.UNFUSED, Variant.EVERY_TOKEN));
        }
        if (!io.vitscope.engine.FusedAttention.available()) {
            variants.remove(Variant.UNFUSED); // nothing to compare: every forward runs the statements on libtorch
        }
        int rounds = options.iterations();
        double[][] ms = new double[Variant.values().length][rounds];
        try (NDManager manager = NDManager.newBaseManager();
             Probe disabled = Probe.on(model);
             Probe capture = Probe.on(model);
             Probe x3 = Probe.on(model)) {
            LogitScaling.install(disabled, 3).disable();
            CallCapture calls = capture.captureCalls("blocks.*.attn");
            LogitScaling.install(x3, 3);
            disabled.stop();
            capture.stop();
            x3.stop();
            manager.getEngine().setRandomSeed(0);
            var c = loaded.config();
            NDArray images = manager.randomNormal(new Shape(batch, c.inChans(), c.imgHeight(), c.imgWidth())); // (B, C, H, W)
            java.util.Map<List<Integer>, NDArray> inputs = new java.util.HashMap<>(); // [rows, in] → (B, rows, in)
            List<Linear> layers = linears(model);
            List<NDArray> layerInputs = new ArrayList<>(); // per linear layer, an input of its shape
            for (Linear l : layers) {
                int rows = tokensThrough(l);
                layerInputs.add(inputs.computeIfAbsent(List.of(rows, l.inFeatures()),
                        k -> manager.randomNormal(new Shape(batch, k.get(0), k.get(1)))));
            }
            for (int round = -options.warmup(); round < rounds; round++) {
                for (int j = 0; j < variants.size(); j++) {
                    // Rotate the order each round so no variant always runs right after another (cache, allocator).
                    Variant v = variants.get(Math.floorMod(j + round, variants.size()));
                    Probe probe = switch (v) {
                        case NONE, LINEAR, UNFUSED, EVERY_TOKEN -> null;
                        case DISABLED -> disabled;
                        case CAPTURE_ALL -> capture;
                        case BREAKPOINT_X3 -> x3;
                    };
                    long t0 = System.nanoTime();
                    if (v == Variant.LINEAR) {
                        replay(layers, layerInputs);
                        long t1 = System.nanoTime();
                        if (round >= 0) {
                            ms[v.ordinal()][round] = (t1 - t0) / 1e6 / batch;
                        }
                        continue;
                    }
                    if (probe != null) {
                        probe.start();
                    }
                    io.vitscope.engine.FusedAttention.setEnabled(v != Variant.UNFUSED);
                    try {
                        (v == Variant.EVERY_TOKEN ? model.forwardEveryToken(images) : model.forward(images)).close();
                    } finally {
                        io.vitscope.engine.FusedAttention.setEnabled(true);
                    }
                    if (probe != null) {
                        probe.stop();
                    }
                    if (v == Variant.CAPTURE_ALL) {
                        if (calls.all().size() != model.config().depth()) {
                            throw new IllegalStateException("The capture saw " + calls.all().size()
                                    + " attention calls, expected " + model.config().depth());
                        }
                        calls.clear(); // freeing the captured tensors is part of capturing's cost
                    }
                    long t1 = System.nanoTime();
                    if (round >= 0) {
                        ms[v.ordinal()][round] = (t1 - t0) / 1e6 / batch;
                    }
                }
            }
        }
        for (Variant v : variants) {
            stats[v.ordinal()] = Stats.of(ms[v.ordinal()]);
            if (v != Variant.NONE) {
                double[] o = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    o[r] = 100 * (ms[v.ordinal()][r] / ms[Variant.NONE.ordinal()][r] - 1);
                }
                overheads[v.ordinal()] = o;
            }
        }
    }

    /** How many of the model's linear layers run on packed weights (VisionTransformer.packWeights); 0 if none. */
    private int packedLayers() {
        int n = 0;
        for (Linear l : linears(loaded.model())) {
            n += l.isPacked() ? 1 : 0;
        }
        return n;
    }

    /** The model's linear layers in forward order (patch embedding and head excluded: they are not Linear blocks). */
    private static List<Linear> linears(VisionTransformer model) {
        List<Linear> out = new ArrayList<>();
        for (var e : model.namedModules().entrySet()) {
            if (e.getValue() instanceof Linear l && e.getKey().startsWith("blocks.")) {
                out.add(l);
            }
        }
        return out;
    }

    /** FLOPs per image of the replayed linear layers: 2·rows·in·out each. */
    private double linearFlopsPerImage() {
        double flops = 0;
        for (Linear l : linears(loaded.model())) {
            flops += 2.0 * tokensThrough(l) * l.inFeatures() * l.outFeatures();
        }
        return flops;
    }

    /** The tokens per image a forward gives a linear layer: the prefix tokens in the last MLP, else all. */
    private int tokensThrough(Linear l) {
        var c = loaded.config();
        return loaded.model().runsOnPrefixTokens(l) ? c.numPrefixTokens() : c.numTokens();
    }

    /** The forward's linear products alone, through the path the forward takes (packed, sliced or libtorch's). */
    private static void replay(List<Linear> layers, List<NDArray> inputs) {
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).gradFreeProduct(inputs.get(i)).close();
        }
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** The 1-minute load average, or -1 where the platform has none. */
    public static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** The CPU's model name from /proc/cpuinfo, and how many processors the JVM sees. */
    public static String cpuModel() {
        String name = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    name = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture will do
        }
        return name + ", " + Runtime.getRuntime().availableProcessors() + " processors";
    }
}
