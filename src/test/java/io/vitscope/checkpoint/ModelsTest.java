package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.model.VitConfig;
import io.vitscope.InvalidInputException;
import io.vitscope.weights.DType;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.SafetensorsWriter;
import io.vitscope.weights.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Models#load} on folders: which config format a folder holds decides how it is read. */
class ModelsTest {

    /** timm's hub config.json for the golden tiny model: what 'vitscope fetch' leaves beside the weights. */
    static final String TIMM_HUB_CONFIG = Golden.TINY_TIMM_HUB_CONFIG;


    @TempDir
    Path tmp;

    /** The loaded model's logits on the golden input, within the derived float32 bound of golden {@code name}. */
    private static void checkLogits(LoadedModel loaded, String name) {
        try (NDManager m = NDManager.newBaseManager()) {
            Bound.of(name).check(loaded.model().forward(Golden.npy("tiny/input.npy").toNDArray(m)), name);
        }
    }

    @Test
    void timmHubFolderIsReadAsTimmNotAsHuggingFace() throws IOException {
        // Regression: any folder with a config.json was read as a Hugging Face one, so a timm hub folder (the fetch
        // cache's layout) got ViTConfig's defaults (ViT-B/16, 2 classes) and failed to load.
        Path dir = Files.createDirectory(tmp.resolve("vit_golden_tiny.test"));
        Files.writeString(dir.resolve("config.json"), TIMM_HUB_CONFIG);
        Files.copy(Golden.file("tiny/timm.safetensors"), dir.resolve("model.safetensors"));
        try (LoadedModel loaded = Models.load(null, dir)) {
            assertEquals("vit_golden_tiny", loaded.name());
            assertEquals(3, loaded.config().depth());
            assertEquals("jackfruit", loaded.labels().get(9));
            assertEquals(0.875, loaded.dataConfig().cropPct());
            checkLogits(loaded, "tiny/logits");
        }
    }

    @Test
    void huggingFaceFolderStillReadsAsHuggingFace() {
        try (LoadedModel loaded = Models.load(null, Golden.dir("tiny/hf"))) {
            assertEquals(List.of("aardvark", "bicycle"), loaded.labels().subList(0, 2));
            checkLogits(loaded, "tiny/logits_hf"); // the HF folder's LayerNorm eps is 1e-12
        }
    }

