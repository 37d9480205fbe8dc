package io.vitscope.cli;

import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.util.Locale;

/**
 * Standard output whose failures are not swallowed. {@link PrintWriter} and {@link java.io.PrintStream} (what
 * {@code System.out} is) record a failed write in a flag nobody reads, so {@code vitscope predict > /dev/full} used to
 * exit 0 with nothing written, and a closed pipe ({@code | head -1}) did not stop the run. Here the byte stream under
 * the writer turns an {@link IOException} into a {@link Failure}, an unchecked exception that passes through
 * {@code PrintWriter} (which only catches {@code IOException}), out of the command, to {@link Main}: a full disk or
 * any other error ends the run with exit 1 and one line ({@code vitscope: cannot write standard output: No space
 * left on device}); a closed pipe ends it at the next line printed, quietly, with {@link #BROKEN_PIPE} (141 =
 * 128 + SIGPIPE, what a shell reports for a tool killed by the signal, as {@code cat} or {@code grep} are).
 *
 * <p>The writer flushes at every line, so a failure is seen at the line that could not be written, not at the end
 * of a run that goes on computing for nothing.
 */
final class StandardOutput {

    /** The exit code of a run whose reader went away: 128 + SIGPIPE (13), as a shell reports it. */
    static final int BROKEN_PIPE = 141;

    private StandardOutput() {
    }

    /** A line-flushed writer over {@code stream} (the process's standard output, or a test's stream). */
    static PrintWriter of(OutputStream stream) {
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(new Checked(stream), Charset.defaultCharset())),
                true);
    }

    /** A write to standard output failed; {@link #brokenPipe()} tells a reader that went away from other errors. */
    static final class Failure extends UncheckedIOException {

        Failure(IOException cause) {
            super(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(), cause);
        }

        /** The reader closed its end (EPIPE); not an error of this run. */
        boolean brokenPipe() {
            String m = getCause().getMessage();
            return m != null && m.toLowerCase(Locale.ROOT).contains("broken pipe");
        }

        /** The one line for stderr. */
        String describe() {
            return "cannot write standard output: " + getMessage();
        }
    }

    /** The first {@link Failure} in {@code e}'s chain of causes, or null. */
    static Failure failureIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Failure f) {
                return f;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** Rethrows every write or flush error unchecked, so that {@link PrintWriter} cannot swallow it. */
    private static final class Checked extends FilterOutputStream {

        Checked(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) {
            try {
                out.write(b);
            } catch (IOException e) {
                throw new Failure(e);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw new Failure(e);
            }
        }

        @Override
        public void flush() {
            try {
                out.flush();
            } catch (IOException e) {
                throw new Failure(e);
            }
        }
    }
}
