package io.vitscope.serve;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the explorer's server runs.
 *
 * @param host the address to bind; loopback unless the user says otherwise (there is no authentication)
 * @param port the port; 0 for any free one
 * @param images the demo image folder, or null for none
 * @param maxBodyBytes uploads above this many bytes are refused with 413
 * @param workers model requests run at once
 * @param queue model requests waiting for a worker; beyond it, 503
 * @param timeout the time limit of one model request, from its arrival (queueing included)
 * @param shutdownTimeout how long a stop waits for requests in flight
 */
public record ServeOptions(String host, int port, Path images, long maxBodyBytes, int workers, int queue,
                           Duration timeout, Duration shutdownTimeout) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final long DEFAULT_MAX_BODY_BYTES = 20L * 1024 * 1024;

    public ServeOptions {
        if (host == null || host.isBlank()) {
            throw new io.vitscope.InvalidArgumentException("host must be an address such as 127.0.0.1, got '" + host + "'");
        }
        if (port < 0 || port > 65535) {
            throw new io.vitscope.InvalidArgumentException("port must be in 0..65535, got " + port);
        }
        if (maxBodyBytes < 1) {
            throw new io.vitscope.InvalidArgumentException("maxBodyBytes must be positive, got " + maxBodyBytes);
        }
        if (workers < 1 || workers > 64) {
            throw new io.vitscope.InvalidArgumentException("workers must be in 1..64, got " + workers);
        }
        if (queue < 0 || queue > 10_000) {
            throw new io.vitscope.InvalidArgumentException("queue must be in 0..10000, got " + queue);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new io.vitscope.InvalidArgumentException("timeout must be positive, got " + timeout);
        }
        if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
            throw new io.vitscope.InvalidArgumentException("shutdownTimeout must be zero or more, got " + shutdownTimeout);
        }
    }

    /** Loopback, port 8080, {@code images/}, 20 MB uploads, 2 workers, 16 queued, 60 s per request, 30 s to stop. */
    public static ServeOptions defaults() {
        return new ServeOptions(DEFAULT_HOST, 8080, Path.of("images"), DEFAULT_MAX_BODY_BYTES, 2, 16,
                Duration.ofSeconds(60), Duration.ofSeconds(30));
    }

    public ServeOptions withHost(String h) {
        return new ServeOptions(h, port, images, maxBodyBytes, workers, queue, timeout, shutdownTimeout);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, images, maxBodyBytes, workers, queue, timeout, shutdownTimeout);
    }

    public ServeOptions withImages(Path dir) {
        return new ServeOptions(host, port, dir, maxBodyBytes, workers, queue, timeout, shutdownTimeout);
    }

    public ServeOptions withMaxBodyBytes(long n) {
        return new ServeOptions(host, port, images, n, workers, queue, timeout, shutdownTimeout);
    }

    public ServeOptions withWorkers(int n, int queued) {
        return new ServeOptions(host, port, images, maxBodyBytes, n, queued, timeout, shutdownTimeout);
    }

    public ServeOptions withTimeout(Duration t) {
        return new ServeOptions(host, port, images, maxBodyBytes, workers, queue, t, shutdownTimeout);
    }

    /** Whether {@link #host} only accepts connections from this machine. */
    public boolean loopback() {
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }
}
