package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The CLI's contract, for every command {@link Main} has (enumerated from picocli's model, so a new command is covered
 * as soon as it is registered — and fails {@link #everyCommandHasABaseLine} until it is given one here):
 * <ul>
 *   <li>standard output that fails as {@code /dev/full} does: exit 1 and one line, {@code vitscope: cannot write
 *       standard output: No space left on device}; a closed pipe: exit 141, nothing on stderr (or 0 when the
 *       command prints nothing);</li>
 *   <li>every numeric option (found by its type in the picocli model; a few numbers passed as text are listed in
 *       {@link #NUMBERS_AS_TEXT}) at 0, −1, the type's maximum, above float32's maximum, a double underflowing
 *       float32, NaN and ±∞;</li>
 *   <li>every path option at an unwritable place: under {@code /proc} and under a regular file.</li>
 * </ul>
 * Each run must end with exit 0, 1, 2, 3 or 141 and at most three lines on stderr: never an exception escaping
 * {@code Main.run}, never "internal error", never a stack trace.
 *
 * <p>Run time: every command runs on the embedded model and one 28×28 image. Values that are valid but would run for
 * hours (a maximum number of iterations, epochs, integrated-gradient steps, server requests) go through a cheap path
 * instead ({@link #EXPENSIVE}: the command line's input does not exist), which still checks that the flag is
 * validated before the input is read.
 */
class CliContractTest {

    private static final String IMAGE = "images/fashion/fashion_0_ankle_boot.png";
    private static final String IMAGE2 = "images/fashion/fashion_13_dress.png";

    /** A valid, cheap command line per command ({@code TMP} is a fresh folder per run). */
    private static final Map<String, String> BASE = Map.ofEntries(
            Map.entry("predict", "IMAGE IMAGE2 --batch 1"),
            Map.entry("capture", "IMAGE --call blocks.0.attn --out TMP/c.npz"),
            Map.entry("attention", "IMAGE --block 0 --out TMP/a.png --width 100"),
            Map.entry("experiment scale", "IMAGE --out TMP/e --factors 1,2"),
            Map.entry("ablate", "IMAGE --out TMP/ablate --width 300"),
            Map.entry("patch", "IMAGE IMAGE2 --out TMP/patch --act z --blocks 0 --width 300"),
            Map.entry("lens", "IMAGE --out TMP/lens --width 300"),
            Map.entry("dla", "IMAGE --out TMP/dla --width 300"),
            Map.entry("dataset", "NOWHERE --out TMP/d --master local[1] --no-ui"),
            Map.entry("bench", "--iterations 1 --warmup 0 --matmul-iterations 1 --batch 1"),
            Map.entry("eval", "--limit 8 --batch 8"),
            Map.entry("train", "--limit 8 --epochs 1 --batch 8 --embed-dim 16 --heads 2 --no-test -q --out TMP/t"),
            Map.entry("fetch", "--list --cache TMP/cache"),
            Map.entry("serve", "--weights NOWHERE --port 0"),
            Map.entry("faithfulness", "IMAGE --methods random --out TMP/f"),
            Map.entry("inspect", "models/fashion_vit"));

    /**
     * Commands ("bench") or options ("attention --ig-steps") whose large valid values run for minutes or more (or, for
     * a server, until stopped) and which take the cheap path: the same values with the input replaced by one that does not exist.
     */
    private static final Map<String, String> EXPENSIVE = Map.ofEntries(
            Map.entry("bench", "--weights NOWHERE --iterations 1 --warmup 0 --matmul-iterations 1"),
            Map.entry("eval", "--weights NOWHERE"),
            Map.entry("train", "--data NOWHERE --out TMP/t"),
            // not expensive (at most 1,000 steps on the embedded model), but only read in this mode
            Map.entry("attention --ig-steps", "IMAGE --out TMP/a.png --width 100 --mode integrated-gradients"),
            Map.entry("dataset", "NOWHERE --out TMP/d --master local[1] --no-ui"),
            Map.entry("serve", "--weights NOWHERE --port 0"));

    /** Options that carry numbers as text (lists): each also gets every hostile number. */
    private static final Set<String> NUMBERS_AS_TEXT = Set.of("attention --heads", "experiment scale --factors",
            "dataset --scale-attn-logits", "patch --blocks", "patch --classes", "patch --positions");

    /** Paths only read, whose absence is a valid answer ("nothing cached"). */
    private static final Set<String> MAY_BE_ABSENT = Set.of("fetch --cache");

    private static final List<String> INTEGERS = List.of("0", "-1", "2147483647", "2147483648",
            "9223372036854775807", "3.5e38", "NaN", "Infinity");
    private static final List<String> REALS = List.of("0", "-1", "1.7976931348623157E308", "3.5e38", "1e-50", "NaN",
            "Infinity", "-Infinity");

    @TempDir
    static Path tmp;

    private static int runs;

    /** The leaf commands of {@link Main} by path ("experiment scale"), with their picocli model. */
    static Map<String, CommandSpec> commands() {
        Map<String, CommandSpec> leaves = new TreeMap<>();
        collect(Main.commandLine(new String[0]), "", leaves); // every subcommand (none is named)
        return leaves;
    }

    private static void collect(CommandLine cl, String prefix, Map<String, CommandSpec> leaves) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            if (e.getValue().getCommand() instanceof CommandLine.HelpCommand
                    || !e.getKey().equals(e.getValue().getCommandName())) { // help, and aliases
                continue;
            }
            String path = prefix + e.getKey();
            if (e.getValue().getSubcommands().isEmpty()) {
                leaves.put(path, e.getValue().getCommandSpec());
            } else {
                collect(e.getValue(), path + " ", leaves);
            }
        }
    }

    @Test
    void everyCommandHasABaseLine() {
        Set<String> names = commands().keySet();
        for (String name : names) {
            assertTrue(BASE.containsKey(name), "add a cheap, valid command line for '" + name + "' to BASE");
        }
        assertEquals(names, new java.util.TreeSet<>(BASE.keySet()), "BASE names only existing commands");
        for (String key : EXPENSIVE.keySet()) {
            String command = key.contains(" --") ? key.substring(0, key.indexOf(" --")) : key;
            assertTrue(names.contains(command), "EXPENSIVE names only existing commands: " + key);
            assertTrue(command.equals(key) || commands().get(command).findOption(key.substring(command.length() + 1))
                    != null, "EXPENSIVE names only existing options: " + key);
        }
        for (String option : MAY_BE_ABSENT) {
            int cut = option.lastIndexOf(' ');
            CommandSpec spec = commands().get(option.substring(0, cut));
            assertTrue(spec != null && spec.findOption(option.substring(cut + 1)) != null, option + " exists");
        }
        for (String option : NUMBERS_AS_TEXT) {
            int cut = option.lastIndexOf(' ');
            CommandSpec spec = commands().get(option.substring(0, cut));
            assertTrue(spec != null && spec.findOption(option.substring(cut + 1)) != null, option + " exists");
        }
    }

    @TestFactory
    Stream<DynamicTest> standardOutputThatFails() {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> lines = new ArrayList<>(List.of("--help", "--version"));
        for (String name : commands().keySet()) {
            lines.add(name + " --help");
            lines.add(name + " " + BASE.get(name));
        }
        for (String commandLine : lines) {
            int cut = commandLine.indexOf(" --help");
            String name = commandLine.startsWith("--") ? "" : cut > 0 ? commandLine.substring(0, cut)
                    : commands().keySet().stream().filter(c -> commandLine.startsWith(c + " ")).findFirst().orElseThrow();
            String rest = commandLine.substring(name.length()).trim();
            tests.add(DynamicTest.dynamicTest(commandLine + " > /dev/full", () -> {
                FailingStream full = new FailingStream("No space left on device");
                Run r = run(line(name, rest), full);
                if (full.written) {
                    assertEquals(Main.FAILED, r.code, r.err);
                    List<String> errors = r.err.lines().filter(l -> l.startsWith("vitscope:")).toList();
                    // (progress notes such as bench's "bench: batch 1..." may come before it)
                    assertEquals(List.of("vitscope: cannot write standard output: No space left on device"), errors);
                } else {
                    r.keepsTheContract();
                }
            }));
            tests.add(DynamicTest.dynamicTest(commandLine + " | (closed pipe)", () -> {
                FailingStream pipe = new FailingStream("Broken pipe");
                Run r = run(line(name, rest), pipe);
                if (pipe.written) {
                    assertEquals(StandardOutput.BROKEN_PIPE, r.code, r.err);
                    assertFalse(r.err.contains("vitscope:"), "a reader that went away is not an error to report: " + r.err);
                    assertEquals(1, pipe.attempts, "the run stops at the first line it cannot write");
                } else {
                    r.keepsTheContract();
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> hostileNumbers() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, CommandSpec> command : commands().entrySet()) {
            String name = command.getKey();
            for (Map.Entry<String, List<String>> option : numericOptions(name, command.getValue()).entrySet()) {
                String base = EXPENSIVE.getOrDefault(name + " " + option.getKey(),
                        EXPENSIVE.getOrDefault(name, BASE.get(name)));
                for (String value : option.getValue()) {
                    tests.add(DynamicTest.dynamicTest(name + " " + option.getKey() + " " + value, () ->
                            run(with(line(name, base), option.getKey(), value), null).keepsTheContract()));
                }
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> unwritablePaths() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, CommandSpec> command : commands().entrySet()) {
            String name = command.getKey();
            for (OptionSpec o : command.getValue().options()) {
                Class<?> type = o.typeInfo().getType();
                boolean path = type == Path.class || type == java.io.File.class
                        || o.longestName().equals("--out") || o.longestName().equals("--cache");
                if (!path) {
                    continue;
                }
                for (String place : List.of("/proc/vitscope-contract/x", file + "/x")) {
                    tests.add(DynamicTest.dynamicTest(name + " " + o.longestName() + " " + place, () -> {
                        Run r = run(with(line(name, BASE.get(name)), o.longestName(), place), null);
                        r.keepsTheContract();
                        assertTrue(r.code != Main.OK || MAY_BE_ABSENT.contains(name + " " + o.longestName()),
                                "an unusable path is refused: " + r.args + "\nstderr: " + r.err);
                    }));
                }
            }
        }
        return tests.stream();
    }

    /** Every option of a numeric type (or listed in NUMBERS_AS_TEXT) with the hostile values for its type. */
    private static Map<String, List<String>> numericOptions(String command, CommandSpec spec) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            Class<?> type = o.typeInfo().isMultiValue() && o.typeInfo().getAuxiliaryTypes().length > 0
                    ? o.typeInfo().getAuxiliaryTypes()[0] : o.typeInfo().getType();
            if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
                options.put(o.longestName(), INTEGERS);
            } else if (type == double.class || type == Double.class || type == float.class || type == Float.class
                    || NUMBERS_AS_TEXT.contains(command + " " + o.longestName())) {
                options.put(o.longestName(), REALS);
            }
        }
        return options;
    }

    private static List<String> line(String command, String rest) {
        List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : Arrays.asList(command.split(" ")));
        Path dir = tmp.resolve("run" + (++runs));
        for (String a : rest.trim().split("\\s+")) {
            if (a.isEmpty()) {
                continue;
            }
            args.add(a.replace("NOWHERE", tmp.resolve("nowhere").toString()).replace("TMP", dir.toString())
                    .replace("IMAGE2", IMAGE2).replace("IMAGE", IMAGE));
        }
        return args;
    }

    /** {@code args} with {@code option} set to {@code value} (replacing the value the base line gives it). */
    private static String[] with(List<String> args, String option, String value) {
        List<String> out = new ArrayList<>(args);
        int at = out.indexOf(option);
        if (at >= 0 && at + 1 < out.size() && !out.get(at + 1).startsWith("--")) {
            out.set(at + 1, value);
        } else {
            out.add(option + "=" + value); // "=" so that "-1" is not read as an option
        }
        return out.toArray(String[]::new);
    }

    private static Run run(List<String> args, OutputStream stdout) {
        return run(args.toArray(String[]::new), stdout);
    }

    private static Run run(String[] args, OutputStream stdout) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintWriter o = stdout == null ? new PrintWriter(out) : StandardOutput.of(stdout);
        try {
            int code = Main.run(args, o, new PrintWriter(err));
            return new Run(String.join(" ", args), code, err.toString());
        } catch (Throwable t) {
            return fail("an exception escaped Main.run for '" + String.join(" ", args) + "': " + t, t);
        }
    }

    private record Run(String args, int code, String err) {

        void keepsTheContract() {
            String where = args + "\nstderr: " + err;
            assertTrue(Set.of(0, 1, 2, 3, StandardOutput.BROKEN_PIPE).contains(code), "exit code " + code + ": " + where);
            assertFalse(err.contains("internal error"), where);
            assertFalse(err.contains("\tat ") || err.contains("Exception:"), "no stack trace: " + where);
            assertTrue(err.lines().count() <= 3, "at most three lines on stderr: " + where);
            if (code != 0) {
                assertFalse(err.isBlank(), "a failure says why: " + where);
            }
        }
    }

    /** An output stream whose writes fail with {@code message}, as on a full disk or a pipe nobody reads. */
    private static final class FailingStream extends OutputStream {
        private final String message;
        boolean written;
        int attempts;

        FailingStream(String message) {
            this.message = message;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            written = true;
            attempts++;
            throw new IOException(message);
        }
    }
}
