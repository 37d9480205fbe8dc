package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Issue 11, case 3, on real file descriptors: {@code /dev/full} and a pipe whose reader has exited. Before, both runs
 * exited 0 — PrintWriter kept the error to itself — and a closed pipe did not stop the run.
 */
@EnabledOnOs(OS.LINUX)
class StandardOutputTest {

    private record Result(int code, String err, int writes) {}

    private static Result run(OutputStream stdout, String... args) {
        Counting counting = new Counting(stdout);
        StringWriter err = new StringWriter();
        int code = Main.run(args, StandardOutput.of(counting), new PrintWriter(err));
        return new Result(code, err.toString(), counting.writes);
    }

    @Test
    void aFullDiskIsAnErrorInTextAndJsonAndCapture() throws IOException {
        Path out = Files.createTempDirectory("vitscope-stdout");
        for (String[] args : List.of(new String[] {"predict", "images/fashion"},
                new String[] {"predict", "--format", "json", "images/fashion"},
                new String[] {"capture", "images/fashion/fashion_0_ankle_boot.png", "--call", "blocks.0.attn", "--out",
                    out.resolve("c.npz").toString()})) {
            try (FileOutputStream full = new FileOutputStream("/dev/full")) {
                Result r = run(full, args);
                assertEquals(Main.FAILED, r.code, String.join(" ", args) + ": " + r.err);
                assertEquals("vitscope: cannot write standard output: No space left on device\n", r.err);
            }
        }
    }

    @Test
    void aClosedPipeStopsTheRunAtTheFirstLineQuietly() throws Exception {
        // A reader that closes its end at once, as `head -1` does after its line, and stays alive (the JDK replaces the
        // pipe of an exited process by a closed stream, which would not be a real EPIPE).
        Process reader = new ProcessBuilder("sh", "-c", "exec 0<&-; sleep 30").start();
        Thread.sleep(300);
        long files;
        try (var listing = Files.list(Path.of("images/fashion"))) {
            files = listing.count();
        }
        assertTrue(files >= 3, "several images to predict");
        OutputStream pipe = reader.getOutputStream();
        try {
            Result r = run(pipe, "predict", "--batch", "1", "images/fashion");
            assertEquals(StandardOutput.BROKEN_PIPE, r.code, r.err);
            assertEquals("", r.err);
            assertEquals(1, r.writes, "the run stops at the first line the pipe refuses, not after every image");
        } finally {
            reader.destroy();
            try {
                pipe.close(); // flushes what the JDK buffered: EPIPE again
            } catch (IOException expected) {
                // the pipe is broken: that was the point
            }
        }
    }

    @Test
    void theEntryPointWritesThroughTheCheckedOutput() throws Exception {
        // The real process: main's own standard output is /dev/full (the in-process tests above pass their stream in).
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "predict",
                "images/fashion/fashion_0_ankle_boot.png")
                .redirectOutput(new java.io.File("/dev/full")).start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(Main.FAILED, p.waitFor(), err);
        assertTrue(err.endsWith("vitscope: cannot write standard output: No space left on device\n"), err);
    }

    /** Counts the writes that reach the stream (each line is flushed on its own). */
    private static final class Counting extends FilterOutputStream {
        int writes;

        Counting(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writes++;
            out.write(b, off, len);
        }
    }
}
