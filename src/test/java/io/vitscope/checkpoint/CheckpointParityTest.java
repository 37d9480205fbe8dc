package io.vitscope.checkpoint;

import static io.vitscope.Golden.maxAbsDiff;
import static io.vitscope.Golden.npy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.TensorSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every checkpoint format and layout against the reference framework's own forward on the same weights
 * (scripts/make_checkpoint_goldens.py): the timm mirror for PyTorch state dicts and Flax .npz (after timm's
 * _load_weights mapping), torchvision's VisionTransformer for its layout, timm's VisionTransformerDistilled for DeiT.
 */
class CheckpointParityTest {

    /**
     * 1e-5 absolute on logits of magnitude ≤ 5 (the goldens' largest is printed on failure). Why it holds: the
     * weights reach the model bit-exactly (checked below for every storage variant), so the only difference is float32
     * arithmetic order. Each logit is the end of ~3 blocks of dot products over at most 64 terms; with unit-scale
     * activations the rounding error of such a sum is about √n·u·|terms| ≈ 8 × 6e-8 × O(1) ≈ 5e-7 per reduction, and
     * the dozen chained reductions of a 3-block model stay within a few 1e-6. (The worst-case γ_n bound, n·u, would
     * be ~2e-5; float32 results on AVX2 and AVX-512 paths differ in the last bits, FACTS.md.) The resampled position
     * embeddings add one bilinear interpolation computed in float32 in both, with error ≤ 2u of its values.
     */
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
        "tiny, model_zip.pth, logits.npy",
        "tiny, model_legacy.pth, logits.npy",
        "tiny, pytorch_model.bin, logits.npy",
        "tiny, model_f16.pth, logits_f16.npy",
        "tiny, model_bf16.pth, logits_bf16.npy",
        "tiny, model_bf16_legacy.pth, logits_bf16.npy",
        "tiny, model_views.pth, logits.npy",
        "tiny, model_views_legacy.pth, logits.npy",
        "tiny, train_checkpoint.pth, logits_ema.npy",
        "tiny, deit_checkpoint.pth, logits_ema.npy",
        "tiny, state_dict_only.pth, logits.npy",
        "torchvision, vit_tiny_tv.pth, logits.npy",
        "flax, vit_tiny.npz, logits.npy",
        "flax, vit_tiny_opt_target.npz, logits.npy",
        "flax, vit_tiny_big_vision.npz, logits.npy",
        "flax, vit_tiny_grid3.npz, logits_grid3.npy",
        "flax, vit_tiny_grid6.npz, logits_grid6.npy",
        "deit_distilled, model.pth, logits.npy"})
    void logitsMatchTheReferenceFramework(String folder, String file, String expected) {
        Path weights = Golden.dir("checkpoints/" + folder).resolve(file);
        try (LoadedModel model = Models.load(null, weights); NDManager m = NDManager.newBaseManager()) {
            NDArray logits = model.model().forward(npy("checkpoints/" + folder + "/input.npy").toNDArray(m));
            double diff = maxAbsDiff(logits, npy("checkpoints/" + folder + "/" + expected));
            double scale = logits.abs().max().getFloat();
            System.out.printf("parity %s/%s: max |diff| %.3g (logits up to %.3g)%n", folder, file, diff, scale);
            assertTrue(diff <= TOLERANCE, folder + "/" + file + ": max |diff| = " + diff + " (logits up to " + scale + ")");
        }
    }

    /** The same weights as make_goldens.py's tiny model (same seed): every PyTorch variant must read them bit-exactly. */
    @ParameterizedTest
    @CsvSource({"model_zip.pth", "model_legacy.pth", "model_views.pth", "model_views_legacy.pth", "state_dict_only.pth"})
    void everyStorageVariantReadsTheExactWeights(String file) {
        Path golden = Golden.dir("tiny").resolve("timm.safetensors");
        try (Safetensors st = Safetensors.open(golden);
             TorchCheckpoint ck = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve(file))) {
            Map<String, TensorSource> expected = st.sources();
            assertEquals(expected.keySet(), ck.tensors().keySet());
            for (Map.Entry<String, TensorSource> e : expected.entrySet()) {
                TorchTensor t = ck.tensors().get(e.getKey());
                assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertArrayEquals(e.getValue().toFloatArray(), t.toFloatArray(), 0f, file + " " + e.getKey());
            }
        }
    }

    @Test
    void viewsAndSharedStoragesAreWhatTheFileSays() {
        try (TorchCheckpoint ck = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve("model_views.pth"))) {
            TorchTensor head = ck.tensors().get("head.weight");
            assertFalse(head.isContiguous(), "head.weight was saved as a transposed view");
            assertArrayEquals(new long[] {1, 10}, head.stride());
            assertEquals(ck.tensors().get("cls_token").storageKey(), ck.tensors().get("pos_embed").storageKey());
            assertEquals(ck.tensors().get("blocks.0.norm1.weight").storageKey(),
                    ck.tensors().get("blocks.0.norm2.weight").storageKey());
        }
    }

    @Test
    void wrappedCheckpointsPreferTheEmaWeightsAsTimmDoes() {
        try (TorchCheckpoint train = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve("train_checkpoint.pth"));
             TorchCheckpoint deit = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve("deit_checkpoint.pth"));
             TorchCheckpoint plain = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve("state_dict_only.pth"))) {
            assertEquals("state_dict_ema", train.wrapper().orElseThrow());
            assertTrue(train.otherKeys().containsAll(List.of("epoch", "state_dict", "optimizer", "args")));
            assertEquals("model_ema", deit.wrapper().orElseThrow());
            assertEquals("state_dict", plain.wrapper().orElseThrow());
            assertEquals(TorchCheckpoint.Format.ZIP, plain.format());
        }
        try (TorchCheckpoint legacy = TorchCheckpoint.open(Golden.dir("checkpoints/tiny").resolve("model_legacy.pth"))) {
            assertEquals(TorchCheckpoint.Format.LEGACY, legacy.format());
        }
    }

    @Test
    void distilledModelIsProbedLikeTheOthers() {
        Path weights = Golden.dir("checkpoints/deit_distilled").resolve("model.pth");
        try (LoadedModel model = Models.load(null, weights); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(model.model())) {
            assertTrue(model.config().distilled());
            List<NDArray> tokens = probe.breakpoint(VisionTransformer.POS_EMBED).eval(h -> h.get("x"));
            List<NDArray> logits = probe.breakpoint(VisionTransformer.LOGITS).eval(h -> h.get("x"));
            NDArray out = model.model().forward(npy("checkpoints/deit_distilled/input.npy").toNDArray(m));
            assertArrayEquals(new long[] {2, 16 + 2, 32}, tokens.get(0).getShape().getShape(), "cls + dist + 16 patches");
            assertTrue(maxAbsDiff(logits.get(0), npy("checkpoints/deit_distilled/logits.npy")) <= TOLERANCE);
            assertTrue(maxAbsDiff(out, npy("checkpoints/deit_distilled/logits.npy")) <= TOLERANCE);
        }
    }

    @Test
    void torchvisionLayoutIsRecognisedAndItsPresetsUseTorchvisionPreprocessing() {
        try (Checkpoints.Opened ck = Checkpoints.open(Golden.dir("checkpoints/torchvision").resolve("vit_tiny_tv.pth"))) {
            assertEquals(Checkpoints.Layout.TORCHVISION, Checkpoints.layout(ck.file(), ck.tensors().keySet()));
        }
        var data = io.vitscope.model.Presets.get("vit_b_16").dataConfig();
        assertEquals(io.vitscope.image.DataConfig.Interpolation.BILINEAR, data.interpolation());
        assertEquals(256, Math.floor(224 / data.cropPct()), "resize 256, centre crop 224");
    }
}
