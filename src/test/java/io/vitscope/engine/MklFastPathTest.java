package io.vitscope.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Prerequisites;
import org.junit.jupiter.api.Test;

/** What binding the native library does to the process beyond binding: glibc keeps freed memory for reuse. */
class MklFastPathTest {

    /**
     * Once the natives are bound (the first sliced product), glibc has taken the three settings that keep a capturing
     * forward from faulting every page in again (docs/benchmarks.md, issue 15's third and fourth sessions); the memory
     * soak runs turn them off with -Dvitscope.malloc=false, this JVM does not.
     */
    @Test
    void bindingTheNativesKeepsFreedMemoryInGlibcsHeaps() {
        Prerequisites.require(SlicedGemm.available(), "the native products through libvitscope_mklfix.so",
                "apt-get install gcc libc6-dev, then mvn compile");
        assertTrue(MklFastPath.retainsFreedMemory(), "M_MMAP_THRESHOLD, M_TRIM_THRESHOLD and M_TOP_PAD set through mallopt");
    }
}
