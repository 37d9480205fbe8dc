package io.vitscope.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An estimate of this machine's float32 peak, from what {@code /proc/cpuinfo} says: cores × FLOPs per cycle per core
 * × clock. It is an estimate and an upper bound, not a measurement: it assumes two FMA units per core of the widest
 * width the ISA flags announce (AVX-512: 16 float32 lanes, AVX2 with FMA: 8, otherwise SSE's 4 with separate multiply
 * and add), each FMA counting 2 FLOPs, at the clock the kernel reports right now (which turbo and power states move).
 * Some cores run 512-bit instructions on 256-bit units (Zen 4) and reach half the AVX-512 figure; efficiency in the
 * benchmark is therefore stated against the matmul rate measured in the same run, and against this only as a hint.
 *
 * @param gflops the estimated peak, GFLOP/s; NaN when the CPU could not be read
 * @param cores physical cores (distinct physical id / core id pairs), or the processors the JVM sees
 * @param flopsPerCycle float32 FLOPs per cycle and core assumed
 * @param ghz the clock used
 * @param isa the widest vector extension found ({@code AVX-512}, {@code AVX2+FMA}, {@code SSE})
 */
public record PeakEstimate(double gflops, int cores, int flopsPerCycle, double ghz, String isa) {

    /** Reads {@code /proc/cpuinfo}; NaN figures where it is missing (not Linux). */
    public static PeakEstimate ofThisMachine() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/cpuinfo")), Runtime.getRuntime().availableProcessors());
        } catch (IOException | RuntimeException e) {
            return new PeakEstimate(Double.NaN, Runtime.getRuntime().availableProcessors(), 0, Double.NaN, "unknown");
        }
    }

    /** The estimate from the lines of a {@code /proc/cpuinfo}. */
    public static PeakEstimate parse(List<String> cpuinfo, int processors) {
        Set<String> coreIds = new HashSet<>();
        String physical = "0";
        double mhz = Double.NaN;
        String flags = "";
        for (String line : cpuinfo) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "physical id" -> physical = value;
                case "core id" -> coreIds.add(physical + "/" + value);
                case "cpu MHz" -> mhz = Double.isNaN(mhz) ? Double.parseDouble(value) : mhz;
                case "flags" -> flags = flags.isEmpty() ? " " + value + " " : flags;
                default -> { }
            }
        }
        int cores = coreIds.isEmpty() ? processors : Math.min(coreIds.size(), processors);
        String isa;
        int lanes;
        int flopsPerLane;
        if (flags.contains(" avx512f ")) {
            isa = "AVX-512";
            lanes = 16;
            flopsPerLane = 2;
        } else if (flags.contains(" avx2 ") && flags.contains(" fma ")) {
            isa = "AVX2+FMA";
            lanes = 8;
            flopsPerLane = 2;
        } else {
            isa = "SSE";
            lanes = 4;
            flopsPerLane = 1;
        }
        int flopsPerCycle = 2 * lanes * flopsPerLane; // two vector units per core
        double ghz = mhz / 1000;
        return new PeakEstimate(cores * flopsPerCycle * ghz, cores, flopsPerCycle, ghz, isa);
    }

    /** "2 cores × 64 FLOP/cycle (AVX-512) × 2.60 GHz", or why there is no estimate. */
    public String describe() {
        if (Double.isNaN(gflops)) {
            return "no estimate (the CPU's clock or flags could not be read)";
        }
        return String.format(Locale.ROOT, "%d cores × %d FLOP/cycle (%s, two FMA units assumed) × %.2f GHz", cores,
                flopsPerCycle, isa, ghz);
    }
}
