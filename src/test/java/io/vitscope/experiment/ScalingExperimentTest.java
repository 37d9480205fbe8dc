package io.vitscope.experiment;

import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.experiment.ScalingExperiment.FactorResult;
import io.vitscope.image.DataConfig;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The logit-scaling experiment on the golden tiny model against PyTorch's scaled forwards. */
class ScalingExperimentTest {

    static LoadedModel loaded;
    static Classifier classifier;
    static Input image0;

    @BeforeAll
    static void load() {
        DataConfig data = DataConfig.rgb(32, 0.875, DataConfig.Interpolation.BICUBIC,
                DataConfig.IMAGENET_DEFAULT_MEAN, DataConfig.IMAGENET_DEFAULT_STD);
        loaded = new LoadedModel("tiny", Golden.model("tiny"), data, Models.readLabels(Golden.file("tiny/labels.txt"),
                10), "golden");
        classifier = new Classifier(loaded);
        image0 = classifier.read(Golden.file("tiny/input.npy")).get(0);
    }

    @AfterAll
    static void close() {
        loaded.close();
    }

    @Test
    void eachFactorMatchesPyTorchsScaledForward() {
        ScalingExperiment.Result r = new ScalingExperiment(classifier).run(image0, new double[] {0.5, 1, 3}, 5, -1);
        assertEquals(1, r.block(), "depth 3: the middle block");
        assertEquals("tiny/input.npy[0]", r.source().substring(r.source().indexOf("tiny/")));
        // Every quantity against PyTorch's exact value within its derived float32 bound (io.vitscope.Bound); the
        // entropies are PyTorch's too (make_goldens.py), not recomputed here with the code under test.
        String[] golden = {"tiny/scaled0.5_", "tiny/", "tiny/scaled3_"};
        for (int f = 0; f < 3; f++) {
            FactorResult fr = r.factors().get(f);
            String what = "factor " + fr.factor();
            Bound.of(golden[f] + "probs").at(0).check(fr.probabilities(), what + " probabilities");
            double[] entropy = fr.entropy();
            float[] asFloats = new float[entropy.length];
            for (int b = 0; b < entropy.length; b++) {
                asFloats[b] = (float) entropy[b];
            }
            // The entropy is a double from float32 attention: its float rounding (2^-24 relative, ~1e-7 here) is far
            // inside the bound propagated from the attention's (~1e-5).
            Bound.of(golden[f] + "entropy").check(asFloats, what + " mean entropy per block");
            Bound kept = Bound.of(golden[f] + "attn").at(1).at(0);                // (N, T, T) of block 1, image 0
            float[][][] attention = fr.attention();
            float[] flat = new float[attention.length * attention[0].length * attention[0].length];
            int i = 0;
            for (float[][] head : attention) {
                for (float[] row : head) {
                    System.arraycopy(row, 0, flat, i, row.length);
                    i += row.length;
                }
            }
            kept.check(flat, what + " kept attention of block 1");
        }
        // Top-k is the probabilities sorted.
        FactorResult one = r.at(1);
        assertEquals(5, one.top().size());
        assertEquals(one.probabilities()[one.top().get(0).index()], one.top().get(0).probability(), 0f);
    }

    @Test
    void oneChannelModelsWorkAsFashionMnistWould() {
        // tiny_gray: 28×28 grey input, 7×7 patches (4×4 grid), 2 blocks, 3 heads: a grey 28×28 model like the embedded
        // Fashion one (which has 4×4 patches, a 7×7 grid, since issue 12).
        DataConfig grey = new DataConfig(1, 28, 28, 1.0, DataConfig.Interpolation.BILINEAR,
                DataConfig.CropMode.CENTER, new double[] {0.286}, new double[] {0.353});
        try (LoadedModel gray = new LoadedModel("tiny_gray", Golden.model("tiny_gray"), grey, Models.defaultLabels(10),
                "golden")) {
            Classifier c = new Classifier(gray);
            Input in = c.read(Golden.file("tiny_gray/input.npy")).get(0);
            ScalingExperiment.Result r = new ScalingExperiment(c).run(in, new double[] {1, 3}, 3, -1);
            assertEquals(1, r.block());
            assertEquals(3, r.at(3).attention().length, "heads");
            Bound.of("tiny_gray/probs").at(0).check(r.at(1).probabilities(), "probabilities");
            assertEquals(28, c.transform().denormalize(in.tensor()).getWidth());
        }
    }

    @Test
    void block0EntropyFallsAsTheFactorGrows() {
        // Block 0's input does not depend on the factor, so its attention is softmax(s · logits): entropy strictly
        // decreases in s (a softmax's entropy falls as its temperature 1/s does).
        ScalingExperiment.Result r = new ScalingExperiment(classifier).run(image0, new double[] {0.5, 1, 2, 5}, 3, 2);
        for (int i = 1; i < 4; i++) {
            assertTrue(r.factors().get(i).entropy()[0] < r.factors().get(i - 1).entropy()[0]);
        }
        assertEquals(2, r.block());
    }

    @Test
    void listenerSeesEveryFactorInOrder() {
        StringBuilder seen = new StringBuilder();
        new ScalingExperiment(classifier).run(image0, new double[] {2, 1}, 1, 0, f -> seen.append(f.factor()).append(' '));
        assertEquals("2.0 1.0 ", seen.toString());
    }

    @Test
    void classesToPlotAreTheUnionCappedByPeakProbability() {
        List<Prediction> a = List.of(new Prediction(1, 0, "a", .6f), new Prediction(2, 1, "b", .3f));
        List<Prediction> b = List.of(new Prediction(1, 2, "c", .5f), new Prediction(2, 0, "a", .4f));
        float[] pa = {.6f, .3f, .1f};
        float[] pb = {.4f, .1f, .5f};
        ScalingExperiment.Result r = new ScalingExperiment.Result("x", "m", 0, List.of(
                new FactorResult(1, a, pa, new double[0], null), new FactorResult(3, b, pb, new double[0], null)));
        assertEquals(List.of(0, 1, 2), r.classesToPlot(2, 8));
        assertEquals(List.of(0, 2), r.classesToPlot(2, 2), "b peaks at 0.3, below a (0.6) and c (0.5)");
        assertEquals(List.of(0, 2), r.classesToPlot(1, 8));
        assertThrows(IllegalArgumentException.class, () -> r.at(2));
    }

    @Test
    void badFactorsAndBlocksSayWhatIsWrong() {
        ScalingExperiment e = new ScalingExperiment(classifier);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> e.run(image0, new double[0], 5, 0))
                .getMessage().contains("at least one"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> e.run(image0, new double[] {1, -2}, 5, 0))
                .getMessage().contains("-2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> e.run(image0, new double[] {1, 1}, 5, 0))
                .getMessage().contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> e.run(image0, new double[] {1}, 5, 3))
                .getMessage().contains("0..2"));
        assertEquals(4, ScalingExperiment.defaultBlock(12));
        assertEquals(2, ScalingExperiment.defaultBlock(4));
        assertEquals(1, ScalingExperiment.defaultBlock(3));
    }
}
