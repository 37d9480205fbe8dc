package io.vitscope.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A float32 {@code .npy} file of shape {@code [N, rowShape...]} written a few rows at a time, for outputs whose row
 * count is known only at the end (a prediction run's inputs and logits): memory stays at one append's rows however
 * many follow.
 *
 * <p>The rows go to a temporary file next to the target, behind a header for {@code N = 0}; {@link #commit()} writes
 * the header for the final {@code N} and renames the file into place, so the target never holds half a file and a run
 * that fails (or is closed without {@code commit}) leaves nothing under the target's name. The committed bytes are
 * exactly those {@link Npy#write(Path, long[], float[])} writes for the same array: the header is padded to 64 bytes,
 * so the final one almost always has the provisional one's length and is patched in place; when the count's digits
 * carry it over a 64-byte boundary, the data is copied once behind the longer header.
 */
public final class NpyWriter implements AutoCloseable {

    private final Path target;
    private final long[] rowShape;
    private final long rowSize;
    private Path tmp;
    private FileChannel channel;
    private int headerLength;
    private long rows;
    private boolean committed;

    private NpyWriter(Path target, long[] rowShape) {
        this.target = target;
        this.rowShape = rowShape.clone();
        this.rowSize = Arrays.stream(rowShape).reduce(1, Math::multiplyExact);
    }

    /**
     * Opens a temporary file next to {@code file} (whose folder must exist): an {@link IOException} here means the
     * folder cannot be written, before any row is computed.
     *
     * @param rowShape the shape of one row, e.g. {@code (C, H, W)} for images
     */
    public static NpyWriter open(Path file, long... rowShape) throws IOException {
        for (long d : rowShape) {
            if (d < 1) {
                throw new IllegalArgumentException("rowShape must hold positive sizes, got " + Arrays.toString(rowShape));
            }
        }
        NpyWriter w = new NpyWriter(file.toAbsolutePath(), rowShape);
        Path dir = w.target.getParent();
        try {
            w.tmp = createTemp(w.target);
            w.channel = FileChannel.open(w.tmp, StandardOpenOption.WRITE, StandardOpenOption.READ);
            byte[] h = Npy.header(DType.F32, w.shape(0));
            w.headerLength = h.length;
            write(w.channel, ByteBuffer.wrap(h));
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    /** Appends {@code length} values (a whole number of rows) from {@code values[offset...]}, in C order. */
    public void append(float[] values, int offset, int length) throws IOException {
        if (committed || channel == null) {
            throw new IllegalStateException("the writer of " + target + " is already committed or closed");
        }
        if (length % rowSize != 0) {
            throw new IllegalArgumentException(length + " values are not a whole number of rows of " + rowSize);
        }
        ByteBuffer b = ByteBuffer.allocate(length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values, offset, length);
        write(channel, b);
        rows += length / rowSize;
    }

    /** Appends whole rows. */
    public void append(float[] values) throws IOException {
        append(values, 0, values.length);
    }

    /** Rows appended so far. */
    public long rows() {
        return rows;
    }

    /** Writes the final header, syncs and renames the file into place; returns the target. */
    public Path commit() throws IOException {
        if (committed || channel == null) {
            throw new IllegalStateException("the writer of " + target + " is already committed or closed");
        }
        byte[] h = Npy.header(DType.F32, shape(rows));
        if (h.length == headerLength) {
            channel.write(ByteBuffer.wrap(h), 0);
        } else {
            Path longer = createTemp(target);
            try (FileChannel out = FileChannel.open(longer, StandardOpenOption.WRITE)) {
                write(out, ByteBuffer.wrap(h));
                long from = headerLength;
                long end = channel.size();
                while (from < end) {
                    from += channel.transferTo(from, end - from, out);
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(longer);
                throw e;
            }
            channel.close();
            Files.delete(tmp);
            tmp = longer;
            channel = FileChannel.open(tmp, StandardOpenOption.WRITE);
        }
        channel.force(true);
        channel.close();
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        committed = true;
        return target;
    }

    /** Without a {@link #commit()} first: deletes the temporary file, leaving the target as it was. */
    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        if (!committed && tmp != null) {
            Files.deleteIfExists(tmp);
        }
    }

    private long[] shape(long n) {
        long[] s = new long[rowShape.length + 1];
        s[0] = n;
        System.arraycopy(rowShape, 0, s, 1, rowShape.length);
        return s;
    }

    /**
     * An empty {@code .NAME.RANDOM.tmp} next to {@code target}, created without explicit permissions so that it (and
     * the file renamed from it) gets the default mode, 0644 under umask 022, as every other output
     * ({@code files.Outputs}); {@code Files.createTempFile} would make it 0600.
     */
    private static Path createTemp(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = target.resolveSibling("." + target.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return p;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static void write(FileChannel ch, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            ch.write(data);
        }
    }
}
