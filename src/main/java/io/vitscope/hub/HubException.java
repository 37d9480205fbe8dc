package io.vitscope.hub;

import io.vitscope.VitscopeException;

/**
 * Fetching from the hub failed: unreachable, refused, missing file, interrupted, or corrupt. The message names the
 * repository or host and says what to do; the CLI prints it as one line.
 */
public class HubException extends VitscopeException {

    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
