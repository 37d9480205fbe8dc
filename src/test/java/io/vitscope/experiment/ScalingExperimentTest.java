package io.vitscope.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.analysis.AttentionEntropy;
import io.vitscope.experiment.ScalingExperiment.FactorResult;
import io.vitscope.model.DataConfig;
import io.vitscope.model.LoadedModel;
import io.vitscope.model.Models;
import io.vitscope.weights.NpyArray;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The logit-scaling experiment on the golden tiny model against PyTorch's scaled forwards. */
class ScalingExperimentTest {

    /**
     * Java float32 forward vs PyTorch float32 forward of the same timm model: the README measures independent
     * forwards ~3e-6 apart on logits and attention; 1e-4 leaves room, and the effects tested here (factor 3 against
     * 1) are over 1e-2.
     */
    static final double TOLERANCE = 1e-4;

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

    static float[] softmaxRow(String file, int row) {
        float[] l = Arrays.copyOfRange(Golden.npy(file).floats(), row * 10, row * 10 + 10);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : l) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            e[i] = Math.exp(l[i] - max);
            sum += e[i];
        }
        float[] p = new float[l.length];
        for (int i = 0; i < l.length; i++) {
            p[i] = (float) (e[i] / sum);
        }
        return p;
    }

    /** Image 0's attention of one block from a golden [blocks, B, N, T, T] file, (N, T, T). */
    static float[][][] goldenAttention(String file, int block) {
        NpyArray a = Golden.npy(file);
        long[] s = a.shape();
        int n = (int) s[2];
        int t = (int) s[3];
        float[] all = a.floats();
        int offset = (int) (block * s[1]) * n * t * t;
        float[][][] out = new float[n][t][t];
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(all, offset + (h * t + i) * t, out[h][i], 0, t);
            }
        }
        return out;
    }

    @Test
    void eachFactorMatchesPyTorchsScaledForward() {
        ScalingExperiment.Result r = new ScalingExperiment(classifier).run(image0, new double[] {0.5, 1, 3}, 5, -1);
        assertEquals(1, r.block(), "depth 3: the middle block");
        assertEquals("tiny/input.npy[0]", r.source().substring(r.source().indexOf("tiny/")));
        String[] logits = {"tiny/scaled0.5_logits.npy", "tiny/logits.npy", "tiny/scaled3_logits.npy"};
        for (int f = 0; f < 3; f++) {
            double d = Golden.maxAbsDiff(r.factors().get(f).probabilities(), softmaxRow(logits[f], 0));
            System.out.printf("parity scaling factor %s probabilities: max |diff| %.2e%n", r.factors().get(f).factor(), d);
            assertTrue(d <= TOLERANCE, logits[f] + ": " + d);
        }
        String[] attn = {null, "tiny/attn.npy", "tiny/scaled3_attn.npy"};
        for (int f = 1; f < 3; f++) {
            FactorResult fr = r.factors().get(f);
            for (int b = 0; b < 3; b++) {
                double want = AttentionEntropy.mean(goldenAttention(attn[f], b));
                assertEquals(want, fr.entropy()[b], TOLERANCE, attn[f] + " block " + b);
            }
            float[][][] kept = fr.attention();                                    // (N, T, T) of block 1
            float[][][] gold = goldenAttention(attn[f], 1);
            double worst = 0;
            for (int h = 0; h < kept.length; h++) {
                for (int i = 0; i < kept[h].length; i++) {
                    worst = Math.max(worst, Golden.maxAbsDiff(kept[h][i], gold[h][i]));
                }
            }
            assertTrue(worst <= TOLERANCE, "kept attention: " + worst);
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
            double d = Golden.maxAbsDiff(r.at(1).probabilities(), softmaxRow("tiny_gray/logits.npy", 0));
            assertTrue(d <= TOLERANCE, "probabilities: " + d);
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
