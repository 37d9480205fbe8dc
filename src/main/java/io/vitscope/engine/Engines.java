package io.vitscope.engine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import io.vitscope.InvalidArgumentException;

/**
 * The one entry point that starts DJL's PyTorch engine the way vitscope wants it: first the MKL fast path
 * ({@link MklFastPath}, which must be in place before libtorch loads), then libtorch's intra-op thread count.
 *
 * <p>Whoever starts the engine calls it once, before the first model or NDArray: the CLI's root, the tests' set-up
 * ({@code io.vitscope.EngineSetup}), a notebook's first cell, an application's {@code main}. Calling it again is
 * harmless (the fast path loads once; a thread count is applied each time one is given).
 *
 * <pre>{@code
 * Engines.start();          // MKL fast path; libtorch's default threads (one per physical core)
 * Engines.start(2);         // ... and 2 intra-op threads
 * }</pre>
 *
 * <p>libtorch also reads {@code -Dai.djl.pytorch.num_threads} once, when the engine loads; a count given here
 * overrides it at any time.
 */
public final class Engines {

    /**
     * The most intra-op threads {@link #start(Integer)} accepts. No CPU this runs on has more cores; far larger counts
     * (2³¹ − 1) make oneDNN's convolution divide by zero in its set-up and abort the JVM (SIGFPE) on the next forward.
     */
    public static final int MAX_THREADS = 1024;

    private Engines() {}

    /** The MKL fast path, with libtorch's default thread count. Does not load libtorch yet. */
    public static String start() {
        return MklFastPath.apply();
    }

    /**
     * The MKL fast path, then {@code threads} intra-op threads (null keeps libtorch's default, and then libtorch is
     * not loaded yet).
     *
     * @return how MKL was set up ({@link MklFastPath#status()})
     * @throws InvalidArgumentException when {@code threads} is not from 1 to {@link #MAX_THREADS}
     */
    public static String start(Integer threads) {
        if (threads != null && (threads < 1 || threads > MAX_THREADS)) {
            throw new InvalidArgumentException("threads", "threads must be from 1 to " + MAX_THREADS + ", got "
                    + threads);
        }
        String mkl = MklFastPath.apply();
        if (threads != null) {
            Engine.getEngine("PyTorch"); // loads the native library the JNI call below lives in
            JniUtils.setNumThreads(threads);
        }
        return mkl;
    }

    /**
     * Starts loading libtorch's shared libraries on a background thread (after the MKL fast path), so that the
     * half second or more they take — most of it libtorch registering its operators — overlaps whatever the
     * caller does next, such as parsing a command line or reading an image. The engine itself still starts on the
     * thread that first uses it (DJL's {@code LibUtils.loadLibrary} is synchronized: that thread waits for the
     * background load, then finds the libraries loaded), so thread-local state such as grad mode is set where it
     * always was. Failures are left for that first use to report.
     *
     * @return the loading thread: a process that may exit before using the engine must join it first, since
     *     exiting while a thread is inside libtorch's initialisers can crash the process
     */
    public static Thread preload() {
        MklFastPath.apply();
        Thread t = new Thread(() -> {
            try {
                LibUtils.loadLibrary();
            } catch (RuntimeException | LinkageError e) {
                // the first use of the engine loads again and reports it
            }
        }, "vitscope-libtorch-preload");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The intra-op thread count in force; loads libtorch if nothing has yet. */
    public static int threads() {
        MklFastPath.apply(); // in case nobody called start(): the fast path must precede the engine
        Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }
}
