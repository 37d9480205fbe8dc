package io.vitscope.train;

import io.vitscope.InvalidInputException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * a big-endian magic {@code 0x0000 TT ND} (TT 0x08 = unsigned byte, ND = number of dimensions), ND big-endian
 * int32 sizes, then the data in row-major order. Files ending in {@code .gz}, or starting with gzip's magic, are
 * decompressed on the fly.
 */
public final class Idx {

    private static final int UBYTE = 0x08;
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** A stack of grayscale images: {@code count} images of {@code rows × cols} bytes, row-major. */
    public record Images(int count, int rows, int cols, byte[] pixels) {

        public Images {
            if ((long) count * rows * cols != pixels.length) {
                throw new IllegalArgumentException(count + " images of " + rows + "x" + cols + " need "
                        + (long) count * rows * cols + " bytes, got " + pixels.length);
            }
        }

        /** Pixel {@code (r, c)} of image {@code i}, 0–255. */
        public int pixel(int i, int r, int c) {
            return pixels[(i * rows + r) * cols + c] & 0xff;
        }

        public int pixelsPerImage() {
            return rows * cols;
        }

        /** The first {@code n} images (all of them if {@code n} is larger). */
        public Images head(int n) {
            int k = Math.min(n, count);
            byte[] p = java.util.Arrays.copyOf(pixels, k * rows * cols);
            return new Images(k, rows, cols, p);
        }
    }

    private Idx() {}

    /** An IDX image file: unsigned bytes, three dimensions (count, rows, cols). */
    public static Images readImages(Path file) {
        Read r = read(file, 3);
        return new Images(r.dims[0], r.dims[1], r.dims[2], r.data);
    }

    /** An IDX label file: unsigned bytes, one dimension. */
    public static byte[] readLabels(Path file) {
        return read(file, 1).data;
    }

    private record Read(int[] dims, byte[] data) {}

    private static Read read(Path file, int wantDims) {
        String what = wantDims == 3 ? "an IDX image file (magic 0x00000803)" : "an IDX label file (magic 0x00000801)";
        try (InputStream raw = open(file); DataInputStream in = new DataInputStream(raw)) {
            int magic;
            try {
                magic = in.readInt();
            } catch (EOFException e) {
                throw new InvalidInputException(file, "is empty or shorter than an IDX header; expected " + what);
            }
            int type = (magic >>> 8) & 0xff;
            int dims = magic & 0xff;
            if ((magic >>> 16) != 0 || type != UBYTE || dims != wantDims) {
                throw new InvalidInputException(file, String.format(
                        "starts with 0x%08x, expected %s: is it the right file (images vs labels), and not corrupt?",
                        magic, what));
            }
            int[] sizes = new int[dims];
            long total = 1;
            for (int d = 0; d < dims; d++) {
                try {
                    sizes[d] = in.readInt();
                } catch (EOFException e) {
                    throw new InvalidInputException(file, "is truncated inside its header (" + d + " of " + dims
                            + " dimension sizes): reinstall or re-download it");
                }
                if (sizes[d] < 0) {
                    throw new InvalidInputException(file, "declares a negative size " + sizes[d] + " for dimension " + d);
                }
                total *= sizes[d];
                if (total > MAX_ELEMENTS) {
                    throw new InvalidInputException(file, "declares " + total + "+ elements, more than this reader holds");
                }
            }
            byte[] data = new byte[(int) total];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw new InvalidInputException(file, "is truncated: its header declares " + shape(sizes) + " = "
                        + total + " bytes of data, the file holds " + got + ". Reinstall it (apt-get install --reinstall"
                        + " dataset-fashion-mnist) or re-download it");
            }
            if (in.read() != -1) {
                throw new InvalidInputException(file, "has data after the " + total + " bytes its header "
                        + shape(sizes) + " declares: is it corrupt?");
            }
            return new Read(sizes, data);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file, "not found. Install Fashion-MNIST (apt-get install"
                    + " dataset-fashion-mnist) or pass the directory holding its files");
        } catch (ZipException | EOFException e) {
            throw new InvalidInputException(file, "is not a valid gzip stream (" + e.getMessage()
                    + "): the file is corrupt or truncated; reinstall or re-download it", e);
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        return in;
    }

    private static String shape(int[] sizes) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < sizes.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(sizes[i]);
        }
        return sb.append(")").toString();
    }
}
