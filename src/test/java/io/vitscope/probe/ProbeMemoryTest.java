package io.vitscope.probe;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.ResidentMemory;
import io.vitscope.model.Attention;
import io.vitscope.model.VisionTransformer;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Captured forwards must not leak native memory: each capture frees the call it replaces, and everything a
 * forward allocates is freed when it returns. Iterations: {@code -Dvitscope.soak.iterations} (default 1,000).
 */
class ProbeMemoryTest {

    @Test
    void thousandCapturedForwardsDoNotGrowResidentMemory() throws IOException {
        assumeTrue(ResidentMemory.available(), "needs Linux's /proc to read resident memory");
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
            ResidentMemory memory = new ResidentMemory();
            int every = Math.max(1, iterations / 40);
            for (int i = 0; i < iterations; i++) {
                if (i % every == 0) {
                    memory.sample();
                }
                model.forward(input).close();
                all.get().tensor("attn");
                head.get().returnValue();
            }
            memory.sample();
            // < 5% (the soak bound), compared as medians of the first and last quarters of the samples.
            assertTrue(memory.growth() < 0.05, memory.describe(iterations + " captured forwards"));
        }
    }
}
