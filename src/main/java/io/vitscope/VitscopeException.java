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
}
