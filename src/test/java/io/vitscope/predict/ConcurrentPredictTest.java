package io.vitscope.predict;

import io.vitscope.experiment.LogitScaling;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.model.Attention;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.probe.Breakpoint;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One shared model, four threads predicting at once, each with a probe of its own (different logit scales,
 * captures of different blocks, a counting breakpoint): every thread gets exactly what it gets when it runs alone,
 * and no probe ever sees another thread's forward.
 */
class ConcurrentPredictTest {

    private static final int ROUNDS = 40;

    private static LoadedModel loaded;
    private static NDManager manager;
    private static NDArray input; // (2, 3, 32, 32), shared read-only by every thread

    @BeforeAll
    static void load() {
        loaded = Models.load(null, Golden.dir("tiny/hf"));
        manager = NDManager.newBaseManager();
        input = Golden.npy("tiny/input.npy").toNDArray(manager);
    }

    @AfterAll
    static void close() {
        manager.close();
        loaded.close();
    }

    /** What one thread does: its probe, then forwards; what it saw. */
    private record Job(String name, double scale, String capture) {}

    /** Logits and the captured attention of one forward, plus the counts the probe saw. */
    private record Seen(float[] logits, float[] attn, int capturedCalls, int hits) {}

    private static final List<Job> JOBS = List.of(
            new Job("scale 0.5, blocks.0.attn", 0.5, "blocks.0.attn"),
            new Job("scale 1, blocks.1.attn", 1.0, "blocks.1.attn"),
            new Job("scale 3, blocks.*.attn", 3.0, "blocks.*.attn"),
            new Job("scale 1, blocks.2.attn, counting", 1.0, "blocks.2.attn"));

    /** Runs {@code rounds} forwards under the job's probe on the calling thread; returns what each one saw. */
    private static List<Seen> run(Job job, int rounds, CyclicBarrier start) throws Exception {
        List<Seen> seen = new ArrayList<>();
        try (Probe probe = Probe.on(loaded.model())) {
            if (job.scale() != 1) {
                LogitScaling.install(probe, job.scale());
            }
            // Counts every attention layer this probe sees: 3 per forward of its own thread, never another's.
            Breakpoint counter = probe.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)");
            CallCapture capture = probe.captureCalls(job.capture());
            if (start != null) {
                start.await(30, TimeUnit.SECONDS);
            }
            int hitsBefore = 0;
            for (int i = 0; i < rounds; i++) {
                float[] logits = logitsOf(input);                                 // (B, K)
                float[] attn = capture.all().get(capture.all().size() - 1).tensor("attn").toFloatArray();
                seen.add(new Seen(logits, attn, capture.all().size(), counter.hits() - hitsBefore));
                hitsBefore = counter.hits();
                capture.clear();
            }
        }
        return seen;
    }

    /** The output lands in the shared input's manager: free it at once. */
    private static float[] logitsOf(NDArray x) {
        try (NDArray logits = loaded.model().forward(x)) {
            return logits.toFloatArray();
        }
    }

    @Test
    void fourThreadsWithTheirOwnProbesOnOneModelMatchSequentialRuns() throws Exception {
        List<Seen> alone = new ArrayList<>();
        for (Job job : JOBS) {
            alone.add(run(job, 1, null).get(0));
        }
        // Sanity against PyTorch: the scaled jobs are the golden x0.5 / x3 experiments on the HF folder's model
        // (LayerNorm eps 1e-12), within their derived float32 bounds (io.vitscope.Bound).
        Bound.of("tiny/scaled0.5_logits_hf").check(alone.get(0).logits(), "x0.5 alone");
        Bound.of("tiny/logits_hf").check(alone.get(1).logits(), "x1 alone");
        Bound.of("tiny/scaled3_logits_hf").check(alone.get(2).logits(), "x3 alone");

        ExecutorService pool = Executors.newFixedThreadPool(JOBS.size());
        CyclicBarrier start = new CyclicBarrier(JOBS.size());
        try {
            List<Future<List<Seen>>> futures = new ArrayList<>();
            for (Job job : JOBS) {
                futures.add(pool.submit(() -> run(job, ROUNDS, start)));
            }
            for (int j = 0; j < JOBS.size(); j++) {
                Job job = JOBS.get(j);
                Seen expected = alone.get(j);
                int expectedCalls = job.capture().contains("*") ? 3 : 1;
                List<Seen> seen = futures.get(j).get(120, TimeUnit.SECONDS);
                for (int i = 0; i < ROUNDS; i++) {
                    Seen s = seen.get(i);
                    String where = job.name() + ", round " + i;
                    // The same kernels on the same shapes: bit for bit, whatever the other threads do.
                    assertArrayEquals(expected.logits(), s.logits(), where + ": logits");
                    assertArrayEquals(expected.attn(), s.attn(), where + ": captured attention");
                    assertEquals(expectedCalls, s.capturedCalls(), where + ": captured only this thread's calls");
                    assertEquals(3, s.hits(), where + ": the breakpoint saw this thread's 3 attention layers only");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aThreadWithoutAProbeIsNeverTouchedByTheOthers() throws Exception {
        float[] plain = logitsOf(input);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CyclicBarrier start = new CyclicBarrier(2);
        try {
            Future<List<Seen>> scaled = pool.submit(() -> run(JOBS.get(2), ROUNDS, start));
            Future<Integer> unprobed = pool.submit(() -> {
                start.await(30, TimeUnit.SECONDS);
                for (int i = 0; i < ROUNDS; i++) {
                    float[] logits = logitsOf(input);
                    assertArrayEquals(plain, logits, "round " + i + ": another thread's x3 breakpoint leaked in");
                }
                return ROUNDS;
            });
            assertEquals(ROUNDS, unprobed.get(120, TimeUnit.SECONDS));
            for (Seen s : scaled.get(120, TimeUnit.SECONDS)) {
                assertEquals(3, s.hits());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
