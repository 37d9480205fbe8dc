package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import io.vitscope.Golden;
import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged PyTorch checkpoints (random bytes changed, mostly in the pickle, or the file cut short) are read, every
 * tensor materialised and inspected: each must give a result or an {@link InvalidInputException}, never another
 * exception, a hang or an abort. The pickle is untrusted input to a parser of its own.
 */
@Tag("fuzz")
class TorchCheckpointFuzzTest {

    private static final int ITERATIONS = Integer.getInteger("vitscope.fuzz.iterations", 300);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"model_legacy.pth", "model_views.pth", "train_checkpoint.pth"})
    void damagedCheckpointsFailOnlyWithNamedErrors(String seedFile) throws IOException {
        byte[] valid = Files.readAllBytes(Golden.dir("checkpoints/tiny").resolve(seedFile));
        int pickleEnd = pickleRegion(valid);
        Path input = dir.resolve("input.pth");
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        for (int i = 0; i < ITERATIONS; i++) {
            long seed = 18_000_003L * i + seedFile.hashCode();
            Random r = new Random(seed);
            byte[] bytes = r.nextInt(5) == 0 ? Arrays.copyOf(valid, r.nextInt(valid.length)) : valid.clone();
            int flips = 1 + r.nextInt(3);
            for (int f = 0; f < flips && bytes.length > 0; f++) {
                int at = r.nextInt(4) == 0 ? r.nextInt(bytes.length) : r.nextInt(Math.min(pickleEnd, bytes.length));
                bytes[at] = (byte) r.nextInt(256);
            }
            Files.write(input, bytes);
            try {
                try (TorchCheckpoint ck = TorchCheckpoint.open(input)) {
                    ck.tensors().values().forEach(TorchTensor::toFloatArray);
                }
                outcomes.merge("read", 1, Integer::sum);
            } catch (InvalidInputException e) {
                outcomes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
            } catch (Throwable t) {
                Path kept = Path.of("target", "fuzz-failures", "pth-" + seedFile + "-" + seed);
                Files.createDirectories(kept.getParent());
                Files.write(kept, bytes);
                fail(seedFile + " iteration " + i + " (kept in " + kept + ") threw " + t, t);
            }
            try {
                Inspection.of(input).text();
            } catch (InvalidInputException e) {
                // named
            } catch (Throwable t) {
                fail("inspect: " + seedFile + " iteration " + i + " threw " + t, t);
            }
        }
        System.out.printf("pth fuzz %s: %d inputs, %s%n", seedFile, ITERATIONS, outcomes);
    }

    /** Where the pickle lies: a zip's data.pkl sits near the start; a legacy file starts with its pickles. */
    private static int pickleRegion(byte[] file) {
        return Math.min(file.length, 6_000);
    }
}
