package io.vitscope.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidArgumentException;
import io.vitscope.VitscopeException;
import io.vitscope.hub.HubFetcher.FetchedFile;
import io.vitscope.hub.HubFetcher.FetchedModel;
import io.vitscope.hub.HubFetcher.Outcome;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubFetcherTest {

    static final ModelRef REF = ModelRef.parse("vit_base_patch16_224");
    static final String REPO_PATH = "/timm/vit_base_patch16_224.orig_in21k_ft_in1k/resolve/main/";
    static final String WEIGHTS_PATH = REPO_PATH + "model.safetensors";
    static final String CONFIG_PATH = REPO_PATH + "config.json";
    /** Large enough to span several 64 KiB reads, so that a cut lands mid-body. */
    static final byte[] WEIGHTS = FakeHub.safetensors(300_000, 42);
    static final byte[] CONFIG = "{\"architecture\": \"vit_base_patch16_224\"}".getBytes(StandardCharsets.UTF_8);
    static final String WEIGHTS_SHA = Sha256.of(WEIGHTS);
    /** What the hub sends as ETag of a small (non-LFS) file: its git blob SHA-1, which is no SHA-256. */
    static final String GIT_SHA1 = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path home;

    FakeHub hub;
    ModelCache cache;
    final List<String> notes = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        cache = ModelCache.at(home);
        hub.serve(CONFIG_PATH, CONFIG).etag(GIT_SHA1);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubFetcher fetcher(int attempts) {
        return HubFetcher.builder()
                .optEndpoint(hub.endpoint())
                .optMaxAttempts(attempts)
                .optRetryDelay(Duration.ZERO)
                .optReadTimeout(Duration.ofSeconds(10))
                .optListener(new DownloadListener() {
                    @Override
                    public void note(String message) {
                        notes.add(message);
                    }
                })
                .build();
    }

    Path weightsFile() {
        return cache.dirOf(REF).resolve("model.safetensors");
    }

    Path partFile() {
        return cache.dirOf(REF).resolve("model.safetensors.part");
    }

    // --- URLs ---------------------------------------------------------------------------------------------------

    @Test
    void bareArchitectureGetsItsPresetsDefaultTag() {
        HubFetcher f = HubFetcher.builder().optEnvironment(Map.of()).build();
        assertEquals("timm/vit_base_patch16_224.orig_in21k_ft_in1k", REF.repoId());
        assertEquals(URI.create("https://huggingface.co/timm/vit_base_patch16_224.orig_in21k_ft_in1k/resolve/main/"
                + "model.safetensors"), f.fileUrl(REF, "model.safetensors"));
    }

    @Test
    void explicitTagIsKept() {
        ModelRef ref = ModelRef.parse("vit_base_patch16_224.augreg_in21k");
        assertEquals("vit_base_patch16_224", ref.arch());
        assertEquals("augreg_in21k", ref.tag());
        assertFalse(ref.isDefaultTag());
        assertEquals(URI.create("https://huggingface.co/timm/vit_base_patch16_224.augreg_in21k/resolve/main/"
                + "config.json"), HubFetcher.builder().build().fileUrl(ref, "config.json"));
    }

    @Test
    void endpointComesFromHfEndpointUnlessGivenExplicitly() {
        HubFetcher fromEnv = HubFetcher.builder().optEnvironment(Map.of("HF_ENDPOINT", "http://mirror.example/hf/"))
                .build();
        assertEquals(URI.create("http://mirror.example/hf/timm/vit_base_patch16_224.orig_in21k_ft_in1k/resolve/main/"
                + "config.json"), fromEnv.fileUrl(REF, "config.json"));

        HubFetcher explicit = HubFetcher.builder().optEnvironment(Map.of("HF_ENDPOINT", "http://mirror.example"))
                .optEndpoint(URI.create("http://other.example:8080")).build();
        assertEquals("http://other.example:8080", explicit.endpoint().toString());
    }

    @Test
    void malformedEndpointSaysWhatIsExpected() {
        VitscopeException e = assertThrows(VitscopeException.class,
                () -> HubFetcher.builder().optEnvironment(Map.of("HF_ENDPOINT", "huggingface.co")).build());
        assertTrue(e.getMessage().contains("HF_ENDPOINT 'huggingface.co' is not an http(s) URL"), e.getMessage());
    }

    @Test
    void unknownArchitectureListsTheValidOnes() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> ModelRef.parse("vit_giant_patch3_224"));
        assertTrue(e.getMessage().startsWith("Unknown model 'vit_giant_patch3_224'"), e.getMessage());
        assertTrue(e.getMessage().contains("vit_base_patch16_224"), e.getMessage());
        assertTrue(e.getMessage().contains("deit_tiny_patch16_224"), e.getMessage());
    }

    @Test
    void tagCannotEscapeTheCacheDirectory() {
        assertThrows(InvalidArgumentException.class, () -> ModelRef.parse("vit_base_patch16_224./../../etc"));
        assertThrows(InvalidArgumentException.class, () -> ModelRef.parse("vit_base_patch16_224."));
    }

    // --- downloads ----------------------------------------------------------------------------------------------

    @Test
    void downloadsVerifiesAndRenamesIntoPlace() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);

        FetchedModel fetched = fetcher(1).fetch(REF, cache, null, false);

        assertEquals(cache.dirOf(REF), fetched.dir());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
        assertArrayEquals(CONFIG, Files.readAllBytes(fetched.dir().resolve("config.json")));
        FetchedFile config = fetched.files().get(0);
        FetchedFile weights = fetched.files().get(1);
        assertFalse(config.verified(), "a git SHA-1 ETag is not taken for a SHA-256");
        assertTrue(weights.verified());
        assertEquals(WEIGHTS_SHA, weights.sha256());
        assertEquals(Outcome.DOWNLOADED, weights.outcome());
        assertEquals(List.of("config.json", "model.safetensors"), listDir(fetched.dir()), "no .part left");
        assertNull(hub.requestsFor(WEIGHTS_PATH).get(0).range(), "a fresh download asks for the whole file");
    }

    @Test
    void followsRedirectToCdnAndKeepsTokenOnTheHub() throws IOException {
        try (FakeHub cdn = new FakeHub()) {
            cdn.serve("/blobs/abc", WEIGHTS).etag("d41d8cd98f00b204e9800998ecf8427e-2");  // an S3-style ETag
            hub.redirect(WEIGHTS_PATH, cdn.endpoint() + "/blobs/abc").linked(WEIGHTS_SHA, WEIGHTS.length);

            FetchedModel fetched = HubFetcher.builder().optEndpoint(hub.endpoint()).optToken("hf_secret")
                    .build().fetch(REF, cache, null, false);

            assertTrue(fetched.files().get(1).verified(), "the SHA-256 comes from X-Linked-Etag on the redirect");
            assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
            assertEquals("Bearer hf_secret", hub.requestsFor(WEIGHTS_PATH).get(0).authorization());
            assertNull(cdn.requests().get(0).authorization(), "the token must not leak to the CDN");
        }
    }

    @Test
    void relativeRedirectStaysOnTheHub() throws IOException {
        hub.redirect(WEIGHTS_PATH, "/renamed/model.safetensors");
        hub.serve("/renamed/model.safetensors", WEIGHTS).etag(WEIGHTS_SHA);

        fetcher(1).fetch(REF, cache, null, false);

        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
    }

    @Test
    void checksumMismatchDeletesTheDownloadAndSaysSo() {
        String wrong = Sha256.of(new byte[] {1, 2, 3});
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(wrong);

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        assertTrue(e.getMessage().contains("model.safetensors of timm/vit_base_patch16_224.orig_in21k_ft_in1k is"
                + " corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains(wrong) && e.getMessage().contains(WEIGHTS_SHA), e.getMessage());
        assertTrue(e.getMessage().contains("run the fetch again"), e.getMessage());
        assertFalse(Files.exists(weightsFile()));
        assertFalse(Files.exists(partFile()));
    }

    @Test
    void pinnedChecksumIsCheckedWhenTheServerAnnouncesNone() {
        hub.serve(WEIGHTS_PATH, WEIGHTS);

        FetchedModel ok = fetcher(1).fetch(REF, cache, WEIGHTS_SHA.toUpperCase(), false);
        assertTrue(ok.files().get(1).verified());

        String other = Sha256.of(new byte[] {9});
        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, other, true));
        assertTrue(e.getMessage().contains("you pinned " + other), e.getMessage());
        assertFalse(Files.exists(weightsFile()));
        assertFalse(Files.exists(partFile()));
    }

    @Test
    void pinnedChecksumThatDisagreesWithTheHubFailsBeforeDownloading() {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        String other = Sha256.of(new byte[] {9});

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, other, false));

        assertTrue(e.getMessage().contains("has SHA-256 " + WEIGHTS_SHA + ", not the pinned " + other),
                e.getMessage());
        assertFalse(Files.exists(partFile()));
    }

    @Test
    void malformedPinnedChecksumIsRejected() {
        VitscopeException e = assertThrows(VitscopeException.class,
                () -> fetcher(1).fetch(REF, cache, "abc123", false));
        assertTrue(e.getMessage().contains("expected 64 hexadecimal digits"), e.getMessage());
    }

    // --- interruptions ------------------------------------------------------------------------------------------

    @Test
    void resumesWithinOneFetchAfterTheConnectionBreaks() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA).cutAt(100_000, 1);

        FetchedModel fetched = fetcher(3).fetch(REF, cache, null, false);

        List<FakeHub.Request> requests = hub.requestsFor(WEIGHTS_PATH);
        assertEquals(2, requests.size());
        assertNull(requests.get(0).range());
        assertEquals("bytes=100000-", requests.get(1).range());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
        assertEquals(Outcome.RESUMED, fetched.files().get(1).outcome());
        assertTrue(fetched.files().get(1).verified());
        assertTrue(notes.stream().anyMatch(n -> n.contains("interrupted at 100.0 kB")), notes.toString());
    }

    @Test
    void resumesInTheNextFetchFromThePartFile() throws IOException {
        FakeHub.Served weights = hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA).cutAt(123_456, 1);

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));
        assertTrue(e.getMessage().contains("was interrupted after 123.5 kB"), e.getMessage());
        assertTrue(e.getMessage().contains("Run the same fetch again to resume"), e.getMessage());
        assertEquals(123_456, Files.size(partFile()));
        assertFalse(Files.exists(weightsFile()));
        assertTrue(cache.find("vit_base_patch16_224").isEmpty(), "a part file is not a cached model");
        assertTrue(cache.missingWeightsMessage("vit_base_patch16_224").contains("the fetch resumes it"));

        weights.noCuts();
        FetchedModel fetched = fetcher(1).fetch(REF, cache, null, false);

        assertEquals("bytes=123456-", hub.requestsFor(WEIGHTS_PATH).get(1).range());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
        assertEquals(Outcome.RESUMED, fetched.files().get(1).outcome());
        assertFalse(Files.exists(partFile()));
    }

    @Test
    void serverIgnoringRangeMeansStartingOver() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA).ignoreRange();
        Files.createDirectories(cache.dirOf(REF));
        Files.write(partFile(), Arrays.copyOf(WEIGHTS, 50_000));

        FetchedModel fetched = fetcher(1).fetch(REF, cache, null, false);

        assertEquals("bytes=50000-", hub.requestsFor(WEIGHTS_PATH).get(0).range());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()), "not appended to the stale part");
        assertEquals(Outcome.DOWNLOADED, fetched.files().get(1).outcome());
        assertTrue(notes.stream().anyMatch(n -> n.contains("ignored the request to resume")), notes.toString());
    }

    @Test
    void completePartFileIsVerifiedAndMovedWhenTheServerAnswers416() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        Files.createDirectories(cache.dirOf(REF));
        Files.write(partFile(), WEIGHTS);

        FetchedModel fetched = fetcher(1).fetch(REF, cache, null, false);

        assertEquals(1, hub.requestsFor(WEIGHTS_PATH).size());
        assertTrue(fetched.files().get(1).verified());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
    }

    @Test
    void partFileLongerThanTheFileIsRestarted() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        Files.createDirectories(cache.dirOf(REF));
        Files.write(partFile(), FakeHub.bytes(WEIGHTS.length + 10, 7));

        fetcher(1).fetch(REF, cache, null, false);

        List<FakeHub.Request> requests = hub.requestsFor(WEIGHTS_PATH);
        assertEquals("bytes=" + (WEIGHTS.length + 10) + "-", requests.get(0).range());
        assertNull(requests.get(1).range());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
    }

    // --- errors -------------------------------------------------------------------------------------------------

    @Test
    void missingFileNamesTheRepositoryAndTheFile() {
        hub.fail(WEIGHTS_PATH, 404, "EntryNotFound");

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        assertTrue(e.getMessage().startsWith("timm/vit_base_patch16_224.orig_in21k_ft_in1k has no file"
                + " model.safetensors (HTTP 404 EntryNotFound from " + hub.endpoint() + WEIGHTS_PATH + ")"),
                e.getMessage());
        assertFalse(Files.exists(partFile()), "no empty part file left");
    }

    @Test
    void missingRepositorySuggestsCheckingTheTag() {
        ModelRef typo = ModelRef.parse("vit_base_patch16_224.orig_in21k_ft_in1");

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(typo, cache, null, false));

        assertTrue(e.getMessage().startsWith("timm/vit_base_patch16_224.orig_in21k_ft_in1 does not exist on "
                + hub.endpoint() + ", or is private (HTTP 401 RepoNotFound"), e.getMessage());
        assertTrue(e.getMessage().contains("check the tag"), e.getMessage());
        assertFalse(Files.exists(cache.dirOf(typo)), "no empty directory left for a mistyped tag");
    }

    @Test
    void gatedRepositoryAsksForAToken() {
        hub.fail(CONFIG_PATH, 403, "GatedRepo");

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        assertTrue(e.getMessage().contains("accept its terms") && e.getMessage().contains("set HF_TOKEN"),
                e.getMessage());
    }

    @Test
    void unreachableEndpointGivesOneClearLine() throws IOException {
        URI closed = URI.create("http://127.0.0.1:" + FakeHub.closedPort());
        HubFetcher f = HubFetcher.builder().optEndpoint(closed).optConnectTimeout(Duration.ofSeconds(2)).build();

        HubException e = assertThrows(HubException.class, () -> f.fetch(REF, cache, null, false));

        assertTrue(e.getMessage().startsWith("Cannot reach " + closed + " ("), e.getMessage());
        assertTrue(e.getMessage().contains("check your network, or set HF_ENDPOINT"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    // --- the cache ----------------------------------------------------------------------------------------------

    @Test
    void cachedFilesAreKeptUnlessForced() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        fetcher(1).fetch(REF, cache, null, false);
        int requests = hub.requests().size();

        FetchedModel again = fetcher(1).fetch(REF, cache, null, false);
        assertEquals(requests, hub.requests().size(), "nothing requested for cached files");
        assertEquals(Outcome.ALREADY_CACHED, again.files().get(1).outcome());

        Files.write(weightsFile(), new byte[] {0});  // tampered with, or an older version
        FetchedModel forced = fetcher(1).fetch(REF, cache, null, true);
        assertEquals(Outcome.DOWNLOADED, forced.files().get(1).outcome());
        assertEquals(requests + 2, hub.requests().size());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
    }

    @Test
    void cachedFileNotMatchingThePinnedChecksumIsFetchedAgain() throws IOException {
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        Files.createDirectories(cache.dirOf(REF));
        Files.write(weightsFile(), new byte[] {0});

        FetchedModel fetched = fetcher(1).fetch(REF, cache, WEIGHTS_SHA, false);

        assertEquals(Outcome.DOWNLOADED, fetched.files().get(1).outcome());
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
    }

    @Test
    void findLooksUpTheDefaultTagOrTheGivenOne() throws IOException {
        assertTrue(cache.find("vit_base_patch16_224").isEmpty());
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);
        fetcher(1).fetch(REF, cache, null, false);

        ModelCache.CachedModel found = cache.find("vit_base_patch16_224").orElseThrow();
        assertEquals(weightsFile(), found.weights());
        assertEquals(cache.dirOf(REF).resolve("config.json"), found.config());
        assertEquals(WEIGHTS.length, found.weightsBytes());
        assertEquals(found, cache.find("vit_base_patch16_224.orig_in21k_ft_in1k").orElseThrow());
        assertTrue(cache.find("vit_base_patch16_224.augreg_in21k").isEmpty(), "another tag is another checkpoint");
        assertEquals(weightsFile(), cache.requireWeights("vit_base_patch16_224"));
        assertEquals(List.of("vit_base_patch16_224.orig_in21k_ft_in1k"),
                cache.list().stream().map(ModelCache.CachedModel::name).toList());
    }

    @Test
    void missingWeightsMessageSaysHowToGetThem() {
        assertEquals("No weights for vit_base_patch16_224 in " + home.resolve("models")
                + ". Get them with: scripts/vitscope fetch vit_base_patch16_224.orig_in21k_ft_in1k"
                + " (or pass --weights FILE)", cache.missingWeightsMessage("vit_base_patch16_224"));
        VitscopeException e = assertThrows(VitscopeException.class,
                () -> cache.requireWeights("deit_small_patch16_224.fb_in1k"));
        assertEquals("No weights for deit_small_patch16_224.fb_in1k in " + home.resolve("models")
                + ". Get them with: scripts/vitscope fetch deit_small_patch16_224.fb_in1k (or pass --weights FILE)",
                e.getMessage());
    }

    @Test
    void homeComesFromVitscopeHome() {
        assertEquals(Path.of("/data/vs"), ModelCache.defaultRoot(Map.of("VITSCOPE_CACHE", "/data/vs")));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "vitscope"), ModelCache.defaultRoot(Map.of()));
    }

    private static List<String> listDir(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // --- a server that lies (issue 11, case 8) -------------------------------------------------------------------

    static final byte[] HTML = ("<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>"
            + "<body>Accept the terms to continue</body></html>\n").getBytes(StandardCharsets.UTF_8);

    Path configFile() {
        return cache.dirOf(REF).resolve("config.json");
    }

    @Test
    void anHtmlPageServedAsTheWeightsIsNotCached() {
        hub.serve(WEIGHTS_PATH, HTML);   // 200, no checksum: a captive portal's answer

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        // Before: cached as model.safetensors, then "already cached", then a header error from predict.
        assertTrue(e.getMessage().contains("model.safetensors of timm/vit_base_patch16_224.orig_in21k_ft_in1k from "
                + "http://127.0.0.1") && e.getMessage().contains("is not a safetensors file")
                && e.getMessage().contains("it is an HTML page") && e.getMessage().contains("Nothing was cached"),
                e.getMessage());
        assertFalse(Files.exists(weightsFile()));
        assertFalse(Files.exists(partFile()));
        assertFalse(Files.exists(configFile()), "the config fetched before it was removed again");
    }

    @Test
    void anHtmlPageServedAsTheConfigIsNotCached() {
        hub.serve(CONFIG_PATH, HTML);
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        assertTrue(e.getMessage().contains("config.json of") && e.getMessage().contains("is not a JSON object")
                && e.getMessage().contains("HTML page"), e.getMessage());
        assertFalse(Files.exists(configFile()));
        assertTrue(hub.requestsFor(WEIGHTS_PATH).isEmpty(), "it stopped before the long transfer");
    }

    @Test
    void aBodyLongerThanAnnouncedIsNotCached() {
        // The hub announces the size; the body (chunked, so no Content-Length limits it) goes on beyond it.
        hub.serve(WEIGHTS_PATH, WEIGHTS).chunkedWithExtra(FakeHub.bytes(5_000, 3)).linkedSize = WEIGHTS.length;

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        // Before: the 305,000 bytes were cached whole, and the fetch exited 0.
        assertTrue(e.getMessage().contains("sent more than the " + WEIGHTS.length + " bytes it announced"),
                e.getMessage());
        assertFalse(Files.exists(weightsFile()));
        assertFalse(Files.exists(partFile()));
    }

    @Test
    void aContentLengthThatContradictsTheAnnouncedSizeIsRefused() {
        hub.serve(WEIGHTS_PATH, WEIGHTS).linkedSize = WEIGHTS.length - 100;

        HubException e = assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, null, false));

        assertTrue(e.getMessage().contains("announced " + (WEIGHTS.length - 100) + " bytes but sends "
                + WEIGHTS.length), e.getMessage());
        assertFalse(Files.exists(weightsFile()));
    }

    @Test
    void aPinnedChecksumMismatchLeavesNoConfigBehind() {
        hub.serve(WEIGHTS_PATH, WEIGHTS);
        String other = Sha256.of(new byte[] {9});

        assertThrows(HubException.class, () -> fetcher(1).fetch(REF, cache, other, false));

        // Before: config.json stayed in the cache without its weights.
        assertFalse(Files.exists(configFile()));
        assertFalse(Files.exists(cache.dirOf(REF)), "nor an empty folder");
    }

    @Test
    void aCachedFileOfTheWrongFormatIsFetchedAgain() throws IOException {
        Files.createDirectories(cache.dirOf(REF));
        Files.write(weightsFile(), HTML);                  // left by a version that trusted any 200 body
        hub.serve(WEIGHTS_PATH, WEIGHTS).etag(WEIGHTS_SHA);

        FetchedModel fetched = fetcher(1).fetch(REF, cache, null, false);

        assertEquals(Outcome.DOWNLOADED, fetched.files().get(1).outcome(), "not 'already cached'");
        assertArrayEquals(WEIGHTS, Files.readAllBytes(weightsFile()));
        assertTrue(notes.stream().anyMatch(n -> n.contains("the cached model.safetensors is not a safetensors file")),
                notes.toString());
    }

    @Test
    void aCachedModelThatFailsToLoadNamesTheFetchThatReplacesIt() throws IOException {
        Path dir = Files.createDirectories(cache.dirOf(REF));
        Files.writeString(dir.resolve("config.json"), """
                {"architecture": "vit_golden_tiny", "num_classes": 10,
                 "model_args": {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 3, "num_heads": 4,
                                "mlp_ratio": 2.0}}
                """);
        byte[] weights = Files.readAllBytes(io.vitscope.Golden.file("tiny/timm.safetensors"));
        Files.write(dir.resolve("model.safetensors"), Arrays.copyOf(weights, weights.length - 1000)); // truncated

        io.vitscope.InvalidInputException e = assertThrows(io.vitscope.InvalidInputException.class,
                () -> cache.load("vit_base_patch16_224"));

        assertEquals(dir.resolve("model.safetensors"), e.file());
        assertTrue(e.getMessage().contains("scripts/vitscope fetch --force vit_base_patch16_224.orig_in21k_ft_in1k"),
                e.getMessage());
    }
}
