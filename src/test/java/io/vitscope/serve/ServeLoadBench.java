package io.vitscope.serve;

import io.vitscope.ResidentMemory;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load benchmark of {@code vitscope serve} (not a test; scripts/serve_load.sh runs it): N clients post the same
 * image to {@code /api/predict} in a loop for S seconds against the server in this process on a loopback port, then
 * it prints throughput, p50/p99 latency of the answered requests, the count of each status, and the resident memory
 * of the process before and after.
 *
 * <p>Arguments: {@code [embedded|ARCH] clients seconds [workers queue timeout-seconds]}; ARCH (e.g.
 * vit_base_patch16_224) is built with random weights in memory.
 */
public final class ServeLoadBench {

    private ServeLoadBench() {}

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "embedded";
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int queue = args.length > 4 ? Integer.parseInt(args[4]) : 16;
        int timeout = args.length > 5 ? Integer.parseInt(args[5]) : 60;       // the server's default limit
        boolean embedded = model.equals("embedded");
        Path image = Path.of(embedded ? "images/fashion/fashion_0_ankle_boot.png" : "images/photos/chelsea.jpg");
        byte[] body = Files.readAllBytes(image);
        try (LoadedModel loaded = embedded ? Models.loadDefault() : Models.random(model, 0);
             ExplorerServer server = ExplorerServer.start(new Explorer(loaded), ServeOptions.defaults().withPort(0)
                     .withImages(null).withWorkers(workers, queue).withTimeout(Duration.ofSeconds(timeout)))) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + "/api/predict")).header("Content-Type", "image/" + (embedded ? "png" : "jpeg"))
                    .timeout(Duration.ofSeconds(180)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            for (int i = 0; i < 5; i++) {                                   // warm-up: engine, JIT, allocator
                Http.CLIENT.send(request, HttpResponse.BodyHandlers.ofByteArray());
            }
            long rssBefore = ResidentMemory.settled();
            long heapBefore = Runtime.getRuntime().totalMemory();
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            List<Double> serverMs = Collections.synchronizedList(new ArrayList<>());   // queue + model, from the server
            Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
            Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
            AtomicInteger failures = new AtomicInteger();
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Thread t = new Thread(() -> {
                    while (System.nanoTime() < end) {                      // bounded by the clock
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<byte[]> r = Http.CLIENT.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                            if (r.statusCode() == 200) {
                                latencies.add(System.nanoTime() - t0);
                                serverMs.add(serverTime(r));
                            } else if (r.statusCode() == 503) {
                                String why = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)
                                        .contains("busy") ? "busy" : "time limit";
                                refusals.computeIfAbsent(why, k -> new AtomicInteger()).incrementAndGet();
                                Thread.sleep(50);                          // a polite client honours Retry-After
                            }
                        } catch (Exception e) {
                            failures.incrementAndGet();
                        }
                    }
                });
                t.start();
                threads.add(t);
            }
            List<Long> during = new ArrayList<>();                         // every 10 s, no GC asked for
            while (System.nanoTime() < end) {
                Thread.sleep(Math.max(1, Math.min(10_000, (end - System.nanoTime()) / 1_000_000)));
                during.add(rss());
            }
            for (Thread t : threads) {
                t.join();
            }
            long rssAfter = ResidentMemory.settled();
            long heapAfter = Runtime.getRuntime().totalMemory();
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            double ok = sorted.size();
            System.out.printf(Locale.ROOT, "model %s, %d clients, %d s, %d workers, queue %d, time limit %d s (load "
                            + "average at the end %.2f)%n", loaded.name(), clients, seconds, workers, queue, timeout,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            System.out.printf(Locale.ROOT, "answered 200: %d = %.1f requests/s; latency p50 %.1f ms, p99 %.1f ms%n",
                    sorted.size(), ok / seconds, percentile(sorted, 0.50), percentile(sorted, 0.99));
            List<Double> sides = new ArrayList<>(serverMs);
            Collections.sort(sides);
            System.out.printf(Locale.ROOT, "server-side time of the 200s (queue + model, Server-Timing): p50 %.1f ms, "
                    + "p99 %.1f ms%n", sides.isEmpty() ? Double.NaN : sides.get(sides.size() / 2),
                    sides.isEmpty() ? Double.NaN : sides.get(Math.max(0, (int) Math.ceil(0.99 * sides.size()) - 1)));
            System.out.println("statuses: " + new TreeMap<>(statuses) + " (503: " + new TreeMap<>(refusals)
                    + "), connection failures: " + failures.get());
            System.out.printf(Locale.ROOT, "resident memory: %.0f MB before, %.0f MB after (after a GC); during: %s MB%n",
                    rssBefore / 1e6, rssAfter / 1e6, during.stream().map(b -> String.valueOf(Math.round(b / 1e6)))
                            .toList());
            System.out.printf(Locale.ROOT, "of which Java heap committed: %.0f MB before, %.0f MB after%n",
                    heapBefore / 1e6, heapAfter / 1e6);
        }
    }

    private static double serverTime(HttpResponse<?> r) {
        double total = 0;
        for (String part : r.headers().firstValue("Server-Timing").orElse("").split(",")) {
            int d = part.indexOf("dur=");
            if (d >= 0) {
                total += Double.parseDouble(part.substring(d + 4).trim());
            }
        }
        return total;
    }

    private static long rss() throws java.io.IOException {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(f[1]) * 4096L;
    }

    private static double percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e6;
    }
}
