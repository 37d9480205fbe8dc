package io.vitscope.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.model.Attention;
import io.vitscope.model.LoadedModel;
import io.vitscope.model.Models;
import io.vitscope.probe.Breakpoint;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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

    static long residentBytes() throws IOException {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(f[1]) * 4096L; // the page size on x86-64 Linux
    }

    private static long settledResidentBytes() throws IOException {
        System.gc();
        return residentBytes();
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    @Test
    void predictionsWithCapturesAndABreakpointDoNotGrowResidentMemory() throws IOException {
        assumeTrue(Files.exists(Path.of("/proc/self/statm")), "needs Linux's /proc to read resident memory");
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
            // Resident memory after a GC swings by tens of MB from one sample to the next here (glibc keeps freed
            // native blocks in its arenas; libjpeg and libtorch allocate through it), with no trend. A leak is a
            // trend: compare the median of the first quarter of the samples after warm-up with the last quarter's.
            int every = Math.max(1, iterations / 40);
            List<Long> samples = new ArrayList<>();
            long t0 = 0;
            for (int i = 0; i < warmup + iterations; i++) {
                if (i == warmup) {
                    t0 = System.nanoTime();
                }
                if (i >= warmup && (i - warmup) % every == 0) {
                    samples.add(settledResidentBytes());
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
                assertTrue(Math.abs(p - 1) < 1e-4, "captured attention rows sum to 1: " + p);
                attention.clear(); // a user's loop reads the captures, then lets them go
            }
            double msPer = (System.nanoTime() - t0) / 1e6 / iterations;
            samples.add(settledResidentBytes());
            assertEquals((long) depth * (warmup + iterations), scale.hits(), "the breakpoint hit every layer every time");
            int q = Math.max(1, samples.size() / 4);
            long first = median(samples.subList(0, q));
            long last = median(samples.subList(samples.size() - q, samples.size()));
            double growth = (last - first) / (double) first;
            System.out.printf("pipeline soak (%s): %d predictions after %d warm-up, %.2f ms each; resident memory "
                            + "(median of %d samples per quarter) %.1f MB in the first quarter, %.1f MB in the last "
                            + "(%+.2f%%); samples ranged %.1f-%.1f MB%n", loaded.name(), iterations, warmup, msPer, q,
                    first / 1e6, last / 1e6, 100 * growth, Collections.min(samples) / 1e6,
                    Collections.max(samples) / 1e6);
            assertTrue(growth < 0.05, String.format("resident memory grew from %.1f MB to %.1f MB (%.2f%%) over %d "
                    + "predictions", first / 1e6, last / 1e6, 100 * growth, iterations));
        }
    }
}
