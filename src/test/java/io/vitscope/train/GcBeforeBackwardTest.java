package io.vitscope.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The training step's gradients must not depend on when the JVM collects garbage.
 *
 * <p>DJL's {@code mul(Number)} makes its scalar over a Java direct buffer (libtorch's {@code from_blob}, no copy)
 * and closes it after the product; autograd keeps that scalar for the backward. A GC between forward and backward
 * frees the buffer, and the backward multiplied gradients by whatever the freed memory then held (1e-45, 8e16,
 * NaN): the intermittent non-finite steps of full training runs. Here the GC is forced between forward and backward
 * and the freed small blocks are reused with NaN bytes, so a scalar the backward still needs is certain to be
 * garbage; before the fix every attention gradient came out wrong.
 */
class GcBeforeBackwardTest {

    /** The default model's family at toy size: patch 7, D 32, 2 blocks, 2 heads. */
    private static final VitConfig TINY = new VitConfig(28, 28, 7, 1, 10, 32, 2, 2, 2.0, true, 1e-6);

    @Test
    void vitGradientsSurviveAGcBetweenForwardAndBackward() {
        check((vit, batch) -> vit.forward(new ParameterStore(batch.images().getManager(), false),
                new NDList(batch.images()), true).singletonOrThrow()
                .logSoftmax(1).get(new ai.djl.ndarray.index.NDIndex().addAllDim().addPickDim(
                        batch.labels().reshape(-1, 1))).neg().mean());
    }

    @Test
    void smoothedLossGradientsSurviveAGcBetweenForwardAndBackward() {
        check((vit, batch) -> FashionTrainer.smoothedCrossEntropy(
                vit.forward(new ParameterStore(batch.images().getManager(), false), new NDList(batch.images()), true)
                        .singletonOrThrow(), batch.labels(), 0.1));
    }

    @Test
    void smoothedLossIsTimmsFormula() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] logits = {2f, -1f, 0.5f, 30f, 0f, -30f};  // (2, 3), one row far from uniform
            long[] labels = {0, 2};
            double eps = 0.1;
            float got = FashionTrainer.smoothedCrossEntropy(m.create(logits, new Shape(2, 3)), m.create(labels), eps)
                    .getFloat();
            double want = 0;
            for (int b = 0; b < 2; b++) {
                double max = Math.max(logits[3 * b], Math.max(logits[3 * b + 1], logits[3 * b + 2]));
                double lse = 0;
                for (int c = 0; c < 3; c++) {
                    lse += Math.exp(logits[3 * b + c] - max);
                }
                lse = max + Math.log(lse);
                double nll = lse - logits[3 * b + (int) labels[b]];
                double smooth = 0;
                for (int c = 0; c < 3; c++) {
                    smooth += (lse - logits[3 * b + c]) / 3;
                }
                want += ((1 - eps) * nll + eps * smooth) / 2;
            }
            // float32 log-softmax of logits up to 60 apart: each term carries a few ulps of 60 (≈ 4e-6 each), summed
            // over 6 terms and scaled by at most 1: 5e-5 bounds it.
            assertEquals(want, got, 5e-5, "(1 - ε) NLL + ε mean(-log p), averaged over the batch");
        }
    }

    record Batch(NDArray images, NDArray labels) {}

    private static void check(BiFunction<VisionTransformer, Batch, NDArray> loss) {
        try (VisionTransformer vit = new VisionTransformer(TINY).initializeRandom(3);
             NDManager m = NDManager.newBaseManager()) {
            for (Parameter p : vit.namedParameters().values()) {
                p.getArray().setRequiresGradient(true);
            }
            Batch batch = new Batch(m.randomNormal(new Shape(4, 1, 28, 28)), m.create(new long[] {0, 3, 7, 9}));
            Map<String, float[]> clean = gradients(vit, batch, loss, false);
            Map<String, float[]> churned = gradients(vit, batch, loss, true);
            List<String> wrong = new ArrayList<>();
            clean.forEach((name, g) -> {
                float[] h = churned.get(name);
                double scale = 0;
                double diff = 0;
                for (int i = 0; i < g.length; i++) {
                    scale = Math.max(scale, Math.abs(g[i]));
                    diff = Math.max(diff, Math.abs((double) g[i] - h[i]));
                }
                // The two backwards run the same float32 operations on the same data and thread count: they agree to
                // rounding. 1e-5 of the largest entry allows for a reordered multi-threaded reduction; the
                // corruption is orders of magnitude off or NaN (a NaN diff fails the comparison too).
                if (!(diff <= 1e-5 * scale + 1e-12)) {
                    wrong.add(name + " (max diff " + diff + ", max |g| " + scale + ")");
                }
            });
            assertTrue(clean.values().stream().anyMatch(g -> g.length > 0 && g[0] != 0), "gradients were computed");
            assertEquals(List.of(), wrong, "gradients that changed when a GC ran between forward and backward");
        }
    }

    private static Map<String, float[]> gradients(VisionTransformer vit, Batch batch,
                                                  BiFunction<VisionTransformer, Batch, NDArray> loss, boolean gc) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager scope = batch.images().getManager().newSubManager()) {
            for (Parameter p : vit.namedParameters().values()) {
                try (NDArray g = p.getArray().getGradient()) {
                    g.subi(g);  // zero what a previous backward accumulated
                }
            }
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss.apply(vit, batch);
                l.attach(scope);
                if (gc) {
                    reuseFreedMemory();
                }
                collector.backward(l);
            }
            vit.namedParameters().forEach((name, p) -> {
                try (NDArray g = p.getArray().getGradient()) {
                    out.put(name, g.toFloatArray());
                }
            });
        }
        return out;
    }

    /** Collects garbage, lets the cleaner free unreachable direct buffers, then refills small blocks with NaN. */
    private static void reuseFreedMemory() {
        System.gc();
        try {
            Thread.sleep(200);  // the Cleaner thread frees direct buffers after the GC found them unreachable
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ByteBuffer> keep = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, Float.NaN);
            keep.add(b);
        }
        assertEquals(2000, keep.size());
    }
}
