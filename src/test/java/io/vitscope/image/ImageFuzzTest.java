package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vitscope.InvalidInputException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Mutated PNG, JPEG, GIF and BMP bytes through {@link ImageReader} and {@link EvalTransform}: the only acceptable
 * failure is {@link InvalidInputException}; any other throwable, or a case running past {@link #CASE_TIMEOUT_MS},
 * fails with the seed and mutation needed to reproduce it.
 *
 * <p>Iterations come from {@code -Dvitscope.fuzz.iterations} (default 10,000: about 10 s on 2 cores). The long run:
 * <pre>
 * mvn -o test -Dtest=ImageFuzzTest -Dvitscope.fuzz.iterations=100000 -Dvitscope.fuzz.seed=1
 * </pre>
 * (surefire passes {@code -D} user properties to the forked test JVM as system properties.)
 */
@Tag("fuzz")
class ImageFuzzTest {

    private static final long CASE_TIMEOUT_MS = 10_000;
    private static final List<String> SEEDS = List.of("chelsea_200x150.jpg", "chelsea_200x150_prog.jpg",
            "tiny_20x15.png", "palette_97x75.png", "rgb16_97x75.png", "gray_97x75.jpg", "cmyk_97x75.jpg",
            "exif6_150x100.jpg", "anim_97x75.gif", "rgb_97x75.bmp", "palette_97x75.bmp", "la_97x75.png");
    /** A small pixel limit keeps mutated-but-plausible headers (e.g. 9000x9000) quick to refuse. */
    private static final ImageReader READER = ImageReader.defaults().withMaxPixels(4_000_000);
    private static final EvalTransform TRANSFORM = new EvalTransform(
            DataConfig.rgb(32, 0.9, DataConfig.Interpolation.BICUBIC, DataConfig.IMAGENET_DEFAULT_MEAN,
                    DataConfig.IMAGENET_DEFAULT_STD));

    @Test
    void mutatedImagesFailOnlyWithInvalidInputException() throws Exception {
        int iterations = Integer.getInteger("vitscope.fuzz.iterations", 10_000);
        long seed = Long.getLong("vitscope.fuzz.seed", 20240601L);
        byte[][] originals = new byte[SEEDS.size()][];
        for (int i = 0; i < SEEDS.size(); i++) {
            originals[i] = Files.readAllBytes(Goldens.IMAGES.resolve(SEEDS.get(i)));
        }
        for (int i = 0; i < SEEDS.size(); i++) {
            assertEquals("ok", runOne(originals[i]), "the unmutated seed " + SEEDS.get(i) + " must decode");
        }
        Map<String, Integer> outcomes = new TreeMap<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "image-fuzz");
            t.setDaemon(true); // a hung decoder must not keep the JVM alive
            return t;
        });
        long worstMs = 0;
        long start = System.nanoTime();
        try {
            for (int it = 0; it < iterations; it++) {
                Random rnd = new Random(seed * 1_000_003L + it);
                int which = rnd.nextInt(originals.length);
                StringBuilder how = new StringBuilder();
                byte[] data = mutate(originals[which], rnd, how);
                String label = "case " + it + " (seed " + seed + ", " + SEEDS.get(which) + ", " + how + ")";
                long t0 = System.nanoTime();
                Future<String> f = pool.submit(() -> runOne(data));
                try {
                    String outcome = f.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    outcomes.merge(outcome, 1, Integer::sum);
                } catch (TimeoutException e) {
                    f.cancel(true);
                    fail(label + " ran longer than " + CASE_TIMEOUT_MS + " ms");
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    AssertionError err = new AssertionError(label + " threw " + cause, cause);
                    throw err;
                }
                worstMs = Math.max(worstMs, (System.nanoTime() - t0) / 1_000_000);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("image fuzz: %d cases in %.1f s, slowest %d ms, outcomes %s%n", iterations,
                (System.nanoTime() - start) / 1e9, worstMs, outcomes);
        // Most mutations land in compressed pixel data, which decoders turn into a (damaged) image rather than an
        // error: about 40% of cases decode at the default seed. A reader that refused everything, or refused every
        // damaged file, would otherwise pass; 10% is far below that share and far above zero.
        int ok = outcomes.getOrDefault("ok", 0);
        assertTrue(ok >= 0.10 * iterations, "only " + ok + " of " + iterations + " mutated images decoded: " + outcomes);
        assertTrue(outcomes.size() >= 5, "too few distinct outcomes for a reader that tells problems apart: "
                + outcomes);
    }

    /** "ok" or the first words of the InvalidInputException's problem; anything else propagates. */
    private static String runOne(byte[] data) {
        try {
            Image8 im = READER.read(data, "fuzz.bin");
            float[] x = TRANSFORM.apply(im);
            if (x.length != 3 * 32 * 32) {
                throw new AssertionError("tensor of " + x.length + " values");
            }
            return "ok";
        } catch (InvalidInputException e) {
            String problem = e.getMessage().substring("fuzz.bin: ".length());
            String[] words = problem.split("[ :]+");
            return String.join(" ", Arrays.copyOf(words, Math.min(3, words.length)));
        }
    }

    static byte[] mutate(byte[] src, Random rnd, StringBuilder how) {
        byte[] d = src.clone();
        int kind = rnd.nextInt(7);
        switch (kind) {
            case 0 -> { // bit flips
                int n = 1 + rnd.nextInt(8);
                how.append(n).append(" bit flips");
                for (int i = 0; i < n; i++) {
                    int p = rnd.nextInt(d.length);
                    d[p] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // truncation
                int len = rnd.nextInt(d.length);
                how.append("truncated to ").append(len);
                d = Arrays.copyOf(d, len);
            }
            case 2 -> { // random bytes over a span
                int p = rnd.nextInt(d.length);
                int n = Math.min(d.length - p, 1 + rnd.nextInt(64));
                how.append(n).append(" random bytes at ").append(p);
                for (int i = 0; i < n; i++) {
                    d[p + i] = (byte) rnd.nextInt(256);
                }
            }
            case 3 -> { // header fields: first 64 bytes, where dimensions, depths, lengths live
                int p = rnd.nextInt(Math.min(64, d.length));
                int v = new int[] {0, 0xFF, 0x7F, 0x80, rnd.nextInt(256)}[rnd.nextInt(5)];
                how.append("header byte ").append(p).append(" = ").append(v);
                d[p] = (byte) v;
            }
            case 4 -> { // a length or dimension field anywhere: 2 or 4 big/little-endian bytes set to an extreme
                int p = rnd.nextInt(Math.max(1, d.length - 4));
                int[] extremes = {0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 60000, rnd.nextInt()};
                int v = extremes[rnd.nextInt(extremes.length)];
                how.append("int at ").append(p).append(" = ").append(Integer.toUnsignedString(v));
                for (int i = 0; i < 4 && p + i < d.length; i++) {
                    d[p + i] = (byte) (v >>> (8 * (rnd.nextBoolean() ? i : 3 - i)));
                }
            }
            case 5 -> { // duplicate or delete a span (chunk/segment structure)
                int p = rnd.nextInt(d.length);
                int n = Math.min(d.length - p, 1 + rnd.nextInt(256));
                if (rnd.nextBoolean()) {
                    how.append("deleted ").append(n).append(" at ").append(p);
                    byte[] out = new byte[d.length - n];
                    System.arraycopy(d, 0, out, 0, p);
                    System.arraycopy(d, p + n, out, p, d.length - p - n);
                    d = out;
                } else {
                    how.append("duplicated ").append(n).append(" at ").append(p);
                    byte[] out = new byte[d.length + n];
                    System.arraycopy(d, 0, out, 0, p + n);
                    System.arraycopy(d, p, out, p + n, d.length - p);
                    d = out;
                }
            }
            default -> { // completely random content of a random length, with a real magic number half the time
                int len = rnd.nextInt(512);
                how.append("random ").append(len).append(" bytes");
                byte[] out = new byte[len];
                rnd.nextBytes(out);
                if (rnd.nextBoolean()) {
                    System.arraycopy(src, 0, out, 0, Math.min(Math.min(len, src.length), 8 + rnd.nextInt(40)));
                }
                d = out;
            }
        }
        return d;
    }
}
