package io.vitscope.probe;

import static io.vitscope.Golden.maxAbsDiff;
import static io.vitscope.Golden.npy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.model.Attention;
import io.vitscope.model.Mlp;
import io.vitscope.model.VisionTransformer;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Captures and breakpoints on the golden tiny ViT, against PyTorch running the same experiments. */
class ProbeTest {

    private static VisionTransformer model;
    private static NDManager manager;
    private static NDArray input; // (2, 3, 32, 32)

    @BeforeAll
    static void load() {
        model = Golden.model("tiny");
        manager = NDManager.newBaseManager();
        input = npy("tiny/input.npy").toNDArray(manager);
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    @Test
    void captureCallHoldsTheLocalsOfTimm045AttentionForward() {
        try (CallCapture attnCall = Probe.captureCall(model, "blocks.1.attn")) {
            model.forward(input).close();
            CallRecord call = attnCall.get();
            assertEquals("blocks.1.attn", call.path());
            assertSame(Attention.class, call.moduleClass());
            assertEquals(List.of("x", "B", "N", "C", "qkv", "q", "k", "v", "attn"), List.copyOf(call.locals().keySet()),
                    "locals in the order timm's forward binds them");
            assertEquals(2, call.integer("B"));
            assertEquals(17, call.integer("N"));
            assertEquals(32, call.integer("C"));
            // Each local against its exact value, within the float32 bound derived for it (io.vitscope.Bound).
            for (String name : List.of("qkv", "q", "k", "v", "attn")) {
                Bound.ofNpz("tiny/block1_attn_locals", name).check(call.tensor(name), "local " + name);
            }
            Bound.ofNpz("tiny/block1_attn_locals", "x").check(call.tensor("x"), "local x (the projected output)");
            Bound.ofNpz("tiny/block1_attn_locals", "arg_x").check(call.arg("x"), "the input stays in the args");
            Bound.ofNpz("tiny/block1_attn_locals", "x").check(call.returnValue(), "the return value");
            assertFalse(call.stack().isEmpty(), "the caller's stack is recorded");
            assertTrue(call.duration().toNanos() > 0);
        }
    }

    @Test
    void captureCallsOfEveryAttentionLayerMatchPyTorchAttention() {
        Bound attn = Bound.of("tiny/attn");
        try (Probe probe = Probe.on(model)) {
            CallCapture calls = probe.captureCalls("blocks.*.attn");
            model.forward(input).close();
            assertEquals(3, calls.all().size());
            for (int b = 0; b < 3; b++) {
                CallRecord c = calls.all().get(b);
                assertEquals("blocks." + b + ".attn", c.path());
                attn.at(b).check(c.tensor("attn"), "attention of block " + b);
            }
        }
    }

    @Test
    void classWideBreakpointScalingLogitsBy3MatchesPyTorch() {
        try (Probe probe = Probe.on(model)) {
            Breakpoint bp = probe.breakpoint(Attention.class, "attn = attn.softmax(dim=-1)")
                    .exec(f -> f.set("attn", f.get("attn").mul(3)));
            CallCapture attnCall = probe.captureCall("blocks.2.attn");
            NDArray logits = model.forward(input);
            assertEquals(3, bp.hits(), "one hit per attention layer");
            // The ×3 makes each softmax three times as sensitive to its input's error: the derived bound of the scaled
            // run is wider by that factor (io.vitscope.Bound); a machine-observed 1e-5 failed on an AVX2-only CPU.
            Bound.of("tiny/scaled3_logits").check(logits, "logits with every layer's logits ×3");
            Bound.of("tiny/scaled3_attn").at(2).check(attnCall.get().tensor("attn"), "×3 attention of block 2");
        }
    }

    @Test
    void aBreakpointOnOneInstanceChangesOnlyThatLayer() {
        // PyTorch's run with block 0's pre-softmax logits ×3 and the other blocks untouched (make_goldens.py).
        Bound attn = Bound.of("tiny/scaled3_block0_attn");
        try (Probe probe = Probe.on(model)) {
            Breakpoint bp = probe.breakpoint("blocks.0.attn", "pre_softmax").exec(f -> f.set("attn", f.get("attn").mul(3)));
            CallCapture calls = probe.captureCalls(Attention.class);
            NDArray logits = model.forward(input);
            assertEquals(1, bp.hits());
            for (int b = 0; b < 3; b++) {
                attn.at(b).check(calls.all().get(b).tensor("attn"), "attention of block " + b + " with block 0 ×3");
            }
            Bound.of("tiny/scaled3_block0_logits").check(logits, "logits with block 0 ×3");
            assertTrue(maxAbsDiff(logits, npy("tiny/logits.npy")) > 1e-3, "and that changes the output");
            assertTrue(maxAbsDiff(logits, npy("tiny/scaled3_logits.npy")) > 1e-3, "but not as scaling every layer does");
        }
    }

    @Test
    void evalWhenDisableAndEnable() {
        try (Probe probe = Probe.on(model)) {
            Breakpoint bp = probe.breakpoint(Attention.POST_SOFTMAX).when(h -> h.path().equals("blocks.1.attn"));
            List<NDArray> seen = bp.eval(h -> h.get("attn"));
            List<Integer> tokens = probe.breakpoint(Attention.class, "post_softmax").eval(h -> h.getInt("N"));
            model.forward(input).close();
            assertEquals(1, seen.size());
            assertEquals(List.of(17, 17, 17), tokens);
            bp.disable();
            model.forward(input).close();
            assertEquals(1, seen.size(), "a disabled breakpoint does not stop");
            bp.enable();
            model.forward(input).close();
            assertEquals(2, seen.size());
            // eval's tensors are the probe's copies: the rows of each head still sum to one after the forward
            // Each row's float32 sum is within 2T·u of 1 (T = 17 probabilities, see PipelineSoakTest): 2e-6.
            assertTrue(Math.abs(seen.get(0).sum(new int[] {-1}).mean().getFloat() - 1f) <= 2 * 17 * Math.pow(2, -24));
        }
    }

    @Test
    void patternsMatchBlocksByIndexRangeAndSet() {
        try (Probe probe = Probe.on(model)) {
            CallCapture range = probe.captureCalls("blocks.[0-1].attn");
            CallCapture set = probe.captureCalls("blocks.[0,2].mlp.fc1");
            CallCapture deep = probe.captureCalls("**.qkv");
            model.forward(input).close();
            assertEquals(List.of("blocks.0.attn", "blocks.1.attn"), range.all().stream().map(CallRecord::path).toList());
            assertEquals(List.of("blocks.0.mlp.fc1", "blocks.2.mlp.fc1"), set.all().stream().map(CallRecord::path).toList());
            assertEquals(3, deep.all().size());
        }
    }

    @Test
    void unknownTargetsAndSitesFailAtOnceListingTheValidOnes() {
        var noPath = assertThrows(IllegalArgumentException.class, () -> Probe.captureCall(model, "blocks.7.attn"));
        assertTrue(noPath.getMessage().contains("Valid paths") && noPath.getMessage().contains("blocks.N.attn (N = 0..2)"),
                noPath.getMessage());
        try (Probe probe = Probe.on(model)) {
            var noMatch = assertThrows(IllegalArgumentException.class, () -> probe.captureCalls("blocks.*.attention"));
            assertTrue(noMatch.getMessage().contains("matches no module"), noMatch.getMessage());
            var noSite = assertThrows(IllegalArgumentException.class,
                    () -> probe.breakpoint(Attention.class, "attn = attn.softmax(dim=1)"));
            assertTrue(noSite.getMessage().contains("pre_softmax (before 'attn = attn.softmax(dim=-1)')"), noSite.getMessage());
            var mixed = assertThrows(IllegalArgumentException.class, () -> probe.breakpoint("blocks.0.*", "pre_softmax"));
            assertTrue(mixed.getMessage().contains("LayerNorm"), mixed.getMessage());
            var badRange = assertThrows(IllegalArgumentException.class, () -> probe.captureCalls("blocks.[5-1].attn"));
            assertTrue(badRange.getMessage().contains("Bad range"), badRange.getMessage());
            assertThrows(IllegalArgumentException.class, () -> probe.captureCall(Foreign.class));
        }
    }

    /** A probed class that is not part of the model. */
    static final class Foreign implements Probed {
        @Override
        public String path() {
            return "foreign";
        }

        @Override
        public List<? extends Probed> probedChildren() {
            return List.of();
        }
    }

    @Test
    void actionsMayReplaceOnlyTheSiteVariableWithTheSameShape() {
        try (Probe probe = Probe.on(model)) {
            probe.breakpoint(Attention.PRE_SOFTMAX).exec(f -> f.set("q", f.get("q")));
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(input));
            assertTrue(e.getMessage().contains("only 'attn' can be replaced"), e.getMessage());
        }
        try (Probe probe = Probe.on(model)) {
            probe.breakpoint(Attention.PRE_SOFTMAX).exec(f -> f.set("attn", f.get("attn").get(":, 0")));
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(input));
            assertTrue(e.getMessage().contains("the forward expects float32 (2, 4, 17, 17)"), e.getMessage());
        }
        // After failed forwards the model still works and no probe is left behind.
        Bound.of("tiny/logits").check(model.forward(input), "logits after failed forwards");
    }

    @Test
    void severalProbesAtOnceAndStopStart() {
        try (Probe scaler = Probe.on(model); Probe watcher = Probe.on(model)) {
            scaler.breakpoint(Attention.PRE_SOFTMAX).exec(f -> f.set("attn", f.get("attn").mul(3)));
            CallCapture head = watcher.captureCall("head");
            NDArray logits = model.forward(input);
            Bound scaled = Bound.of("tiny/scaled3_logits");
            scaled.check(logits, "logits");
            scaled.check(head.get().returnValue(), "head's return value");
            scaler.stop();
            model.forward(input).close();
            Bound.of("tiny/logits").check(head.get().returnValue(), "a stopped probe does nothing");
            scaler.start();
            model.forward(input).close();
            scaled.check(head.get().returnValue(), "restarted");
        }
        assertSame(Frame.IDLE, Probe.enter(model), "no probe left: the idle frame");
    }

    @Test
    void probesBelongToTheirThread() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<float[]> scaled = pool.submit(() -> {
                try (Probe probe = Probe.on(model); NDManager m = NDManager.newBaseManager()) {
                    probe.breakpoint(Attention.PRE_SOFTMAX).exec(f -> f.set("attn", f.get("attn").mul(3)));
                    float[] last = null;
                    for (int i = 0; i < 20; i++) {
                        last = model.forward(input).toFloatArray();
                    }
                    return last;
                }
            });
            Future<float[]> plain = pool.submit(() -> {
                float[] last = null;
                for (int i = 0; i < 20; i++) {
                    last = model.forward(input).toFloatArray();
                }
                return last;
            });
            Bound.of("tiny/scaled3_logits").check(scaled.get(), "the probed thread's logits");
            Bound.of("tiny/logits").check(plain.get(), "another thread's probe never reaches this forward");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void capturedTensorsLiveUntilTheProbeCloses() {
        NDArray attn;
        try (CallCapture c = Probe.captureCall(model, "blocks.0.attn")) {
            model.forward(input).close();
            attn = c.get().tensor("attn");
            assertFalse(attn.isReleased(), "valid after the forward returned");
        }
        assertTrue(attn.isReleased(), "freed with the capture");
    }

    @Test
    void savesNpzThatNumpyLayoutReadsBack(@TempDir Path dir) {
        try (Probe probe = Probe.on(model)) {
            CallCapture one = probe.captureCall("blocks.1.attn");
            CallCapture all = probe.captureCalls("blocks.*.attn");
            model.forward(input).close();
            Path f = dir.resolve("call.npz");
            one.get().save(f);
            Map<String, NpyArray> read = Npz.read(f);
            assertEquals(List.of("x", "B", "N", "C", "qkv", "q", "k", "v", "attn", "arg_x", "return"),
                    List.copyOf(read.keySet()));
            assertEquals(0, read.get("B").ndim(), "integers as 0-d arrays");
            assertEquals(2L, read.get("B").longValue());
            Bound.ofNpz("tiny/block1_attn_locals", "attn").check(read.get("attn").floats(), "attn read back");
            Path g = dir.resolve("all.npz");
            all.save(g);
            Map<String, NpyArray> many = Npz.read(g);
            assertTrue(many.containsKey("blocks.0.attn/attn") && many.containsKey("blocks.2.attn/return"),
                    many.keySet().toString());
        }
    }

    @Test
    void mlpSitesExposeTheHiddenActivations() {
        Bound fc1 = Bound.of("tiny/fc1"); // PyTorch's fc1 outputs of every block, (3, B, T, M)
        try (Probe probe = Probe.on(model)) {
            List<NDArray> pre = probe.breakpoint(Mlp.class, "pre_act").eval(h -> h.get("x"));
            model.forward(input).close();
            assertEquals(3, pre.size());
            for (int b = 0; b < 3; b++) {
                fc1.at(b).check(pre.get(b), "blocks." + b + ".mlp pre_act (fc1's output)");
            }
        }
        try (Probe probe = Probe.on(model)) {
            probe.breakpoint(Mlp.class, "post_act").exec(f -> f.set("x", f.get("x").zerosLike()));
            NDArray logits = model.forward(input);
            assertTrue(maxAbsDiff(logits, npy("tiny/logits.npy")) > 1e-3, "zeroing every MLP changes the output");
        }
    }
}
