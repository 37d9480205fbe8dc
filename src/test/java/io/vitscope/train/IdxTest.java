package io.vitscope.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import io.vitscope.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

    @TempDir
    Path tmp;

    /** An IDX image file of {@code n} 3×2 images whose pixel values count up from 0. */
    private static byte[] images(int n) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x00000803);
        out.writeInt(n);
        out.writeInt(3);
        out.writeInt(2);
        for (int i = 0; i < n * 6; i++) {
            out.writeByte(i);
        }
        return bytes.toByteArray();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void readsPlainAndGzippedImages() throws IOException {
        byte[] raw = images(4);
        Path plain = Files.write(tmp.resolve("x-images-idx3-ubyte"), raw);
        Path gz = Files.write(tmp.resolve("x-images-idx3-ubyte.gz"), gzip(raw));
        for (Path p : new Path[] {plain, gz}) {
            Idx.Images im = Idx.readImages(p);
            assertEquals(4, im.count());
            assertEquals(3, im.rows());
            assertEquals(2, im.cols());
            assertEquals(2 * 6 + 1 * 2 + 1, im.pixel(2, 1, 1), "image 2, row 1, col 1 is byte 15");
        }
    }

    @Test
    void readsLabels() throws IOException {
        byte[] raw = {0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 5};
        Path p = Files.write(tmp.resolve("l.gz"), gzip(raw));
        assertArrayEquals(new byte[] {9, 0, 5}, Idx.readLabels(p));
    }

    @Test
    void truncatedGzipIsAClearError() throws IOException {
        byte[] gz = gzip(images(50));
        Path p = Files.write(tmp.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Idx.readImages(p));
        assertTrue(e.getMessage().contains("cut.gz") && e.getMessage().contains("corrupt or truncated"), e.getMessage());
    }

    @Test
    void truncatedDataIsAClearError() throws IOException {
        byte[] raw = images(5);
        Path p = Files.write(tmp.resolve("short"), Arrays.copyOf(raw, raw.length - 7));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Idx.readImages(p));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("(5, 3, 2) = 30 bytes")
                && e.getMessage().contains("holds 23"), e.getMessage());
    }

    @Test
    void labelsPassedAsImagesAreNamed() throws IOException {
        Path p = Files.write(tmp.resolve("labels"), new byte[] {0, 0, 8, 1, 0, 0, 0, 1, 3});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Idx.readImages(p));
        assertTrue(e.getMessage().contains("0x00000801") && e.getMessage().contains("images vs labels"), e.getMessage());
    }

    @Test
    void missingFileSaysHowToGetIt() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Idx.readLabels(tmp.resolve("nope.gz")));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void emptyFileIsAClearError() throws IOException {
        Path p = Files.write(tmp.resolve("empty"), new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Idx.readLabels(p));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void readsTheInstalledFashionMnist() {
        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST);
        assertEquals(10_000, test.size());
        assertEquals(9, test.label(0), "the first test image is an ankle boot");
        int[] perClass = new int[10];
        for (int i = 0; i < test.size(); i++) {
            perClass[test.label(i)]++;
        }
        for (int k = 0; k < 10; k++) {
            assertEquals(1000, perClass[k], "the test split is balanced: 1,000 images of class " + k);
        }
        // The training split's pixel mean and std are the data config's 0.2860 and 0.3530 (to 4 places).
        FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN);
        assertEquals(60_000, train.size());
        double sum = 0;
        double sq = 0;
        for (byte b : train.images().pixels()) {
            double v = (b & 0xff) / 255.0;
            sum += v;
            sq += v * v;
        }
        double n = train.images().pixels().length;
        double mean = sum / n;
        double std = Math.sqrt(sq / n - mean * mean);
        assertEquals(FashionVit.MEAN, mean, 5e-5, "training-set pixel mean");
        assertEquals(FashionVit.STD, std, 5e-5, "training-set pixel std");
    }
}
