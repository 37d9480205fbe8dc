package io.vitscope.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One file of a dataset as it reaches the scorer: its name, its bytes (null when they could not be read) and its
 * ground-truth class, if known.
 *
 * @param path the name the output rows carry (a Spark run gives a file-system URI such as {@code file:/data/a.png})
 * @param content the file's bytes, or null when {@code readError} says why there are none
 * @param label the true class index, or null when unknown
 * @param readError why the bytes are missing, or null
 */
public record DatasetImage(String path, byte[] content, Integer label, String readError) {

    public DatasetImage {
        if (path == null) {
            throw new IllegalArgumentException("a dataset image needs a path");
        }
        if ((content == null) == (readError == null)) {
            throw new IllegalArgumentException(path + ": give either the file's content or why it could not be read");
        }
    }

    public static DatasetImage of(String path, byte[] content, Integer label) {
        return new DatasetImage(path, content, label, null);
    }

    public static DatasetImage unreadable(String path, Integer label, String why) {
        return new DatasetImage(path, null, label, why);
    }

    /** Reads a local file; a file that cannot be read becomes an {@link #unreadable} image, not an exception. */
    public static DatasetImage read(Path file, String name, Integer label) {
        try {
            return of(name, Files.readAllBytes(file), label);
        } catch (IOException | RuntimeException e) {
            return unreadable(name, label, "cannot read the file (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + ")");
        }
    }
}
