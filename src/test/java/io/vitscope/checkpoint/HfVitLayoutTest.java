package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.SafetensorsWriter;
import io.vitscope.weights.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfVitLayoutTest {

    // A tiny ViT: D=4, depth 2, M=8, K=3, C=3, P=2, T=5.
    static final int D = 4;
    static final int M = 8;

    @TempDir
    Path dir;

    /** Distinct values per tensor so that a mix-up shows: element i of tensor number t is t * 1000 + i. */
    static Map<String, long[]> hfShapes(String prefix, boolean withPooler) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("classifier.weight", new long[] {3, D});
        s.put("classifier.bias", new long[] {3});
        s.put(prefix + "embeddings.cls_token", new long[] {1, 1, D});
        s.put(prefix + "embeddings.patch_embeddings.projection.bias", new long[] {D});
        s.put(prefix + "embeddings.patch_embeddings.projection.weight", new long[] {D, 3, 2, 2});
        s.put(prefix + "embeddings.position_embeddings", new long[] {1, 5, D});
        for (int n = 0; n < 2; n++) {
            String l = prefix + "encoder.layer." + n + ".";
            for (String qkv : List.of("key", "query", "value")) { // alphabetical, as safetensors files list them
                s.put(l + "attention.attention." + qkv + ".bias", new long[] {D});
                s.put(l + "attention.attention." + qkv + ".weight", new long[] {D, D});
            }
            s.put(l + "attention.output.dense.bias", new long[] {D});
            s.put(l + "attention.output.dense.weight", new long[] {D, D});
            s.put(l + "intermediate.dense.bias", new long[] {M});
            s.put(l + "intermediate.dense.weight", new long[] {M, D});
            s.put(l + "layernorm_after.bias", new long[] {D});
            s.put(l + "layernorm_after.weight", new long[] {D});
            s.put(l + "layernorm_before.bias", new long[] {D});
            s.put(l + "layernorm_before.weight", new long[] {D});
            s.put(l + "output.dense.bias", new long[] {D});
            s.put(l + "output.dense.weight", new long[] {D, M});
        }
        s.put(prefix + "layernorm.bias", new long[] {D});
        s.put(prefix + "layernorm.weight", new long[] {D});
        if (withPooler) {
            s.put("pooler.dense.bias", new long[] {D});
            s.put("pooler.dense.weight", new long[] {D, D});
        }
        return s;
    }

    static float[] values(int t, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = t * 1000 + i;
        }
        return v;
    }

    /** In-memory sources that count their reads. */
    static Map<String, TensorSource> sources(Map<String, long[]> shapes, AtomicInteger reads) {
        Map<String, TensorSource> out = new LinkedHashMap<>();
        int t = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            TensorSource inner = TensorSource.of(e.getKey(), e.getValue(), values(t++, e.getValue()));
            out.put(e.getKey(), new TensorSource() {
                public String name() {
                    return inner.name();
                }

                public long[] shape() {
                    return inner.shape();
                }

                public Path file() {
                    return null;
                }

                public void readInto(ByteBuffer dst) {
                    reads.incrementAndGet();
                    inner.readInto(dst);
                }
            });
        }
        return out;
    }

    @Test
    void namesAndShapesFollowTimm() {
        AtomicInteger reads = new AtomicInteger();
        Map<String, TensorSource> timm = HfVitLayout.toTimm(sources(hfShapes("vit.", false), reads));
        assertEquals(0, reads.get(), "converting reads no data");
        List<String> expected = new ArrayList<>(List.of("head.weight", "head.bias", "cls_token", "patch_embed.proj.bias",
                "patch_embed.proj.weight", "pos_embed"));
        for (int n = 0; n < 2; n++) {
            String b = "blocks." + n + ".";
            expected.addAll(List.of(b + "attn.qkv.bias", b + "attn.qkv.weight", b + "attn.proj.bias",
                    b + "attn.proj.weight", b + "mlp.fc1.bias", b + "mlp.fc1.weight", b + "norm2.bias",
                    b + "norm2.weight", b + "norm1.bias", b + "norm1.weight", b + "mlp.fc2.bias", b + "mlp.fc2.weight"));
        }
        expected.addAll(List.of("norm.bias", "norm.weight"));
        assertEquals(expected, List.copyOf(timm.keySet()));
        assertArrayEquals(new long[] {3 * D, D}, timm.get("blocks.1.attn.qkv.weight").shape());
        assertArrayEquals(new long[] {3 * D}, timm.get("blocks.1.attn.qkv.bias").shape());
        assertArrayEquals(new long[] {M, D}, timm.get("blocks.0.mlp.fc1.weight").shape());
        assertArrayEquals(new long[] {D, 3, 2, 2}, timm.get("patch_embed.proj.weight").shape());
        assertEquals("blocks.0.mlp.fc2.weight", timm.get("blocks.0.mlp.fc2.weight").name());
        assertEquals(CheckpointLayout.TIMM, CheckpointLayout.detect(null, timm.keySet()));
    }

    @Test
    void qkvIsQueryThenKeyThenValueAlongDimZeroAndReadOnlyWhenAsked() {
        Map<String, long[]> shapes = hfShapes("vit.", false);
        AtomicInteger reads = new AtomicInteger();
        Map<String, TensorSource> hf = sources(shapes, reads);
        Map<String, TensorSource> timm = HfVitLayout.toTimm(hf);
        float[] qkv = timm.get("blocks.1.attn.qkv.weight").toFloatArray();
        assertEquals(3, reads.get(), "exactly the three parts are read");
        String l = "vit.encoder.layer.1.attention.attention.";
        float[] q = hf.get(l + "query.weight").toFloatArray();
        float[] k = hf.get(l + "key.weight").toFloatArray();
        float[] v = hf.get(l + "value.weight").toFloatArray();
        float[] expected = new float[3 * D * D];
        System.arraycopy(q, 0, expected, 0, D * D);
        System.arraycopy(k, 0, expected, D * D, D * D);
        System.arraycopy(v, 0, expected, 2 * D * D, D * D);
        assertArrayEquals(expected, qkv, 0f);
        // Renamed tensors carry the same data.
        assertArrayEquals(hf.get("vit.encoder.layer.0.layernorm_before.weight").toFloatArray(),
                timm.get("blocks.0.norm1.weight").toFloatArray(), 0f);
        assertArrayEquals(hf.get("classifier.bias").toFloatArray(), timm.get("head.bias").toFloatArray(), 0f);
    }

    @Test
    void checkpointsWithoutTheVitPrefixAndWithAPoolerConvertToo() {
        Map<String, TensorSource> hf = sources(hfShapes("", true), new AtomicInteger());
        assertEquals(CheckpointLayout.HF_VIT, CheckpointLayout.detect(null, hf.keySet()));
        Map<String, TensorSource> timm = CheckpointLayout.toTimm(null, hf);
        assertTrue(timm.containsKey("blocks.0.attn.qkv.weight"));
        assertTrue(timm.keySet().stream().noneMatch(n -> n.startsWith("pooler")), "the pooler is dropped");
        assertEquals(List.of("pooler.dense.bias", "pooler.dense.weight"), HfVitLayout.ignoredNames(hf.keySet()));
        assertEquals(hfShapes("", true).size() - 2 - 2 * 4, timm.size()); // 3 → 1 per qkv weight and bias
    }

    @Test
    void unknownNamesPassThroughForTheLoaderToReport() {
        Map<String, long[]> shapes = hfShapes("vit.", false);
        shapes.put("vit.embeddings.dist_token", new long[] {1, 1, D});
        Map<String, TensorSource> timm = HfVitLayout.toTimm(sources(shapes, new AtomicInteger()));
        assertTrue(timm.containsKey("vit.embeddings.dist_token"));
    }

    @Test
    void missingOrMisshapedQkvPartsAreReported() {
        Map<String, long[]> shapes = hfShapes("vit.", false);
        shapes.remove("vit.encoder.layer.1.attention.attention.value.weight");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> HfVitLayout.toTimm(sources(shapes, new AtomicInteger())));
        assertTrue(e.getMessage().contains("blocks.1.attn.qkv.weight needs query, key and value tensors but the value "
                + "part is missing"), e.getMessage());
        Map<String, long[]> bad = hfShapes("vit.", false);
        bad.put("vit.encoder.layer.0.attention.attention.key.weight", new long[] {D, D + 1});
        e = assertThrows(InvalidInputException.class, () -> HfVitLayout.toTimm(sources(bad, new AtomicInteger())));
        assertTrue(e.getMessage().contains("blocks.0.attn.qkv.weight must share one shape"), e.getMessage());
        assertTrue(e.getMessage().contains("(4, 4), (4, 5) and (4, 4)"), e.getMessage());
    }

    @Test
    void mixedPrefixesAreReported() {
        Map<String, long[]> shapes = hfShapes("vit.", false);
        shapes.put("layernorm.weight", new long[] {D});
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> HfVitLayout.toTimm(sources(shapes, new AtomicInteger())));
        assertTrue(e.getMessage().contains("both map to norm.weight"), e.getMessage());
    }

    @Test
    void neitherLayoutIsAClearError() {
        Path f = Path.of("resnet.safetensors");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CheckpointLayout.detect(f,
                List.of("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                        "layer1.0.bn1.bias", "fc.weight")));
        assertTrue(e.getMessage().startsWith("resnet.safetensors: "), e.getMessage());
        assertTrue(e.getMessage().contains("neither a timm ViT checkpoint"), e.getMessage());
        assertTrue(e.getMessage().contains("found 7 tensors: 'conv1.weight', 'bn1.weight'"), e.getMessage());
        assertTrue(e.getMessage().endsWith(", ..."), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> CheckpointLayout.detect(f,
                List.of("blocks.0.norm1.weight", "vit.encoder.layer.0.output.dense.weight")));
        assertTrue(e.getMessage().contains("mixes timm names"), e.getMessage());
    }

    @Test
    void convertsAFileLazilyAndStreamsItBackOutAsTimm() throws IOException {
        Map<String, long[]> shapes = hfShapes("vit.", true);
        SafetensorsWriter w = new SafetensorsWriter();
        int t = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            w.add(e.getKey(), e.getValue(), values(t++, e.getValue()));
        }
        Path hfFile = dir.resolve("model.safetensors");
        w.write(hfFile);
        Path timmFile = dir.resolve("timm.safetensors");
        try (Safetensors st = Safetensors.open(hfFile)) {
            Map<String, TensorSource> timm = CheckpointLayout.toTimm(st.file(), st.sources());
            new SafetensorsWriter().addAll(timm).write(timmFile);
            try (Safetensors out = Safetensors.open(timmFile)) {
                assertEquals(CheckpointLayout.TIMM, CheckpointLayout.detect(timmFile,
                        out.tensors().stream().map(x -> x.name()).toList()));
                assertArrayEquals(timm.get("blocks.0.attn.qkv.bias").toFloatArray(),
                        out.sources().get("blocks.0.attn.qkv.bias").toFloatArray(), 0f);
                assertArrayEquals(st.sources().get("vit.embeddings.position_embeddings").toFloatArray(),
                        out.sources().get("pos_embed").toFloatArray(), 0f);
            }
        }
    }
}
