package io.vitscope.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vitscope.InvalidArgumentException;
import io.vitscope.VitscopeException;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11 item 7: outputs are whole or absent, refused early when they cannot be written, and get the usual mode. */
class OutputsTest {

    @TempDir
    Path dir;

    static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The mode a plain new file gets in this process (0666 less the umask): what every output must end with. */
    Set<PosixFilePermission> defaultMode() throws IOException {
        Path ref = dir.resolve("reference-mode");
        Files.newOutputStream(ref).close();
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(ref);
        Files.delete(ref);
        return mode;
    }

    @Test
    void aFailureMidWayLeavesTheOldFileAndNoTemporaryFile() throws Exception {
        Path file = Files.writeString(dir.resolve("a.csv"), "old\n");
        VitscopeException e = assertThrows(VitscopeException.class, () -> Outputs.write(file, "out", out -> {
            out.write("half of the new ".getBytes());
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertEquals("old\n", Files.readString(file));
        assertEquals(List.of("a.csv"), names(dir));
    }

    @Test
    void aRuntimeFailureMidWayAlsoLeavesNothing() throws Exception {
        Path file = dir.resolve("new.png");
        assertThrows(IllegalStateException.class, () -> Outputs.write(file, "out", out -> {
            out.write(new byte[100_000]);
            throw new IllegalStateException("renderer failed");
        }));
        assertEquals(List.of(), names(dir));
    }

    @Test
    void writtenFilesHaveTheDefaultModeNotTemporaryFiles0600() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX file modes");
        Set<PosixFilePermission> expected = defaultMode();
        Path text = Outputs.writeString(dir.resolve("t.json"), "out", "{}\n");
        assertEquals(expected, Files.getPosixFilePermissions(text));
        Path npy = dir.resolve("w.npy");
        Npy.write(npy, new long[] {2}, new float[] {1, 2});
        assertEquals(expected, Files.getPosixFilePermissions(npy), "npy (the 0600 of issue 11 item 15)");
        Path npz = dir.resolve("c.npz");
        Npz.write(npz, Map.of("x", NpyArray.ofFloats(new long[] {1}, new float[] {3})));
        assertEquals(expected, Files.getPosixFilePermissions(npz), "npz");
    }

    @Test
    void unwritableDestinationsAreRefusedNamingTheParameterAndCreateNothing() throws Exception {
        Path aFile = Files.writeString(dir.resolve("plain"), "x");
        for (Path bad : List.of(Path.of("/proc/vitscope-out.png"), aFile.resolve("a.png"), aFile.resolve("x/y/a.png"),
                dir)) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Outputs.checkFile(bad, "out"), bad.toString());
            assertEquals("out", e.parameter());
            assertTrue(e.getMessage().startsWith("out " + bad + " cannot be written: "), e.getMessage());
            assertThrows(InvalidArgumentException.class, () -> Outputs.writeString(bad, "out", "x"));
        }
        assertThrows(InvalidArgumentException.class, () -> Outputs.checkFolder(aFile, "out"));
        assertThrows(InvalidArgumentException.class, () -> Outputs.checkFolder(Path.of("/proc/vitscope-out"), "out"));
        assertThrows(InvalidArgumentException.class, () -> Outputs.intoFolder(Path.of("/"), "out", d -> { }));
        assertEquals(List.of("plain"), names(dir));
        // a good destination passes and is not created by the check
        Outputs.checkFile(dir.resolve("new/deeper/a.png"), "out");
        Outputs.checkFolder(dir.resolve("results"), "out");
        assertEquals(List.of("plain"), names(dir));
    }

    @Test
    void aReadOnlyFileIsNotReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("keep.png"), "mine");
        assumeTrue(file.toFile().setWritable(false, false) && !Files.isWritable(file), "not root");
        assertThrows(InvalidArgumentException.class, () -> Outputs.writeString(file, "out", "new"));
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void aSymbolicLinkIsWrittenThroughNotReplaced() throws Exception {
        Path real = Files.writeString(dir.resolve("real.txt"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.txt"), real);
        Outputs.writeString(link, "out", "new");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("new", Files.readString(real));
    }

    @Test
    void aFolderThatFailsMidWayIsNeverCreated() throws Exception {
        Path out = dir.resolve("run");
        assertThrows(IllegalStateException.class, () -> Outputs.intoFolder(out, "out", staging -> {
            Outputs.writeString(staging.resolve("scale.csv"), "out", "a,b\n");
            Files.createDirectories(staging.resolve("sub"));
            Files.writeString(staging.resolve("sub/x.txt"), "x");
            throw new IllegalStateException("the third figure failed");
        }));
        assertEquals(List.of(), names(dir), "no folder, no staging folder left behind");
    }

    @Test
    void anExistingFolderKeepsItsFilesOnFailureAndGainsTheNewOnesOnSuccess() throws Exception {
        Path out = Files.createDirectories(dir.resolve("run"));
        Files.writeString(out.resolve("notes.txt"), "mine");
        Files.writeString(out.resolve("scale.csv"), "old");
        assertThrows(VitscopeException.class, () -> Outputs.intoFolder(out, "out", staging -> {
            Files.writeString(staging.resolve("scale.csv"), "new");
            throw new IOException("disk full");
        }));
        assertEquals(List.of("notes.txt", "scale.csv"), names(out));
        assertEquals("old", Files.readString(out.resolve("scale.csv")));
        assertEquals(List.of("run"), names(dir));

        Outputs.intoFolder(out, "out", staging -> {
            Files.writeString(staging.resolve("scale.csv"), "new");
            Files.createDirectories(staging.resolve("grids"));
            Files.writeString(staging.resolve("grids/g.png"), "png");
        });
        assertEquals(List.of("grids", "notes.txt", "scale.csv"), names(out));
        assertEquals("new", Files.readString(out.resolve("scale.csv")));
        assertEquals(List.of("run"), names(dir));
        assertFalse(Files.exists(dir.resolve(".run.partial")));
    }

    @Test
    void aNewFolderIsMovedIntoPlaceWhole() throws Exception {
        Path out = dir.resolve("a/b/run");
        Outputs.intoFolder(out, "out", staging -> Files.writeString(staging.resolve("f.json"), "{}"));
        assertEquals(List.of("f.json"), names(out));
        assertEquals(List.of("run"), names(dir.resolve("a/b")));
    }

    @Test
    void writesFromManyThreadsToOneFileLeaveOneWholeVersion() throws Exception {
        Path file = dir.resolve("same.txt");
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < 8; t++) {
            String text = String.valueOf((char) ('a' + t)).repeat(200_000);
            Thread th = new Thread(() -> Outputs.writeString(file, "out", text));
            th.start();
            threads.add(th);
        }
        for (Thread t : threads) {
            t.join();
        }
        String s = Files.readString(file);
        assertEquals(200_000, s.length());
        assertEquals(1, s.chars().distinct().count(), "one writer's text, not a mix");
        assertEquals(List.of("same.txt"), names(dir));
    }
}
