package io.vitscope.relevance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.Parameter;
import io.vitscope.Golden;
import io.vitscope.model.VisionTransformer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GradientsTest {

    /**
     * A model being trained has parameters that require gradients (DJL's {@code Trainer.initialize} sets them so). A
     * relevance backward must not touch their {@code .grad}: nothing outside an optimizer step clears it, so the
     * next training step would add it to its own gradient.
     */
    @Test
    void relevanceLeavesTrainableParametersGradientsAlone() {
        try (VisionTransformer model = new VisionTransformer(Golden.config("tiny")).initializeRandom(3)) {
            for (Parameter p : model.namedParameters().values()) {
                p.getArray().setRequiresGradient(true);                 // what Trainer.initialize does
            }
            float[] x = Golden.npy("tiny/input.npy").floats();
            Gradients.of(model, x, new int[] {Relevance.TOP1, 3}, true, true);
            Relevance.integratedGradients(model, java.util.Arrays.copyOf(x, 3 * 32 * 32), 1, 4);
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                float[] g = e.getValue().getArray().getGradient().toFloatArray();
                for (float v : g) {
                    assertEquals(0f, v, e.getKey() + "'s .grad was written by a relevance backward");
                }
            }
        }
    }

    @Test
    void badTargetsAndSizesNameTheParameter() {
        try (VisionTransformer model = Golden.model("tiny")) {
            float[] x = Golden.npy("tiny/input.npy").floats();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Gradients.of(model, x, new int[] {0, 10}, true, false));
            assertTrue(e.getMessage().contains("target 10 is out of range") && e.getMessage().contains("0..9"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Relevance.chefer(model, new float[5], 0));
            assertTrue(e.getMessage().startsWith("image must hold C*H*W = 3*32*32 = 3072"), e.getMessage());
        }
    }
}