    @Test
    void timmHubFolderWithoutWeightsNamesTheMissingFile() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("empty_model"));
        Files.writeString(dir.resolve("config.json"), TIMM_HUB_CONFIG);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Models.load(null, dir));
        assertEquals(dir.resolve("model.safetensors"), e.file());
    }

    @Test
    void absurdConfigNumbersAreRefusedBeforeAnythingIsSizedByThem() throws IOException {
        // Found by ModelLoadFuzzTest: num_hidden_layers 2147483647 built blocks for minutes before failing.
        Path hf = Files.createDirectory(tmp.resolve("deep"));
        Files.copy(Golden.dir("tiny/hf").resolve("model.safetensors"), hf.resolve("model.safetensors"));
        String config = Files.readString(Golden.dir("tiny/hf").resolve("config.json"));
        Files.writeString(hf.resolve("config.json"), config.replace("\"num_hidden_layers\": 3",
                "\"num_hidden_layers\": 2147483647"));
        // Refused by VitConfig's own checks, i.e. before a VisionTransformer (which needs a VitConfig) builds a block:
        // the order is what matters, so it is asserted instead of timing the refusal.
        IllegalArgumentException early = assertThrows(IllegalArgumentException.class,
                () -> new VitConfig(32, 32, 8, 3, 10, 32, Integer.MAX_VALUE, 4, 2.0, true, 1e-6));
        assertTrue(early.getMessage().contains("depth 2147483647 is beyond the 1024 blocks"), early.getMessage());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Models.load(null, hf));
        assertEquals(hf.resolve("config.json"), e.file());
        assertTrue(e.getMessage().contains("key 'num_hidden_layers' must be an integer from 1 to 1024, found 2147483647"),
                e.getMessage());

        Files.writeString(hf.resolve("config.json"), config.replaceAll("\"id2label\": \\{[^}]*},", "")
                .replaceAll("\"label2id\": \\{[^}]*},", "").replace("{", "{\"num_labels\": 2000000000,"));
        e = assertThrows(InvalidInputException.class, () -> Models.load(null, hf));
        assertTrue(e.getMessage().contains("num_labels' must be between 1 and 1048576"), e.getMessage());

        // Found by the long fuzz run: 32000000x32000000 pixels in patches of 8 overflowed the token count into a
        // negative dimension, which DJL refused with a bare IllegalArgumentException (the CLI's exit 2, no file).
        Files.writeString(hf.resolve("config.json"), config.replace("\"image_size\": 32", "\"image_size\": 32000000"));
        e = assertThrows(InvalidInputException.class, () -> Models.load(null, hf));
        assertEquals(hf.resolve("config.json"), e.file());
        assertTrue(e.getMessage().contains("key 'image_size' must be an integer from 1 to 65536, found 32000000"),
                e.getMessage());

        Path timm = Files.createDirectory(tmp.resolve("wide"));
        Files.copy(Golden.file("tiny/timm.safetensors"), timm.resolve("model.safetensors"));
        Files.writeString(timm.resolve("config.json"),
                TIMM_HUB_CONFIG.replace("\"input_size\": [3, 32, 32]", "\"input_size\": [2000000000, 32, 32]"));
        e = assertThrows(InvalidInputException.class, () -> Models.load(null, timm));
        assertTrue(e.getMessage().contains(
                "key 'pretrained_cfg.input_size' must be an integer from 1 to 65536, found 2000000000"),
                e.getMessage());
    }

    /** The checkpoint {@code from} rewritten with the tensors named in {@code retype} stored as {@code dtype}. */
    private static void retyped(Path from, Path to, DType dtype, String... retype) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        try (Safetensors st = Safetensors.open(from)) {
            for (TensorInfo t : st.tensors()) {
                float[] v = toArray(st, t.name());
                if (!List.of(retype).contains(t.name())) {
                    w.add(t.name(), t.shape(), v);
                    continue;
                }
                ByteBuffer b = ByteBuffer.allocate(v.length * dtype.itemSize()).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) {
                    switch (dtype) {
                        case BOOL -> b.put((byte) (x != 0 ? 1 : 0));
                        case I8 -> b.put((byte) Math.round(x));
                        case I64 -> b.putLong(Math.round(x));
                        case I32 -> b.putInt(Math.round(x));
                        default -> throw new IllegalArgumentException(dtype.toString());
                    }
                }
                w.addRaw(t.name(), dtype, t.shape(), b.array());
            }
        }
        w.write(to);
    }

    private static float[] toArray(Safetensors st, String name) {
        java.nio.FloatBuffer fb = st.readFloats(name);
        float[] v = new float[fb.remaining()];
        fb.get(v);
        return v;
    }

    @Test
    void integerAndBooleanTensorsAreRefusedAsWeightsByName() throws IOException {
        // Before: BOOL, I64 and I8 tensors were converted to float32 silently (a BOOL checkpoint predicted "Shirt 0.92").
        for (DType dtype : new DType[] {DType.BOOL, DType.I64, DType.I8, DType.I32}) {
            Path dir = Files.createDirectories(tmp.resolve("int-" + dtype));
            Files.writeString(dir.resolve("config.json"), TIMM_HUB_CONFIG);
            retyped(Golden.file("tiny/timm.safetensors"), dir.resolve("model.safetensors"), dtype,
                    "blocks.1.norm1.weight", "head.bias");
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Models.load(null, dir));
            assertEquals(dir.resolve("model.safetensors"), e.file());
            assertTrue(e.getMessage().contains("blocks.1.norm1.weight is " + dtype)
                    && e.getMessage().contains("head.bias is " + dtype), e.getMessage());
        }
        // An HF checkpoint whose query part is an integer tensor: the stacked qkv keeps the part's type.
        Path hf = Files.createDirectories(tmp.resolve("hf-int"));
        for (String f : new String[] {"config.json", "preprocessor_config.json"}) {
            Files.copy(Golden.dir("tiny/hf").resolve(f), hf.resolve(f));
        }
        retyped(Golden.dir("tiny/hf").resolve("model.safetensors"), hf.resolve("model.safetensors"), DType.I64,
                "vit.encoder.layer.0.attention.attention.query.weight");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Models.load(null, hf));
        assertTrue(e.getMessage().contains("blocks.0.attn.qkv.weight is I64"), e.getMessage());
    }
}
