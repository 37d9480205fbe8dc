package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pickles that would run code under {@code torch.load} (scripts/make_checkpoint_goldens.py writes them with a payload
 * that touches a marker file) are refused by name, through every entry point, before anything is built.
 */
class MaliciousPickleTest {

    private static final Path MARKER = Path.of("/tmp/vitscope-pickle-payload-ran");

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "os_system.pth, posix.system",
        "builtins_eval.pth, builtins.eval",
        "nested_reduce.pth, builtins.getattr",
        "os_system_legacy.pth, posix.system"})
    void refusedNamingTheGlobal(String file, String global) throws IOException {
        Files.deleteIfExists(MARKER);
        Path path = Golden.dir("checkpoints/malicious").resolve(file);
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> TorchCheckpoint.open(path));
        assertEquals(global, e.global().replace("__builtin__.", "builtins."), e.getMessage());
        assertTrue(e.getMessage().contains(e.global()), e.getMessage());
        // The same refusal through the model loader and the inspector, which never get to the payload either.
        assertThrows(UnsafeCheckpointException.class, () -> Models.load("deit_tiny_patch16_224", path));
        assertThrows(UnsafeCheckpointException.class, () -> Inspection.of(path));
        assertFalse(Files.exists(MARKER), "the payload ran");
    }

    /** A hand-made protocol-4 pickle with STACK_GLOBAL (how Python 3.8+ writes globals) is checked the same way. */
    @Test
    void stackGlobalIsCheckedToo() throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[] {(byte) 0x80, 4});
        shortUnicode(p, "subprocess");
        shortUnicode(p, "check_output");
        p.write(0x93); // STACK_GLOBAL
        shortUnicode(p, "id");
        p.write(0x85); // TUPLE1
        p.write('R');
        p.write('.');
        Path file = zip(p.toByteArray());
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> TorchCheckpoint.open(file));
        assertEquals("subprocess.check_output", e.global());
    }

    @Test
    void instOpcodeIsRefused() throws IOException {
        byte[] pickle = "(ios\nsystem\nS'id'\n.".getBytes(StandardCharsets.US_ASCII);
        Path file = zip(pickle);
        assertThrows(UnsafeCheckpointException.class, () -> TorchCheckpoint.open(file));
    }

    @Test
    void aHugeDeclaredStringIsRefusedBeforeItIsAllocated() throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[] {(byte) 0x80, 4, (byte) 0x8e}); // BINBYTES8
        p.write(new byte[] {0, 0, 0, 0, 0, 0, 0, 0x40}); // 2^62 bytes
        Path file = zip(p.toByteArray());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("bytes but only"), e.getMessage());
    }

    private static void shortUnicode(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write(0x8c);
        p.write(b.length);
        p.write(b, 0, b.length);
    }

    private Path zip(byte[] pickle) throws IOException {
        Path file = tmp.resolve("evil.pth");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            z.putNextEntry(new ZipEntry("evil/data.pkl"));
            z.write(pickle);
            z.closeEntry();
        }
        return file;
    }
}
