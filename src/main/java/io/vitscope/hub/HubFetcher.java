package io.vitscope.hub;

import static io.vitscope.hub.ModelCache.PART_SUFFIX;

import io.vitscope.VitscopeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads timm checkpoints from the Hugging Face hub (or a mirror) into a {@link ModelCache}, the way
 * huggingface_hub's {@code hf_hub_download} does: {@code {endpoint}/{repo}/resolve/main/{file}}, redirects followed
 * (large files go to a CDN on another host), the SHA-256 of LFS files taken from {@code X-Linked-Etag} (or a plain
 * {@code ETag} that is one), their size from {@code X-Linked-Size}, and {@code HF_TOKEN} sent as a bearer token to the
 * hub only, never to the CDN.
 *
 * <p>Each file is written to {@code <file>.part}, resumed with {@code Range: bytes=N-} after an interruption (in the
 * same run, or the next), verified, and only then renamed into place atomically, so that a file in the cache is
 * always complete.
 */
public final class HubFetcher {

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    /** The variables huggingface_hub reads, so that one setting serves both. */
    public static final String ENDPOINT_ENV = "HF_ENDPOINT";
    public static final String TOKEN_ENV = "HF_TOKEN";
    public static final String REVISION = "main";
    /** Fetched in this order: the small config first, so that a wrong tag fails before a long transfer. */
    public static final List<String> MODEL_FILES = List.of(ModelCache.CONFIG_FILE, ModelCache.WEIGHTS_FILE);

    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "vitscope/0.1 (java/" + Runtime.version().feature() + ")";
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern UNSATISFIED_RANGE = Pattern.compile("bytes\\s+\\*/(\\d+)");

    /** How a file came to be in the cache. */
    public enum Outcome { DOWNLOADED, RESUMED, ALREADY_CACHED }

    /**
     * One file in the cache.
     *
     * @param sha256 its digest, or null for a cached file that was not checked
     * @param verified whether the digest matched one the hub announced or the caller pinned
     */
    public record FetchedFile(Path path, long bytes, Outcome outcome, String sha256, boolean verified) {}

    public record FetchedModel(ModelRef ref, Path dir, List<FetchedFile> files) {}

    private final URI endpoint;
    private final String token;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final int maxAttempts;
    private final Duration retryDelay;
    private final DownloadListener listener;

    private HubFetcher(Builder b) {
        this.endpoint = b.endpoint != null ? b.endpoint
                : b.envEndpoint != null ? parseEndpoint(b.envEndpoint, ENDPOINT_ENV) : DEFAULT_ENDPOINT;
        this.token = b.token != null ? b.token : b.envToken;
        this.connectTimeout = b.connectTimeout;
        this.readTimeout = b.readTimeout;
        this.maxAttempts = b.maxAttempts;
        this.retryDelay = b.retryDelay;
        this.listener = b.listener;
    }

    public static Builder builder() {
        return new Builder();
    }

    public URI endpoint() {
        return endpoint;
    }

    /** {@code {endpoint}/timm/{arch}.{tag}/resolve/main/{file}}, as huggingface_hub's {@code hf_hub_url}. */
    public URI fileUrl(ModelRef ref, String file) {
        return URI.create(endpoint + "/" + ref.repoId() + "/resolve/" + REVISION + "/" + file);
    }

