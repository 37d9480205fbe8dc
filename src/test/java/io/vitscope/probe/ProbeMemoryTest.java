package io.vitscope.probe;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.model.Attention;
import io.vitscope.model.VisionTransformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Captured forwards must not leak native memory: each capture frees the call it replaces, and everything a
 * forward allocates is freed when it returns. Iterations: {@code -Dvitscope.soak.iterations} (default 1,000).
 */
class ProbeMemoryTest {

    static long residentBytes() throws IOException {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(f[1]) * 4096L;
    }

    @Test
    void thousandCapturedForwardsDoNotGrowResidentMemory() throws IOException {
        assumeTrue(Files.exists(Path.of("/proc/self/statm")), "needs Linux's /proc to read resident memory");
        int iterations = Integer.getInteger("vitscope.soak.iterations", 1000);
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            NDArray input = Golden.npy("tiny/input.npy").toNDArray(m);
            CallCapture all = probe.captureCall("blocks.*.attn");
            CallCapture head = probe.captureCall("head");
            probe.breakpoint(Attention.PRE_SOFTMAX).exec(f -> f.set("attn", f.get("attn").mul(3)));
            for (int i = 0; i < 200; i++) {
                model.forward(input).close();
            }
            System.gc();
            long warm = residentBytes();
            for (int i = 0; i < iterations; i++) {
                model.forward(input).close();
                all.get().tensor("attn");
                head.get().returnValue();
            }
            System.gc();
            long after = residentBytes();
            double growth = (after - warm) / (double) warm;
            // < 5% (the soak bound) and under 16 MB in absolute terms.
            assertTrue(growth < 0.05 && after - warm < 16L << 20,
                    String.format("resident memory grew from %.1f MB to %.1f MB (%.2f%%) over %d captured forwards",
                            warm / 1e6, after / 1e6, 100 * growth, iterations));
        }
    }
}
