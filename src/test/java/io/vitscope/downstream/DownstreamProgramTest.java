package io.vitscope.downstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's ten-line downstream program, read from the README, compiled and run in a JVM of its own with only the
 * library and its dependencies on the class path — as a user's project would.
 *
 * <p>By default the library is this build's {@code target/classes}: inside {@code mvn test} the artifact is not
 * installed yet (install comes after test), and an artifact installed by an earlier build could be older than the
 * code under test. {@code -Dvitscope.downstream.installed=true} runs it against the jar {@code mvn install} put in
 * the local repository instead (and checks the sources and javadoc jars beside it); {@code scripts/check_downstream.sh}
 * does that after a fresh install, and also builds the program as a separate Maven project.
 */
class DownstreamProgramTest {

    private static final Pattern PROGRAM = Pattern.compile("<!-- downstream:program -->\\s*```java\\n(.*?)```",
            Pattern.DOTALL);

    @TempDir
    Path tmp;

    @Test
    void readmeProgramCompilesAndRuns() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = PROGRAM.matcher(readme);
        assertTrue(m.find(), "README.md has a downstream:program block");
        String source = m.group(1);
        assertTrue(source.lines().filter(l -> !l.isBlank() && !l.startsWith("import")).count() <= 13,
                "the program stays about ten lines");
        Path src = Files.createDirectories(tmp.resolve("src")).resolve("Demo.java");
        Files.writeString(src, source);

        String classPath = libraryClassPath();
        Path out = Files.createDirectories(tmp.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "--release", "17", "-cp", classPath, "-d", out.toString(), src.toString());
        assertEquals(0, rc, "the README program compiles against the library");

        Path weights = Golden.dir("checkpoints/tiny").resolve("model_zip.pth");
        Path image = Path.of("images/fashion/fashion_0_ankle_boot.png").toAbsolutePath();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", out + File.pathSeparator + classPath, "Demo", weights.toString(),
                image.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putIfAbsent("DJL_CACHE_DIR", System.getProperty("user.home") + "/.djl.ai");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the program finishes");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        List<String> lines = output.lines().filter(l -> l.startsWith("Prediction[") || l.startsWith("blocks.")).toList();
        assertEquals(4, lines.size(), output);
        assertTrue(lines.get(0).startsWith("Prediction[rank=1, index="), output);
        // the golden tiny ViT: one image, 4 heads, 16 patches + the class token
        assertEquals("blocks.0.attn attn (1, 4, 17, 17)", lines.get(3), output);
    }

    /** The test class path without this build's test classes, with the installed jar if asked for. */
    private static String libraryClassPath() throws IOException {
        List<String> entries = new ArrayList<>(Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator)));
        entries.removeIf(e -> e.endsWith("test-classes"));
        if (Boolean.getBoolean("vitscope.downstream.installed")) {
            String version = projectVersion();
            Path dir = Path.of(System.getProperty("user.home"), ".m2", "repository", "io", "vitscope", "vitscope", version);
            Path jar = dir.resolve("vitscope-" + version + ".jar");
            assertTrue(Files.isRegularFile(jar), "run mvn install first: " + jar);
            assertTrue(Files.isRegularFile(dir.resolve("vitscope-" + version + "-sources.jar")), "sources jar");
            assertTrue(Files.isRegularFile(dir.resolve("vitscope-" + version + "-javadoc.jar")), "javadoc jar");
            entries.replaceAll(e -> e.endsWith(File.separator + "classes") || e.endsWith("target/classes") ? jar.toString() : e);
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String projectVersion() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>vitscope</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "pom.xml version");
        return m.group(1);
    }
}
