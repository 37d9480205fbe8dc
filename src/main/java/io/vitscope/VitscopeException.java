package io.vitscope;

/**
 * The root of vitscope's own errors. Its message is meant for the user: what was expected, what was found, and
 * what to do. The CLI prints it as one line; nothing else in the library turns errors into exit codes.
 */
public class VitscopeException extends RuntimeException {

    public VitscopeException(String message) {
        super(message);
    }

    public VitscopeException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Why a file operation failed, in words: the JDK's exceptions often carry only a path as their message
     * ("Cannot write /proc/x/c.npz (/proc/x)" said nothing).
     */
    public static String reason(java.io.IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return f.getFile() + " does not exist";
        }
        if (e instanceof java.nio.file.AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a folder";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** "cannot write {@code what} ({@link #reason}): choose a folder you can write to". */
    public static VitscopeException cannotWrite(Object what, java.io.IOException e) {
        return new VitscopeException("cannot write " + what + " (" + reason(e) + "): choose a folder you can write to",
                e);
    }
}
