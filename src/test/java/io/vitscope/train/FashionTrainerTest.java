package io.vitscope.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import io.vitscope.Prerequisites;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FashionTrainerTest {

    /** The default model's family at toy size, so that a few hundred steps take seconds. */
    private static final VitConfig TINY = new VitConfig(28, 28, 7, 1, 10, 32, 2, 2, 2.0, true, 1e-6);

    @Test
    void lossFallsAndEveryParameterLearns() {
        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN);
        FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(500);
        // 640 images, batch 32: 20 steps per epoch, 12 epochs = 240 steps.
        TrainOptions options = new TrainOptions(12, 32, 0, 2e-3, 0.05, 1.0, 0.01, 640, Batches.Augment.NONE);
        try (VisionTransformer vit = new VisionTransformer(TINY).initializeRandom(0)) {
            Map<String, float[]> before = snapshot(vit);
            List<Integer> arrays = new ArrayList<>();
            FashionTrainer.Result r = new FashionTrainer(FashionVit.DATA_CONFIG, options).train(vit, train, null,
                    new FashionTrainer.Listener() {
                        @Override
                        public void epochEnded(FashionTrainer.EpochStats s) {
                            arrays.add(vit.manager().getManagedArrays().size());
                        }
                    });
            double first = r.epochs().get(0).trainLoss();
            double last = r.epochs().get(r.epochs().size() - 1).trainLoss();
            assertTrue(first > 1.8, "the first epoch starts near ln 10 = 2.30, got a mean loss of " + first);
            assertTrue(last < 0.6 * first, "240 steps should cut the training loss by more than 40%: first epoch "
                    + first + ", last epoch " + last);
            double top1 = Evaluation.run(vit, test, FashionVit.DATA_CONFIG, 250, null).top1();
            assertTrue(top1 > 0.55, "640 training images are enough for > 55% on 500 test images, got " + top1);

            // Gradients reached every parameter: each one moved away from its initial value.
            Map<String, float[]> after = snapshot(vit);
            List<String> unchanged = new ArrayList<>();
            before.forEach((name, v) -> {
                if (java.util.Arrays.equals(v, after.get(name))) {
                    unchanged.add(name);
                }
            });
            assertEquals(List.of(), unchanged, "parameters that training never changed");

            // Memory stays flat: no array piles up in the model's manager from one epoch to the next.
            assertEquals(arrays.get(2), arrays.get(arrays.size() - 1),
                    "arrays held by the model's manager after epochs 3.." + arrays.size() + ": " + arrays);
        }
    }

    @Test
    void sameSeedSameRun() {
        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN);
        TrainOptions options = new TrainOptions(1, 32, 7, 1e-3, 0.05, 0.5, 0.01, 320, new Batches.Augment(true, 2));
        double[] losses = new double[2];
        for (int i = 0; i < 2; i++) {
            try (VisionTransformer vit = new VisionTransformer(TINY).initializeRandom(7)) {
                losses[i] = new FashionTrainer(FashionVit.DATA_CONFIG, options)
                        .train(vit, train, null, FashionTrainer.Listener.NONE).epochs().get(0).trainLoss();
            }
        }
        assertEquals(losses[0], losses[1], 0, "two runs with seed 7 (same thread count) give the same loss");
    }

    private static Map<String, float[]> snapshot(VisionTransformer vit) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : vit.namedParameters().entrySet()) {
            NDArray a = e.getValue().getArray();
            out.put(e.getKey(), a.toFloatArray());
        }
        return out;
    }
}
