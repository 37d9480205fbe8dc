package io.vitscope;

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
}
