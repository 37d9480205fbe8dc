package io.vitscope.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * Runs one command as the root {@link Main} would once it is registered there: the same one-line messages and the
 * same exit codes ({@link Main#exitCode}), with stdout and stderr captured.
 */
final class CommandRunner {

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    /** What call() threw, if anything. */
    Exception thrown;

    int run(Object command, String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        thrown = null;
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, c, parseResult) -> {
            thrown = e;
            c.getErr().println("vitscope: " + Main.message(e, c).replace('\n', ' '));
            return Main.exitCode(e);
        });
        cl.setParameterExceptionHandler((e, a) -> {
            thrown = e;
            e.getCommandLine().getErr().println("vitscope: " + e.getMessage());
            return Main.USAGE;
        });
        return cl.execute(args);
    }

    /** The lines printed on stderr. */
    String[] errLines() {
        String s = err.toString().strip();
        return s.isEmpty() ? new String[0] : s.split("\\R");
    }
}
