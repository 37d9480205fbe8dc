package io.vitscope.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.LinearBound;
import io.vitscope.Prerequisites;
import io.vitscope.model.Linear;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SlicedGemm}: the linear product with the weight's rows split between the intra-op threads gives libtorch's
 * numbers within float32's dot-product bound ({@link LinearBound}), in whatever slices the thread count makes, and
 * declines (null: the caller uses libtorch's product) whatever it does not handle.
 */
class SlicedGemmTest {

    private int threads;

    @BeforeEach
    void needsTheNativeLibrary() {
        // Built whenever gcc is present (.ci/run installs it); without it every product is libtorch's own.
        Prerequisites.require(SlicedGemm.available(), "the sliced products of libvitscope_mklfix.so",
                "apt-get install gcc libc6-dev, then mvn compile");
        threads = JniUtils.getNumThreads();
    }

    @AfterEach
    void restoreThreads() {
        JniUtils.setNumThreads(threads);
    }

    /** ViT-B/16's four products at batch 1, one row, the row limit, widths no slice divides evenly, 3-D inputs. */
    @ParameterizedTest(name = "{0} threads, x ({1}), w ({2}, {3})")
    @CsvSource({
        "2, '1, 197, 768', 2304, 768", "2, '1, 197, 768', 768, 768", "2, '1, 197, 768', 3072, 768",
        "2, '1, 197, 3072', 768, 3072", "2, '1, 768', 2304, 768", "2, '1024, 64', 512, 64",
        "2, '2, 100, 300', 333, 300", "3, '197, 768', 768, 768", "3, '5, 130', 401, 130", "4, '197, 768', 3072, 768"})
    void productWithinTheDotProductBoundOfLibtorchs(int t, String xShape, int n, int k) {
        JniUtils.setNumThreads(t);
        try (NDManager m = NDManager.newBaseManager()) {
            Random r = new Random(n * 31L + k);
            Shape xs = new Shape(Arrays.stream(xShape.split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray());
            NDArray x = gaussian(m, r, xs);
            NDArray w = gaussian(m, r, new Shape(n, k));
            NDArray b = gaussian(m, r, new Shape(n));
            NDArray y = SlicedGemm.linear(x, w, b);
            assertNotNull(y, "a product of this shape is sliced");
            double used = LinearBound.check(y, x, w, b, "sliced product");
            LinearBound.check(SlicedGemm.linear(x, w, null), x, w, null, "sliced product without bias");
            System.out.printf("sliced product, %d threads, x %s, w (%d, %d): %.2f%% of the bound%n", t, xs, n, k,
                    100 * used);
        }
    }

    @Test
    void declinesWhatItDoesNotHandle() {
        try (NDManager m = NDManager.newBaseManager()) {
            Random r = new Random(1);
            NDArray x = gaussian(m, r, new Shape(197, 768));
            NDArray w = gaussian(m, r, new Shape(768, 768));
            NDArray b = gaussian(m, r, new Shape(768));
            JniUtils.setNumThreads(2);
            assertNotNull(SlicedGemm.linear(x, w, b), "the control: this one is sliced");
            assertNull(SlicedGemm.linear(gaussian(m, r, new Shape(SlicedGemm.MAX_ROWS + 1, 768)), w, b),
                    "more rows than MAX_ROWS: libtorch's own split is as fast");
            int narrow = 2 * SlicedGemm.MIN_COLUMNS - 1;
            assertNull(SlicedGemm.linear(x, gaussian(m, r, new Shape(narrow, 768)), gaussian(m, r, new Shape(narrow))),
                    "too few columns per thread");
            assertNull(SlicedGemm.linear(x.toType(DataType.FLOAT64, false), w.toType(DataType.FLOAT64, false),
                    b.toType(DataType.FLOAT64, false)), "float64");
            assertNull(SlicedGemm.linear(gaussian(m, r, new Shape(768, 197)).transpose(), w, b),
                    "a transposed view is not laid out as the product reads it");
            assertNull(SlicedGemm.linear(x, w.transpose(), b), "a transposed weight");
            assertNull(SlicedGemm.linear(x, gaussian(m, r, new Shape(768, 700)), b), "in-features that do not match");
            assertNull(SlicedGemm.linear(x, w, gaussian(m, r, new Shape(767))), "a bias of the wrong size");
            JniUtils.setNumThreads(1);
            assertNull(SlicedGemm.linear(x, w, b), "one thread: nothing to split");
        }
    }

    /**
     * A whole forward of a model wide enough to slice (every linear layer gets at least 128 columns per thread at 2
     * threads): each linear layer's output, as a capture records it, is within the bound of libtorch's product of the
     * input the capture recorded, and each of those products is one the forward slices.
     */
    @Test
    void everyLinearLayerOfAForwardIsWithinTheBound() {
        JniUtils.setNumThreads(2);
        VitConfig config = VitConfig.of(32, 8, 3, 10, 256, 2, 4, 4.0);
        try (VisionTransformer model = new VisionTransformer(config).initializeRandom(3);
             NDManager m = NDManager.newBaseManager(); Probe probe = Probe.on(model)) {
            NDArray images = gaussian(m, new Random(4), new Shape(2, 3, 32, 32));
            CallCapture captured = probe.captureCalls("blocks.*.*.*");
            probe.start();
            model.forward(images).close();
            probe.stop();
            List<CallRecord> calls = captured.all().stream().filter(c -> c.moduleClass() == Linear.class).toList();
            assertEquals(2 * 4, calls.size(), "qkv, proj, fc1 and fc2 of both blocks");
            for (CallRecord c : calls) {
                Linear l = (Linear) model.namedModules().get(c.path());
                NDArray w = l.namedParameters().get("weight").getArray();
                NDArray b = l.namedParameters().get("bias").getArray();
                NDArray input = (NDArray) c.args().get("input");
                assertNotNull(SlicedGemm.linear(input, w, b), c.path() + " is a product the forward slices");
                double used = LinearBound.check(c.returnValue(), input, w, b, c.path());
                System.out.printf("forward, %s: %.2f%% of the bound%n", c.path(), 100 * used);
            }
        }
    }

    private static NDArray gaussian(NDManager m, Random r, Shape shape) {
        float[] a = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return m.create(a, shape);
    }
}
