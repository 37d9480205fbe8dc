package io.vitscope.model;

import io.vitscope.checkpoint.StateDicts;
import static io.vitscope.Golden.npy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Bound;
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

    /**
     * Tolerances: every comparison is with the computation's exact (float64) value, within the elementwise bound
     * {@code scripts/error_bounds.py} derives for float32 arithmetic ({@link Bound}); the F16/BF16 checkpoints' logits
     * are those of the rounded weights, computed exactly.
     */
    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
        "tiny, timm.safetensors, logits",
        "tiny, timm_f16.safetensors, logits_f16",
        "tiny, timm_bf16.safetensors, logits_bf16",
        "tiny_gray, timm.safetensors, logits",
        "tiny_rect, timm.safetensors, logits"})
    void logitsMatchPyTorch(String folder, String weights, String expected) {
        try (VisionTransformer model = Golden.model(folder, weights); NDManager m = NDManager.newBaseManager()) {
            NDArray logits = model.forward(npy(folder + "/input.npy").toNDArray(m));
            double used = Bound.of(folder + "/" + expected).check(logits, folder + "/" + weights + " logits");
            System.out.printf("parity %s/%s logits: %.1f%% of the float32 bound%n", folder, weights, 100 * used);
        }
    }

    /**
     * The same network in float64 against the exact values: the bound shrinks by 2^-28 (about 1e-12 on logits), so
     * any change of the computation — a LayerNorm eps of 1e-5 for 1e-6, a scale rounded to float32, a GELU in its
     * tanh form — fails here, while float32 rounding noise could hide it in the float32 tests.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"tiny", "tiny_gray", "tiny_rect"})
    void float64LogitsAndAttentionMatchTheExactValues(String folder) {
        try (VisionTransformer model = Golden.model64(folder); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            List<NDArray> attn = probe.breakpoint(Attention.POST_SOFTMAX).eval(h -> h.get("attn").duplicate());
            NDArray logits = model.forward(Golden.input64(folder + "/input.npy", m));
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT64, logits.getDataType());
            Bound.of(folder + "/logits").check(logits, folder + " logits");
            Bound attnBound = Bound.of(folder + "/attn");
            for (int b = 0; b < attn.size(); b++) {
                attnBound.at(b).check(attn.get(b), folder + " attention of block " + b);
            }
        }
    }

    @Test
    void residualStreamMatchesPyTorchAtTheModelSites() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            List<NDArray> tokens = probe.breakpoint(VisionTransformer.POS_EMBED).eval(h -> h.get("x"));
            List<NDArray> features = probe.breakpoint("", "norm").eval(h -> h.get("x"));
            model.forward(npy("tiny/input.npy").toNDArray(m));
            Bound.of("tiny/tokens_pos_embed").check(tokens.get(0), "tokens after pos_embed");
            Bound.of("tiny/features").check(features.get(0), "tokens after the final norm");
        }
    }

    @Test
    void forwardFeaturesIsTheClassTokenAfterTheNorm() {
        try (VisionTransformer model = Golden.model("tiny"); NDManager m = NDManager.newBaseManager()) {
            NDArray f = model.forwardFeatures(npy("tiny/input.npy").toNDArray(m)); // (2, 32)
            Bound.of("tiny/features").atAxis1(0).check(f, "forward_features");
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

    /**
     * A forward before the weights are set is a clear error, and a model counts as set only when every parameter of
     * every nested module is: here the root's own parameters (class token, position embedding, ...) have values and
     * the blocks' do not.
     */
    @Test
    void aForwardBeforeEveryWeightIsSetIsAClearError() {
        try (VisionTransformer model = new VisionTransformer(Golden.config("tiny")); NDManager m = NDManager.newBaseManager()) {
            var shapes = model.parameterShapes();
            int set = 0;
            for (var e : model.namedParameters().entrySet()) {
                if (!e.getKey().contains(".")) {
                    NDArray value = model.manager().zeros(shapes.get(e.getKey()));
                    e.getValue().setArray(value);
                    set++;
                }
            }
            assertTrue(set > 0 && set < shapes.size(), set + " of " + shapes.size() + " parameters at the root");
            assertEquals(false, model.isInitialized(), "the blocks' parameters have no values yet");
            var e = assertThrows(IllegalStateException.class,
                    () -> model.forward(m.zeros(new ai.djl.ndarray.types.Shape(1, 3, 32, 32))));
            assertTrue(e.getMessage().contains("parameters are not set"), e.getMessage());
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
