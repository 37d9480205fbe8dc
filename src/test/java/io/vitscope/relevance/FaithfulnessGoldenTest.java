package io.vitscope.relevance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The perturbation test against PyTorch ({@code scripts/make_relevance_goldens.py}, six images on the tiny model).
 *
 * <p>The accuracy curves are counts, so they are compared exactly. That holds as long as (a) the upsampled maps rank the
 * pixels alike — {@link Upsample} performs aten's float operations in aten's order, checked to 1e-6 of the map's
 * magnitude (four float operations: ≤ 4u ≈ 2.4e-7, with margin) — and (b) no perturbed input's two best logits lie
 * within the engines' rounding of each other (1e-4, as ModelParityTest).
 */
class FaithfulnessGoldenTest {

    private static final String DIR = "relevance/tiny/";
    private static final List<Method> GOLDEN_METHODS = List.of(Method.CHEFER, Method.GRAD_ROLLOUT, Method.ATTN_GRADCAM,
            Method.ROLLOUT, Method.MEAN, Method.CLS);

    static DataConfig data(VitConfig c) {
        return new DataConfig(c.inChans(), c.imgHeight(), c.imgWidth(), 0.875, DataConfig.Interpolation.BICUBIC,
                DataConfig.CropMode.CENTER, DataConfig.IMAGENET_DEFAULT_MEAN, DataConfig.IMAGENET_DEFAULT_STD);
    }

    @Test
    void upsamplingIsAtensBilinear() {
        VitConfig c = Golden.config("tiny");
        float[] maps = Npz.read(Golden.file(DIR + "faith_maps.npz")).get("chefer").floats();     // (6, Gh, Gw)
        float[] expected = Golden.npy(DIR + "faith_upsampled_chefer.npy").floats();            // (6, H, W)
        int l = c.numPatches();
        int hw = c.imgHeight() * c.imgWidth();
        for (int b = 0; b < 6; b++) {
            float[] up = Upsample.bilinear(Arrays.copyOfRange(maps, b * l, (b + 1) * l), c.gridHeight(), c.gridWidth(),
                    c.imgHeight(), c.imgWidth());
            RelevanceGoldenTest.assertClose(up, Arrays.copyOfRange(expected, b * hw, (b + 1) * hw), 1e-6,
                    "upsampled chefer image " + b);
        }
    }

    @Test
    void curvesOfPyTorchsMapsMatch() {
        try (VisionTransformer model = Golden.model("tiny")) {
            VitConfig c = model.config();
            LinkedHashMap<String, NpyArray> npz = Npz.read(Golden.file(DIR + "faith_maps.npz"));
            Map<Method, List<float[]>> maps = new LinkedHashMap<>();
            for (Method m : GOLDEN_METHODS) {
                float[] all = npz.get(m.cliName()).floats();
                List<float[]> list = new ArrayList<>();
                for (int b = 0; b < 6; b++) {
                    list.add(Arrays.copyOfRange(all, b * c.numPatches(), (b + 1) * c.numPatches()));
                }
                maps.put(m, list);
            }
            float[] images = Golden.npy(DIR + "faith_input.npy").floats();
            FaithfulnessResult r = Faithfulness.score(model, data(c), images, maps);
            assertCurves(r);
        }
    }

    @Test
    void fullRunWithVitscopesMapsMatchesAndSaves(@TempDir Path out) throws Exception {
        try (VisionTransformer model = Golden.model("tiny")) {
            VitConfig c = model.config();
            float[] images = Golden.npy(DIR + "faith_input.npy").floats();
            int per = c.inChans() * c.imgHeight() * c.imgWidth();
            List<Method> methods = new ArrayList<>(GOLDEN_METHODS);
            methods.add(Method.RANDOM);
            List<Integer> progress = new ArrayList<>();
            FaithfulnessResult r = Faithfulness.run(model, data(c), 6,
                    i -> Arrays.copyOfRange(images, i * per, (i + 1) * per),
                    new Faithfulness.Options(methods, 7), progress::add);
            assertEquals(6, r.images());
            assertEquals(6, progress.get(progress.size() - 1));
            assertCurves(r);
            System.out.print(r.table());

            r.save(out);
            List<String> csv = Files.readAllLines(out.resolve(FaithfulnessResult.CSV));
            assertEquals("method,direction,p,accuracy", csv.get(0));
            assertEquals(1 + methods.size() * 2 * 10, csv.size());
            String json = Files.readString(out.resolve(FaithfulnessResult.JSON));
            assertTrue(json.contains("\"chefer\": {\"positive\": "), json);
            assertTrue(Files.size(out.resolve(FaithfulnessResult.CHART)) > 5000);
            // The random maps depend on the seed and the image index only.
            FaithfulnessResult again = Faithfulness.run(model, data(c), 6,
                    i -> Arrays.copyOfRange(images, i * per, (i + 1) * per),
                    new Faithfulness.Options(List.of(Method.RANDOM), 7), null);
            assertArrayEquals(r.positive().get(Method.RANDOM), again.positive().get(Method.RANDOM));
        }
    }

    private static void assertCurves(FaithfulnessResult r) {
        LinkedHashMap<String, NpyArray> curves = Npz.read(Golden.file(DIR + "faith_curves.npz"));
        for (Method m : GOLDEN_METHODS) {
            double[] pos = toDouble(curves.get(m.cliName() + "/positive"));
            double[] neg = toDouble(curves.get(m.cliName() + "/negative"));
            assertArrayEquals(pos, r.positive().get(m), 1e-12, m + " positive");
            assertArrayEquals(neg, r.negative().get(m), 1e-12, m + " negative");
            // AUC by hand for one: the trapezoid over p in fractions, x 100.
            double s = 0;
            for (int i = 1; i < 10; i++) {
                s += 0.1 * (pos[i] + pos[i - 1]) / 2;
            }
            assertEquals(s * 100, r.positiveAuc(m), 1e-9);
        }
    }

    private static double[] toDouble(NpyArray a) {
        return a.doubles();
    }
}
