package io.vitscope.serve;

import com.google.gson.Gson;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.vitscope.InvalidInputException;
import io.vitscope.predict.Input;
import io.vitscope.predict.Prediction;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.model.VitConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.StatisticsHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The explorer's HTTP server (Javalin on Jetty): the bundled page, the demo images and the JSON API of
 * docs/api.md over one {@link Explorer}.
 *
 * <p>Safety: model work runs on a bounded pool with a bounded queue (503 when full, never a pile-up); bodies are
 * bounded ({@link Uploads}); images are decoded with the CLI's guards; each model request has a time limit enforced
 * inside the forward; files come only from an allow-list (the bundled assets, {@link ImageFolder}); the Host header
 * must name this machine when bound to loopback (DNS rebinding) and a cross-site Origin may not POST; no CORS
 * headers are ever sent; {@link #stop()} lets requests in flight finish.
 */
public final class ExplorerServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExplorerServer.class);
    private static final Gson GSON = new Gson();
    private static final String WEB = "/io/vitscope/serve/web/";
    /** The bundled assets, by URL path: nothing else from the class path is ever served. */
    private static final Map<String, String[]> ASSETS = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {"index.html", "text/html; charset=utf-8"},
            "/app.js", new String[] {"app.js", "text/javascript; charset=utf-8"},
            "/style.css", new String[] {"style.css", "text/css; charset=utf-8"});
    private static final String CSP = "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; "
            + "style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    /** The logit-scale factors of the page's probability-against-factor chart: 0.25–8 on a log scale. */
    static final double[] CHART_FACTORS = {0.25, 0.354, 0.5, 0.707, 1, 1.414, 2, 2.828, 4, 5.657, 8};

    private final Explorer explorer;
    private final ServeOptions options;
    private final ImageFolder images;
    private final ThreadPoolExecutor workers;
    private final Map<String, byte[]> assets = new LinkedHashMap<>();
    private final AtomicInteger rejected = new AtomicInteger();
    private final Javalin app;
    private volatile boolean draining;

    private ExplorerServer(Explorer explorer, ServeOptions options) {
        this.explorer = explorer;
        this.options = options;
        this.images = new ImageFolder(options.images());
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(options.workers(), options.workers(), 0, TimeUnit.SECONDS,
                options.queue() == 0 ? new java.util.concurrent.SynchronousQueue<>()
                        : new ArrayBlockingQueue<>(options.queue()),
                r -> {
                    Thread t = new Thread(r, "vitscope-serve-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        for (String[] a : ASSETS.values()) {
            assets.computeIfAbsent(a[0], ExplorerServer::bundled);
        }
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.http.maxRequestSize = options.maxBodyBytes();
            cfg.jetty.defaultHost = options.host();
            cfg.jetty.defaultPort = options.port();
            // HTTP threads only move bytes; the model work is on the bounded pool. Enough for queue + workers.
            cfg.jetty.threadPool = new QueuedThreadPool(Math.max(16, options.workers() + options.queue() + 8), 4);
            cfg.jetty.modifyServer(server -> {
                server.setHandler(new StatisticsHandler()); // makes Jetty's stop graceful: in-flight requests finish
                server.setStopTimeout(options.shutdownTimeout().toMillis());
                server.setStopAtShutdown(false);            // our own hook stops the pool first, then Jetty
                server.setErrorHandler(new JsonErrors());   // Jetty's own refusals (bad URIs) as JSON too
            });
        });
        routes();
    }

    /** Starts a server; {@link #url()} says where. */
    public static ExplorerServer start(Explorer explorer, ServeOptions options) {
        ExplorerServer s = new ExplorerServer(explorer, options);
        s.app.start();
        for (Connector c : s.app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setIdleTimeout(30_000); // a client that stops sending (slowloris) is dropped after 30 s
            }
        }
        return s;
    }

    public int port() {
        return app.port();
    }

    /** The page's address. */
    public URI url() {
        String h = options.host().contains(":") && !options.host().startsWith("[") ? "[" + options.host() + "]"
                : options.host();
        if (h.equals("0.0.0.0") || h.equals("[::]")) {
            h = "127.0.0.1";
        }
        return URI.create("http://" + h + ":" + port() + "/");
    }

    /** Model requests waiting for a worker now. */
    public int queued() {
        return workers.getQueue().size();
    }

    /** Requests refused because the queue was full, since the start. */
    public int rejected() {
        return rejected.get();
    }

    /**
     * Stops gracefully: new model requests get 503, those queued or running finish and are answered (up to the
     * shutdown timeout), then the HTTP server stops. What {@code vitscope serve} runs on SIGTERM.
     */
    public void stop() {
        draining = true;
        workers.shutdown();
        try {
            if (!workers.awaitTermination(options.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("requests still running after {}; stopping anyway", options.shutdownTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop(); // Jetty's graceful stop: responses being written are completed
        workers.shutdownNow();
    }

    @Override
    public void close() {
        stop();
    }

    // ------------------------------------------------------------------ routes

    private void routes() {
        app.before(this::guard);
        ASSETS.forEach((path, a) -> app.get(path, ctx -> {
            ctx.contentType(a[1]).header("Cache-Control", "no-cache").result(assets.get(a[0]));
        }));
        app.get("/api/health", ctx -> json(ctx, health()));
        app.get("/api/images", ctx -> json(ctx, Map.of("images", images.list())));
        app.get("/images/<name>", ctx -> {
            Path file = images.find(ctx.pathParam("name"))
                    .orElseThrow(() -> new ApiException(404, "no such image in the image folder"));
            ctx.contentType(ImageFolder.contentType(file)).result(Files.readAllBytes(file));
        });

        app.post("/api/predict", ctx -> {
            int top = intParam(ctx, "top", 5, 1, explorer.model().config().numClasses());
            double scale = scaleParam(ctx);
            work(ctx, (in, deadline) -> {
                List<Prediction> p = explorer.predict(explorer.pass(in, scale, deadline), top);
                return Reply.json(Prediction.toJson(in.source(), explorer.model().name(), p));
            });
        });
        app.post("/api/attention", ctx -> {
            int block = blockParam(ctx);
            String mode = modeParam(ctx);
            double scale = scaleParam(ctx);
            work(ctx, (in, deadline) -> Reply.json(
                    explorer.maps(explorer.pass(in, scale, deadline), block, mode).weights()));
        });
        app.post("/api/tokens", ctx -> {
            int block = blockParam(ctx);
            double scale = scaleParam(ctx);
            work(ctx, (in, deadline) -> Reply.file(explorer.tokensNpy(explorer.pass(in, scale, deadline), block),
                    "application/octet-stream", "attention_block" + block + ".npy"));
        });
        app.post("/api/capture", ctx -> {
            int block = blockParam(ctx);
            double scale = scaleParam(ctx);
            work(ctx, (in, deadline) -> Reply.file(explorer.capture(explorer.pass(in, scale, deadline), block),
                    "application/octet-stream", "capture_blocks." + block + ".attn.npz"));
        });
        app.post("/api/scaling", ctx -> {
            int top = intParam(ctx, "top", 5, 1, explorer.model().config().numClasses());
            int block = blockParam(ctx);
            double[] factors = factorsParam(ctx);
            work(ctx, (in, deadline) -> Reply.json(scalingJson(explorer.scaling(in, factors, top, block, deadline),
                    top)));
        });
        app.post("/api/figure", ctx -> {
            int block = blockParam(ctx);
            String mode = modeParam(ctx);
            double scale = scaleParam(ctx);
            int width = intParam(ctx, "width", 1000, 100, 4000);
            String format = ctx.queryParamAsClass("format", String.class).getOrDefault("png").toLowerCase(Locale.ROOT);
            if (!format.equals("png") && !format.equals("svg")) {
                throw new ApiException(400, "format must be png or svg, got '" + format + "'");
            }
            work(ctx, (in, deadline) -> {
                var grid = explorer.figure(explorer.pass(in, scale, deadline), block, mode);
                String name = "attention_block" + block + "_" + mode + "." + format;
                return format.equals("svg")
                        ? Reply.file(grid.toSvg(width).getBytes(StandardCharsets.UTF_8), "image/svg+xml", name)
                        : Reply.file(png(grid.toImage(width)), "image/png", name);
            });
        });
        app.post("/api/view", ctx -> work(ctx, (in, deadline) -> Reply.file(png(explorer.view(in)), "image/png",
                "view.png")));

        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
        app.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        });
        app.error(404, ctx -> {
            if (!"application/json".equals(ctx.res().getContentType())) {
                error(ctx, 404, "not found: " + ctx.path());
            }
        });
        app.error(405, ctx -> error(ctx, 405, "method not allowed: " + ctx.method() + " " + ctx.path()));
    }

    /**
     * Runs before every request: headers that keep the page from being framed or sniffed, the DNS-rebinding Host
     * check and the cross-site POST check. No CORS header is sent, so other sites' scripts cannot read answers.
     */
    private void guard(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("Cache-Control", "no-store");
        String host = ctx.header("Host");
        if (options.loopback() && !loopbackHost(host)) {
            throw new ApiException(403, "this server only answers requests addressed to 127.0.0.1 or localhost");
        }
        String origin = ctx.header("Origin");
        if (origin != null && !ctx.method().name().equals("GET") && !origin.equals("http://" + host)) {
            throw new ApiException(403, "cross-site requests are refused (Origin " + origin + ")");
        }
    }

    static boolean loopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 && h.substring(1, end).equals("::1");
        }
        int colon = h.indexOf(':');
        String name = colon >= 0 ? h.substring(0, colon) : h;
        return name.equals("localhost") || name.equals("127.0.0.1");
    }

    /** Jetty's error answers, for what it refuses before Javalin sees it (ambiguous URIs, bad headers), as JSON. */
    private static final class JsonErrors extends org.eclipse.jetty.server.handler.ErrorHandler {
        @Override
        public java.nio.ByteBuffer badMessageError(int status, String reason,
                                                   org.eclipse.jetty.http.HttpFields.Mutable fields) {
            fields.put(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE, "application/json");
            return java.nio.ByteBuffer.wrap(errorJson(status, reason).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        protected void generateAcceptableResponse(org.eclipse.jetty.server.Request baseRequest,
                                                  jakarta.servlet.http.HttpServletRequest request,
                                                  jakarta.servlet.http.HttpServletResponse response, int code,
                                                  String message) throws IOException {
            baseRequest.setHandled(true);
            response.setContentType("application/json");
            response.getOutputStream().write(errorJson(code, message).getBytes(StandardCharsets.UTF_8));
        }

        private static String errorJson(int status, String reason) {
            return GSON.toJson(Map.of("error", "bad request (" + status + ")" + (reason == null ? "" : ": "
                    + reason)));
        }
    }

    // ------------------------------------------------------------------ model work

    /** What a model request computes from the decoded input and its deadline. */
    @FunctionalInterface
    private interface Job {
        Reply run(Input input, long deadline);
    }

    /** An answer: a JSON value, or bytes with a media type and a download name. */
    private record Reply(Object json, byte[] bytes, String type, String fileName) {
        static Reply json(Object value) {
            return new Reply(value, null, null, null);
        }

        static Reply file(byte[] bytes, String type, String fileName) {
            return new Reply(null, bytes, type, fileName);
        }
    }

    /**
     * Reads the upload on this HTTP thread (bounded), then queues decoding and the model work on the pool; a full
     * queue answers 503 at once. The deadline starts now, so time spent queueing counts against it.
     */
    private void work(Context ctx, Job job) throws IOException {
        if (draining) {
            throw new ApiException(503, "the server is shutting down");
        }
        Uploads.Upload upload = Uploads.read(ctx.contentType(), ctx.req().getContentLengthLong(),
                ctx.req().getInputStream(), options.maxBodyBytes(), ctx.queryParam("name"));
        long deadline = System.nanoTime() + options.timeout().toNanos();
        CompletableFuture<Reply> result;
        try {
            long arrived = System.nanoTime();
            result = CompletableFuture.supplyAsync(() -> {
                long started = System.nanoTime();
                Input in = explorer.decode(upload.data(), upload.name());
                Reply reply = job.run(in, deadline);
                // Server-Timing: where the time went (the browser's dev tools and the load benchmark read it)
                ctx.header("Server-Timing", String.format(Locale.ROOT, "queue;dur=%.1f, model;dur=%.1f",
                        (started - arrived) / 1e6, (System.nanoTime() - started) / 1e6));
                return reply;
            }, workers);
        } catch (RejectedExecutionException e) {
            rejected.incrementAndGet();
            ctx.header("Retry-After", "1");
            throw new ApiException(503, draining ? "the server is shutting down"
                    : "the server is busy (" + options.workers() + " requests running, " + options.queue()
                            + " waiting): try again shortly");
        }
        // A backstop for work stuck outside a forward; the forward itself stops at the deadline.
        long backstop = options.timeout().toMillis() + 5_000;
        ctx.future(() -> result.orTimeout(backstop, TimeUnit.MILLISECONDS).handle((reply, e) -> {
            if (e == null) {
                send(ctx, reply);
            } else {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                failed(ctx, cause);
            }
            return null;
        }));
    }

    private static void send(Context ctx, Reply reply) {
        if (reply.json() != null) {
            json(ctx, reply.json());
        } else {
            ctx.contentType(reply.type());
            ctx.header("Content-Disposition", "attachment; filename=\"" + reply.fileName() + "\"");
            ctx.result(reply.bytes());
        }
    }

    private static void failed(Context ctx, Throwable e) {
        if (e instanceof ApiException a) {
            error(ctx, a.status(), a.getMessage());
        } else if (e instanceof InvalidInputException) {
            error(ctx, 422, "the image cannot be used: " + e.getMessage());
        } else if (e instanceof Explorer.TimeLimitExceeded || e instanceof TimeoutException) {
            error(ctx, 503, e instanceof TimeoutException ? "the request ran past its time limit" : e.getMessage());
        } else if (e instanceof IllegalArgumentException) {
            error(ctx, 400, e.getMessage());
        } else {
            LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        }
    }

    // ------------------------------------------------------------------ parameters and answers

    private Map<String, Object> health() {
        VitConfig c = explorer.model().config();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("status", draining ? "stopping" : "ok");
        o.put("model", explorer.model().name());
        o.put("blocks", c.depth());
        o.put("heads", c.numHeads());
        o.put("grid", List.of(c.gridHeight(), c.gridWidth()));
        o.put("input", List.of(c.inChans(), c.imgHeight(), c.imgWidth()));
        o.put("classes", c.numClasses());
        List<Map<String, String>> modes = new ArrayList<>();
        for (MapMode m : explorer.modes()) {
            modes.add(Map.of("name", m.name(), "description", m.description()));
        }
        o.put("modes", modes);
        o.put("defaultBlock", ScalingExperiment.defaultBlock(c.depth()));
        o.put("chartFactors", CHART_FACTORS);
        o.put("limits", Map.of("maxBodyBytes", options.maxBodyBytes(), "workers", options.workers(),
                "queue", options.queue(), "timeoutSeconds", options.timeout().toSeconds()));
        return o;
    }

    private Map<String, Object> scalingJson(ScalingExperiment.Result r, int top) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("image", r.source());
        o.put("model", r.model());
        o.put("block", r.block());
        o.put("factors", r.factorValues());
        List<Map<String, Object>> classes = new ArrayList<>();
        float[][] probs = r.probabilities();                                                      // (S, K)
        for (int k : r.classesToPlot(top, top)) {
            double[] p = new double[probs.length];
            for (int s = 0; s < probs.length; s++) {
                p[s] = probs[s][k];
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", k);
            m.put("label", explorer.model().labels().get(k));
            m.put("probabilities", p);
            classes.add(m);
        }
        o.put("classes", classes);
        return o;
    }

    private int blockParam(Context ctx) {
        int depth = explorer.model().config().depth();
        return intParam(ctx, "block", ScalingExperiment.defaultBlock(depth), 0, depth - 1);
    }

    private String modeParam(Context ctx) {
        String mode = ctx.queryParam("mode");
        if (mode == null) {
            return "mean";
        }
        for (MapMode m : explorer.modes()) {
            if (m.name().equals(mode)) {
                return mode;
            }
        }
        throw new ApiException(400, "mode must be one of " + String.join(", ",
                explorer.modes().stream().map(MapMode::name).toList()) + ", got '" + mode + "'");
    }

    private static int intParam(Context ctx, String name, int fallback, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ApiException(400, name + " must be a whole number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new ApiException(400, name + " must be in " + min + ".." + max + ", got " + n);
        }
        return n;
    }

    private static double scaleParam(Context ctx) {
        String v = ctx.queryParam("scale");
        if (v == null) {
            return 1;
        }
        double s = number("scale", v);
        if (!(s >= 1.0 / 64 && s <= 64)) {
            throw new ApiException(400, "scale must be in 1/64..64, got " + v);
        }
        return s;
    }

    private static double[] factorsParam(Context ctx) {
        String v = ctx.queryParam("factors");
        if (v == null) {
            return CHART_FACTORS.clone();
        }
        String[] parts = v.split(",");
        if (parts.length > 32) {
            throw new ApiException(400, "factors: at most 32, got " + parts.length);
        }
        double[] f = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            f[i] = number("factors", parts[i]);
            if (!(f[i] >= 1.0 / 64 && f[i] <= 64)) {
                throw new ApiException(400, "factors must each be in 1/64..64, got " + parts[i].trim());
            }
        }
        ScalingExperiment.requireFactors(f);
        return f;
    }

    private static double number(String name, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new ApiException(400, name + " must be a number, got '" + v + "'");
        }
    }

    private static void json(Context ctx, Object value) {
        ctx.contentType("application/json").result(GSON.toJson(value));
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status);
        json(ctx, Map.of("error", message == null ? "error " + status : message.replace('\n', ' ')));
    }

    private static byte[] png(java.awt.image.BufferedImage image) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] bundled(String name) {
        try (InputStream in = ExplorerServer.class.getResourceAsStream(WEB + name)) {
            if (in == null) {
                throw new IllegalStateException("the page asset " + WEB + name + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
