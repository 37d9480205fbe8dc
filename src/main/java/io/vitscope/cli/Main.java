package io.vitscope.cli;

import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code vitscope}: the command-line entry point. Commands return exit codes; only here do exceptions become exit
 * codes and one-line messages: 0 ok, 2 usage error, 3 unusable input file, 1 anything else.
 */
@Command(name = "vitscope", mixinStandardHelpOptions = true, version = "vitscope 0.1.0",
        description = "A Vision Transformer inference engine with a debugger built in.",
        subcommands = {PredictCommand.class, CaptureCommand.class, AttentionCommand.class, ExperimentCommand.class,
                AblateCommand.class, PatchCommand.class, LensCommand.class, DlaCommand.class,
                BenchCommand.class, EvalCommand.class, TrainCommand.class, FetchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces and the engine's log on errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        quietLogs(verbose);
        // Nothing vitscope runs downloads anything: DJL's native library comes from Maven Central.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        io.vitscope.model.MklFastPath.apply();
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            int code = exitCode(e);
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (code == FAILED && !(e instanceof VitscopeException)) {
                message = "internal error: " + e.getClass().getSimpleName() + ": " + message
                        + " (run with --verbose for the stack trace)";
            }
            commandLine.getErr().println("vitscope: " + message.replace('\n', ' '));
            if (verbose) {
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                commandLine.getErr().print(trace);
            }
            commandLine.getErr().flush();
            return code;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("vitscope: " + e.getMessage());
            e.getCommandLine().getErr().println("Run 'vitscope " + commandPath(e.getCommandLine()) + "--help' for usage.");
            e.getCommandLine().getErr().flush();
            return USAGE;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static String commandPath(CommandLine cl) {
        String name = cl.getCommandName();
        return "vitscope".equals(name) ? "" : name + " ";
    }

    static int exitCode(Throwable e) {
        if (e instanceof InvalidInputException) {
            return BAD_INPUT;
        }
        if (e instanceof VitscopeException) {
            return FAILED;
        }
        if (e instanceof IllegalArgumentException) {
            return USAGE;      // an unknown preset, module path, site or option value
        }
        return FAILED;
    }

    private static void quietLogs(boolean verbose) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
        }
        // DJL warns on every start that it found no GPU; that is expected here.
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda", "error");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    }
}
