package io.vitscope;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests that need something outside the project (a Debian package, a browser) call {@link #require}: on a developer's
 * machine a missing prerequisite skips the test with the command that installs it; in CI ({@code CI=true}, which
 * {@code .ci/run} is run with), whose script is meant to install it, a missing prerequisite fails the test, so a
 * failed install can no longer turn into a green run that tested less.
 */
public final class Prerequisites {

    private Prerequisites() {}

    /** Whether this run is CI's: {@code CI=true} in the environment (or {@code -Dvitscope.ci=true}). */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("vitscope.ci");
    }

    /**
     * Skips (locally) or fails (in CI) unless {@code present}.
     *
     * @param what what is missing, e.g. "Fashion-MNIST"
     * @param install how to get it, e.g. "apt-get install dataset-fashion-mnist"
     */
    public static void require(boolean present, String what, String install) {
        if (present) {
            return;
        }
        String message = what + " is not installed (" + install + ")";
        if (inCi()) {
            fail(message + ": .ci/run installs it, so in CI its absence is a failure, not a skip");
        }
        assumeTrue(false, message);
    }
}
