package io.vitscope.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The peak estimate is arithmetic on /proc/cpuinfo: checked on made-up files whose answer is known by hand. */
class PeakEstimateTest {

    private static List<String> cpuinfo(String flags, String mhz, String... coreIds) {
        List<String> lines = new java.util.ArrayList<>();
        for (String id : coreIds) {
            lines.addAll(List.of("processor\t: " + id, "model name\t: AMD EPYC", "cpu MHz\t\t: " + mhz,
                    "physical id\t: 0", "core id\t\t: " + id, "flags\t\t: " + flags, ""));
        }
        return lines;
    }

    @Test
    void avx512TwoCores() {
        PeakEstimate p = PeakEstimate.parse(cpuinfo("fpu sse avx avx2 fma avx512f", "3500.000", "0", "1"), 2);
        assertEquals("AVX-512", p.isa());
        assertEquals(64, p.flopsPerCycle());          // 2 FMA units x 16 lanes x 2 FLOPs
        assertEquals(2 * 64 * 3.5, p.gflops(), 1e-9);  // 448 GFLOP/s
        assertTrue(p.describe().contains("2 cores × 64 FLOP/cycle (AVX-512"), p.describe());
    }

    @Test
    void avx2WithFmaAndHyperThreadsCountCoresOnce() {
        // Four processors on two cores (core ids repeat): SMT siblings share the FMA units.
        PeakEstimate p = PeakEstimate.parse(cpuinfo("sse avx avx2 fma", "2000", "0", "1", "0", "1"), 4);
        assertEquals(2, p.cores());
        assertEquals(32, p.flopsPerCycle());
        assertEquals(2 * 32 * 2.0, p.gflops(), 1e-9);
    }

    @Test
    void noCpuinfoGivesNoEstimate() {
        PeakEstimate p = PeakEstimate.parse(List.of(), 2);
        assertTrue(Double.isNaN(p.gflops()));
        assertTrue(p.describe().startsWith("no estimate"), p.describe());
    }
}
