package io.vitscope.cli;

import io.vitscope.bench.Bench;
import io.vitscope.bench.FolderBench;
import io.vitscope.bench.Bench.BatchResult;
import io.vitscope.bench.Bench.ProbeCost;
import io.vitscope.bench.Bench.Report;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.model.Presets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vitscope bench}: forward latency, the machine's matmul rate and the probe's cost, on random weights unless
 * {@code --weights} names a checkpoint (so that {@code scripts/bench_peers.sh} times the same weights as its peers).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time the model's forward (ms/image, GFLOP/s, efficiency against this machine's measured matmul "
                + "rate) and the probe's overhead (disabled, capture-all, x3 breakpoint).",
                "Timings are only as quiet as the machine: check the load average printed with them."})
public final class BenchCommand implements Callable<Integer> {

    enum Format { text, json }

    /** The architecture timed when --model is not given: the tutorial's ViT-B/16. */
    static final String DEFAULT_MODEL = "vit_base_patch16_224";

    @Spec
    CommandSpec spec;

    /** Which model: --model names the architecture (default below); --weights a checkpoint, else random weights. */
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", paramLabel = "N", arity = "1..*", split = ",", defaultValue = "1,8",
            description = "Batch sizes to time (default ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Untimed rounds per batch size (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "10",
            description = "Timed rounds per batch size; a round runs each variant once (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--matmul-iterations", paramLabel = "N", defaultValue = "20",
            description = "Timed runs of the reference SGEMM (default ${DEFAULT-VALUE}).")
    int matmulIterations;

    @Option(names = "--no-probes", description = "Time the plain forward only, not the probe variants.")
    boolean noProbes;

    @Option(names = "--no-breakdown", description = "Do not interleave the linear layers alone and the unfused forward "
            + "with the forward: with --no-probes, nothing but forwards back to back, as a peer is timed "
            + "(scripts/bench_peers.sh).")
    boolean noBreakdown;

    @Option(names = "--floor-rounds", paramLabel = "N", defaultValue = "" + Bench.FLOOR_ROUNDS,
            description = "Rounds of the disabled probe's own cost, timed on a narrow twin of the model (it adds no "
                    + "tensor work, so its absolute cost carries over); 0 skips it (default ${DEFAULT-VALUE}).")
    int floorRounds;

    @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--folder", paramLabel = "DIR",
            description = "Instead: predicting the images of DIR against the forward alone at the same batch (the first "
                    + "--batch value, default 8), interleaved in --iterations rounds; prints the ratio of their rates.")
    Path folder;

    @Option(names = "--round-images", paramLabel = "N", defaultValue = "64",
            description = "With --folder: images per round and variant (default ${DEFAULT-VALUE}).")
    int roundImages;

    @Option(names = "--pack", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Pack the linear weights for MKL's packed GEMM first (VisionTransformer.packWeights), as a "
                    + "folder prediction or the server does; --no-pack times the weights as loaded, as a one-image "
                    + "prediction runs them (default: packed).")
    boolean pack;

    @Override
    public Integer call() {
        threads.start();
        if (folder != null) {
            return folder();
        }
        Bench.Options options = new Bench.Options(batches, warmup, iterations, !noProbes, matmulIterations,
                !noBreakdown, floorRounds);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = load()) {
            if (pack) {
                loaded.model().packWeights();
            }
            Report report = new Bench(loaded, options).run(step -> {
                err.println("bench: " + step + "...");
                err.flush();
            });
            if (format == Format.json) {
                out.println(report.toJson());
            } else {
                printText(report, out);
            }
        }
        return Main.OK;
    }

    private int folder() {
        var given = spec.commandLine().getParseResult();
        int batch = given.hasMatchedOption("--batch") ? batches.get(0) : 8;
        BadValue.check(batch >= 1, spec, "--batch must be at least 1, got " + batch);
        BadValue.check(iterations >= 2, spec, "--iterations must be at least 2 with --folder (a confidence interval "
                + "needs two rounds), got " + iterations);
        BadValue.check(roundImages >= batch, spec, "--round-images must be at least the batch (" + batch + "), got "
                + roundImages);
        BadValue.check(warmup >= 0, spec, "--warmup must be 0 or more, got " + warmup);
        // One warm-up round unless told: a round of ViT-B/16 is a minute on two cores.
        FolderBench.Options options = new FolderBench.Options(folder, batch, roundImages,
                given.hasMatchedOption("--warmup") ? warmup : 1, iterations);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = load()) {
            if (pack) {
                loaded.model().packWeights(); // both variants run the same forward, as in the main bench
            }
            FolderBench.Report r = new FolderBench(loaded, options).run(step -> {
                err.println("bench: " + step + "...");
                err.flush();
            });
            if (format == Format.json) {
                out.println(r.toJson());
                return Main.OK;
            }
            out.println(f("model      %s (%s)", r.model(), r.weights()));
            out.println(f("machine    %s; libtorch threads %d; MKL fast path: %s", r.cpu(), r.threads(), r.mkl()));
            out.println(f("load avg   %.2f before, %.2f after (1 min)", r.loadBefore(), r.loadAfter()));
            out.println(f("folder     %s: %d files; %d images per round and variant, batch %d, %d rounds after %d "
                    + "warm-up, variants interleaved in rotating order", r.folder(), r.files(), r.imagesPerRound(),
                    r.batch(), r.rounds(), r.warmup()));
            out.println();
            out.println(f("%-10s %9s %18s", "variant", "ms/image", "min..max"));
            for (Object[] row : new Object[][] {{"forward", r.forward()}, {"pipeline", r.pipeline()},
                    {"decode", r.decode()}}) {
                Bench.Stats s = (Bench.Stats) row[1];
                out.println(f("%-10s %9.2f %18s", row[0], s.median(), f("%.2f..%.2f", s.min(), s.max())));
            }
            out.println();
            out.println(f("pipeline rate / forward-only rate: %.1f%% (mean of %d rounds; 95%% CI %.1f..%.1f%%); "
                    + "decoding in series would give %.1f%%", 100 * r.ratioMean(), r.rounds(), 100 * r.ratioLow(),
                    100 * r.ratioHigh(), 100 * r.serialRatio()));
        }
        return Main.OK;
    }

    /** Random weights for the architecture unless --weights names a checkpoint: what the benchmark times. */
    private LoadedModel load() {
        if (modelOptions.weights != null) {
            return modelOptions.load();
        }
        String arch = Presets.get(modelOptions.model != null ? modelOptions.model : DEFAULT_MODEL).name();
        LoadedModel random = Models.random(arch, seed);
        return modelOptions.labels == null ? random : Models.withLabels(random, modelOptions.labels);
    }

    static void printText(Report r, PrintWriter out) {
        Bench.Matmul mm = r.matmul();
        out.println(f("model      %s (%s), %.1f GFLOP/image computed (the last MLP on the class token alone)",
                r.model(), r.weights(), r.gflopPerImage()));
        out.println(f("machine    %s; libtorch threads %d; MKL fast path: %s; packed weights: %s", r.cpu(), r.threads(),
                r.mkl(), r.packedLayers() > 0 ? r.packedLayers() + " linear layers" : "off"));
        out.println(f("load avg   %.2f before, %.2f after (1 min; timings are pessimistic when it exceeds 0.5)",
                r.loadBefore(), r.loadAfter()));
        out.println(f("matmul     (%dx%d)·(%dx%d) float32: %.1f ms median (%.1f..%.1f) = %.0f GFLOP/s (best %.0f);"
                        + " estimated peak %.0f (%s)", mm.m(), mm.k(), mm.k(), mm.n(), mm.ms().median(), mm.ms().min(),
                mm.ms().max(), mm.gflops(), mm.bestGflops(), r.peak().gflops(), r.peak().describe()));
        out.println(f("rounds     %d timed after %d warm-up, variants interleaved in rotating order", r.iterations(),
                r.warmup()));
        out.println();
        out.println(f("%-6s %-14s %9s %18s %8s %9s", "batch", "variant", "ms/image", "min..max", "GFLOP/s",
                "overhead"));
        for (BatchResult b : r.batches()) {
            Bench.Stats s = b.msPerImage();
            out.println(f("%-6d %-14s %9.1f %18s %8.0f %9s", b.batch(), "no-probe", s.median(),
                    f("%.1f..%.1f", s.min(), s.max()), b.gflops(), "-"));
            for (ProbeCost c : b.probes()) {
                Bench.Stats p = c.msPerImage();
                out.println(f("%-6s %-14s %9.1f %18s %8.0f %+8.2f%%  [95%% CI %+.2f, %+.2f]%s", "", c.variant(),
                        p.median(), f("%.1f..%.1f", p.min(), p.max()), r.gflopPerImage() / (p.median() / 1e3),
                        c.overheadPercent(), c.overheadLow(), c.overheadHigh(), target(c.variant())));
            }
        }
        Bench.ProbeFloor floor = r.disabledProbeFloor();
        if (floor != null) {
            out.println();
            out.println(f("disabled probe's own cost, timed on a narrow twin (%s; forward %.2f ms; %d alternating "
                    + "rounds): %+.1f us per forward [95%% CI %+.1f, %+.1f]; it adds no tensor work, so at", floor.twin(),
                    floor.twinForwardMs(), floor.rounds(), floor.microsPerForward(), floor.low(), floor.high()));
            for (BatchResult b : r.batches()) {
                double[] pct = floor.percentOf(b.batch() * b.msPerImage().median());
                out.println(f("    batch %-3d %+.4f%% of the forward [95%% CI %+.4f, %+.4f]", b.batch(), pct[0], pct[1],
                        pct[2]));
            }
        }
        out.println();
        for (BatchResult b : r.batches()) {
            out.println(f("batch %-3d %.1f ms/image (spread %.0f%%), %.0f GFLOP/s = %.0f%% of the measured matmul rate,"
                            + " %.0f%% of the estimated %.0f GFLOP/s peak", b.batch(), b.msPerImage().median(),
                    b.msPerImage().spreadPercent(), b.gflops(), 100 * b.efficiencyMeasured(),
                    100 * b.efficiencyEstimatedPeak(), r.peak().gflops()));
            Bench.Breakdown d = b.breakdown();
            if (d == null) {
                continue;
            }
            out.println(f("          linear layers alone %.1f ms/image (%.0f GFLOP/s) = %.0f%% of the forward; the rest "
                    + "(attention products, softmax, norms, GELU, copies) %.1f ms", d.linearMsPerImage().median(),
                    d.linearGflops(), d.linearSharePercent(), b.msPerImage().median() * (1 - d.linearSharePercent() / 100)));
            if (d.unfusedMsPerImage() != null) {
                out.println(f("          attention statements one by one on libtorch: %.1f ms/image, %+.2f%% "
                        + "[95%% CI %+.2f, %+.2f] against the fused step", d.unfusedMsPerImage().median(),
                        d.fusedGainPercent(), d.fusedGainLow(), d.fusedGainHigh()));
            }
            out.println(f("          last block's MLP for every token: %.1f ms/image, %+.2f%% [95%% CI %+.2f, %+.2f] "
                    + "against the class token alone", d.everyTokenMsPerImage().median(), d.prunedGainPercent(),
                    d.prunedGainLow(), d.prunedGainHigh()));
        }
    }

    private static String target(String variant) {
        return switch (variant) {
            case "disabled" -> "  (target <= 0.5%)";
            case "capture-all" -> "  (target <= 2% at batch 8)";
            default -> "";
        };
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
