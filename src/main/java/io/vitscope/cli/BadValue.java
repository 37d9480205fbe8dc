package io.vitscope.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A flag's value fails one of vitscope's checks ({@code --top 0}, {@code --heads 1,x}): a usage error, exit 2, told
 * in one line. Unlike picocli's own parse errors (an unknown flag, a missing argument), the line says all there is
 * to say, so {@link Main} adds no "Run 'vitscope ... --help'" hint after it.
 */
final class BadValue extends CommandLine.ParameterException {

    private static final long serialVersionUID = 1L;

    BadValue(CommandSpec spec, String message) {
        super(spec.commandLine(), message);
    }

    /** Throws a {@code BadValue} unless {@code ok}. */
    static void check(boolean ok, CommandSpec spec, String message) {
        if (!ok) {
            throw new BadValue(spec, message);
        }
    }
}
