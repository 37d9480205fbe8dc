package io.vitscope.notebooks;

import io.vitscope.notebooks.Notebook.CodeCell;
import java.awt.image.BufferedImage;
import java.awt.image.RenderedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;

/**
 * Runs a notebook's code cells in order, in one JShell session, as a Jupyter Java kernel (IJava, JJava) would: each
 * cell is split into snippets with JShell's own completeness analysis and evaluated snippet by snippet. The session
 * runs in this JVM ({@code executionEngine("local")}) against the test class path, so cells see vitscope's classes,
 * DJL and JFreeChart without a build step.
 *
 * <p>Each cell's {@code System.out} is captured while it runs, in order with what it shows through
 * {@code display(...)}, which here is {@link KernelStandIn#display} instead of the kernel's. {@code System.err} is left
 * alone (it reaches the test log): it carries the environment's log lines — DJL's engine start-up and GPU detection,
 * printed by whichever test starts the engine first — which would make stored outputs depend on the machine and on
 * test order. Notebooks print what they want to show to {@code System.out}.
 *
 * <p>Fails (with {@link CellFailure}) on the first snippet that does not compile, throws, or leaves an expression
 * value as the cell's last statement (a kernel would show that as {@code Out[n]} in its own format, which this
 * executor does not imitate: cells print what they want to show).
 */
final class NotebookRunner {

    /** A cell and what running it printed and showed. */
    record CellRun(CodeCell cell, List<Output> outputs) {}

    /** A cell that could not run, named by notebook and cell. */
    static final class CellFailure extends AssertionError {
        CellFailure(Notebook nb, CodeCell cell, String what, List<Output> outputsSoFar) {
            super(nb.name() + ", " + cell.label() + ": " + what + printed(outputsSoFar));
        }

        private static String printed(List<Output> outputs) {
            String text = outputs.stream().filter(o -> o instanceof Output.Stream).map(o -> ((Output.Stream) o).text())
                    .collect(Collectors.joining());
            return text.isEmpty() ? "" : "\n--- the cell printed before it failed ---\n" + text;
        }
    }

    private NotebookRunner() {
    }

    /**
     * The notebooks' parameter for the model: "default" keeps them on the embedded model even where timm's ViT-B/16
     * is in the model cache, so that the outputs do not depend on the machine.
     */
    static final String MODEL_PROPERTY = "vitscope.notebook.model";

    static List<CellRun> run(Notebook nb) {
        List<CellRun> runs = new ArrayList<>();
        // Cells set system properties (offline, headless, log level, vitscope.home) as they would in a kernel; this
        // JVM goes on to run other tests, so they are put back afterwards.
        Properties saved = (Properties) System.getProperties().clone();
        System.setProperty(MODEL_PROPERTY, "default");
        try (JShell shell = JShell.builder().executionEngine("local").build()) {
            shell.addToClasspath(System.getProperty("java.class.path"));
            List<SnippetEvent> events = shell.eval(KernelStandIn.DISPLAY_FUNCTION);
            if (events.isEmpty() || !events.get(0).status().isDefined()) {
                throw new IllegalStateException("cannot define display() in JShell: " + events);
            }
            for (CodeCell cell : nb.codeCells()) {
                runs.add(new CellRun(cell, runCell(shell, nb, cell)));
            }
        } finally {
            System.setProperties(saved);
        }
        return runs;
    }

    private static List<Output> runCell(JShell shell, Notebook nb, CodeCell cell) {
        Capture capture = new Capture();
        PrintStream out = System.out;
        KernelStandIn.recordTo(capture::display);
        System.setOut(capture.stream("stdout"));
        try {
            List<String> snippets = split(shell, cell.source());
            for (int i = 0; i < snippets.size(); i++) {
                String problem = eval(shell, snippets.get(i), i == snippets.size() - 1);
                if (problem != null) {
                    throw new CellFailure(nb, cell, problem, capture.outputs());
                }
            }
        } catch (IncompleteSource e) {
            throw new CellFailure(nb, cell, "the cell ends in the middle of a statement:\n" + e.getMessage(),
                    capture.outputs());
        } finally {
            System.out.flush();
            System.setOut(out);
            KernelStandIn.recordTo(null);
        }
        return capture.outputs();
    }

    private static final class IncompleteSource extends Exception {
        IncompleteSource(String source) {
            super(source);
        }
    }

    /** The cell's snippets, as JShell (and so a kernel) splits source text into complete units. */
    private static List<String> split(JShell shell, String source) throws IncompleteSource {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        List<String> out = new ArrayList<>();
        String rest = source;
        while (!rest.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
            if (info.completeness() == Completeness.EMPTY) {
                break;
            }
            if (!info.completeness().isComplete()) {
                throw new IncompleteSource(rest.strip());
            }
            out.add(info.source());
            rest = info.remaining();
        }
        return out;
    }

