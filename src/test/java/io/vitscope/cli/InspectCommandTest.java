package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code vitscope inspect} on every format and layout, and on files it cannot read. */
class InspectCommandTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "checkpoints/tiny/model_zip.pth        | PyTorch zip | timm | 44",
        "checkpoints/tiny/model_legacy.pth     | PyTorch legacy | timm | 44",
        "checkpoints/tiny/model_bf16.pth       | PyTorch zip | timm | 44",
        "checkpoints/tiny/train_checkpoint.pth | PyTorch zip | timm | 44",
        "checkpoints/torchvision/vit_tiny_tv.pth | PyTorch zip | torchvision | 44",
        "checkpoints/flax/vit_tiny.npz         | numpy .npz | Google JAX/Flax | 56",
        "checkpoints/flax/vit_tiny_grid6.npz   | numpy .npz | Google JAX/Flax | 56",
        "checkpoints/deit_distilled/model.pth  | PyTorch zip | timm | 47",
        "tiny/timm.safetensors                 | safetensors | timm | 44",
        "tiny/hf                               | safetensors | Hugging Face | 56"})
    void everyFormatIsDescribedAndLoads(String file, String format, String layout, int tensors) {
        Cli r = Cli.run("inspect", Golden.dir(file).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("format:        " + format), r.out());
        assertTrue(r.out().contains("layout:        " + layout), r.out());
        assertTrue(r.out().contains("tensors:       " + tensors + " "), r.out());
        assertTrue(r.out().contains("loads:         yes"), r.out());
    }

    @Test
    void aCheckpointForAnotherArchitectureGetsTheStrictReport() throws IOException {
        Cli r = Cli.run("inspect", Golden.dir("checkpoints/tiny/model_zip.pth").toString(), "--model",
                "vit_tiny_patch16_224", "--json", tmp.resolve("i.json").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("loads:         no — "), r.out());
        assertTrue(r.out().contains("mis-shaped: cls_token is (1, 1, 32) in the file, the model needs (1, 1, 192)"),
                r.out());
        assertTrue(r.out().contains("missing: blocks.3.norm1.weight (192,)"), r.out());
        JsonObject json = JsonParser.parseString(Files.readString(tmp.resolve("i.json"))).getAsJsonObject();
        assertEquals(false, json.get("loads").getAsBoolean());
        assertEquals("PYTORCH_ZIP", json.get("format").getAsString());
    }

    @Test
    void unreadableFilesExitWithThreeAndOneLine() throws IOException {
        Path empty = Files.createFile(tmp.resolve("empty.pth"));
        Path text = Files.writeString(tmp.resolve("notes.bin"), "not a checkpoint\n");
        byte[] pth = Files.readAllBytes(Golden.dir("checkpoints/tiny/model_zip.pth"));
        Path cut = Files.write(tmp.resolve("cut.pth"), java.util.Arrays.copyOf(pth, pth.length / 2));
        byte[] legacy = Files.readAllBytes(Golden.dir("checkpoints/tiny/model_legacy.pth"));
        Path cutLegacy = Files.write(tmp.resolve("cut_legacy.pth"), java.util.Arrays.copyOf(legacy, 3000));
        for (Path p : new Path[] {tmp.resolve("missing.pth"), empty, text, cut, cutLegacy, tmp,
                Golden.dir("checkpoints/malicious/os_system.pth")}) {
            String line = Cli.run("inspect", p.toString()).failsWithOneLine(3);
            assertTrue(line.contains(p.getFileName().toString()), line);
        }
    }
}
