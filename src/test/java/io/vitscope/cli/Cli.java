package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;

/** One command line through {@link Main#run}, with what it printed. */
record Cli(int code, String out, String err) {

    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Cli(code, out.toString(), err.toString());
    }

    List<String> outLines() {
        return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
    }

    List<String> errLines() {
        return err.isEmpty() ? List.of() : Arrays.asList(err.split("\n"));
    }

    /** Exit code {@code code} and exactly one line on stderr, without a stack trace; returns that line. */
    String failsWithOneLine(int expected) {
        assertEquals(expected, code, "exit code; stderr: " + err);
        assertEquals(1, errLines().size(), "one line on stderr: " + err);
        assertNoStackTrace();
        String line = errLines().get(0);
        assertTrue(line.startsWith("vitscope: "), line);
        return line;
    }

    void assertNoStackTrace() {
        assertFalse(err.contains("\tat "), "no stack trace without --verbose: " + err);
    }
}
