package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11, cases 11 and 15 (CLI part): errors that said the wrong thing, and outputs with the wrong mode. */
class ErrorWordingTest {

    private static final String GOOD = "images/fashion/fashion_0_ankle_boot.png";

    @TempDir
    Path tmp;

    @Test
    void aHuggingFaceCheckpointAloneSaysWhatIsMissingAndHowToFixIt() throws Exception {
        Path alone = Files.copy(Golden.file("tiny/hf/model.safetensors"), tmp.resolve("model.safetensors"));
        String line = Cli.run("predict", "--weights", alone.toString(), GOOD).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("no config.json is beside it") && line.contains("Give the model's folder")
                && line.contains("name the architecture"), line);
        // Before: "config.json: the model config has no 'architecture' key" (timm's reader on the HF config).
        assertFalse(line.contains("'architecture' key"), line);
    }

    @Test
    void aHuggingFaceCheckpointBesideItsConfigLoadsAsTheFolderDoes() {
        String file = Golden.file("tiny/hf/model.safetensors").toString();
        Cli byFile = Cli.run("predict", "--weights", file, GOOD);
        Cli byFolder = Cli.run("predict", "--weights", CliErrorTest.hf(), GOOD);
        assertEquals(Main.OK, byFile.code(), byFile.err());
        assertEquals(byFolder.out(), byFile.out());
    }

    @Test
    void aSymbolicLinkLoopIsCalledOne() throws Exception {
        Path a = tmp.resolve("a.png");
        Path b = tmp.resolve("b.png");
        Files.createSymbolicLink(a, b);
        Files.createSymbolicLink(b, a);
        String line = Cli.run("predict", a.toString()).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("symbolic link loop"), line);
        line = Cli.run("predict", "--weights", a.toString(), GOOD).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("symbolic link loop"), line);
        Path dangling = Files.createSymbolicLink(tmp.resolve("c.png"), tmp.resolve("gone.png"));
        line = Cli.run("predict", dangling.toString()).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("a symbolic link to " + tmp.resolve("gone.png") + ", which does not exist"), line);
    }

    @Test
    void tensorOutputsFollowTheUmaskAsImagesDo() throws Exception {
        Path reference = tmp.resolve("reference");
        try (OutputStream o = Files.newOutputStream(reference)) {
            o.write(1);
        }
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(reference);
        Path npz = tmp.resolve("c.npz");
        assertEquals(Main.OK, Cli.run("capture", GOOD, "--call", "blocks.0.attn", "--out", npz.toString()).code());
        assertEquals(expected, Files.getPosixFilePermissions(npz), "capture's .npz (was 0600)");
        Path dump = tmp.resolve("dump");
        assertEquals(Main.OK, Cli.run("predict", "--dump", dump.toString(), GOOD).code());
        assertEquals(expected, Files.getPosixFilePermissions(dump.resolve("logits.npy")), "--dump's .npy");
    }

    @Test
    void anUnwritableOutputSaysWhy() throws Exception {
        // Before: "Cannot write /proc/x/c.npz (/proc/x)": the JDK's exception message is only the path. Now the
        // destination is checked before the model loads (a usage error) and the line says why it cannot be written.
        String line = Cli.run("capture", GOOD, "--call", "blocks.0.attn", "--out", "/proc/vitscope-x/c.npz")
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("/proc/vitscope-x/c.npz cannot be written: cannot create a file in /proc"), line);
        Path file = Files.writeString(tmp.resolve("f"), "x");
        line = Cli.run("inspect", "models/fashion_vit", "--json", file.resolve("i.json").toString())
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("cannot be written") && line.contains("not a folder") && !line.contains("internal error"),
                line);
    }

    @Test
    void trainLimitZeroIsAUsageErrorNotAll() {
        String line = Cli.run("train", "--limit", "0", "--out", tmp.resolve("t").toString())
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("--limit must be at least 1, got 0 (leave it out to train on every image)"), line);
    }

    @Test
    void aNegativeHeadIsOutOfRangeWithTheModelsHeadCount() {
        String line = Cli.run("attention", GOOD, "--block", "0", "--out", tmp.resolve("a.png").toString(),
                "--heads=-1").failsWithOneLine(Main.USAGE);
        assertFalse(line.contains("2147483647"), line);
        assertTrue(line.contains("-1"), line);
    }
}
