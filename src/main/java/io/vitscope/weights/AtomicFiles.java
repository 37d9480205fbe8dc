package io.vitscope.weights;

import io.vitscope.files.Outputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Tensor files written whole or not at all, through the one shared writer ({@link Outputs#writeChannel}): a temporary
 * name next to the file, renamed into place, with the usual file mode (0644 under umask 022), not 0600.
 */
final class AtomicFiles {

    interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * @throws io.vitscope.InvalidArgumentException if {@code file} cannot be written (its folder is read-only, ...)
     * @throws io.vitscope.VitscopeException if the write fails part-way; {@code file} is then as it was
     */
    static void write(Path file, Body body) throws IOException {
        Outputs.writeChannel(file, "file", body::write);
    }

    static void writeFully(FileChannel ch, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            ch.write(data);
        }
    }
}
