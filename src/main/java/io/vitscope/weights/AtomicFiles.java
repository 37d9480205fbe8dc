package io.vitscope.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/** Writing a file under a temporary name next to it and renaming it into place, so readers never see half a file. */
final class AtomicFiles {

    interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {}

    static void write(Path file, Body body) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: it makes the file 0600, and the rename keeps that mode, so .npy/.npz/.safetensors
        // outputs were private while PNG and CSV ones followed the umask. A new file opened plainly follows the umask.
        Path tmp = null;
        FileChannel opened = null;
        for (int attempt = 0; opened == null; attempt++) {
            Path candidate = dir.resolve("." + target.getFileName() + "."
                    + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                opened = FileChannel.open(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                tmp = candidate;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
        boolean done = false;
        try {
            try (FileChannel ch = opened) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            ch.write(data);
        }
    }
}
