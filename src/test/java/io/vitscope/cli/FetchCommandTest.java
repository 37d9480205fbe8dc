package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidArgumentException;
import io.vitscope.hub.FakeHub;
import io.vitscope.hub.HubException;
import io.vitscope.hub.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class FetchCommandTest {

    static final String REPO_PATH = "/timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k/resolve/main/";
    static final byte[] WEIGHTS = FakeHub.safetensors(200_000, 1);
    static final byte[] CONFIG = "{}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path home;

    FakeHub hub;
    final Map<String, String> env = new HashMap<>();
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    /** What call() threw: the root maps it to an exit code; here it is recorded. */
    Exception thrown;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        hub.serve(REPO_PATH + "config.json", CONFIG);
        hub.serve(REPO_PATH + "model.safetensors", WEIGHTS).etag(Sha256.of(WEIGHTS));
        env.put("VITSCOPE_CACHE", home.toString());
        env.put("HF_ENDPOINT", hub.endpoint().toString());
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    int run(boolean terminal, String... args) {
        CommandLine cl = new CommandLine(new FetchCommand(env, terminal));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            thrown = e;
            return 99;
        });
        return cl.execute(args);
    }

    Path modelDir() {
        return home.resolve("models/vit_tiny_patch16_224.augreg_in21k_ft_in1k");
    }

    @Test
    void fetchesIntoVitscopeHomeFromHfEndpoint() throws IOException {
        assertEquals(0, run(false, "vit_tiny_patch16_224"));

        assertArrayEquals(WEIGHTS, Files.readAllBytes(modelDir().resolve("model.safetensors")));
        String printed = out.toString();
        assertTrue(printed.startsWith("Fetching timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k from "
                + hub.endpoint()), printed);
        assertTrue(printed.contains("model.safetensors: downloaded (200.0 kB, SHA-256 verified)"), printed);
        assertTrue(printed.contains("config.json: downloaded (2 B, no checksum announced)"), printed);
        assertTrue(printed.contains("vit_tiny_patch16_224.augreg_in21k_ft_in1k is in " + modelDir()), printed);
        assertEquals("", err.toString(), "no progress bar when not on a terminal");
    }

    @Test
    void optionsOverrideTheEnvironment() throws IOException {
        Path other = home.resolve("elsewhere");
        env.put("HF_ENDPOINT", "http://127.0.0.1:" + FakeHub.closedPort());

        assertEquals(0, run(false, "--cache", other.toString(), "--endpoint", hub.endpoint() + "/",
                "vit_tiny_patch16_224.augreg_in21k_ft_in1k"));

        assertTrue(Files.exists(other.resolve("models/vit_tiny_patch16_224.augreg_in21k_ft_in1k/model.safetensors")));
        assertFalse(Files.exists(modelDir()));
    }

    @Test
    void secondFetchKeepsTheCacheAndForceDownloadsAgain() {
        assertEquals(0, run(false, "vit_tiny_patch16_224"));
        int requests = hub.requests().size();

        assertEquals(0, run(false, "vit_tiny_patch16_224"));
        assertEquals(requests, hub.requests().size());
        assertTrue(out.toString().contains("model.safetensors: already cached"), out.toString());

        assertEquals(0, run(false, "--force", "vit_tiny_patch16_224"));
        assertEquals(2 * requests, hub.requests().size());
    }

    @Test
    void quietPrintsNothing() {
        assertEquals(0, run(true, "--quiet", "vit_tiny_patch16_224"));
        assertEquals("", out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void drawsAProgressBarOnATerminalOnStderr() {
        byte[] large = FakeHub.safetensors(1_500_000, 2);  // smaller files get no bar
        hub.serve(REPO_PATH + "model.safetensors", large).etag(Sha256.of(large));
        assertEquals(0, run(true, "vit_tiny_patch16_224"));
        assertTrue(err.toString().contains("model.safetensors"), err.toString());
        assertFalse(out.toString().contains("\r"), "stdout stays free of bar frames");
    }

    @Test
    void pinnedChecksumMismatchPropagatesAsHubException() {
        String other = Sha256.of(new byte[] {5});
        assertEquals(99, run(false, "--sha256", other, "vit_tiny_patch16_224"));
        assertInstanceOf(HubException.class, thrown);
        assertTrue(thrown.getMessage().contains("not the pinned " + other), thrown.getMessage());
    }

    @Test
    void unknownArchitectureListsValidOnes() {
        assertEquals(99, run(false, "vit_enormous"));
        assertInstanceOf(InvalidArgumentException.class, thrown);
        assertTrue(thrown.getMessage().contains("Valid models: vit_tiny_patch16_224"), thrown.getMessage());
    }

    /** An unknown model or a malformed tag is a usage error (2), as predict's --model says, not a failure (1). */
    @ParameterizedTest
    @ValueSource(strings = {"vit_enormous", "vit_tiny_patch16_224./x"})
    void aModelThatCannotBeNamedExitsTwo(String model) {
        String line = Cli.run("fetch", model).failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("Unknown model 'vit_enormous'") || line.contains("Malformed pretrained tag '/x'"), line);
    }

    @Test
    void missingFileOnTheHubNamesRepoAndFile() {
        hub.fail(REPO_PATH + "model.safetensors", 404, "EntryNotFound");
        assertEquals(99, run(false, "vit_tiny_patch16_224"));
        assertTrue(thrown.getMessage().startsWith("timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k has no file"
                + " model.safetensors"), thrown.getMessage());
    }

    @Test
    void unreachableHubIsOneLine() throws IOException {
        env.put("HF_ENDPOINT", "http://127.0.0.1:" + FakeHub.closedPort());
        assertEquals(99, run(false, "vit_tiny_patch16_224"));
        assertInstanceOf(HubException.class, thrown);
        assertTrue(thrown.getMessage().startsWith("Cannot reach http://127.0.0.1:"), thrown.getMessage());
        assertFalse(thrown.getMessage().contains("\n"));
    }

    @Test
    void listShowsCachedModels() {
        assertEquals(0, run(false, "--list"));
        assertTrue(out.toString().startsWith("No models in " + home.resolve("models")), out.toString());

        run(false, "--quiet", "vit_tiny_patch16_224");
        out.getBuffer().setLength(0);
        assertEquals(0, run(false, "--list"));
        assertTrue(out.toString().startsWith("vit_tiny_patch16_224.augreg_in21k_ft_in1k"), out.toString());
        assertTrue(out.toString().contains("200.0 kB"), out.toString());
    }

    @Test
    void missingModelIsAUsageError() {
        assertEquals(CommandLine.ExitCode.USAGE, run(false));
        assertTrue(err.toString().contains("Missing ARCH[.TAG]"), err.toString());
    }
}
