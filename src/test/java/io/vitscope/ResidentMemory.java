package io.vitscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Resident memory samples for soak tests. A single sample after a GC swings by tens of MB here (glibc keeps freed
 * native blocks in its arenas) with no trend; a leak is a trend. So a test samples through its run, each sample with
 * the iteration it was taken at, and estimates the leak as bytes per iteration: the Theil–Sen slope (the median of
 * the slopes between every pair of samples), which a minority of outlying samples cannot move — unlike a relative
 * growth of the whole JVM's memory, whose size says nothing about how large a leak per iteration it can hide.
 */
public final class ResidentMemory {

    private final List<Long> samples = new ArrayList<>();
    private final List<Long> iterations = new ArrayList<>();

    public static boolean available() {
        return Files.exists(Path.of("/proc/self/statm"));
    }

    /**
     * Resident bytes of this process now, after asking for a GC, less the memory the JVM has committed for its heap
     * and its own non-heap areas (code cache, metaspace): those grow and stay with allocation pressure and the JIT,
     * not with leaks of native tensors, and would otherwise show as growth per iteration.
     */
    public static long settled() throws IOException {
        System.gc();
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        long rss = Long.parseLong(f[1]) * 4096L; // the page size on x86-64 Linux
        java.lang.management.MemoryMXBean jvm = java.lang.management.ManagementFactory.getMemoryMXBean();
        return rss - jvm.getHeapMemoryUsage().getCommitted() - jvm.getNonHeapMemoryUsage().getCommitted();
    }

    /** A sample taken after {@code iteration} iterations. */
    public void sample(long iteration) throws IOException {
        samples.add(settled());
        iterations.add(iteration);
    }

    /** The Theil–Sen estimate of resident memory growth, in bytes per iteration. */
    public double bytesPerIteration() {
        List<Double> slopes = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            for (int j = i + 1; j < samples.size(); j++) {
                long di = iterations.get(j) - iterations.get(i);
                if (di > 0) {
                    slopes.add((samples.get(j) - samples.get(i)) / (double) di);
                }
            }
        }
        if (slopes.isEmpty()) {
            throw new IllegalStateException("at least two samples at different iterations are needed");
        }
        Collections.sort(slopes);
        int n = slopes.size();
        return n % 2 == 1 ? slopes.get(n / 2) : (slopes.get(n / 2 - 1) + slopes.get(n / 2)) / 2;
    }

    public long firstQuarter() {
        return median(samples.subList(0, quarter()));
    }

    public long lastQuarter() {
        return median(samples.subList(samples.size() - quarter(), samples.size()));
    }

    /** Relative growth from the first quarter's median to the last quarter's. */
    public double growth() {
        return (lastQuarter() - firstQuarter()) / (double) firstQuarter();
    }

    /** One line for logs and assertion messages. */
    public String describe(String what) {
        return String.format("%s: native resident memory grows %.0f bytes per iteration (Theil-Sen over %d samples); median "
                        + "of the first quarter %.1f MB, of the last %.1f MB (%+.2f%%); samples ranged %.1f-%.1f MB", what,
                bytesPerIteration(), samples.size(), firstQuarter() / 1e6, lastQuarter() / 1e6, 100 * growth(),
                Collections.min(samples) / 1e6, Collections.max(samples) / 1e6);
    }

    private int quarter() {
        return Math.max(1, samples.size() / 4);
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
