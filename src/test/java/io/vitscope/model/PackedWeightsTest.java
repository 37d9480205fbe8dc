package io.vitscope.model;

import static io.vitscope.Golden.npy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.LinearBound;
import io.vitscope.Prerequisites;
import io.vitscope.engine.PackedGemm;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link VisionTransformer#packWeights()}: the linear layers through MKL's packed GEMM ({@link PackedGemm}) give the
 * same numbers as libtorch's own product within float32's bounds, and never touch a gradient forward.
 */
class PackedWeightsTest {

    @BeforeEach
    void needsPacking() {
        // The native library is built whenever gcc is present (.ci/run installs it); without it packing is off and
        // forwards are libtorch's own, which every other test covers.
        Prerequisites.require(PackedGemm.available(), "MKL's packed GEMM through libvitscope_mklfix.so",
                "apt-get install gcc libc6-dev, then mvn compile");
    }

    /** Same elementwise bounds as ModelParityTest: the packed product is float32 arithmetic like any other. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"tiny", "tiny_gray", "tiny_rect"})
    void packedLogitsMatchPyTorch(String folder) {
        try (VisionTransformer model = Golden.model(folder, "timm.safetensors"); NDManager m = NDManager.newBaseManager()) {
            int linears = (int) model.namedModules().values().stream().filter(x -> x instanceof Linear).count();
            assertEquals(linears, model.packWeights(), "every linear layer packed");
            NDArray logits = model.forward(npy(folder + "/input.npy").toNDArray(m));
            double used = Bound.of(folder + "/logits").check(logits, folder + " packed logits");
            System.out.printf("parity %s packed logits: %.1f%% of the float32 bound%n", folder, 100 * used);
        }
    }

    /**
     * The product alone against libtorch's within the dot-product bound ({@link LinearBound}), at the row counts of
     * batch 1 and 8 of ViT-B/16, at one row, at a width no slice divides evenly, and with threads that change after
     * packing (the packing keeps its slices).
     */
    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @CsvSource({"1, 768, 2304", "197, 768, 2304", "197, 3072, 768", "1576, 768, 3072", "3, 5, 7", "7, 33, 333"})
    void productWithinTheDotProductBoundOfLibtorchs(int m, int k, int n) {
        try (NDManager mm = NDManager.newBaseManager()) {
            Random r = new Random(m * 31L + k);
            NDArray x = mm.create(gaussian(r, m * k), new Shape(m, k));
            NDArray w = mm.create(gaussian(r, n * k), new Shape(n, k));
            NDArray b = mm.create(gaussian(r, n), new Shape(n));
            try (PackedGemm p = PackedGemm.pack(w, m)) {
                double used = LinearBound.check(p.linear(x, b), x, w, b, "packed product");
                System.out.printf("packed product m=%d k=%d n=%d: %.2f%% of the bound%n", m, k, n, 100 * used);
                LinearBound.check(p.linear(x, null), x, w, null, "packed product without bias");
            }
        }
    }

    @Test
    void aPackingMadeForOneThreadCountStaysRightUnderAnother() {
        int threads = JniUtils.getNumThreads();
        try (NDManager mm = NDManager.newBaseManager()) {
            Random r = new Random(5);
            NDArray x = mm.create(gaussian(r, 40 * 96), new Shape(2, 20, 96));
            NDArray w = mm.create(gaussian(r, 500 * 96), new Shape(500, 96));
            NDArray b = mm.create(gaussian(r, 500), new Shape(500));
            for (int packedFor : new int[] {1, 3}) {
                JniUtils.setNumThreads(packedFor);
                try (PackedGemm p = PackedGemm.pack(w, 20)) {
                    JniUtils.setNumThreads(threads);
                    LinearBound.check(p.linear(x, b), x, w, b, "packed for " + packedFor + " threads");
                }
            }
        } finally {
            JniUtils.setNumThreads(threads);
        }
    }

