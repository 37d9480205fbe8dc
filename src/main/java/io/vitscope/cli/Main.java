package io.vitscope.cli;

import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.engine.Engines;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code vitscope}: the command-line entry point. Commands return exit codes; only here do exceptions become exit
 * codes and one-line messages ({@link #exitCode}): 0 ok; 2 usage — picocli's parse errors, a flag whose value fails
 * a check ({@link BadValue}), a request the library refuses ({@link InvalidArgumentException}: an unknown preset,
 * module path or site, a block out of range); 3 an unusable input file ({@link InvalidInputException}); 1 anything
 * else, including every other exception (an {@code IllegalArgumentException} from DJL or a bug is not a usage error).
 * Standard output is checked ({@link StandardOutput}): a failed write ends the run with 1 and
 * {@code vitscope: cannot write standard output: <reason>}; a closed pipe ends it quietly with 141 (128 + SIGPIPE).
 *
 * <p>It also starts the engine ({@link Engines#start()}), as whoever starts the engine must.
 */
@Command(name = "vitscope", mixinStandardHelpOptions = true, version = "vitscope 0.1.0",
        description = "A Vision Transformer inference engine with a debugger built in.")
public final class Main {

    /**
     * The subcommands, in the order the usage lists them. Not in {@code @Command(subcommands = ...)}: picocli would
     * build the model of all of them, by reflection, on every run (a quarter of a cold {@code predict} was spent
     * there); {@link #commandLine} builds only the one that runs.
     */
    static final java.util.List<Class<?>> COMMANDS = java.util.List.of(PredictCommand.class, CaptureCommand.class,
            AttentionCommand.class, ExperimentCommand.class, AblateCommand.class, PatchCommand.class, LensCommand.class,
            DlaCommand.class, DatasetCommand.class, BenchCommand.class, EvalCommand.class, TrainCommand.class,
            FetchCommand.class, ServeCommand.class, FaithfulnessCommand.class, InspectCommand.class,
            CommandLine.HelpCommand.class);

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces and the engine's log on errors.")
    boolean verbose;

    public static void main(String[] args) {
        settings(args); // before the preload's first log line
        Thread preload = loadsModel(args) ? Engines.preload() : null;
        // Not System.out: a PrintStream swallows write errors (a full disk, a closed pipe); StandardOutput reports them.
        int code = run(args, StandardOutput.of(new FileOutputStream(FileDescriptor.out)), new PrintWriter(System.err, true));
        if (preload != null) {
            try {
                preload.join(); // exiting while libtorch's initialisers run can crash the process
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        System.exit(code);
    }

    /**
     * Whether {@code args} run a command that loads a model (one with {@link ModelOptions}), not just its help: then
     * {@link #main} loads libtorch in the background while the command line is parsed.
     */
    static boolean loadsModel(String[] args) {
        if (java.util.Arrays.stream(args).anyMatch(a -> a.equals("-h") || a.equals("--help") || a.equals("-V")
                || a.equals("--version"))) {
            return false;
        }
        Class<?> command = named(args);
        return command != null && java.util.Arrays.stream(command.getDeclaredFields())
                .anyMatch(f -> f.getType() == ModelOptions.class);
    }

    /** The subcommand class that {@code args} name, or null (usage, {@code help}, a typo). */
    private static Class<?> named(String[] args) {
        String named = java.util.Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse(null);
        for (Class<?> c : COMMANDS) {
            if (c != CommandLine.HelpCommand.class && c.getAnnotation(Command.class).name().equals(named)) {
                return c;
            }
        }
        return null;
    }

    /** Runs one command line with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Timings.mark("JVM start, up to main");
        boolean verbose = settings(args);
        Engines.start(); // the MKL fast path must be in place before anything loads libtorch
        Timings.mark("MKL fast path");
        CommandLine cl = commandLine(args);
        Timings.mark("picocli: commands built");
        boolean[] outputFailed = {false};
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            StandardOutput.Failure failure = StandardOutput.failureIn(e);
            if (failure != null) {
                outputFailed[0] = true;
                return outputFailed(failure, commandLine.getErr());
            }
            int code = exitCode(e);
            String message = message(e, commandLine);
            if (code == FAILED && !(e instanceof VitscopeException)) {
                message = "internal error: " + e.getClass().getSimpleName() + ": " + message
                        + (verbose ? "" : " (run with --verbose for the stack trace)");
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
            if (!(e instanceof BadValue)) { // picocli's own parse errors: the usage text says what is allowed
                e.getCommandLine().getErr().println("Run 'vitscope " + commandPath(e.getCommandLine())
                        + "--help' for usage.");
            }
            e.getCommandLine().getErr().flush();
            return USAGE;
        });
        // Help and version text is printed by picocli itself, outside the handler above: a failed write there would
        // reach picocli's last resort, which prints a stack trace.
        cl.setExecutionStrategy(parseResult -> {
            try {
                return new CommandLine.RunLast().execute(parseResult);
            } catch (StandardOutput.Failure failure) {
                outputFailed[0] = true;
                return outputFailed(failure, err);
            }
        });
        int code;
        try {
            code = cl.execute(args);
            if (!outputFailed[0]) {
                out.flush();
            }
        } catch (StandardOutput.Failure failure) { // the last flush
            code = outputFailed(failure, err);
        }
        err.flush();
        Timings.mark("command done");
        return code;
    }

    /** Standard output failed: a closed pipe ends the run quietly (141), anything else with one line (1). */
    private static int outputFailed(StandardOutput.Failure failure, PrintWriter err) {
        if (failure.brokenPipe()) {
            return StandardOutput.BROKEN_PIPE;
        }
        err.println("vitscope: " + failure.describe());
        err.flush();
        return FAILED;
    }

    /**
     * The root with the subcommand that {@code args} name (the first argument that is not an option: the root's
     * options take no values), or with all of them when it names none (usage, {@code help}, a typo to suggest
     * against).
     */
    static CommandLine commandLine(String[] args) {
        Class<?> only = named(args);
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : COMMANDS) {
            if (only == null || c == only) {
                cl.addSubcommand(c);
            }
        }
        return cl;
    }

    private static String commandPath(CommandLine cl) {
        String name = cl.getCommandName();
        return "vitscope".equals(name) ? "" : name + " ";
    }

    /** The one exit-code contract: vitscope's own exception types decide; nothing else is a usage error. */
    static int exitCode(Throwable e) {
        if (e instanceof InvalidInputException) {
            return BAD_INPUT;
        }
        if (e instanceof InvalidArgumentException || e instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        return FAILED;
    }

    /**
     * The one-line message for {@code e}. A library message names its parameter ("block 12 is out of range ..."); when
     * the command has a flag of that name, the line names the flag ("--block 12 is out of range ...").
     */
    static String message(Throwable e, CommandLine commandLine) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof InvalidArgumentException iae && iae.parameter() != null) {
            String flag = "--" + iae.parameter().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
            if (message.startsWith(iae.parameter() + " ") && commandLine.getCommandSpec().findOption(flag) != null) {
                message = flag + message.substring(iae.parameter().length());
            }
        }
        return message;
    }

    /** The logging and DJL settings every run needs before DJL logs or looks anything up; returns --verbose. */
    private static boolean settings(String[] args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        quietLogs(verbose);
        // Nothing vitscope runs downloads anything: DJL's native library comes from Maven Central.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        return verbose;
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
