package io.vitscope.kernel;

import java.awt.image.RenderedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;

/**
 * A minimal Jupyter kernel for Java, only for checking vitscope's notebooks in a real Jupyter (see
 * scripts/notebooks_in_jupyter.sh): jjava-jupyter speaks the Jupyter protocol, the JDK's JShell evaluates cells in
 * this JVM (execution engine "local", this JVM's class path), {@code System.out} goes to the cell as a stream, and
 * {@code display(Object)} shows a {@link RenderedImage} as an {@code image/png} display_data. Not part of the product:
 * built only with {@code mvn -Pkernel}.
 */
public final class VitscopeKernel extends BaseKernel {

    private static volatile VitscopeKernel current;

    private final JShell shell;

    private VitscopeKernel(Builder b) {
        super("vitscope-jshell", "0.1",
                new LanguageInfo("java", System.getProperty("java.version"), "text/x-java", ".jshell", "java",
                        "java", null),
                List.of(), b.buildHistoryManagerPublic(), b.buildJupyterIOPublic(), b.buildCommManagerPublic(),
                b.buildRendererPublic(), new MagicParser("(?<=(?:^|=))\\s*%", "%%", b.buildMagicTranspilerPublic()),
                b.buildMagicsRegistryPublic(), false, b.buildErrorStylerPublic());
        shell = JShell.builder().executionEngine("local").build();
        shell.addToClasspath(System.getProperty("java.class.path"));
        List<SnippetEvent> events = shell.eval(
                "String display(Object o) { return " + VitscopeKernel.class.getName() + ".display(o); }");
        if (events.isEmpty() || !events.get(0).status().isDefined()) {
            throw new IllegalStateException("cannot define display() in JShell: " + events);
        }
    }

    /** The {@code display(Object)} that cells call, with IJava's and JJava's signature. */
    public static String display(Object o) {
        VitscopeKernel k = current;
        if (k == null) {
            throw new IllegalStateException("no kernel");
        }
        DisplayData data;
        if (o instanceof RenderedImage image) {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            try {
                ImageIO.write(image, "png", png);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            data = new DisplayData();
            data.putData("image/png", Base64.getEncoder().encodeToString(png.toByteArray()));
            data.putData("text/plain", "<image " + image.getWidth() + "x" + image.getHeight() + ">");
        } else {
            data = k.getRenderer().render(o);
        }
        System.out.flush();
        k.display(data);
        return "display";
    }

    @Override
    public Object evalRaw(String code) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        String rest = code;
        String value = null;
        while (!rest.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) {
                break;
            }
            if (!info.completeness().isComplete()) {
                throw new IllegalArgumentException("incomplete statement:\n" + rest.strip());
            }
            value = evalSnippet(info.source());
            rest = info.remaining();
        }
        System.out.flush();
        return value;
    }

    /** Evaluates one snippet; returns the value of an expression, or null. */
    private String evalSnippet(String source) {
        String value = null;
        for (SnippetEvent e : shell.eval(source)) {
            if (e.causeSnippet() != null) {
                continue;
            }
            Snippet s = e.snippet();
            if (e.status() == Snippet.Status.REJECTED) {
                throw new IllegalArgumentException("does not compile:\n" + source.strip() + "\n"
                        + shell.diagnostics(s).map(d -> "  " + d.getMessage(null)).collect(Collectors.joining("\n")));
            }
            if (e.status() == Snippet.Status.RECOVERABLE_DEFINED
                    || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                throw new IllegalArgumentException("refers to what is not defined:\n" + source.strip());
            }
            if (e.exception() != null) {
                throw new RuntimeException(describe(e.exception()), e.exception());
            }
            if (s.kind() == Snippet.Kind.EXPRESSION || s.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND) {
                value = "null".equals(e.value()) ? null : e.value();
            } else {
                value = null;
            }
        }
        return value;
    }

    private static String describe(JShellException x) {
        if (x instanceof EvalException ee) {
            return ee.getExceptionClassName() + ": " + ee.getMessage();
        }
        if (x instanceof UnresolvedReferenceException ure) {
            return "a reference to the undefined " + ure.getSnippet().source().strip();
        }
        return String.valueOf(x);
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        return null;
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        return new ReplacementOptions(new ArrayList<>(), at, at);
    }

    @Override
    public String isComplete(String code) {
        SourceCodeAnalysis.CompletionInfo info = shell.sourceCodeAnalysis().analyzeCompletion(code);
        return info.completeness().isComplete() || info.completeness() == SourceCodeAnalysis.Completeness.EMPTY
                ? IS_COMPLETE_YES : IS_COMPLETE_MAYBE;
    }

    @Override
    public void onShutdown(boolean restart) {
        shell.close();
    }

    /** Exposes the builder's protected factories to the kernel's constructor. */
    static final class Builder extends BaseKernelBuilder<Builder, VitscopeKernel> {

        @Override
        public VitscopeKernel build() {
            return new VitscopeKernel(this);
        }

        org.dflib.jjava.jupyter.kernel.history.HistoryManager buildHistoryManagerPublic() {
            return buildHistoryManager();
        }

        org.dflib.jjava.jupyter.kernel.JupyterIO buildJupyterIOPublic() {
            return buildJupyterIO(buildJupyterIOEncoding());
        }

        org.dflib.jjava.jupyter.kernel.comm.CommManager buildCommManagerPublic() {
            return buildCommManager();
        }

        org.dflib.jjava.jupyter.kernel.display.Renderer buildRendererPublic() {
            return buildRenderer();
        }

        org.dflib.jjava.jupyter.kernel.magic.MagicTranspiler buildMagicTranspilerPublic() {
            return buildMagicTranspiler();
        }

        org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry buildMagicsRegistryPublic() {
            return buildMagicsRegistry();
        }

        org.dflib.jjava.jupyter.kernel.util.StringStyler buildErrorStylerPublic() {
            return buildErrorStyler();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: VitscopeKernel <connection_file>");
            System.exit(2);
        }
        String json = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
        KernelConnectionProperties props = KernelConnectionProperties.parse(json);
        JupyterConnection connection = new JupyterConnection(props);
        VitscopeKernel kernel = new Builder().build();
        current = kernel;
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
    }
}
