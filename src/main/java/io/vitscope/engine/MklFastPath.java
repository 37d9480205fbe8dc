package io.vitscope.engine;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts MKL (inside DJL's libtorch) on its AVX-512 path on AMD CPUs, where it otherwise takes its AVX2 path and
 * runs matrix products at about half the machine's float32 peak (see {@code src/main/native/mklfix.c}).
 *
 * <p>It must run before the PyTorch engine loads: {@link Engines#start}, the engine's one entry point, applies it;
 * {@code scripts/vitscope} also preloads the library. Turn it off with
 * {@code -Dvitscope.mklfix=false}. On Intel CPUs it changes nothing: MKL already takes its best path there.
 */
public final class MklFastPath {

    private static final Logger LOG = LoggerFactory.getLogger(MklFastPath.class);
    private static final String LIB = "libvitscope_mklfix.so";
    private static volatile String status;

    private MklFastPath() {}

    /** Loads the fix once; returns how MKL was set up, for benchmarks and {@code --verbose} output. */
    public static synchronized String apply() {
        if (status != null) {
            return status;
        }
        status = load();
        LOG.debug("MKL fast path: {}", status);
        return status;
    }

    /** What {@link #apply()} did, or "not applied" when it has not run. */
    public static String status() {
        return status == null ? "not applied" : status;
    }

    private static Path library;

    /**
     * Binds the native library's JNI functions (the linear-layer products of {@link SlicedGemm} and
     * {@link PackedGemm}) once libtorch is loaded, whose MKL and OpenMP they call; false when there is no library or
     * the fast path is turned off ({@code -Dvitscope.mklfix=false} keeps the library out of the process altogether).
     */
    static synchronized boolean bindNatives() {
        if (switchedOff("mklfix")) {
            return false;
        }
        try {
            Path lib = nativeLibrary();
            if (lib == null) {
                return false;
            }
            ai.djl.engine.Engine.getEngine("PyTorch"); // libtorch must be loaded for the symbol lookup
            System.load(lib.toAbsolutePath().toString()); // binds the callers' natives (a loaded library is reused)
            if (!switchedOff("malloc")) {
                freedMemoryRetained = retainFreedMemory();
            }
            return true;
        } catch (IOException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Whether {@code -Dvitscope.NAME=false} turns a native feature off (mklfix, malloc, sliced, packed, fused). */
    static boolean switchedOff(String name) {
        return "false".equalsIgnoreCase(System.getProperty("vitscope." + name));
    }

    /**
     * Keeps freed memory in glibc's heaps (up to 1 GiB per heap, and every heap of a thread's arena, through a top pad
     * of 64 MiB) and takes blocks up to 32 MiB from them instead of mapping each on its own, process-wide, from the
     * first native product on ({@code -Dvitscope.malloc=false}: glibc's defaults). With the defaults a forward whose
     * tensors outlive their block (a capture of every attention call) frees them together, glibc hands the pages back
     * to the kernel, and the next forward faults every page in again, zeroed: 90,000 page faults per ViT-B/16 forward
     * at batch 8, +2-3 % (docs/benchmarks.md). The pad is what keeps a Java thread's heaps: glibc unmaps an arena's
     * heap once it is entirely free whatever the trim threshold says. The cost: memory freed after a peak stays with
     * the process for reuse. Returns whether glibc took all three settings.
     */
    private static native boolean retainFreedMemory();

    private static volatile boolean freedMemoryRetained;

    /** Whether glibc took the settings of {@link #retainFreedMemory} (false before the natives bind, or when told not). */
    static boolean retainsFreedMemory() {
        return freedMemoryRetained;
    }

    /**
     * The native library's file: the one {@code LD_PRELOAD} names, else the build's copy on the class path (copied
     * out of a jar once, to a temporary file); null when the build made none (no gcc).
     */
    static synchronized Path nativeLibrary() throws IOException {
        if (library != null) {
            return library;
        }
        String preload = System.getenv("LD_PRELOAD");
        if (preload != null) {
            for (String entry : preload.split("[: ]")) {
                if (entry.endsWith("/" + LIB) && Files.isRegularFile(Paths.get(entry))) {
                    return library = Paths.get(entry);
                }
            }
        }
        URL url = MklFastPath.class.getResource("/native/linux-x86_64/" + LIB);
        if (url == null) {
            return null;
        }
        if ("file".equals(url.getProtocol())) {
            try {
                return library = Paths.get(url.toURI());
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
        }
        Path lib = Files.createTempFile("vitscope_mklfix", ".so");
        lib.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
        }
        return library = lib;
    }

    private static String load() {
        if (switchedOff("mklfix")) {
            return "off (-Dvitscope.mklfix=false)";
        }
        String preload = System.getenv("LD_PRELOAD");
        if (preload != null && preload.contains(LIB)) {
            return "on (LD_PRELOAD)";
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "not needed on " + os + "/" + arch;
        }
        try {
            Path lib = nativeLibrary();
            if (lib == null) {
                return "unavailable (the build found no gcc): matrix products may run at half speed on AMD CPUs";
            }
            System.load(lib.toAbsolutePath().toString());
            return "on (loaded before the engine)";
        } catch (IOException | UnsatisfiedLinkError e) {
            return "failed to load (" + e.getMessage() + "): matrix products may run at half speed on AMD CPUs";
        }
    }
}
