package io.vitscope.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.Golden;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The forward frees each block's input as soon as the block returns (VisionTransformer.release): tensors that a
 * capture took over, or that a breakpoint brought in from the caller, must survive it.
 */
class ResidualReleaseTest {

    private static VisionTransformer model;
    private static NDManager manager;
    private static NDArray input; // (2, 3, 32, 32)
    private static float[] plain; // (2, K) logits without any probe, every token computed

    @BeforeAll
    static void load() {
        model = Golden.model("tiny");
        manager = NDManager.newBaseManager();
        input = Golden.npy("tiny/input.npy").toNDArray(manager);
        // Every token: a capture of the last block has it compute all of them too (TokenPruningTest).
        try (NDArray logits = model.forwardEveryToken(input)) {
            plain = logits.toFloatArray();
        }
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    @Test
    void capturedBlockOutputsStayReadableAndLogitsUnchanged() {
        try (CallCapture blocks = Probe.captureCalls(model, "blocks.*")) {
            float[] probed;
            try (NDArray logits = model.forward(input)) {
                probed = logits.toFloatArray();
            }
            assertEquals(model.config().depth(), blocks.all().size());
            for (CallRecord call : blocks.all()) {
                // reading a freed tensor would throw or crash: every captured output and input must still be there
                assertEquals(input.getShape().get(0), call.returnValue().getShape().get(0));
                assertEquals(model.config().numTokens(), call.returnValue().getShape().get(1), "every token, the last "
                        + "block's too: the capture sees what it would see without pruning");
                assertTrue(Float.isFinite(call.returnValue().sum().getFloat()), call.path());
                assertTrue(Float.isFinite(call.arg("x").sum().getFloat()), call.path());
            }
            // exact: capturing moves tensors, it never changes the arithmetic
            assertEquals(java.util.Arrays.toString(plain), java.util.Arrays.toString(probed));
        }
    }

    @Test
    void aBlockOutputReplacedByTheCallersTensorIsNotFreed() {
        VitConfig c = model.config();
        try (NDManager mine = NDManager.newBaseManager(); Probe probe = Probe.on(model)) {
            NDArray replacement = mine.zeros(new Shape(input.getShape().get(0), c.numTokens(), c.embedDim()));
            probe.breakpoint("blocks.0", "return").exec(h -> h.set("return", replacement));
            model.forward(input).close();
            model.forward(input).close();
            assertEquals(0f, replacement.sum().getFloat(), 0f, "the caller's tensor is intact after two forwards");
            assertEquals(mine, replacement.getManager());
        }
    }
}
