package io.vitscope.serve;

/** A request the API refuses, with the HTTP status it answers and the one-line message of its JSON error. */
public final class ApiException extends RuntimeException {

    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
