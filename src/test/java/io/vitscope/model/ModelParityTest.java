package io.vitscope.model;

import io.vitscope.checkpoint.StateDicts;
import static io.vitscope.Golden.maxAbsDiff;
import static io.vitscope.Golden.npy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.InvalidInputException;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Safetensors;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The Java ViT against PyTorch's numbers (scripts/make_goldens.py). */
class ModelParityTest {

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
        "tiny, timm.safetensors, logits.npy",
        "tiny, timm_f16.safetensors, logits_f16.npy",
        "tiny, timm_bf16.safetensors, logits_bf16.npy",
        "tiny_gray, timm.safetensors, logits.npy",
        "tiny_rect, timm.safetensors, logits.npy"})
    void logitsMatchPyTorch(String folder, String weights, String expected) {
        try (VisionTransformer model = Golden.model(folder, weights); NDManager m = NDManager.newBaseManager()) {
            NDArray input = npy(folder + "/input.npy").toNDArray(m);
            NDArray logits = model.forward(input);
            // Tolerance 1e-4 (absolute): float32 on a different BLAS and summation order.
            assertTrue(maxAbsDiff(logits, npy(folder + "/" + expected)) <= 1e-4,
                    "max |diff| = " + maxAbsDiff(logits, npy(folder + "/" + expected)));
        }
    }

    @Test
    void residualStreamMatchesPyTorchAtTheModelSites() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            List<NDArray> tokens = probe.breakpoint(VisionTransformer.POS_EMBED).eval(h -> h.get("x"));
            List<NDArray> features = probe.breakpoint("", "norm").eval(h -> h.get("x"));
            model.forward(npy("tiny/input.npy").toNDArray(m));
            // 1e-5: a few float32 operations deep.
            assertTrue(maxAbsDiff(tokens.get(0), npy("tiny/tokens_pos_embed.npy")) <= 1e-5);
            assertTrue(maxAbsDiff(features.get(0), npy("tiny/features.npy")) <= 1e-5);
        }
    }

    @Test
    void forwardFeaturesIsTheClassTokenAfterTheNorm() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager()) {
            NDArray f = model.forwardFeatures(npy("tiny/input.npy").toNDArray(m));
            float[] all = npy("tiny/features.npy").floats(); // (2, 17, 32)
            float[] cls = new float[2 * 32];
            for (int b = 0; b < 2; b++) {
                System.arraycopy(all, b * 17 * 32, cls, b * 32, 32);
            }
            assertTrue(maxAbsDiff(f.toFloatArray(), cls) <= 1e-5);
        }
    }

    @Test
    void wrongInputShapeIsAClearError() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(m.zeros(new ai.djl.ndarray.types.Shape(1, 3, 224, 224))));
            assertTrue(e.getMessage().contains("(B, 3, 32, 32)"), e.getMessage());
        }
    }

    @Test
    void checkpointForAnotherArchitectureIsReportedByNameBeforeLoading() {
        Path file = Golden.dir("tiny").resolve("timm.safetensors");
        VitConfig other = Golden.config("tiny_rect");
        try (VisionTransformer model = new VisionTransformer(other); Safetensors st = Safetensors.open(file)) {
            var e = assertThrows(InvalidInputException.class, () -> StateDicts.load(model, st.sources(), file, "tiny_rect"));
            assertTrue(e.getMessage().contains("mis-shaped"), e.getMessage());
            assertTrue(e.getMessage().contains("pos_embed is (1, 17, 32) in the file, the model needs (1, 16, 16)"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("unexpected"), e.getMessage()); // blocks.2.* exist only in tiny
            assertEquals(false, model.isInitialized(), "nothing may be loaded from a checkpoint that does not fit");
        }
    }
}
