package io.vitscope.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.ndarray.NDArray;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooModel;
import io.vitscope.Golden;
import io.vitscope.hub.ModelCache;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.Probe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** vitscope models through DJL's Criteria: the zoo (service-loaded), the factories, and Probe.on the ZooModel's block. */
class ZooTest {

    private static final Path IMAGE = Path.of("images/fashion/fashion_0_ankle_boot.png");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"checkpoints/tiny/model_zip.pth", "checkpoints/torchvision/vit_tiny_tv.pth",
        "checkpoints/flax/vit_tiny.npz", "checkpoints/deit_distilled/model.pth", "tiny/hf"})
    void optModelUrlsGivesAZooModelWhoseBlockIsTheViT(String golden) throws Exception {
        String url = Golden.dir(golden).toUri().toString();
        Image image = ImageFactory.getInstance().fromFile(IMAGE);
        try (ZooModel<Image, Classifications> model = VitscopeModelZoo.criteria(url).build().loadModel();
             Predictor<Image, Classifications> predictor = model.newPredictor()) {
            VisionTransformer vit = assertInstanceOf(VisionTransformer.class, model.getBlock());
            try (Probe probe = Probe.on(vit)) {
                List<NDArray> logits = probe.breakpoint(VisionTransformer.LOGITS).eval(h -> h.get("x"));
                Classifications c = predictor.predict(image);
                assertEquals(1, logits.size(), "one forward captured through the DJL predictor");
                // The probabilities DJL returns are the softmax of the logits the probe saw (float32 softmax: 1e-6).
                float[] p = logits.get(0).softmax(-1).toFloatArray();
                Classifications.Classification best = c.best();
                int k = c.getClassNames().indexOf(best.getClassName());
                assertEquals(p[k], best.getProbability(), 1e-6);
            }
        }
    }

    @Test
    void aTimmHubFolderThroughOptModelUrls() throws Exception {
        String url = Path.of("models", "fashion_vit").toAbsolutePath().toUri().toString(); // config.json + model.safetensors
        try (ZooModel<Image, Classifications> model = VitscopeModelZoo.criteria(url).build().loadModel();
             Predictor<Image, Classifications> predictor = model.newPredictor()) {
            assertInstanceOf(VisionTransformer.class, model.getBlock());
            Classifications out = predictor.predict(ImageFactory.getInstance().fromFile(IMAGE));
            assertEquals("ankle_boot", out.best().getClassName().replace(' ', '_').toLowerCase());
        }
    }

    @Test
    void theZooIsServiceLoadedAndServesCachedModelsByArtifactId() throws Exception {
        assertTrue(ModelZoo.listModelZoo().stream().anyMatch(z -> z instanceof VitscopeModelZoo),
                "VitscopeZooProvider is found through META-INF/services");
        // A cache as 'vitscope fetch' leaves it: models/ARCH.TAG/{model.safetensors, config.json}.
        Path dir = Files.createDirectories(tmp.resolve("models/vit_tiny_golden.test"));
        Files.copy(Golden.dir("tiny").resolve("timm.safetensors"), dir.resolve(ModelCache.WEIGHTS_FILE));
        Files.copy(Golden.dir("checkpoints/tiny").resolve("config.json"), dir.resolve(ModelCache.CONFIG_FILE));
        String before = System.getProperty(ModelCache.PROPERTY);
        System.setProperty(ModelCache.PROPERTY, tmp.toString());
        try {
            Criteria<Image, Classifications> c = Criteria.builder().setTypes(Image.class, Classifications.class)
                    .optGroupId(VitscopeModelZoo.GROUP_ID).optArtifactId("vit_tiny_golden").build(); // finds .test
            try (ZooModel<Image, Classifications> model = c.loadModel();
                 Predictor<Image, Classifications> predictor = model.newPredictor()) {
                assertInstanceOf(VisionTransformer.class, model.getBlock());
                assertEquals(10, predictor.predict(ImageFactory.getInstance().fromFile(IMAGE)).getClassNames().size());
            }
            Criteria<Image, Classifications> embedded = Criteria.builder().setTypes(Image.class, Classifications.class)
                    .optGroupId(VitscopeModelZoo.GROUP_ID).optArtifactId("fashion_vit").build();
            try (ZooModel<Image, Classifications> model = embedded.loadModel();
                 Predictor<Image, Classifications> predictor = model.newPredictor()) {
                Classifications out = predictor.predict(ImageFactory.getInstance().fromFile(IMAGE));
                assertEquals("ankle_boot", out.best().getClassName().replace(' ', '_').toLowerCase());
            }
        } finally {
            if (before == null) {
                System.clearProperty(ModelCache.PROPERTY);
            } else {
                System.setProperty(ModelCache.PROPERTY, before);
            }
        }
    }

    /**
     * The DJL limitation the closing note reports: optModelUrls alone always goes through DJL's DefaultModelZoo, whose
     * loader hands the folder to the PyTorch engine, which reads TorchScript only.
     */
    /**
     * A program that knows only DJL's {@code Criteria} gets the engine started vitscope's way: in a fresh JVM (this
     * one started its engine in the tests' set-up), loading the embedded model through the zoo applies the MKL fast
     * path before libtorch loads, as {@code Engines.start()} would. Without it MKL's status stays "not applied" and an
     * AMD CPU runs the products on MKL's AVX2 path.
     */
    @Test
    void aCriteriaOnlyProgramStartsTheEngineVitscopesWay() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), ZooFirstUse.class.getName(),
                IMAGE.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        List<String> lines = out.lines().filter(l -> !l.contains(" WARN ") && !l.contains(" INFO ")).toList();
        assertEquals(2, lines.size(), out);
        assertEquals("ankle_boot", lines.get(0).replace(' ', '_').toLowerCase(), out);
        assertTrue(!lines.get(1).equals("not applied"), "MKL's fast path was never applied: " + out);
    }

    @Test
    void plainOptModelUrlsCannotReachVitscope() {
        String url = Golden.dir("checkpoints/tiny/model_zip.pth").toUri().toString();
        Criteria<Image, Classifications> c = Criteria.builder().setTypes(Image.class, Classifications.class)
                .optModelUrls(url).optEngine("PyTorch").build();
        assertThrows(Exception.class, c::loadModel);
    }
}
