package io.vitscope.predict;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.vitscope.Golden;
import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.predict.PredictionRun.Failed;
import io.vitscope.predict.PredictionRun.Predicted;
import io.vitscope.predict.PredictionRun.Result;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PredictionRun}: results in input order and equal to a serial loop's, per-file errors in place, the reader
 * thread bounded ahead of the forward and always joined, the dump streamed to numpy's exact bytes and its folder
 * checked before the first forward. Model: the golden tiny Hugging Face folder (32×32 inputs, 10 classes).
 */
class PredictionRunTest {

    private static final Path IMAGES = Path.of("src/test/resources/images");
    private static LoadedModel loaded;
    private static Classifier classifier;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        loaded = Models.load(null, Golden.dir("tiny/hf"));
        classifier = new Classifier(loaded);
    }

    @AfterAll
    static void close() {
        loaded.close();
    }

    @AfterEach
    void noReaderThreadOutlivesItsRun() {
        List<String> alive = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.equals(PredictionRun.READER_THREAD) || n.equals(PredictionRun.DECODER_THREAD)).toList();
        assertEquals(List.of(), alive, "reader threads still alive after run() returned or threw");
    }

    /** Good and bad files interleaved, and a .npy of two inputs: a_ c_ e_ f_ are good, b_ d_ are not. */
    private Path mixedFolder() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("mixed"));
        Files.copy(IMAGES.resolve("tiny_20x15.png"), dir.resolve("a_tiny.png"));
        Files.write(dir.resolve("b_empty.png"), new byte[0]);
        Files.copy(IMAGES.resolve("chelsea_200x150.jpg"), dir.resolve("c_chelsea.jpg"));
        byte[] jpg = Files.readAllBytes(IMAGES.resolve("coffee_150x260.jpg"));
        Files.write(dir.resolve("d_cut.jpg"), java.util.Arrays.copyOf(jpg, jpg.length / 3));
        Files.copy(Golden.file("tiny/input.npy"), dir.resolve("e_two.npy"));
        Files.copy(IMAGES.resolve("gray_97x75.png"), dir.resolve("f_gray.png"));
        return dir;
    }

    /** {@code n} copies of one image, named 000.png, 001.png, ... */
    private Path copies(int n) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("copies"));
        for (int i = 0; i < n; i++) {
            Files.copy(IMAGES.resolve("tiny_20x15.png"), dir.resolve(String.format("%03d.png", i)));
        }
        return dir;
    }

    private static List<Result> collect(PredictionRun run) {
        List<Result> out = new ArrayList<>();
        run.run(out::add);
        return out;
    }

    /** What the serial loop computes: the good inputs, in order, grouped {@code batch} at a time. */
    private static List<List<Prediction>> serial(List<Input> inputs, int batch, int top) {
        List<List<Prediction>> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i += batch) {
            try (NDManager m = NDManager.newBaseManager()) {
                out.addAll(classifier.top(classifier.logits(classifier.batch(m,
                        inputs.subList(i, Math.min(i + batch, inputs.size())))), top));
            }
        }
        return out;
    }

    @Test
    void resultsAndErrorsComeInInputOrderAndEqualTheSerialLoop() throws IOException {
        Path dir = mixedFolder();
        List<Input> good = new ArrayList<>();
        for (String f : List.of("a_tiny.png", "c_chelsea.jpg", "e_two.npy", "f_gray.png")) {
            good.addAll(classifier.read(dir.resolve(f)));
        }
        for (int batch : new int[] {1, 2, 3, 8}) {
            List<Result> results = collect(PredictionRun.builder(classifier).setInputs(List.of(dir)).optBatch(batch)
                    .optTop(3).build());
            List<Predicted> predicted = results.stream().filter(r -> r instanceof Predicted).map(r -> (Predicted) r)
                    .toList();
            assertEquals(good.stream().map(Input::source).toList(),
                    predicted.stream().map(p -> p.input().source()).toList(), "every good input, in order");
            // Bit-identical to the serial loop with the same grouping: the same forwards on the same values.
            assertEquals(serial(good, batch, 3), predicted.stream().map(Predicted::top).toList(), "batch " + batch);
            for (int i = 0; i < good.size(); i++) {
                assertArrayEquals(good.get(i).tensor(), predicted.get(i).input().tensor());
                assertEquals(Math.min(batch, good.size() - i / batch * batch), predicted.get(i).batch());
            }
            List<Path> failed = results.stream().filter(r -> r instanceof Failed).map(r -> Path.of(((Failed) r).source()))
                    .toList();
            assertEquals(List.of(dir.resolve("b_empty.png"), dir.resolve("d_cut.jpg")), failed);
            // An error is given before the results of every file after it.
            for (Path bad : failed) {
                int at = indexOfFailure(results, bad);
                for (int j = 0; j < at; j++) {
                    if (results.get(j) instanceof Predicted p) {
                        assertTrue(p.input().source().compareTo(bad.toString()) < 0, p.input().source()
                                + " came before the error of " + bad);
                    }
                }
            }
        }
    }

    private static int indexOfFailure(List<Result> results, Path file) {
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i) instanceof Failed f && f.source().equals(file.toString())) {
                return i;
            }
        }
        throw new AssertionError("no error for " + file);
    }

    /**
     * A run packs the model's linear weights when its files fill more than one batch (the one-off packing pays for
     * itself), not for a single batch nor for batches too large for the packed products, and as told when told; a
     * packed model predicts what the unpacked one did.
     */
    @Test
    void aRunOfMoreThanOneBatchPacksTheWeights() {
        io.vitscope.Prerequisites.require(io.vitscope.engine.PackedGemm.available(), "MKL's packed GEMM through "
                + "libvitscope_mklfix.so", "apt-get install gcc libc6-dev, then mvn compile");
        List<Path> three = List.of(IMAGES.resolve("tiny_20x15.png"), IMAGES.resolve("chelsea_200x150.jpg"),
                IMAGES.resolve("gray_97x75.png"));
        try (LoadedModel own = Models.load(null, Golden.dir("tiny/hf"))) {
            Classifier c = new Classifier(own);
            List<Result> one = collect(PredictionRun.builder(c).setInputs(three).optBatch(3).build());
            assertFalse(own.model().isPacked(), "three files in one batch of 3: nothing to amortise");
            collect(PredictionRun.builder(c).setInputs(three).optBatch(2).optPackWeights(false).build());
            assertFalse(own.model().isPacked(), "told not to");
            int tokens = own.config().numTokens();
            int big = io.vitscope.engine.PackedGemm.MAX_ROWS / tokens + 1; // images whose rows exceed the packed path's
            List<Path> many = java.util.Collections.nCopies(big + 1, three.get(0));
            collect(PredictionRun.builder(c).setInputs(many).optBatch(big).build());
            assertFalse(own.model().isPacked(), "batches of " + big + " images (" + big * tokens
                    + " rows) would not take the packed products");
            List<Result> two = collect(PredictionRun.builder(c).setInputs(three).optBatch(2).build());
            assertTrue(own.model().isPacked(), "three files in batches of 2");
            for (int i = 0; i < three.size(); i++) {
                assertEquals(((Predicted) one.get(i)).top().get(0).index(), ((Predicted) two.get(i)).top().get(0).index(),
                        "the same top-1, packed or not");
            }
        }
    }

    @Test
    void failFastPredictsTheFilesBeforeTheBadOneThenThrowsItsError() throws IOException {
        Path dir = mixedFolder();
        for (int batch : new int[] {1, 8}) {
            List<Result> results = new ArrayList<>();
            PredictionRun run = PredictionRun.builder(classifier).setInputs(List.of(dir)).optBatch(batch)
                    .optFailFast(true).optDump(tmp.resolve("dump" + batch)).build();
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> run.run(results::add));
            assertEquals(dir.resolve("b_empty.png"), e.file());
            assertEquals(1, results.size(), "a_tiny.png only, whatever the batch size: " + results);
            assertEquals(dir.resolve("a_tiny.png").toString(), ((Predicted) results.get(0)).input().source());
            try (Stream<Path> s = Files.list(tmp.resolve("dump" + batch))) {
                assertEquals(List.of(), s.toList(), "a failed run leaves no dump, whole or half-written");
            }
        }
    }

    @Test
    void aConsumerThatThrowsStopsTheRunAndItsReader() throws IOException {
        Path dir = copies(40);
        RuntimeException closed = new RuntimeException("standard output is closed");
        List<Result> seen = new ArrayList<>();
        PredictionRun run = PredictionRun.builder(classifier).setInputs(List.of(dir)).optBatch(2).build();
        RuntimeException e = assertThrows(RuntimeException.class, () -> run.run(r -> {
            seen.add(r);
            throw closed;
        }));
        assertSame(closed, e);
        assertEquals(1, seen.size(), "no result after the consumer failed");
    }

    @Test
    void anInterruptedRunStopsAndJoinsItsReader() throws IOException {
        Path dir = copies(40);
        List<Result> seen = new ArrayList<>();
        PredictionRun run = PredictionRun.builder(classifier).setInputs(List.of(dir)).optBatch(2).build();
        try {
            VitscopeException e = assertThrows(VitscopeException.class, () -> run.run(r -> {
                seen.add(r);
                Thread.currentThread().interrupt(); // as an interrupt from another thread would, mid-run
            }));
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt stays visible to the caller");
        } finally {
            Thread.interrupted();
        }
        assertTrue(seen.size() <= 2, "the run stops within the batch it was in: " + seen.size());
    }

    @Test
    void theReaderStaysAtMostPrefetchBatchesAhead() throws IOException {
        // When the first result arrives, delete every file: those the reader had already read are predicted, the
        // rest fail with "no such file". The reader can have read the batch being forwarded, the prefetched ones,
        // the one it is trying to queue and the files its decoders have taken (one per core): (prefetch + 2) · batch
        // + cores files at most, whatever the timing.
        Path dir = copies(60);
        List<Path> files = Inputs.expand(List.of(dir));
        for (int prefetch : new int[] {1, 3}) {
            int batch = 4;
            List<Result> results = new ArrayList<>();
            PredictionRun run = PredictionRun.builder(classifier).setInputs(files).optBatch(batch)
                    .optPrefetch(prefetch).build();
            run.run(r -> {
                if (results.isEmpty()) {
                    for (Path f : files) {
                        try {
                            Files.move(f, tmp.resolve("moved-" + f.getFileName()));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }
                results.add(r);
            });
            long predicted = results.stream().filter(r -> r instanceof Predicted).count();
            int cores = Runtime.getRuntime().availableProcessors();
            assertTrue(predicted >= batch && predicted <= (prefetch + 2L) * batch + cores,
                    "prefetch " + prefetch + ": " + predicted + " files read ahead");
            assertEquals(files.size(), results.size(), "one result per file");
            for (Path f : files) {
                Files.move(tmp.resolve("moved-" + f.getFileName()), f);
            }
        }
    }

    @Test
    void theDumpHasTheBytesOfTheWholeArraysWrittenAtOnce() throws IOException {
        Path dir = mixedFolder();
        Path dump = tmp.resolve("dump");
        PredictionRun.Summary s = PredictionRun.builder(classifier).setInputs(List.of(dir)).optBatch(3).optDump(dump)
                .build().run(r -> { });
        assertEquals(new PredictionRun.Summary(6, 2, 5, dump.resolve("input.npy").toAbsolutePath(),
                dump.resolve("logits.npy").toAbsolutePath()), s);
        // What predict --dump wrote before streaming: every batch's arrays concatenated, then Npy.write.
        List<Input> good = new ArrayList<>();
        for (String f : List.of("a_tiny.png", "c_chelsea.jpg", "e_two.npy", "f_gray.png")) {
            good.addAll(classifier.read(dir.resolve(f)));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> xs = new ArrayList<>();
            List<NDArray> logits = new ArrayList<>();
            for (int i = 0; i < good.size(); i += 3) {
                NDArray x = classifier.batch(m, good.subList(i, Math.min(i + 3, good.size())));
                xs.add(x);
                logits.add(classifier.logits(x));
            }
            Npy.write(tmp.resolve("input.npy"), NDArrays.concat(new NDList(xs)));
            Npy.write(tmp.resolve("logits.npy"), NDArrays.concat(new NDList(logits)));
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("input.npy")), Files.readAllBytes(s.inputs()));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("logits.npy")), Files.readAllBytes(s.logits()));
        try (Stream<Path> files = Files.list(dump)) {
            assertEquals(2, files.count(), "the two files and no temporary one");
        }
    }

    @Test
    void aDumpFolderThatCannotBeWrittenIsRefusedBeforeAnyForward() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain.txt"), "a file");
        for (Path dump : List.of(file, file.resolve("sub"), Path.of("/proc/vitscope-dump"))) {
            List<Result> results = new ArrayList<>();
            List<Integer> progress = new ArrayList<>();
            PredictionRun run = PredictionRun.builder(classifier).setInputs(List.of(IMAGES)).optDump(dump)
                    .optProgress(progress::add).build();
            try (Probe probe = Probe.on(loaded.model())) {
                CallCapture calls = probe.captureCalls("blocks.*.attn");
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> run.run(results::add));
                assertEquals("dump", e.parameter());
                assertTrue(e.getMessage().startsWith("dump " + dump + " "), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
                assertEquals(0, calls.all().size(), "no forward ran");
            }
            assertEquals(List.of(), results);
            assertEquals(List.of(), progress, "no file was read");
        }
    }

    @Test
    void settingsAreCheckedWhenBuilt() {
        for (String name : List.of("batch", "top", "prefetch")) {
            PredictionRun.Builder b = PredictionRun.builder(classifier).setInputs(List.of(IMAGES));
            switch (name) {
                case "batch" -> b.optBatch(0);
                case "top" -> b.optTop(0);
                default -> b.optPrefetch(-1);
            }
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, b::build);
            assertEquals(name, e.parameter());
        }
        assertThrows(InvalidArgumentException.class, () -> PredictionRun.builder(classifier).setInputs(List.of())
                .build());
    }
}
