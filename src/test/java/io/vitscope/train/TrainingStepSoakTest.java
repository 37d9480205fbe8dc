package io.vitscope.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.loss.Loss;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.image.Image8;
import io.vitscope.model.Attention;
import io.vitscope.predict.Classifier;
import io.vitscope.probe.Probe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trainer's forward and backward repeated on one fixed batch, to catch the intermittent non-finite gradients seen in
 * training runs (docs/relevance.md, "What the gradient path check found"). Off by default (minutes):
 * {@code mvn test -Dtest=TrainingStepSoakTest -Dvitscope.soak.trainSteps=600 [-Dvitscope.mklfix=false]}. Every step
 * must give the same logits and finite gradients; a failing step is reported with where the NaN first appears — the
 * gradient at each attention layer's input, pre-softmax logits, probabilities and output, taken with zero leaves at
 * those sites, as relevance takes them.
 */
class TrainingStepSoakTest {

    @Test
    void repeatedTrainingStepsGiveFiniteIdenticalGradients() {
        int steps = Integer.getInteger("vitscope.soak.trainSteps", 0);
        assumeTrue(steps > 0, "set -Dvitscope.soak.trainSteps=N to run");
        assumeTrue(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "needs Debian's dataset-fashion-mnist");
        try (LoadedModel loaded = Models.load(null, java.nio.file.Path.of("models/fashion_vit"))) {
            var vit = loaded.model();
            int n = 128;
            FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(n);
            Classifier cl = new Classifier(loaded);
            int per = FashionMnist.SIZE * FashionMnist.SIZE;
            float[] batch = new float[n * per];
            long[] labels = new long[n];
            for (int i = 0; i < n; i++) {
                byte[] px = Arrays.copyOfRange(test.images().pixels(), i * per, (i + 1) * per);
                System.arraycopy(cl.transform().apply(new Image8(28, 28, 1, px)), 0, batch, i * per, per);
                labels[i] = test.label(i);
            }
            List<String> names = new ArrayList<>(vit.namedParameters().keySet());
            List<Parameter> params = new ArrayList<>(vit.namedParameters().values());
            for (Parameter p : params) {
                p.getArray().setRequiresGradient(true);                   // what Trainer.initialize does
            }
            Loss loss = Loss.softmaxCrossEntropyLoss();
            float[] first = null;
            List<String> failures = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                try (NDManager m = NDManager.newBaseManager(); Probe probe = Probe.on(vit)) {
                    List<String> where = new ArrayList<>();
                    List<NDArray> leaves = new ArrayList<>();
                    for (String site : new String[] {"entry", "pre_softmax", "post_softmax", "return"}) {
                        String var = site.equals("entry") ? "x" : site.equals("return") ? "return" : "attn";
                        probe.breakpoint(Attention.class, site).exec(h -> {
                            NDArray v = h.get(var);
                            NDArray z = m.zeros(v.getShape());
                            z.setRequiresGradient(true);
                            leaves.add(z);
                            where.add(h.path() + ":" + site);
                            h.set(var, v.add(z));
                        });
                    }
                    boolean gradWas = JniUtils.isGradMode();
                    JniUtils.setGradMode(true);
                    float lossValue;
                    float[] logits;
                    try {
                        NDArray x = m.create(batch, new Shape(n, 1, 28, 28));
                        NDArray out = vit.forward(null, new NDList(x), true).singletonOrThrow();   // the trainer's path
                        NDArray l = loss.evaluate(new NDList(m.create(labels)), new NDList(out));
                        JniUtils.backward((PtNDArray) l, (PtNDArray) l.onesLike(), false, false);
                        lossValue = l.getFloat();
                        logits = out.toFloatArray();
                    } finally {
                        JniUtils.setGradMode(gradWas);
                    }
                    StringBuilder bad = new StringBuilder();
                    for (int i = 0; i < params.size(); i++) {
                        NDArray g = params.get(i).getArray().getGradient();
                        if (!Float.isFinite(g.sum().getFloat())) {
                            bad.append(bad.length() == 0 ? "" : ", ").append(names.get(i));
                        }
                        g.set(new NDIndex("..."), 0f);                    // as the optimizer's zero-grad
                        g.close();
                    }
                    if (first == null) {
                        first = logits;
                    }
                    if (bad.length() > 0 || !Arrays.equals(first, logits)) {
                        StringBuilder sites = new StringBuilder();
                        for (int i = 0; i < leaves.size(); i++) {
                            int nonFinite = 0;
                            for (float v : leaves.get(i).getGradient().toFloatArray()) {
                                nonFinite += Float.isFinite(v) ? 0 : 1;
                            }
                            if (nonFinite > 0) {
                                sites.append(where.get(i)).append('=').append(nonFinite).append(' ');
                            }
                        }
                        String f = "step " + s + ": loss " + lossValue + (Arrays.equals(first, logits) ? ""
                                : ", logits differ from step 0") + "; non-finite gradients of " + bad
                                + "; non-finite entries at sites: " + sites;
                        System.out.println(f);
                        failures.add(f);
                    }
                }
            }
            System.out.printf("%d training steps on one batch: %d bad, %.0f ms each; MKL fast path: %s%n", steps,
                    failures.size(), (System.nanoTime() - t0) / 1e6 / steps, io.vitscope.engine.MklFastPath.status());
            assertEquals(List.of(), failures);
        }
    }
}
