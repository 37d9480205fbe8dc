package io.vitscope.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link NpyWriter}: rows appended in pieces give the bytes {@link Npy#write} gives for the whole array. */
class NpyWriterTest {

    @TempDir
    Path tmp;

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private byte[] whole(long[] shape, float[] data) throws IOException {
        Path f = tmp.resolve("whole.npy");
        Npy.write(f, shape, data);
        return Files.readAllBytes(f);
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(Path::getFileName).sorted().toList();
        }
    }

    @Test
    void rowsAppendedInUnevenPiecesGiveNumpysBytes() throws IOException {
        long[] row = {3, 4, 5};
        float[] data = values(7 * 60, 1);
        Path f = tmp.resolve("x.npy");
        try (NpyWriter w = NpyWriter.open(f, row)) {
            w.append(data, 0, 60);
            w.append(data, 60, 4 * 60);
            w.append(data, 5 * 60, 2 * 60);
            assertEquals(7, w.rows());
            assertFalse(Files.exists(f), "nothing under the target's name before commit");
            w.commit();
        }
        assertArrayEquals(whole(new long[] {7, 3, 4, 5}, data), Files.readAllBytes(f));
        assertArrayEquals(data, Npy.read(f).floats());
        assertEquals(List.of(Path.of("whole.npy"), Path.of("x.npy")), files(), "no temporary file left behind");
    }

    @Test
    void aHeaderThatGrowsPastA64ByteBoundaryIsRewrittenInFront() throws IOException {
        // Row shapes of more and more 1s move the header's length; find one where N = 0 and N = 1000 need headers
        // of different lengths (the 3 more digits cross a 64-byte boundary), the case patched by copying the data.
        long[] row = null;
        for (int dims = 1; dims < 40 && row == null; dims++) {
            long[] r = new long[dims];
            java.util.Arrays.fill(r, 1);
            long[] zero = new long[dims + 1];
            long[] full = new long[dims + 1];
            System.arraycopy(r, 0, zero, 1, dims);
            System.arraycopy(r, 0, full, 1, dims);
            full[0] = 1000;
            if (Npy.header(DType.F32, zero).length != Npy.header(DType.F32, full).length) {
                row = r;
            }
        }
        assertTrue(row != null, "some row shape puts the header at a 64-byte boundary");
        long[] shape = new long[row.length + 1];
        shape[0] = 1000;
        System.arraycopy(row, 0, shape, 1, row.length);
        assertNotEquals(Npy.header(DType.F32, shape).length, Npy.header(DType.F32, new long[] {0, 1}).length);
        float[] data = values(1000, 2);
        Path f = tmp.resolve("grown.npy");
        try (NpyWriter w = NpyWriter.open(f, row)) {
            for (int i = 0; i < 1000; i += 100) {
                w.append(data, i, 100);
            }
            w.commit();
        }
        assertArrayEquals(whole(shape, data), Files.readAllBytes(f));
        assertEquals(List.of(Path.of("grown.npy"), Path.of("whole.npy")), files(), "no temporary file left behind");
    }

    @Test
    void closingWithoutCommitLeavesTheTargetAsItWas() throws IOException {
        Path f = tmp.resolve("kept.npy");
        Files.writeString(f, "an earlier file");
        try (NpyWriter w = NpyWriter.open(f, 2)) {
            w.append(new float[] {1, 2, 3, 4});
        }
        assertEquals("an earlier file", Files.readString(f));
        assertEquals(List.of(Path.of("kept.npy")), files(), "the temporary file is deleted");
        try (NpyWriter w = NpyWriter.open(tmp.resolve("none.npy"), 2)) {
            w.append(new float[] {1, 2});
        }
        assertEquals(List.of(Path.of("kept.npy")), files(), "nothing appears under a new target's name");
    }

    @Test
    void aFolderThatCannotBeWrittenFailsAtOpen() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain.txt"), "a file, not a folder");
        assertThrows(IOException.class, () -> NpyWriter.open(file.resolve("x.npy"), 3));
        assertThrows(IOException.class, () -> NpyWriter.open(tmp.resolve("missing/x.npy"), 3));
        assertThrows(IllegalArgumentException.class, () -> NpyWriter.open(tmp.resolve("x.npy"), 3, 0));
        try (NpyWriter w = NpyWriter.open(tmp.resolve("x.npy"), 3)) {
            assertThrows(IllegalArgumentException.class, () -> w.append(new float[4]), "4 values are not rows of 3");
        }
    }
}
