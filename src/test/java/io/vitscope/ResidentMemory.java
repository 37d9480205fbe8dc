package io.vitscope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Resident memory samples for soak tests. A single sample after a GC swings by tens of MB here (glibc keeps freed
 * native blocks in its arenas) with no trend; a leak is a trend. So a test samples through its run and compares the
 * median of the first quarter of the samples with the last quarter's.
 */
public final class ResidentMemory {

    private final List<Long> samples = new ArrayList<>();

    public static boolean available() {
        return Files.exists(Path.of("/proc/self/statm"));
    }

    /** Resident bytes of this process now, after asking for a GC. */
    public static long settled() throws IOException {
        System.gc();
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(f[1]) * 4096L; // the page size on x86-64 Linux
    }

    public void sample() throws IOException {
        samples.add(settled());
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
        return String.format("%s: resident memory (median of %d samples per quarter) %.1f MB in the first quarter, "
                        + "%.1f MB in the last (%+.2f%%); samples ranged %.1f-%.1f MB", what, quarter(),
                firstQuarter() / 1e6, lastQuarter() / 1e6, 100 * growth(), Collections.min(samples) / 1e6,
                Collections.max(samples) / 1e6);
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