    /** Evaluates one snippet; returns what went wrong, or null. */
    private static String eval(JShell shell, String source, boolean lastInCell) {
        List<SnippetEvent> events = shell.eval(source);
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) {
                continue; // a dependent snippet updated by this one, not this one's outcome
            }
            Snippet s = e.snippet();
            if (e.status() == Snippet.Status.REJECTED) {
                String diags = shell.diagnostics(s).map(d -> describe(d, source)).collect(Collectors.joining("\n"));
                return "does not compile:\n" + indent(source) + "\n" + diags;
            }
            if (e.status() == Snippet.Status.RECOVERABLE_DEFINED || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                String missing = s instanceof DeclarationSnippet d
                        ? String.join(", ", shell.unresolvedDependencies(d).toList()) : "?";
                return "refers to what is not defined (" + missing + "):\n" + indent(source);
            }
            if (e.exception() != null) {
                return "threw " + describe(e.exception()) + "\nwhile running:\n" + indent(source);
            }
            // JShell quotes strings, so "null" is only a null reference, which a kernel does not show either.
            if (lastInCell && !"null".equals(e.value()) && (s.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND
                    || s.subKind() == Snippet.SubKind.VAR_VALUE_SUBKIND
                    || s.subKind() == Snippet.SubKind.ASSIGNMENT_SUBKIND)) {
                return "ends with an expression whose value (" + e.value() + ") a Jupyter kernel would show as Out[n] "
                        + "in its own format; end the cell with a statement that prints what should be shown:\n"
                        + indent(source);
            }
        }
        return null;
    }

    private static String describe(Diag d, String source) {
        long at = d.getStartPosition();
        String near = at >= 0 && at < source.length()
                ? " at `" + source.substring((int) at,
                        (int) Math.min(source.length(), Math.max(at + 1, d.getEndPosition()))) + "`"
                : "";
        return "  " + d.getMessage(null) + near;
    }

    private static String describe(JShellException x) {
        StringBuilder sb = new StringBuilder();
        if (x instanceof EvalException ee) {
            sb.append(ee.getExceptionClassName()).append(": ").append(ee.getMessage());
        } else if (x instanceof UnresolvedReferenceException ure) {
            sb.append("a reference to the undefined ").append(ure.getSnippet().source().strip());
        } else {
            sb.append(x);
        }
        StackTraceElement[] trace = x.getStackTrace();
        for (int i = 0; i < Math.min(trace.length, 12); i++) {
            sb.append("\n    at ").append(trace[i]);
        }
        for (Throwable c = x.getCause(); c != null; c = c.getCause()) {
            String name = c instanceof EvalException ee ? ee.getExceptionClassName() : c.getClass().getName();
            sb.append("\n  caused by ").append(name).append(": ").append(c.getMessage());
        }
        return sb.toString();
    }

    private static String indent(String source) {
        return source.strip().lines().map(l -> "    " + l).collect(Collectors.joining("\n"));
    }

    /** Collects a cell's outputs in the order they happen; prints from any thread count. */
    private static final class Capture {
        private final List<Object> parts = new ArrayList<>(); // Output, or a Chunk still being written

        private record Chunk(String name, ByteArrayOutputStream bytes) {}

        PrintStream stream(String name) {
            OutputStream sink = new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    append(name, b, off, len);
                }
            };
            return new PrintStream(sink, true, StandardCharsets.UTF_8);
        }

        private synchronized void append(String name, byte[] b, int off, int len) {
            if (parts.isEmpty() || !(parts.get(parts.size() - 1) instanceof Chunk c) || !c.name().equals(name)) {
                parts.add(new Chunk(name, new ByteArrayOutputStream()));
            }
            ((Chunk) parts.get(parts.size() - 1)).bytes().write(b, off, len);
        }

        synchronized void display(Object o) {
            if (o instanceof BufferedImage img) {
                parts.add(Output.Image.of(img));
            } else if (o instanceof RenderedImage) {
                throw new IllegalArgumentException("display() takes a BufferedImage here; got " + o.getClass());
            } else {
                parts.add(new Output.Text(String.valueOf(o)));
            }
        }

        synchronized List<Output> outputs() {
            List<Output> out = new ArrayList<>();
            for (Object p : parts) {
                out.add(p instanceof Chunk c ? new Output.Stream(c.name(), c.bytes().toString(StandardCharsets.UTF_8))
                        : (Output) p);
            }
            return out;
        }
    }
}
