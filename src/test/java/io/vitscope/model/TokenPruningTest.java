package io.vitscope.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Frame;
import io.vitscope.probe.Probe;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A forward computes the last block's MLP line only for the tokens the output reads (VisionTransformer.keptRows,
 * Block.apply with rows), and only while no probe could see the other tokens there. Watching a pruned tensor would
 * turn the pruning off, so the decisions are checked where they are made; the pruned forward's numbers are checked
 * against PyTorch in ModelParityTest and CheckpointParityTest (distilled: two tokens kept).
 */
class TokenPruningTest {

    private static VisionTransformer model;   // tiny: depth 3, T = 17, D = 32
    private static NDManager manager;
    private static Ctx inference;

    @BeforeAll
    static void load() {
        model = Golden.model("tiny");
        manager = NDManager.newBaseManager();
        inference = new Ctx(null, false, manager);
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    private static int keptRows(Consumer<Probe> setup) {
        try (Probe probe = Probe.on(model)) {
            setup.accept(probe);
            try (Frame f = Probe.enter(model)) {
                return model.keptRows(inference, f);
            }
        }
    }

    @Test
    void withoutAProbeOnlyTheClassTokenGoesThroughTheLastMlp() {
        try (Frame f = Probe.enter(model)) {
            assertEquals(1, model.keptRows(inference, f));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"blocks.2.norm2", "blocks.2.mlp", "blocks.2.mlp.fc1", "blocks.2.mlp.act", "blocks.2.mlp.fc2",
        "norm"})
    void aCaptureAfterTheLastAttentionLineKeepsEveryToken(String path) {
        assertEquals(0, keptRows(p -> p.captureCall(path)), path);
    }

    @Test
    void aDisabledBreakpointThereKeepsEveryTokenToo() {
        // it may be enabled in the middle of the forward, by another breakpoint's action
        assertEquals(0, keptRows(p -> p.breakpoint("blocks.2.mlp", "pre_act").disable()));
        assertEquals(0, keptRows(p -> p.breakpoint(VisionTransformer.LOGITS).disable()), "a site of the model itself");
    }

    @Test
    void probesBeforeItLeaveThePruningOn() {
        assertEquals(1, keptRows(p -> {
            p.captureCalls("blocks.*.attn");
            p.captureCall("blocks.1.mlp");
            p.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)").exec(h -> h.set("attn", h.get("attn").mul(3)));
        }));
    }

    @Test
    void trainingAndGradientForwardsKeepEveryToken() {
        assertEquals(0, model.keptRows(new Ctx(null, true, manager), Frame.IDLE));
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            assertEquals(0, model.keptRows(inference, Frame.IDLE));
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    @Test
    void aDistilledModelKeepsBothItsTokens() {
        try (LoadedModel m = Models.load(null, Golden.dir("checkpoints/deit_distilled").resolve("model.pth"))) {
            assertEquals(2, m.model().keptRows(inference, Frame.IDLE));
        }
    }

    /** The last block narrows to its first rows after the attention line unless its own probes could see past it. */
    @Test
    void theLastBlockNarrowsOnlyWhenNothingSeesPastItsAttention() {
        Block last = model.blocks().get(2);
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(2, 17, 32));
            Ctx ctx = new Ctx(null, false, m);
            assertArrayEquals(new long[] {2, 1, 32}, last.apply(ctx, x, 1).getShape().getShape());
            assertArrayEquals(new long[] {2, 17, 32}, last.apply(ctx, x, 0).getShape().getShape(), "0: every token");
            try (Probe p = Probe.on(model)) {
                long[] seen = new long[2];
                p.breakpoint(last, "pre_attn").exec(h -> seen[0] = h.get("x").getShape().get(1));
                p.breakpoint(last, "attn_out").exec(h -> seen[1] = h.get("attn_out").getShape().get(1));
                CallCapture attn = p.captureCall("blocks.2.attn");
                assertArrayEquals(new long[] {2, 1, 32}, last.apply(ctx, x, 1).getShape().getShape(),
                        "the MLP line narrows");
                assertArrayEquals(new long[] {17, 17}, seen, "sites up to the attention's output see every token");
                assertEquals(17, attn.get().returnValue().getShape().get(1), "a captured attention call: every token");
            }
            try (Probe p = Probe.on(model)) {
                CallCapture proj = p.captureCall("blocks.2.attn.proj");
                assertArrayEquals(new long[] {2, 1, 32}, last.apply(ctx, x, 1).getShape().getShape());
                assertEquals(17, proj.get().arg("input").getShape().get(1), "a captured proj: every token");
            }
            try (Probe p = Probe.on(model)) {
                p.breakpoint(last, "post_mlp").disable();
                assertArrayEquals(new long[] {2, 17, 32}, last.apply(ctx, x, 1).getShape().getShape(), "post_mlp");
            }
            try (Probe p = Probe.on(model)) {
                p.captureCall("blocks.2");
                assertArrayEquals(new long[] {2, 17, 32}, last.apply(ctx, x, 1).getShape().getShape(), "a capture");
            }
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    /** Both forwards are within the float32 bound of PyTorch's logits; so is the one that computes every token. */
    @Test
    void everyTokenGivesTheSameLogitsWithinTheBound() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray input = Golden.npy("tiny/input.npy").toNDArray(m);
            Bound.of("tiny/logits").check(model.forward(input), "pruned logits");
            Bound.of("tiny/logits").check(model.forwardEveryToken(input), "every token's logits");
        }
    }
}