    /**
     * Past {@link PackedGemm#MAX_ROWS} rows a packed layer computes what the unpacked one does, bit for bit (MKL's own
     * packing is as fast there); up to it, the packed product, within the dot-product bound.
     */
    @Test
    void productsOfManyRowsLeaveThePackingAside() {
        try (VisionTransformer plain = Golden.model("tiny", "timm.safetensors");
             VisionTransformer packed = Golden.model("tiny", "timm.safetensors");
             NDManager m = NDManager.newBaseManager()) {
            packed.packWeights();
            Linear a = (Linear) plain.namedModules().get("blocks.0.mlp.fc1");
            Linear b = (Linear) packed.namedModules().get("blocks.0.mlp.fc1");
            Random r = new Random(7);
            for (int rows : new int[] {PackedGemm.MAX_ROWS + 1, 2 * PackedGemm.MAX_ROWS}) {
                NDArray x = m.create(gaussian(r, rows * a.inFeatures()), new Shape(rows, a.inFeatures()));
                assertArrayEquals(a.gradFreeProduct(x).toFloatArray(), b.gradFreeProduct(x).toFloatArray(),
                        rows + " rows: the unpacked product");
            }
            NDArray x = m.create(gaussian(r, PackedGemm.MAX_ROWS * a.inFeatures()),
                    new Shape(PackedGemm.MAX_ROWS, a.inFeatures()));
            NDArray w = plain.namedParameters().get("blocks.0.mlp.fc1.weight").getArray();
            NDArray bias = plain.namedParameters().get("blocks.0.mlp.fc1.bias").getArray();
            LinearBound.check(b.gradFreeProduct(x), x, w, bias, PackedGemm.MAX_ROWS + " rows, packed");
        }
    }

    @Test
    void gradientForwardsIgnoreThePackingAndStayBitIdentical() {
        try (VisionTransformer plain = Golden.model("tiny", "timm.safetensors");
             VisionTransformer packed = Golden.model("tiny", "timm.safetensors")) {
            packed.packWeights();
            float[] image = npy("tiny/input.npy").floats(); // (2, C, H, W): Relevance takes one image
            float[] first = java.util.Arrays.copyOf(image, image.length / 2);
            for (io.vitscope.relevance.Method method : io.vitscope.relevance.Relevance.ALL) {
                float[] a = io.vitscope.relevance.Relevance.of(method, plain, first, 0).values();
                float[] b = io.vitscope.relevance.Relevance.of(method, packed, first, 0).values();
                assertArrayEquals(a, b, method + ": a gradient forward runs on libtorch's autograd path, packed or not");
            }
        }
    }

    @Test
    void unpackingBeforeAnInPlaceEditAndPackingAgainFollowsTheEdit() {
        try (VisionTransformer model = Golden.model("tiny", "timm.safetensors"); NDManager m = NDManager.newBaseManager()) {
            NDArray input = npy("tiny/input.npy").toNDArray(m);
            model.packWeights();
            float[] before = model.forward(input).toFloatArray();
            model.unpackWeights();
            model.namedParameters().get("head.weight").getArray().muli(2); // an in-place edit, as a trainer makes
            float[] edited = model.forward(input).toFloatArray();
            model.packWeights();
            float[] repacked = model.forward(input).toFloatArray();
            double change = maxAbsDiff(before, edited);
            // A stale packing would reproduce `before` (distance = change); a fresh one differs from libtorch's
            // product by rounding only, orders of magnitude less.
            assertTrue(change > 0, "the edit changed the logits");
            assertTrue(maxAbsDiff(edited, repacked) < change / 100,
                    "repacked " + maxAbsDiff(edited, repacked) + " vs change " + change);
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void captureSeesTheSameLocalsPackedOrNot() {
        try (VisionTransformer model = Golden.model("tiny", "timm.safetensors"); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model)) {
            model.packWeights();
            CallCapture c = probe.captureCall("blocks.1.attn");
            probe.start();
            model.forward(npy("tiny/input.npy").toNDArray(m)).close();
            probe.stop();
            for (String name : new String[] {"qkv", "q", "k", "v", "attn", "x"}) {
                Bound.ofNpz("tiny/block1_attn_locals", name).check(c.get().tensor(name), "packed, local " + name);
            }
            assertEquals(DataType.FLOAT32, c.get().tensor("qkv").getDataType());
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
