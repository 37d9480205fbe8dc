package io.vitscope.predict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.files.Outputs;
import io.vitscope.image.DataConfig;
import io.vitscope.weights.NpyWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Predicts many inputs — image files, folders of them, {@code .npy} tensors — in batches, streaming one result per
 * input (or one error per unusable file) to a consumer, in input order, as each batch's forward ends:
 *
 * <pre>{@code
 * PredictionRun.Summary s = PredictionRun.builder(classifier).setInputs(List.of(folder)).optBatch(8)
 *         .build().run(r -> System.out.println(r));
 * }</pre>
 *
 * <p><b>Threads.</b> Files are decoded and preprocessed in the background ({@value #READER_THREAD}, with one
 * {@value #DECODER_THREAD} per core, in file order), at most {@code prefetch} batches ahead, while the forwards run on
 * the calling thread; on a machine the forward's threads fill, the decoders start a file only between forwards
 * ({@link Gate}). A probe started on the calling thread (e.g. an attention-logit scaling) sees every forward, and
 * the consumer is called there. The reader and its decoders are stopped and joined before {@link #run} returns or
 * throws — when the inputs end, on {@code failFast}, when the consumer throws (a closed output) or when the calling
 * thread is interrupted — so no thread outlives a run.
 *
 * <p><b>Memory</b> is bounded by {@code prefetch + 2} batches and one file per core whatever the number of inputs:
 * results are not kept, and the dump ({@code optDump}) is appended batch by batch to {@code .npy} files that are
 * renamed into place only when the run completes. The dump folder is created and checked before the first forward.
 *
 * <p><b>Batches</b> group inputs in order across files ({@code batch} inputs per forward, the last one smaller);
 * what is predicted does not depend on the grouping beyond float32 summation order (see {@code docs/robustness.md}).
 */
public final class PredictionRun {

    /** The name of the background thread that reads and preprocesses files. */
    public static final String READER_THREAD = "vitscope-predict-reader";
    /** The name of the threads that decode the files for the reader (as many as there are cores). */
    public static final String DECODER_THREAD = "vitscope-predict-decoder";

    /** One input's outcome, in input order. */
    public sealed interface Result permits Predicted, Failed {}

    /**
     * An input's top classes.
     *
     * @param input the input as the model saw it
     * @param top   its top-k classes, best first
     * @param batch how many inputs its forward held
     */
    public record Predicted(Input input, List<Prediction> top, int batch) implements Result {}

    /**
     * A file that could not be used, or an input whose logits were not finite (not given with {@code failFast}, which
     * throws the error instead).
     *
     * @param source the file, or the input ({@code file.npy[i]} for one of a batch tensor's images)
     * @param error  what went wrong; its message names the source
     */
    public record Failed(String source, InvalidInputException error) implements Result {}

    /**
     * What a run did.
     *
     * @param files     files read (folders expanded)
     * @param failed    files that could not be used
     * @param predicted inputs predicted
     * @param inputs    the dump's {@code input.npy} [N, C, H, W], or null without a dump or with nothing predicted
     * @param logits    the dump's {@code logits.npy} [N, K], or null likewise
     */
    public record Summary(int files, int failed, long predicted, Path inputs, Path logits) {}

    private final Classifier classifier;
    private final List<Path> files;
    private final int batch;
    private final int top;
    private final Path dump;
    private final boolean failFast;
    private final int prefetch;
    private final IntConsumer progress;
    private final Consumer<String> phases;
    private final Boolean packWeights;

    private PredictionRun(Builder b) {
        this.classifier = b.classifier;
        this.files = b.files;
        this.batch = b.batch;
        this.top = b.top;
        this.dump = b.dump;
        this.failFast = b.failFast;
        this.prefetch = b.prefetch;
        this.progress = b.progress;
        this.phases = b.phases;
        this.packWeights = b.packWeights;
    }

    public static Builder builder(Classifier classifier) {
        return new Builder(classifier);
    }

    /** The files the run reads, folders expanded (sorted), in order. */
    public List<Path> files() {
        return files;
    }

    /**
     * Runs every input through the model, calling {@code results} on this thread for each input (or unusable file)
     * in order.
     *
     * @throws InvalidArgumentException when the dump folder cannot be created or written (before any forward)
     * @throws InvalidInputException    with {@code failFast}, the first unusable file's error, after the inputs before
     *                                  it were predicted and given to {@code results}
     */
    public Summary run(Consumer<? super Result> results) {
        boolean packedProducts = io.vitscope.engine.PackedGemm.takes(
                (long) batch * classifier.model().config().numTokens()); // larger batches would not take them
        if (packWeights != null ? packWeights : files.size() > batch && packedProducts) {
            classifier.model().model().packWeights(); // stays packed with the model, for its next forwards too
        }
        DataConfig c = classifier.model().dataConfig();
        int classes = classifier.model().config().numClasses();
        int failed = 0;
        long predicted = 0;
        try (Dump out = Dump.open(dump, new long[] {c.inChans(), c.height(), c.width()}, classes);
             NDManager manager = NDManager.newBaseManager();
             Reader reader = new Reader()) {
            reader.start();
            while (true) {
                Item item = reader.take();
                if (item instanceof Batch b) {
                    int nonFinite = forward(manager, reader, b, out, results);
                    predicted += b.inputs().size() - nonFinite;
                    failed += nonFinite;
                } else if (item instanceof Failure f) {
                    if (failFast) {
                        throw f.error();
                    }
                    failed++;
                    results.accept(new Failed(f.file().toString(), f.error()));
                } else if (item instanceof Crash crash) {
                    throw crash.rethrow();
                } else {
                    break;
                }
                progress.accept(item.filesDone());
            }
            Path[] dumped = out.commit();
            return new Summary(files.size(), failed, predicted, dumped[0], dumped[1]);
        } catch (IOException e) {
            throw new VitscopeException("Cannot write the dump to " + dump + " (" + e.getMessage()
                    + "): choose a folder you can write to", e);
        }
    }

    /** Predicts one batch, gives its results; returns how many inputs had non-finite logits (given as failures). */
    private int forward(NDManager manager, Reader reader, Batch b, Dump out, Consumer<? super Result> results)
            throws IOException {
        int nonFinite = 0;
        phases.accept("images decoded");
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = classifier.batch(scope, b.data(), b.inputs().size());         // (B, C, H, W)
            phases.accept("preprocessed");
            NDArray logits;
            reader.gate.close(); // on a machine the forward fills, decoding waits for it to end (Reader)
            try {
                logits = classifier.logits(x);                                        // (B, K)
            } finally {
                reader.gate.open();
            }
            List<Classifier.Ranking> tops = classifier.rank(logits, top);
            phases.accept("forward, top-k");
            out.append(b.data(), logits);
            for (int i = 0; i < tops.size(); i++) {
                Input input = b.inputs().get(i);
                if (!tops.get(i).finite()) {
                    // A per-input error, like an unreadable file: reported in its place, then the next input.
                    InvalidInputException e = new InvalidInputException(null, input.source() + ": "
                            + NonFiniteLogitsException.PROBLEM);
                    if (failFast) {
                        throw e;
                    }
                    nonFinite++;
                    results.accept(new Failed(input.source(), e));
                    continue;
                }
                results.accept(new Predicted(input, tops.get(i).top(), b.inputs().size()));
            }
        }
        return nonFinite;
    }

    // ----------------------------------------------------------------------------------------- the reader thread

    /** What the reader hands over, each with the number of files read when it was queued. */
    private sealed interface Item permits Batch, Failure, Crash, End {
        int filesDone();
    }

    /** {@code data} holds the inputs' tensors back to back: (B, C, H, W) in C order. */
    private record Batch(List<Input> inputs, float[] data, int filesDone) implements Item {}

    private record Failure(Path file, InvalidInputException error, int filesDone) implements Item {}

    /** Anything but an unusable file: a bug, out of memory. The run rethrows it on the calling thread. */
    private record Crash(Throwable error, int filesDone) implements Item {
        RuntimeException rethrow() {
            if (error instanceof Error e) {
                throw e;
            }
            return error instanceof RuntimeException r ? r : new VitscopeException("reading the inputs failed: " + error,
                    error);
        }
    }

    private record End(int filesDone) implements Item {}

    /**
     * Open unless a forward is running on a machine it fills. Where the forward's intra-op threads take every core, a
     * decode beside it takes a core from one of them mid-product and the other waits for it at the product's end:
     * overlapping cost more than decoding in series (ViT-B/16 at batch 8 on 2 cores: the pipeline at 94.7 % of the
     * forward-only rate, 95.6 % in series). There the files are decoded between forwards, by as many threads as
     * there are cores (docs/predict-pipeline.md); elsewhere the gate stays open and the decode overlaps the forward.
     */
    static final class Gate {
        private final boolean used;
        private boolean closed;

        Gate(boolean used) {
            this.used = used;
        }

        synchronized void close() {
            closed = used;
        }

        synchronized void open() {
            closed = false;
            notifyAll();
        }

        synchronized void awaitOpen() throws InterruptedException {
            while (closed) {
                wait();
            }
        }
    }

    /**
     * The background thread and its bounded queue; closing it stops and joins the thread and its decoders. The files
     * are decoded {@code decoders} at a time (the queue's items stay in file order), each decode starting only
     * while the gate is open.
     */
    private final class Reader implements AutoCloseable {
        private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(prefetch);
        private final Thread thread = new Thread(this::produce, READER_THREAD);
        private final int decoders = Runtime.getRuntime().availableProcessors();
        private final Gate gate = new Gate(decoders <= JniUtils.getNumThreads());
        private final ExecutorService pool = Executors.newFixedThreadPool(decoders, r -> {
            Thread t = new Thread(r, DECODER_THREAD);
            t.setDaemon(true);
            return t;
        });
        private volatile boolean stopping;

        void start() {
            thread.setDaemon(true); // never keeps a JVM alive, though close() always joins it
            thread.start();
        }

        /** The files' decodes in flight, in file order: at most {@link #decoders} at a time. */
        private final ArrayDeque<Future<List<Input>>> inFlight = new ArrayDeque<>();

        private void submit(Iterator<Path> next) {
            while (inFlight.size() < decoders && next.hasNext()) {
                Path file = next.next();
                inFlight.add(pool.submit(() -> {
                    gate.awaitOpen();
                    return classifier.read(file);
                }));
            }
        }

        /** The next file's inputs, or its error as an {@code InvalidInputException}. */
        private List<Input> next() throws InterruptedException {
            try {
                return inFlight.poll().get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof InvalidInputException ie) {
                    throw ie;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new VitscopeException("reading the inputs failed: " + cause, cause);
            }
        }

        Item take() {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VitscopeException("the prediction run was interrupted", e);
            }
        }

        private void produce() {
            List<Input> pending = new ArrayList<>();
            int done = 0;
            Iterator<Path> next = files.iterator();
            try {
                for (Path file : files) {
                    if (stopping) {
                        return;
                    }
                    submit(next);
                    InvalidInputException error = null;
                    try {
                        pending.addAll(next());
                    } catch (InvalidInputException e) {
                        error = e;
                    }
                    done++;
                    if (error != null) {
                        if (failFast) {
                            // The files before the bad one are still predicted: what gets printed must not depend
                            // on the batch size.
                            flush(pending, 1, done);
                            queue.put(new Failure(file, error, done));
                            return;
                        }
                        queue.put(new Failure(file, error, done));
                    }
                    flush(pending, batch, done);
                }
                flush(pending, 1, done);
                queue.put(new End(done));
            } catch (InterruptedException e) {
                // close() asked the thread to stop
            } catch (Throwable t) {
                pending.clear();
                try {
                    queue.put(new Crash(t, done));
                } catch (InterruptedException stopped) {
                    // close() asked the thread to stop
                }
            }
        }

        /** Queues batches of {@code batch} inputs while at least {@code atLeast} are pending. */
        private void flush(List<Input> pending, int atLeast, int done) throws InterruptedException {
            while (!pending.isEmpty() && pending.size() >= atLeast) {
                List<Input> chunk = List.copyOf(pending.subList(0, Math.min(batch, pending.size())));
                pending.subList(0, chunk.size()).clear();
                queue.put(new Batch(chunk, Classifier.pack(chunk), done));
            }
        }

        @Override
        public void close() {
            stopping = true;
            thread.interrupt();
            pool.shutdownNow();
            gate.open();
            boolean interrupted = false;
            while (thread.isAlive()) {
                queue.clear(); // a reader blocked on a full queue sees the interrupt, or room
                try {
                    thread.join(100);
                } catch (InterruptedException e) {
                    interrupted = true; // the reader must still be joined: no thread outlives its run
                }
            }
            while (!pool.isTerminated()) {
                try {
                    pool.awaitTermination(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true; // the decoders too
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ----------------------------------------------------------------------------------------- the dump

    /** {@code input.npy} and {@code logits.npy} written batch by batch, or nothing without a dump folder. */
    private static final class Dump implements AutoCloseable {
        private final NpyWriter inputs;
        private final NpyWriter logits;

        private Dump(NpyWriter inputs, NpyWriter logits) {
            this.inputs = inputs;
            this.logits = logits;
        }

        /** Creates the folder and opens both files in it: a folder that cannot be written fails here. */
        static Dump open(Path dir, long[] inputShape, int classes) {
            if (dir == null) {
                return new Dump(null, null);
            }
            Outputs.checkFolder(dir, "dump"); // the shared wording: "dump DIR cannot be written: ..."
            NpyWriter in = null;
            try {
                Files.createDirectories(dir);
                in = NpyWriter.open(dir.resolve("input.npy"), inputShape);
                return new Dump(in, NpyWriter.open(dir.resolve("logits.npy"), classes));
            } catch (IOException e) {
                closeQuietly(in);
                throw new InvalidArgumentException("dump", "dump " + dir + " cannot be written (" + e.getMessage()
                        + "); choose a folder you can write to");
            }
        }

        void append(float[] x, NDArray batchLogits) throws IOException {
            if (inputs != null) {
                inputs.append(x);
                logits.append(batchLogits.toFloatArray());
            }
        }

        /** Renames both files into place when they hold rows; returns their paths, or nulls. */
        Path[] commit() throws IOException {
            if (inputs == null || inputs.rows() == 0) {
                return new Path[2];
            }
            return new Path[] {inputs.commit(), logits.commit()};
        }

        @Override
        public void close() {
            closeQuietly(inputs);
            closeQuietly(logits);
        }

        private static void closeQuietly(NpyWriter w) {
            if (w != null) {
                try {
                    w.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------------- the builder

    /** {@code setInputs} is required; the rest is optional. */
    public static final class Builder {
        private final Classifier classifier;
        private List<Path> inputs;
        private List<Path> files;
        private int batch = 8;
        private int top = 5;
        private Path dump;
        private boolean failFast;
        private int prefetch = 2;
        private IntConsumer progress = done -> { };
        private Consumer<String> phases = phase -> { };
        private Boolean packWeights;

        private Builder(Classifier classifier) {
            this.classifier = classifier;
        }

        /** Image files, folders of them (their images, sorted; not recursive) and {@code .npy} tensors. */
        public Builder setInputs(List<Path> inputs) {
            this.inputs = List.copyOf(inputs);
            return this;
        }

        /** Inputs per forward (default 8). */
        public Builder optBatch(int batch) {
            this.batch = batch;
            return this;
        }

        /** Classes per result (default 5; more than the model has gives all of them). */
        public Builder optTop(int top) {
            this.top = top;
            return this;
        }

        /** A folder for {@code input.npy} [N, C, H, W] (exactly what the model saw) and {@code logits.npy} [N, K]. */
        public Builder optDump(Path dir) {
            this.dump = dir;
            return this;
        }

        /** Stop at the first unusable file, throwing its error, instead of reporting it and going on. */
        public Builder optFailFast(boolean failFast) {
            this.failFast = failFast;
            return this;
        }

        /** Batches prepared ahead of the forward (default 2): more smooths uneven files, each costs a batch's memory. */
        public Builder optPrefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /** Told on the calling thread how many files have been read, as their results are given. */
        public Builder optProgress(IntConsumer filesDone) {
            this.progress = filesDone;
            return this;
        }

        /**
         * Whether the run first packs the model's linear weights ({@code VisionTransformer.packWeights}): faster
         * products for a second copy of the weights in memory, which stays with the model. By default (null) a run
         * packs when its files fill more than one batch, where the one-off packing pays for itself, and its batches
         * are small enough to take the packed products ({@code PackedGemm.MAX_ROWS} rows: up to 4 images of 197
         * tokens).
         */
        public Builder optPackWeights(Boolean pack) {
            this.packWeights = pack;
            return this;
        }

        /**
         * Told on the calling thread as each batch ends a phase — {@code "images decoded"} (taken from the reader),
         * {@code "preprocessed"} (an array), {@code "forward, top-k"} — for start-up timings.
         */
        public Builder optPhases(Consumer<String> phases) {
            this.phases = phases;
            return this;
        }

        /**
         * Checks the settings and lists the folders.
         *
         * @throws InvalidArgumentException for a batch, top or prefetch below 1, or no inputs
         * @throws InvalidInputException    for a folder without images or that cannot be listed
         */
        public PredictionRun build() {
            if (inputs == null || inputs.isEmpty()) {
                throw new InvalidArgumentException("inputs", "inputs must name at least one file or folder");
            }
            check("batch", batch);
            check("top", top);
            check("prefetch", prefetch);
            files = Inputs.expand(inputs);
            return new PredictionRun(this);
        }

        private static void check(String name, int value) {
            if (value < 1) {
                throw new InvalidArgumentException(name, name + " must be at least 1, got " + value);
            }
        }
    }
}