    /**
     * Brings {@code config.json} and {@code model.safetensors} of {@code ref} into {@code cache}; files already there
     * are kept unless {@code force}.
     *
     * @param pinnedWeightsSha256 the SHA-256 {@code model.safetensors} must have (64 hex digits), or null to trust the
     *     hub's
     * @throws HubException when the hub cannot be reached, refuses, lacks the file, or serves a corrupt one
     */
    public FetchedModel fetch(ModelRef ref, ModelCache cache, String pinnedWeightsSha256, boolean force) {
        String pinned = pinnedWeightsSha256 == null ? null : Sha256.parse(pinnedWeightsSha256);
        Path dir = cache.dirOf(ref);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new VitscopeException("Cannot create " + dir + " (" + e.getMessage() + "): check its permissions, or"
                    + " set " + ModelCache.ENV + " to a writable directory", e);
        }
        List<FetchedFile> files = new ArrayList<>();
        try {
            for (String file : MODEL_FILES) {
                String expected = file.equals(ModelCache.WEIGHTS_FILE) ? pinned : null;
                files.add(download(fileUrl(ref, file), new Source(ref, file), dir.resolve(file), expected, force));
            }
        } catch (RuntimeException e) {
            // A fetch that fails leaves the cache as it found it: a config.json this call placed would otherwise
            // sit there without its weights (after a checksum mismatch, say) and look like a half-cached model.
            for (FetchedFile placed : files) {
                if (placed.outcome() != Outcome.ALREADY_CACHED) {
                    try {
                        Files.deleteIfExists(placed.path());
                    } catch (IOException ignored) {
                        // the original error matters more; a stray file is refetched or overwritten next time
                    }
                }
            }
            // A mistyped tag should not leave an empty directory behind; a partial download keeps it.
            try {
                Files.deleteIfExists(dir);
            } catch (IOException notEmpty) {
                // DirectoryNotEmptyException: it holds something worth keeping.
            }
            throw e;
        }
        return new FetchedModel(ref, dir, List.copyOf(files));
    }

    /** What is being fetched, for messages: a file of a hub repository. */
    record Source(ModelRef ref, String file) {
        String describe() {
            return file + " of " + ref.repoId();
        }
    }

    FetchedFile download(URI url, Source source, Path target, String pinned, boolean force) {
        Path part = target.resolveSibling(target.getFileName() + PART_SUFFIX);
        try {
            return downloadToPart(url, source, target, part, pinned, force);
        } finally {
            // A failure before the first byte leaves nothing worth resuming.
            deleteIfEmpty(part);
        }
    }

    private static void deleteIfEmpty(Path path) {
        try {
            if (Files.isRegularFile(path) && Files.size(path) == 0) {
                Files.delete(path);
            }
        } catch (IOException e) {
            // Harmless: an empty part file is restarted from zero by the next fetch.
        }
    }

    private FetchedFile downloadToPart(URI url, Source source, Path target, Path part, String pinned, boolean force) {
        try {
            if (force) {
                Files.deleteIfExists(target);
                Files.deleteIfExists(part);
            } else if (Files.isRegularFile(target)) {
                FetchedFile cached = checkCached(target, source, pinned);
                if (cached != null) {
                    return cached;
                }
            }
            try (FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
                 FileLock lock = lock(channel, part)) {
                Transfer transfer = transferWithRetries(url, source, channel, pinned);
                String expected = pinned != null ? pinned : transfer.announcedSha256;
                if (expected != null && !expected.equals(transfer.sha256)) {
                    channel.truncate(0);
                    Files.deleteIfExists(part);
                    throw new HubException(source.describe() + " is corrupt: its SHA-256 is " + transfer.sha256
                            + " but " + (pinned != null ? "you pinned " : "the server announced ") + expected
                            + ". The download was deleted; run the fetch again, and if this repeats, "
                            + (pinned != null ? "check the pinned checksum and the endpoint (" + endpoint + ")"
                                    : "the endpoint (" + endpoint + ") or a proxy is altering the file"));
                }
                String problem = CachedFormats.problem(source.file, part);
                if (problem != null) {
                    channel.truncate(0);
                    Files.deleteIfExists(part);
                    throw new HubException(source.describe() + " from " + origin(url) + " " + problem
                            + ". Nothing was cached; check " + ENDPOINT_ENV + " (" + endpoint + ") and any proxy or"
                            + " captive portal between you and it, then run the fetch again");
                }
                // Rename while the lock is held, so no other fetch can start writing the same part meanwhile.
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
                return new FetchedFile(target, transfer.bytes, transfer.resumed ? Outcome.RESUMED : Outcome.DOWNLOADED,
                        transfer.sha256, expected != null);
            }
        } catch (IOException e) {
            // Network errors were turned into HubExceptions below; what is left is the local disk.
            throw new VitscopeException("Cannot write " + part + " (" + e + "): check free space and permissions in "
                    + target.getParent(), e);
        }
    }

    /** The cached file if it can stay, or null after deleting one that does not match the pinned checksum. */
    private FetchedFile checkCached(Path target, Source source, String pinned) throws IOException {
        long size = Files.size(target);
        if (pinned == null) {
            String problem = CachedFormats.problem(source.file, target);
            if (problem == null) {
                return new FetchedFile(target, size, Outcome.ALREADY_CACHED, null, false);
            }
            listener.note("the cached " + source.file + " " + problem + "; fetching it again");
            Files.delete(target);
            return null;
        }
        String actual = Sha256.of(target);
        if (actual.equals(pinned)) {
            return new FetchedFile(target, size, Outcome.ALREADY_CACHED, actual, true);
        }
        listener.note("the cached " + source.file + " has SHA-256 " + actual + ", not the pinned " + pinned
                + "; fetching it again");
        Files.delete(target);
        return null;
    }

    private static FileLock lock(FileChannel channel, Path part) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new HubException("Another fetch is writing " + part + "; wait for it to finish (or delete that file"
                    + " if no fetch is running)");
        }
        return lock;
    }

    /** A finished transfer: what is on disk in the part file. */
    private record Transfer(String sha256, long bytes, String announcedSha256, boolean resumed) {}

    /** The connection broke while the body came: worth resuming. */
    private static final class TransferInterrupted extends Exception {
        TransferInterrupted(String reason, Throwable cause) {
            super(reason, cause);
        }
    }

    private Transfer transferWithRetries(URI url, Source source, FileChannel channel, String pinned)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return transfer(url, source, channel, pinned);
            } catch (TransferInterrupted e) {
                long have = channel.size();
                if (attempt >= maxAttempts) {
                    throw new HubException("The transfer of " + source.describe() + " was interrupted after "
                            + formatBytes(have) + " (" + e.getMessage() + "). Run the same fetch again to resume from"
                            + " there", e.getCause());
                }
                listener.note("transfer of " + source.file + " interrupted at " + formatBytes(have) + " ("
                        + e.getMessage() + "); resuming, attempt " + (attempt + 1) + " of " + maxAttempts);
                pause(retryDelay.multipliedBy(attempt));
            }
        }
    }

    private static void pause(Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("The fetch was interrupted; run it again to resume", e);
        }
    }

    /** One request (plus redirects) appending to the part file, or restarting it when the server cannot resume. */
    private Transfer transfer(URI url, Source source, FileChannel channel, String pinned)
            throws IOException, TransferInterrupted {
        long have = channel.size();
        Response response = open(url, source, have);
        if (have > 0 && !(response.status == 206 && response.rangeStart() == have)) {
            if (response.status == 416 && response.unsatisfiedRangeTotal() == have) {
                // The part is the whole file already: an earlier run stopped between the last byte and the rename.
                response.close();
                return new Transfer(digestOf(channel, have), have, response.meta.sha256(), true);
            }
            if (response.status == 200) {
                // The body on the wire is the whole file: take it from the start.
                listener.note("the server ignored the request to resume " + source.file + "; starting over");
            } else {
                response.close();
                listener.note("the server cannot resume " + source.file + " at " + formatBytes(have) + " (HTTP "
                        + response.status + "); starting over");
                response = open(url, source, 0);
            }
            channel.truncate(0);
            have = 0;
        }
        if (have == 0 && response.status != 200) {
            response.close();
            throw new HubException("The server answered HTTP " + response.status + " to a plain request for "
                    + source.describe() + " at " + url + "; try again later");
        }

        try (Response r = response) {
            String announced = r.meta.sha256();
            if (pinned != null && announced != null && !pinned.equals(announced)) {
                throw new HubException(source.describe() + " on " + endpoint + " has SHA-256 " + announced
                        + ", not the pinned " + pinned + ". Nothing was downloaded; check the pinned checksum and the"
                        + " tag");
            }
            long total = r.totalSize();
            long contentLength = r.connection.getContentLengthLong();
            if (r.status == 200 && total >= 0 && contentLength >= 0 && contentLength != total) {
                throw new HubException(source.describe() + ": " + origin(url) + " announced " + total + " bytes but"
                        + " sends " + contentLength + ". Nothing was cached; try again later, or check " + ENDPOINT_ENV);
            }
            MessageDigest digest = Sha256.newDigest();
            digestInto(digest, channel, have);
            channel.position(have);
            listener.started(source.file, have, total);
            try {
                InputStream in;
                try {
                    in = r.connection.getInputStream();
                } catch (IOException e) {
                    throw new TransferInterrupted(describe(e), e);
                }
                byte[] buffer = new byte[1 << 16];
                // Never past the announced length: a lying server's extra bytes must not reach the cache.
                while (total < 0 || have < total) {
                    int n;
                    try {
                        n = in.read(buffer, 0, total < 0 ? buffer.length : (int) Math.min(buffer.length, total - have));
                    } catch (IOException e) {
                        throw new TransferInterrupted(describe(e), e);
                    }
                    if (n < 0) {
                        break;
                    }
                    digest.update(buffer, 0, n);
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                    while (chunk.hasRemaining()) {
                        channel.write(chunk);
                    }
                    have += n;
                    listener.progressed(have);
                }
                if (total >= 0 && have == total && moreThanAnnounced(in)) {
                    channel.truncate(0);
                    throw new HubException(source.describe() + ": " + origin(url) + " sent more than the "
                            + total + " bytes it announced. Nothing was cached; try again later, or check "
                            + ENDPOINT_ENV + " (" + endpoint + ") and any proxy between you and it");
                }
            } finally {
                listener.finished();
            }
            if (total >= 0 && have < total) {
                throw new TransferInterrupted("the connection closed at " + formatBytes(have) + " of "
                        + formatBytes(total), null);
            }
            channel.force(false);
            return new Transfer(Sha256.hex(digest), have, announced, r.status == 206);
        }
    }

    /** Whether the body goes on after the announced length (a read error there is not worth failing for). */
    private static boolean moreThanAnnounced(InputStream in) {
        try {
            return in.read() >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String digestOf(FileChannel channel, long length) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        digestInto(digest, channel, length);
        return Sha256.hex(digest);
    }

    private static void digestInto(MessageDigest digest, FileChannel channel, long length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        for (long position = 0; position < length; ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - position));
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("the part file shrank while being read");
            }
            digest.update(buffer.array(), 0, n);
            position += n;
        }
    }

    /** What the hub said about the file before any redirect: the CDN's own ETag is not a content hash. */
    private record Meta(String linkedEtag, long linkedSize, String firstEtag) {
        String sha256() {
            if (Sha256.looksLikeSha256(linkedEtag)) {
                return linkedEtag.toLowerCase(Locale.ROOT);
            }
            // Small files are answered directly, with the git blob SHA-1 as ETag (40 digits): not a SHA-256.
            return Sha256.looksLikeSha256(firstEtag) ? firstEtag.toLowerCase(Locale.ROOT) : null;
        }
    }

    /** A final (non-redirect) response of status 200, 206 or 416. */
    private record Response(HttpURLConnection connection, int status, Meta meta) implements AutoCloseable {
        long rangeStart() {
            Matcher m = CONTENT_RANGE.matcher(Objects.toString(connection.getHeaderField("Content-Range"), ""));
            return m.matches() ? Long.parseLong(m.group(1)) : -1;
        }

        long unsatisfiedRangeTotal() {
            Matcher m = UNSATISFIED_RANGE.matcher(Objects.toString(connection.getHeaderField("Content-Range"), ""));
            return m.matches() ? Long.parseLong(m.group(1)) : -1;
        }

        long totalSize() {
            if (meta.linkedSize >= 0) {
                return meta.linkedSize;
            }
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(Objects.toString(connection.getHeaderField("Content-Range"), ""));
                return m.matches() && !m.group(3).equals("*") ? Long.parseLong(m.group(3)) : -1;
            }
            return connection.getContentLengthLong();
        }

        @Override
        public void close() {
            connection.disconnect();
        }
    }

    /**
     * Requests {@code url} from byte {@code from} on, following redirects by hand: to read the hub's headers on the
     * redirect itself, and to keep the token away from other hosts.
     */
    private Response open(URI url, Source source, long from) throws TransferInterrupted {
        URI current = url;
        String linkedEtag = null;
        long linkedSize = -1;
        String firstEtag = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpURLConnection c = connect(current, from);
            int status;
            try {
                status = c.getResponseCode();
            } catch (IOException e) {
                c.disconnect();
                throw new TransferInterrupted("no answer from " + origin(current) + ": " + describe(e), e);
            }
            if (linkedEtag == null) {
                linkedEtag = normalizeEtag(c.getHeaderField("X-Linked-Etag"));
            }
            if (linkedSize < 0) {
                linkedSize = parseLong(c.getHeaderField("X-Linked-Size"));
            }
            if (hop == 0) {
                firstEtag = normalizeEtag(c.getHeaderField("ETag"));
            }
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                String location = c.getHeaderField("Location");
                c.disconnect();
                if (location == null) {
                    throw new HubException(origin(current) + " redirected the request for " + source.describe()
                            + " (HTTP " + status + ") without saying where to; try again later");
                }
                try {
                    current = current.resolve(location);
                } catch (IllegalArgumentException e) {
                    throw new HubException(origin(current) + " redirected the request for " + source.describe()
                            + " to a malformed address: " + location, e);
                }
                continue;
            }
            if (status == 200 || status == 206 || status == 416) {
                return new Response(c, status, new Meta(linkedEtag, linkedSize, firstEtag));
            }
            HubException error = statusError(status, c, source, current);
            c.disconnect();
            throw error;
        }
        throw new HubException("Too many redirects (more than " + MAX_REDIRECTS + ") fetching " + source.describe()
                + " from " + url + "; check HF_ENDPOINT");
    }

    private HttpURLConnection connect(URI url, long from) {
        try {
            HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection();
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout((int) connectTimeout.toMillis());
            c.setReadTimeout((int) readTimeout.toMillis());
            c.setRequestProperty("User-Agent", USER_AGENT);
            // Byte ranges must count bytes of the file itself, not of a compressed rendition.
            c.setRequestProperty("Accept-Encoding", "identity");
            if (from > 0) {
                c.setRequestProperty("Range", "bytes=" + from + "-");
            }
            if (token != null && !token.isBlank() && sameOrigin(url, endpoint)) {
                c.setRequestProperty("Authorization", "Bearer " + token.strip());
            }
            c.connect();
            return c;
        } catch (IOException | IllegalArgumentException e) {
            throw unreachable(url, e);
        }
    }

    private HubException unreachable(URI url, Exception e) {
        boolean hub = sameOrigin(url, endpoint);
        return new HubException("Cannot reach " + origin(url) + " (" + describe(e) + "): check your network"
                + (hub ? ", or set " + ENDPOINT_ENV + " to a mirror you can reach"
                        : "; the hub sent the download there, so a firewall may be blocking it"), e);
    }

    private HubException statusError(int status, HttpURLConnection c, Source source, URI url) {
        String code = c.getHeaderField("X-Error-Code");
        String seen = " (HTTP " + status + (code != null ? " " + code : "") + " from " + url + ")";
        String repo = source.ref.repoId();
        String tags = "timm's checkpoints of " + source.ref.arch() + " are listed at " + endpoint
                + "/models?search=timm/" + source.ref.arch();
        String tokenHint = token == null ? "set " + TOKEN_ENV + " to an access token"
                : "check that " + TOKEN_ENV + " is valid and has access";
        if ("GatedRepo".equals(code) || status == 403) {
            return new HubException(repo + " refuses access" + seen + ": accept its terms on " + endpoint + "/" + repo
                    + ", then " + tokenHint);
        }
        if ("RepoNotFound".equals(code) || status == 401) {
            // The hub answers 401 both for missing repositories and for private ones when anonymous.
            return new HubException(repo + " does not exist on " + endpoint + ", or is private" + seen
                    + ": check the tag (" + tags + "); for a private repository, " + tokenHint);
        }
        if ("RevisionNotFound".equals(code)) {
            return new HubException(repo + " has no branch '" + REVISION + "'" + seen + "; " + tags);
        }
        if (status == 404) {
            return new HubException(repo + " has no file " + source.file + seen + ": check the tag (" + tags + ")");
        }
        if (status == 429) {
            return new HubException(endpoint + " is rate-limiting requests" + seen + ": wait a few minutes and run the"
                    + " fetch again" + (token == null ? ", or " + tokenHint : ""));
        }
        if (status >= 500) {
            return new HubException(origin(url) + " failed to serve " + source.describe() + seen + "; try again later");
        }
        return new HubException("Unexpected answer to the request for " + source.describe() + seen);
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static String origin(URI u) {
        return u.getScheme() + "://" + u.getRawAuthority();
    }

    /** The exception's message on one line (the CLI prints errors as one line), or its type if it has none. */
    private static String describe(Exception e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replaceAll("\\s+", " ").strip();
        if (e instanceof UnknownHostException) {
            return "unknown host " + message;
        }
        return message.isEmpty() ? e.getClass().getSimpleName() : message;
    }

    /** {@code W/"abc"} and {@code "abc"} to {@code abc}, as huggingface_hub's {@code _normalize_etag}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e.isEmpty() ? null : e;
    }

    private static long parseLong(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code 346.3 MB}: decimal units, as the hub's file listings show sizes. */
    public static String formatBytes(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /**
     * An endpoint URL given by the user: http(s), no trailing slash.
     *
     * @param origin where it came from, for the message: an option name or an environment variable
     */
    public static URI parseEndpoint(String text, String origin) {
        String trimmed = text.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        URI uri;
        try {
            uri = new URI(trimmed);
        } catch (java.net.URISyntaxException e) {
            uri = null;
        }
        if (uri == null || uri.getHost() == null || uri.getScheme() == null
                || !(uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))) {
            throw new VitscopeException(origin + " '" + text + "' is not an http(s) URL; expected something like "
                    + DEFAULT_ENDPOINT);
        }
        return uri;
    }

    /** Settings; everything is optional. */
    public static final class Builder {
        private URI endpoint;
        private String envEndpoint;
        private String token;
        private String envToken;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(60);
        private int maxAttempts = 3;
        private Duration retryDelay = Duration.ofSeconds(2);
        private DownloadListener listener = DownloadListener.NONE;

        private Builder() {}

        /** Reads {@code HF_ENDPOINT} and {@code HF_TOKEN}; explicit settings win over them. */
        public Builder optEnvironment(Map<String, String> env) {
            String e = env.get(ENDPOINT_ENV);
            this.envEndpoint = e == null || e.isBlank() ? null : e;
            String t = env.get(TOKEN_ENV);
            this.envToken = t == null || t.isBlank() ? null : t;
            return this;
        }

        public Builder optEndpoint(URI endpoint) {
            this.endpoint = endpoint == null ? null : parseEndpoint(endpoint.toString(), "endpoint");
            return this;
        }

        /** Bearer token for gated or private repositories; sent to the endpoint's host only. */
        public Builder optToken(String token) {
            this.token = token;
            return this;
        }

        public Builder optConnectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /** The longest silence tolerated while waiting for an answer or for the next bytes of a body. */
        public Builder optReadTimeout(Duration timeout) {
            this.readTimeout = timeout;
            return this;
        }

        /** Transfers per file within one fetch; each retry resumes where the last one broke off. */
        public Builder optMaxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("at least one attempt, got " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** Pause before the n-th retry: n times this. */
        public Builder optRetryDelay(Duration delay) {
            this.retryDelay = delay;
            return this;
        }

        public Builder optListener(DownloadListener listener) {
            this.listener = listener == null ? DownloadListener.NONE : listener;
            return this;
        }

        public HubFetcher build() {
            return new HubFetcher(this);
        }
    }
}
