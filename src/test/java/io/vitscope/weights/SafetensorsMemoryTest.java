package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peak resident memory while loading a ViT-B/16-sized checkpoint (86.6 M parameters, 346 MB as F32) into NDArrays.
 * It writes the file to a temporary folder first, so it is opt-in:
 * {@code mvn -q -o test -Dtest='SafetensorsMemoryTest#f32*' -Dvitscope.slow=true} (and {@code #bf16*}; one method
 * per run gives clean figures, as memory freed by the other would be reused without growing the RSS).
 */
@Tag("slow")
@EnabledOnOs(OS.LINUX)
@EnabledIfSystemProperty(named = "vitscope.slow", matches = "true")
class SafetensorsMemoryTest {

    @TempDir
    Path dir;

    /** timm's vit_base_patch16_224 parameter shapes. */
    static Map<String, long[]> vitBase() {
        Map<String, long[]> s = new LinkedHashMap<>();
        int d = 768;
        s.put("cls_token", new long[] {1, 1, d});
        s.put("pos_embed", new long[] {1, 197, d});
        s.put("patch_embed.proj.weight", new long[] {d, 3, 16, 16});
        s.put("patch_embed.proj.bias", new long[] {d});
        for (int n = 0; n < 12; n++) {
            String b = "blocks." + n + ".";
            s.put(b + "norm1.weight", new long[] {d});
            s.put(b + "norm1.bias", new long[] {d});
            s.put(b + "attn.qkv.weight", new long[] {3 * d, d});
            s.put(b + "attn.qkv.bias", new long[] {3 * d});
            s.put(b + "attn.proj.weight", new long[] {d, d});
            s.put(b + "attn.proj.bias", new long[] {d});
            s.put(b + "norm2.weight", new long[] {d});
            s.put(b + "norm2.bias", new long[] {d});
            s.put(b + "mlp.fc1.weight", new long[] {4 * d, d});
            s.put(b + "mlp.fc1.bias", new long[] {4 * d});
            s.put(b + "mlp.fc2.weight", new long[] {d, 4 * d});
            s.put(b + "mlp.fc2.bias", new long[] {d});
        }
        s.put("norm.weight", new long[] {d});
        s.put("norm.bias", new long[] {d});
        s.put("head.weight", new long[] {1000, d});
        s.put("head.bias", new long[] {1000});
        return s;
    }

    /** Writes the checkpoint tensor by tensor with small deterministic values, as F32 or BF16. */
    static void writeCheckpoint(Path file, boolean bf16) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        int seed = 1;
        for (Map.Entry<String, long[]> e : vitBase().entrySet()) {
            int n = (int) Shapes.size(e.getValue());
            ByteBuffer b = ByteBuffer.allocate(n * (bf16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            int x = seed++;
            for (int i = 0; i < n; i++) {
                x = x * 1103515245 + 12345;
                float v = ((x >>> 8) & 0xFFFF) / 65536f - 0.5f;
                if (bf16) {
                    b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                } else {
                    b.putFloat(v);
                }
            }
            w.addRaw(e.getKey(), bf16 ? DType.BF16 : DType.F32, e.getValue(), b.array());
        }
        w.write(file);
    }

    static long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException(field);
    }

    /** Loads every tensor as an NDArray; returns the peak RSS growth over the state before opening, in bytes. */
    static long loadAndMeasure(Path file, NDManager manager, String label) throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM to the current RSS
        long base = statusKb("VmRSS");
        long t0 = System.nanoTime();
        List<NDArray> arrays = new ArrayList<>();
        long floats = 0;
        try (Safetensors st = Safetensors.open(file)) {
            for (TensorInfo t : st.tensors()) {
                arrays.add(st.readNDArray(t.name(), manager));
                floats += t.size();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long peak = statusKb("VmHWM");
        long size = Files.size(file);
        long grown = (peak - base) * 1024;
        System.out.printf("%s: file %.1f MB, %d tensors, %.1f M floats (%.1f MB as float32) loaded in %.2f s; "
                        + "RSS before %.0f MB, peak %.0f MB: peak growth %.1f MB = %.2f× the file%n", label,
                size / 1e6, arrays.size(), floats / 1e6, floats * 4 / 1e6, seconds, base / 1024.0, peak / 1024.0,
                grown / 1e6, (double) grown / size);
        float check = arrays.get(arrays.size() - 1).toFloatArray()[0]; // the data is really there
        assertTrue(Float.isFinite(check));
        return grown;
    }

    @Test
    void f32CheckpointLoadsWithOneCopyOfIt() throws Exception {
        Path f32 = dir.resolve("vit_base_f32.safetensors");
        long t0 = System.nanoTime();
        writeCheckpoint(f32, false);
        System.out.printf("wrote %s (%.1f MB) in %.1f s%n", f32.getFileName(), Files.size(f32) / 1e6,
                (System.nanoTime() - t0) / 1e9);
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.zeros(new ai.djl.ndarray.types.Shape(1)).close(); // the engine and its natives are loaded
            long grown = loadAndMeasure(f32, manager, "F32");
            assertTrue(grown < 1.5 * Files.size(f32), "peak growth " + grown + " bytes");
        }
    }

    /** The float32 result is twice the file; the bound is 1.5× that. Run alone: freed memory of another test is reused. */
    @Test
    void bf16CheckpointLoadsWithOneCopyOfItsFloat32Form() throws Exception {
        Path bf16 = dir.resolve("vit_base_bf16.safetensors");
        writeCheckpoint(bf16, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.zeros(new ai.djl.ndarray.types.Shape(1)).close();
            long grown = loadAndMeasure(bf16, manager, "BF16 (widened to F32 in Java)");
            assertTrue(grown < 1.5 * 2 * Files.size(bf16), "peak growth " + grown + " bytes");
        }
    }
}
