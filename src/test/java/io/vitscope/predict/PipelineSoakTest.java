package io.vitscope.predict;

import io.vitscope.experiment.LogitScaling;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.ResidentMemory;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.probe.Breakpoint;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A long-lived process predicting with the debugger attached must not grow: image files through the public
 * pipeline ({@link Classifier}: decode → eval transform → batch → forward → softmax → top-k), with a
 * {@link Probe} capturing every call of every attention layer and a breakpoint scaling the attention logits, its
 * captures read and cleared after each prediction as a user's loop would. Resident memory after warm-up may grow
 * by less than 5% (median of the last quarter's samples against the first quarter's).
 *
 * <p>{@code -Dvitscope.soak.iterations} (default 1,000, a few seconds on the golden tiny model) and
 * {@code -Dvitscope.soak.model=vit_base_patch16_224} (a preset with random weights instead of the tiny model, 224×224
 * inputs: ViT-B/16's real sizes). Long runs and their figures: {@code docs/robustness.md}.
 */
class PipelineSoakTest {

    private static final List<Path> IMAGES = List.of(Path.of("src/test/resources/images/chelsea_200x150.jpg"),
            Path.of("src/test/resources/images/rgba_97x75.png"), Path.of("src/test/resources/images/anim_97x75.gif"),
            Path.of("src/test/resources/images/exif6_150x100.jpg"));

    @Test
    void predictionsWithCapturesAndABreakpointDoNotGrowResidentMemory() throws IOException {
        assumeTrue(ResidentMemory.available(), "needs Linux's /proc to read resident memory");
        int iterations = Integer.getInteger("vitscope.soak.iterations", 1000);
        String preset = System.getProperty("vitscope.soak.model");
        int warmup = Math.max(20, Math.min(200, iterations / 5));
        try (LoadedModel loaded = preset == null ? Models.load(null, Golden.dir("tiny/hf"))
                : Models.random(preset, 0);
             Probe probe = Probe.on(loaded.model())) {
            int depth = loaded.config().depth();
            Classifier classifier = new Classifier(loaded);
            CallCapture attention = probe.captureCalls("blocks.*.attn");
            Breakpoint scale = LogitScaling.install(probe, 3);
            int every = Math.max(1, iterations / 40);
            ResidentMemory memory = new ResidentMemory();
            long t0 = 0;
            for (int i = 0; i < warmup + iterations; i++) {
                if (i == warmup) {
                    t0 = System.nanoTime();
                }
                if (i >= warmup && (i - warmup) % every == 0) {
                    memory.sample(i - warmup);
                }
                Path image = IMAGES.get(i % IMAGES.size());
                try (NDManager m = NDManager.newBaseManager()) {
                    NDArray x = classifier.batch(m, classifier.read(image));          // (1, C, H, W)
                    List<Prediction> top = classifier.top(classifier.logits(x), 5).get(0);
                    assertEquals(1, top.get(0).rank());
                }
                List<CallRecord> calls = attention.all();
                assertEquals(depth, calls.size(), "one captured call per attention layer");
                float p = calls.get(depth - 1).tensor("attn").get(0, 0, 0).sum().getFloat(); // a softmax row
                // A float32 sum of T probabilities that sum to 1 is within (T - 1)·u of it (non-negative terms;
                // Higham §4.2), plus the softmax's own rounding of each term, u per term: (2T)·2^-24 in all.
                double rowTolerance = 2.0 * loaded.config().numTokens() * Math.pow(2, -24);
                assertTrue(Math.abs(p - 1) <= rowTolerance, "captured attention rows sum to 1: " + p);
                attention.clear(); // a user's loop reads the captures, then lets them go
            }
            double msPer = (System.nanoTime() - t0) / 1e6 / iterations;
            memory.sample(iterations);
            assertEquals((long) depth * (warmup + iterations), scale.hits(), "the breakpoint hit every layer every time");
            System.out.printf("%s; %.2f ms per prediction%n", memory.describe("pipeline soak (" + loaded.name() + ", "
                    + iterations + " predictions after " + warmup + " warm-up)"), msPer);
            // A leak worth catching: two of the captured attention maps per prediction (on the tiny model (1, 4, 17, 17)
            // float32, 4,624 bytes each; a whole capture is three). Without a leak the estimate stays at 1-2 KB per
            // prediction on a loaded 2-core machine (see ResidentMemory); a leak of ~20 KB passed the old 5% bound,
            // and ProbeMemoryTest shows the estimator catching a planted one.
            long attentionBytes = (long) loaded.config().numHeads() * loaded.config().numTokens() * loaded.config().numTokens()
                    * Float.BYTES;
            assertTrue(memory.bytesPerIteration() < 2 * attentionBytes, memory.describe(iterations + " predictions"));
        }
    }
}
