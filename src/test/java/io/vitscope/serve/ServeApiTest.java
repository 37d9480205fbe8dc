package io.vitscope.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.cli.Main;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.experiment.LogitScaling;
import io.vitscope.predict.Prediction;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The explorer's API against the real server on an ephemeral loopback port, with the embedded model: answers equal
 * the library's and the CLI's, every error status, path traversal, oversized bodies, concurrency, the busy and
 * time-limit answers and the graceful stop.
 */
class ServeApiTest {

    private static final Path BOOT = Path.of("images/fashion/fashion_0_ankle_boot.png");
    private static final Path BAG = Path.of("images/fashion/fashion_18_bag.png");
    private static final String SECRET = "SECRET-d41d8cd98f00b204";
    /** Small enough that the oversize tests send little; the default (20 MB) is tested through ServeOptions. */
    private static final long LIMIT = 1 << 20;

    @TempDir
    static Path tmp;
    static LoadedModel loaded;
    static Explorer explorer;
    static ExplorerServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        Path outside = tmp.resolve("outside");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("secret.png"), SECRET);
        Files.writeString(tmp.resolve("secret.txt"), SECRET);
        Path images = tmp.resolve("images");
        Files.createDirectories(images.resolve("sub"));
        Files.copy(BOOT, images.resolve("boot.png"));
        Files.copy(BAG, images.resolve("sub/bag.png"));
        Files.createSymbolicLink(images.resolve("link.png"), outside.resolve("secret.png"));
        Files.createSymbolicLink(images.resolve("outdir"), outside);
        loaded = Models.loadDefault();
        explorer = new Explorer(loaded);
        server = ExplorerServer.start(explorer, ServeOptions.defaults().withPort(0).withImages(images)
                .withMaxBodyBytes(LIMIT).withWorkers(2, 40));
        port = server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
        if (loaded != null) {
            loaded.close();
        }
    }

    // ------------------------------------------------------------------ results equal the library's and the CLI's

    @Test
    void predictAnswersWhatPredictFormatJsonPrints() throws Exception {
        JsonObject api = json(Http.post(port, "/api/predict?top=5", "image/png", Files.readAllBytes(BOOT)), 200);
        Cli cli = cli("predict", "--format", "json", BOOT.toString());
        JsonObject printed = JsonParser.parseString(cli.out.trim()).getAsJsonObject();
        // the API names an upload by its file name (no path), the CLI by the path it was given
        assertEquals("upload", api.get("image").getAsString());
        printed.remove("image");
        api.remove("image");
        assertEquals(printed, api, "same model, labels, ranks and probabilities to the last digit");
        // and equal to the library call
        List<Prediction> lib = new Classifier(loaded).predict(BOOT, 5);
        JsonArray preds = api.getAsJsonArray("predictions");
        for (int i = 0; i < 5; i++) {
            assertEquals(lib.get(i).index(), preds.get(i).getAsJsonObject().get("index").getAsInt());
            assertEquals(lib.get(i).probability(), preds.get(i).getAsJsonObject().get("probability").getAsFloat(),
                    0f, "same code on the same input and shapes: bit-identical");
        }
    }

    @Test
    void multipartUploadGivesTheSameAnswerAndKeepsTheFileName() throws Exception {
        Object[] form = Http.multipart("image", "../../etc/boot.png", "image/png", Files.readAllBytes(BOOT));
        JsonObject viaForm = json(Http.post(port, "/api/predict?scale=2", (String) form[0], (byte[]) form[1]), 200);
        JsonObject viaBody = json(Http.post(port, "/api/predict?scale=2", "image/png", Files.readAllBytes(BOOT)), 200);
        assertEquals("boot.png", viaForm.get("image").getAsString(), "only the last segment, never a path");
        assertEquals(viaBody.get("predictions"), viaForm.get("predictions"));
    }

    @Test
    void attentionAnswersWhatAttentionSaveWeightsWrites() throws Exception {
        for (String[] c : new String[][] {{"4", "mean", "1"}, {"2", "cls", "3"}, {"5", "rollout", "0.5"}}) {
            JsonArray api = json(Http.post(port, "/api/attention?block=" + c[0] + "&mode=" + c[1] + "&scale=" + c[2],
                    "image/png", Files.readAllBytes(BOOT)), 200, JsonArray.class);
            Path npy = tmp.resolve("w" + c[0] + c[1] + ".npy");
            List<String> args = new ArrayList<>(List.of("attention", BOOT.toString(), "--block", c[0], "--mode", c[1],
                    "--out", tmp.resolve("f.png").toString(), "--save-weights", npy.toString()));
            if (!c[2].equals("1")) {
                args.addAll(List.of("--scale-attn-logits", c[2]));
            }
            assertEquals(0, cli(args.toArray(String[]::new)).code);
            NpyArray written = Npy.read(npy);
            long[] s = written.shape();
            assertArrayEquals(new long[] {api.size(), api.get(0).getAsJsonArray().size(),
                    api.get(0).getAsJsonArray().get(0).getAsJsonArray().size()}, s, "[panels][gh][gw]");
            float[] w = written.floats();
            int i = 0;
            for (JsonElement panel : api) {
                for (JsonElement row : panel.getAsJsonArray()) {
                    for (JsonElement v : row.getAsJsonArray()) {
                        assertEquals(w[i++], v.getAsFloat(), 0f, "mode " + c[1] + ": the same float32 values");
                    }
                }
            }
        }
    }

    @Test
    void captureAnswersWhatCaptureWrites() throws Exception {
        HttpResponse<byte[]> r = Http.post(port, "/api/capture?block=4&scale=3", "image/png", Files.readAllBytes(BOOT));
        assertEquals(200, r.statusCode());
        Path api = tmp.resolve("api.npz");
        Files.write(api, r.body());
        Path file = tmp.resolve("cli.npz");
        assertEquals(0, cli("capture", BOOT.toString(), "--call", "blocks.4.attn", "--scale-attn-logits", "3",
                "--out", file.toString()).code);
        Map<String, NpyArray> a = Npz.read(api);
        Map<String, NpyArray> b = Npz.read(file);
        assertEquals(b.keySet(), a.keySet());
        for (String k : b.keySet()) {
            assertEquals(b.get(k), a.get(k), k);
        }
    }

    @Test
    void tokensAreTheCapturedAttentionAndScalingMatchesTheExperiment() throws Exception {
        HttpResponse<byte[]> r = Http.post(port, "/api/tokens?block=3", "image/png", Files.readAllBytes(BOOT));
        Path f = tmp.resolve("tokens.npy");
        Files.write(f, r.body());
        NpyArray t = Npy.read(f);
        int n = loaded.config().numHeads();
        int tokens = loaded.config().gridHeight() * loaded.config().gridWidth() + 1;
        assertArrayEquals(new long[] {n, tokens, tokens}, t.shape());
        float[] v = t.floats();
        for (int row = 0; row < n * tokens; row++) {
            double sum = 0;
            for (int j = 0; j < tokens; j++) {
                sum += v[row * tokens + j];
            }
            // a softmax row: float32 rounding of 17 terms, each ≤ 2^-24 relative: far below 1e-5
            assertEquals(1.0, sum, 1e-5, "softmax rows sum to 1");
        }
        JsonObject s = json(Http.post(port, "/api/scaling?top=3&factors=0.5,1,3", "image/png",
                Files.readAllBytes(BOOT)), 200);
        Classifier classifier = new Classifier(loaded);
        Input in = classifier.read(BOOT).get(0);
        var expected = new io.vitscope.experiment.ScalingExperiment(classifier).run(in, new double[] {0.5, 1, 3}, 3, -1);
        JsonArray classes = s.getAsJsonArray("classes");
        List<Integer> want = expected.classesToPlot(3, 3);
        assertEquals(want.size(), classes.size());
        for (int i = 0; i < want.size(); i++) {
            JsonObject c = classes.get(i).getAsJsonObject();
            assertEquals((int) want.get(i), c.get("index").getAsInt());
            for (int k = 0; k < 3; k++) {
                assertEquals(expected.probabilities()[k][want.get(i)],
                        c.getAsJsonArray("probabilities").get(k).getAsFloat(), 0f);
            }
        }
    }

    @Test
    void figuresAndViewAreImages() throws Exception {
        HttpResponse<byte[]> png = Http.post(port, "/api/figure?block=1&mode=cls&format=png&width=400", "image/png",
                Files.readAllBytes(BOOT));
        assertEquals(200, png.statusCode());
        assertEquals("image/png", png.headers().firstValue("Content-Type").orElse(""));
        assertEquals(400, javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png.body())).getWidth());
        // the same figure as the command's, to the byte: same library call, same renderer, same title
        HttpResponse<byte[]> same = Http.post(port, "/api/figure?block=2&mode=rollout&scale=3&width=500&name="
                + BOOT.getFileName(), "image/png", Files.readAllBytes(BOOT));
        Path cliPng = tmp.resolve("cli-figure.png");
        assertEquals(0, cli("attention", BOOT.toString(), "--block", "2", "--mode", "rollout", "--scale-attn-logits",
                "3", "--width", "500", "--out", cliPng.toString()).code);
        assertArrayEquals(Files.readAllBytes(cliPng), same.body());
        HttpResponse<byte[]> svg = Http.post(port, "/api/figure?format=svg", "image/png", Files.readAllBytes(BOOT));
        assertTrue(new String(svg.body(), StandardCharsets.UTF_8).contains("<svg"));
        HttpResponse<byte[]> view = Http.post(port, "/api/view", "image/png", Files.readAllBytes(BOOT));
        assertEquals(28, javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(view.body())).getWidth());
    }

    @Test
    void healthListsTheModelAndTheModesThePageShows() throws Exception {
        JsonObject h = JsonParser.parseString(new String(Http.get(port, "/api/health").body(), StandardCharsets.UTF_8))
                .getAsJsonObject();
        assertEquals("ok", h.get("status").getAsString());
        assertEquals(loaded.config().depth(), h.get("blocks").getAsInt());
        List<String> modes = new ArrayList<>();
        h.getAsJsonArray("modes").forEach(m -> modes.add(m.getAsJsonObject().get("name").getAsString()));
        assertEquals(List.of("mean", "cls", "rollout"), modes);
    }

    // ------------------------------------------------------------------ errors

    @Test
    void badParametersAre400() throws Exception {
        byte[] boot = Files.readAllBytes(BOOT);
        for (String q : List.of("/api/predict?top=0", "/api/predict?top=abc", "/api/predict?scale=-1",
                "/api/predict?scale=nan", "/api/attention?block=12", "/api/attention?block=-1",
                "/api/attention?mode=bogus", "/api/scaling?factors=1,1", "/api/figure?format=gif",
                "/api/figure?width=5")) {
            String e = error(Http.post(port, q, "image/png", boot), 400);
            assertFalse(e.isBlank(), q);
        }
        assertTrue(error(Http.post(port, "/api/attention?block=12", "image/png", boot), 400).contains("block"),
                "the message names the parameter");
        assertTrue(error(Http.post(port, "/api/predict", "image/png", new byte[0]), 400).contains("empty"));
        Object[] noField = Http.multipart("file", "a.png", "image/png", boot);
        assertTrue(error(Http.post(port, "/api/predict", (String) noField[0], (byte[]) noField[1]), 400)
                .contains("'image'"));
    }

    @Test
    void typesItDoesNotReadAre415() throws Exception {
        byte[] boot = Files.readAllBytes(BOOT);
        error(Http.post(port, "/api/predict", "text/plain", "hello".getBytes(StandardCharsets.UTF_8)), 415);
        error(Http.post(port, "/api/predict", "application/json", "{}".getBytes(StandardCharsets.UTF_8)), 415);
        error(Http.post(port, "/api/predict", "image/webp", boot), 415);
        Object[] text = Http.multipart("image", "notes.txt", "text/plain", "hello".getBytes(StandardCharsets.UTF_8));
        error(Http.post(port, "/api/predict", (String) text[0], (byte[]) text[1]), 415);
    }

    @Test
    void undecodableImagesAndBombsAre422() throws Exception {
        error(Http.post(port, "/api/predict", "image/png", "not a png".getBytes(StandardCharsets.UTF_8)), 422);
        byte[] boot = Files.readAllBytes(BOOT);
        error(Http.post(port, "/api/predict", "image/png", java.util.Arrays.copyOf(boot, boot.length / 2)), 422);
        // a 100 kB PNG whose header declares 60000 x 60000 pixels: refused from the header, never decoded
        String bomb = error(Http.post(port, "/api/predict", "image/png", pngDeclaring(60_000, 60_000)), 422);
        assertTrue(bomb.contains("decompression bombs"), bomb);
        // octet-stream parts are judged by their content
        Object[] form = Http.multipart("image", "x.bin", "application/octet-stream", "junk".getBytes());
        error(Http.post(port, "/api/predict", (String) form[0], (byte[]) form[1]), 422);
    }

    @Test
    void declaredOversizedBodyIs413BeforeItIsSent() throws Exception {
        // Only the headers and 10 bytes are sent: the answer must come without the server waiting for the rest.
        long t0 = System.nanoTime();
        Http.Answer a = Http.raw(port, "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                + "Content-Length: " + (25L * 1024 * 1024) + "\r\n\r\n", new byte[10]);
        assertEquals(413, a.status(), a.head());
        assertTrue(a.text().contains("limit"), a.text());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "answered without the body");
    }

    @Test
    void chunkedOversizedBodyIs413AfterTheLimit() throws Exception {
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        byte[] chunk = new byte[64 * 1024];
        for (long sent = 0; sent <= LIMIT + chunk.length; sent += chunk.length) {
            chunks.writeBytes((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            chunks.writeBytes(chunk);
            chunks.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunks.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Http.Answer a = Http.raw(port, "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", chunks.toByteArray());
        assertEquals(413, a.status(), a.head());
        Object[] form = Http.multipart("image", "big.png", "image/png", new byte[(int) LIMIT + 10]);
        error(Http.post(port, "/api/predict", (String) form[0], (byte[]) form[1]), 413);
    }

    // ------------------------------------------------------------------ files

    @Test
    void imagesAreServedFromTheListingOnly() throws Exception {
        JsonObject list = JsonParser.parseString(new String(Http.get(port, "/api/images").body(),
                StandardCharsets.UTF_8)).getAsJsonObject();
        List<String> names = new ArrayList<>();
        list.getAsJsonArray("images").forEach(e -> names.add(e.getAsString()));
        assertEquals(List.of("boot.png", "sub/bag.png"), names, "no symlink out of the folder, no linked folder");
        assertArrayEquals(Files.readAllBytes(BOOT), Http.get(port, "/images/boot.png").body());
        assertArrayEquals(Files.readAllBytes(BAG), Http.get(port, "/images/sub/bag.png").body());
    }

    @Test
    void traversalSymlinksAndAbsolutePathsAreRefused() throws Exception {
        String abs = tmp.resolve("secret.txt").toAbsolutePath().toString();
        List<String> attempts = List.of("/images/link.png", "/images/outdir/secret.png", "/images/../secret.txt",
                "/images/../../secret.txt", "/images/%2e%2e/secret.txt", "/images/%2E%2E%2Fsecret.txt",
                "/images/..%2fsecret.txt", "/images/..%5csecret.txt", "/images/sub/../../secret.txt",
                "/images/" + abs, "/images/" + abs.replace("/", "%2F"), "/images//" + abs, "/%2e%2e/secret.txt",
                "/../secret.txt", "/app.js/../../secret.txt", "/images/%252e%252e/secret.txt",
                "/images/..;/secret.txt", "/images/boot.png%00.txt", "/io/vitscope/serve/web/app.js",
                "/io/vitscope/cli/Main.class", "/images/" + "..%c0%af" + "secret.txt");
        for (String path : attempts) {
            Http.Answer a = Http.raw(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                    null);
            assertTrue(a.status() == 400 || a.status() == 404, path + " -> " + a.status());
            assertTrue(a.head().toLowerCase().contains("content-type: application/json"), path + ": " + a.head());
            assertFalse(a.text().contains(SECRET), path + " leaked the file");
        }
    }

    @Test
    void onlyTheBundledAssetsAreServed() throws Exception {
        for (String p : List.of("/", "/index.html", "/app.js", "/style.css")) {
            HttpResponse<byte[]> r = Http.get(port, p);
            assertEquals(200, r.statusCode(), p);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
            assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'self'"));
        }
        assertFalse(new String(Http.get(port, "/").body(), StandardCharsets.UTF_8).contains("http"),
                "the page loads nothing from other hosts");
        assertEquals(404, Http.get(port, "/app.js.map").statusCode());
    }

    // ------------------------------------------------------------------ cross-site

    @Test
    void noCorsHeadersAndCrossSiteRequestsRefused() throws Exception {
        Http.Answer health = Http.raw(port, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example"
                + "\r\nConnection: close\r\n\r\n", null);
        assertFalse(health.head().toLowerCase().contains("access-control-allow"), health.head());
        Http.Answer preflight = Http.raw(port, "OPTIONS /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: "
                + "http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n", null);
        assertFalse(preflight.head().toLowerCase().contains("access-control-allow"), preflight.head());
        byte[] boot = Files.readAllBytes(BOOT);
        Http.Answer post = Http.raw(port, "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: "
                + "http://evil.example\r\nContent-Type: image/png\r\nContent-Length: " + boot.length
                + "\r\nConnection: close\r\n\r\n", boot);
        assertEquals(403, post.status());
        // DNS rebinding: a name that resolves to 127.0.0.1 but is not this machine's name
        Http.Answer rebound = Http.raw(port, "GET /api/health HTTP/1.1\r\nHost: evil.example:" + port
                + "\r\nConnection: close\r\n\r\n", null);
        assertEquals(403, rebound.status());
        Http.Answer same = Http.raw(port, "POST /api/predict HTTP/1.1\r\nHost: localhost:" + port + "\r\nOrigin: "
                + "http://localhost:" + port + "\r\nContent-Type: image/png\r\nContent-Length: " + boot.length
                + "\r\nConnection: close\r\n\r\n", boot);
        assertEquals(200, same.status(), "the page's own origin may post");
    }

    // ------------------------------------------------------------------ load

    @Test
    void thirtyTwoConcurrentRequestsAllAnsweredCorrectly() throws Exception {
        Path[] files = {BOOT, BAG};
        double[] scales = {1, 3, 0.5, 8};
        // expected answers from the library, one at a time
        Map<String, List<Prediction>> expected = new java.util.HashMap<>();
        Classifier classifier = new Classifier(loaded);
        for (Path f : files) {
            for (double s : scales) {
                try (Probe probe = Probe.on(loaded.model()); NDManager m = NDManager.newBaseManager()) {
                    if (s != 1) {
                        LogitScaling.install(probe, s);
                    }
                    List<Input> in = classifier.read(f);
                    expected.put(f + "@" + s, classifier.top(classifier.logits(classifier.batch(m, in)), 5).get(0));
                }
            }
        }
        List<CompletableFuture<HttpResponse<byte[]>>> futures = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            Path f = files[i % 2];
            double s = scales[(i / 2) % 4];
            keys.add(f + "@" + s);
            futures.add(Http.CLIENT.sendAsync(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/api/predict?scale=" + s))
                    .header("Content-Type", "image/png").timeout(Duration.ofSeconds(120))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(Files.readAllBytes(f))).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int i = 0; i < 32; i++) {
            JsonObject o = json(futures.get(i).get(120, TimeUnit.SECONDS), 200);
            JsonArray preds = o.getAsJsonArray("predictions");
            List<Prediction> want = expected.get(keys.get(i));
            for (int r = 0; r < 5; r++) {
                JsonObject p = preds.get(r).getAsJsonObject();
                assertEquals(want.get(r).index(), p.get("index").getAsInt(), keys.get(i));
                // each request's scaling probe is on its own thread: no request sees another's factor
                assertEquals(want.get(r).probability(), p.get("probability").getAsFloat(), 0f, keys.get(i));
            }
        }
    }

    @Test
    void fullQueueIs503AndTheRestAreAnswered() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Explorer held = new Explorer(loaded).withMode(holding(entered, release));
        try (ExplorerServer one = ExplorerServer.start(held, ServeOptions.defaults().withPort(0).withImages(null)
                .withWorkers(1, 1))) {
            byte[] boot = Files.readAllBytes(BOOT);
            var running = Http.CLIENT.sendAsync(request(one.port(), "/api/attention?mode=hold", boot),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertTrue(entered.await(30, TimeUnit.SECONDS));
            var queued = Http.CLIENT.sendAsync(request(one.port(), "/api/predict", boot),
                    HttpResponse.BodyHandlers.ofByteArray());
            waitForQueue(one, 1);
            HttpResponse<byte[]> busy = Http.post(one.port(), "/api/predict", "image/png", boot);
            assertEquals(503, busy.statusCode());
            assertTrue(busy.headers().firstValue("Retry-After").isPresent());
            release.countDown();
            json(running.get(60, TimeUnit.SECONDS), 200, JsonArray.class);
            json(queued.get(60, TimeUnit.SECONDS), 200);
            assertEquals(1, one.rejected());
        }
    }

    @Test
    void aRequestPastItsTimeLimitStopsInsideTheForwardWith503() throws Exception {
        // A mode that holds its own forward at block 2 for longer than the limit: the limit's breakpoint at the
        // next block stops it.
        MapMode slow = new MapMode() {
            public String name() {
                return "slow";
            }

            public String description() {
                return "sleeps at blocks.2";
            }

            public Maps compute(Explorer.Pass pass, int block) {
                try (Probe p = Probe.on(loaded.model())) {
                    p.breakpoint("blocks.2", "pre_attn").exec(h -> sleep(1500));
                    return MapMode.MEAN.compute(pass, block);
                }
            }
        };
        Explorer ex = new Explorer(loaded).withMode(slow);
        try (ExplorerServer s = ExplorerServer.start(ex, ServeOptions.defaults().withPort(0).withImages(null)
                .withTimeout(Duration.ofSeconds(1)))) {
            String e = error(Http.post(s.port(), "/api/attention?mode=slow", "image/png", Files.readAllBytes(BOOT)),
                    503);
            assertTrue(e.contains("time limit"), e);
            json(Http.post(s.port(), "/api/predict", "image/png", Files.readAllBytes(BOOT)), 200);
        }
    }

    @Test
    void stopLetsRequestsInFlightFinish() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Explorer held = new Explorer(loaded).withMode(holding(entered, release));
        ExplorerServer s = ExplorerServer.start(held, ServeOptions.defaults().withPort(0).withImages(null)
                .withWorkers(1, 8));
        byte[] boot = Files.readAllBytes(BOOT);
        var running = Http.CLIENT.sendAsync(request(s.port(), "/api/attention?mode=hold", boot),
                HttpResponse.BodyHandlers.ofByteArray());
        assertTrue(entered.await(30, TimeUnit.SECONDS));
        List<CompletableFuture<HttpResponse<byte[]>>> queued = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            queued.add(Http.CLIENT.sendAsync(request(s.port(), "/api/predict", boot),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        waitForQueue(s, 3);
        Thread stopper = new Thread(s::stop);
        stopper.start();
        Thread.sleep(300);
        assertTrue(stopper.isAlive(), "stop waits for the requests in flight");
        release.countDown();
        stopper.join(60_000);
        assertFalse(stopper.isAlive());
        json(running.get(10, TimeUnit.SECONDS), 200, JsonArray.class);
        for (var q : queued) {
            json(q.get(10, TimeUnit.SECONDS), 200);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A map mode that signals when it runs and waits to be released: a request held on the worker. */
    private static MapMode holding(CountDownLatch entered, CountDownLatch release) {
        return new MapMode() {
            public String name() {
                return "hold";
            }

            public String description() {
                return "waits";
            }

            public Maps compute(Explorer.Pass pass, int block) {
                entered.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return MapMode.MEAN.compute(pass, block);
            }
        };
    }

    private static void waitForQueue(ExplorerServer s, int n) throws InterruptedException {
        for (int i = 0; i < 300 && s.queued() < n; i++) {
            Thread.sleep(20);
        }
        assertEquals(n, s.queued(), "requests waiting");
    }

    private static java.net.http.HttpRequest request(int port, String path, byte[] body) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "image/png").timeout(Duration.ofSeconds(120))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static JsonObject json(HttpResponse<byte[]> r, int status) {
        return json(r, status, JsonObject.class);
    }

    private static <T> T json(HttpResponse<byte[]> r, int status, Class<T> type) {
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), body);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertNull(r.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        return new Gson().fromJson(body, type);
    }

    /** Asserts the status and a JSON {"error": "..."} body; returns the message. */
    private static String error(HttpResponse<byte[]> r, int status) {
        JsonObject o = json(r, status);
        assertEquals(1, o.size(), "only the error: " + o);
        return o.get("error").getAsString();
    }

    private record Cli(int code, String out, String err) {}

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Cli(code, out.toString(), err.toString());
    }

    /** A valid PNG signature and IHDR declaring width x height, then a tiny IDAT and IEND: a header-level bomb. */
    static byte[] pngDeclaring(int width, int height) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(o, "IHDR", ihdr.array());
        chunk(o, "IDAT", new byte[100_000]);
        chunk(o, "IEND", new byte[0]);
        return o.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream o, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        o.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        o.writeBytes(t);
        o.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        o.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
