package io.vitscope;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file the user gave cannot be used: an image, a weights file, a labels file or a tensor file that is unreadable,
 * malformed or does not fit the model. The CLI exits with status 3 on it.
 */
public class InvalidInputException extends VitscopeException {

    private final transient Path file;
    private final String problem;

    public InvalidInputException(Path file, String problem) {
        super(file == null ? problem : file + ": " + problem);
        this.file = file;
        this.problem = problem;
    }

    public InvalidInputException(Path file, String problem, Throwable cause) {
        super(file == null ? problem : file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The problem without the file's name: to add advice and throw again. */
    public String problem() {
        return problem;
    }

    /** The offending file, or null when the input did not come from a file. */
    public Path file() {
        return file;
    }

    /**
     * A file that could not be found, told precisely: {@code Files.exists} is false for a symbolic link loop and a
     * dangling link too, which "no such file" would misreport.
     *
     * @param problem what to say when nothing is there at all ("no such file")
     */
    public static InvalidInputException missing(Path file, String problem) {
        try {
            file.toRealPath();
        } catch (FileSystemException e) {
            String reason = e.getReason() == null ? "" : e.getReason();
            if (reason.contains("Too many levels of symbolic links") || reason.contains("ELOOP")) {
                return new InvalidInputException(file, "symbolic link loop (too many levels of symbolic links)");
            }
            if (Files.isSymbolicLink(file)) {
                try {
                    return new InvalidInputException(file, "a symbolic link to " + Files.readSymbolicLink(file)
                            + ", which does not exist");
                } catch (IOException ignored) {
                    // fall through to the plain problem
                }
            }
        } catch (IOException | RuntimeException e) {
            // nothing more precise to say
        }
        return new InvalidInputException(file, problem);
    }
}
