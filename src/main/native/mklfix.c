/*
 * MKL, which libtorch links statically, asks mkl_serv_intel_cpu_true() whether the CPU is an Intel one and takes
 * its AVX2 code path when it is not, even on AMD CPUs with AVX-512: SGEMM then runs at about half the machine's
 * float32 peak. Defining the function to return 1 ahead of libtorch in symbol lookup makes MKL pick its best path.
 *
 * Used two ways: LD_PRELOAD by scripts/vitscope, or System.load() before the PyTorch engine starts — JNI_OnLoad
 * then re-opens this library RTLD_GLOBAL, since the JVM loads libraries with local symbol scope.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jni.h>

__attribute__((visibility("default"))) int mkl_serv_intel_cpu_true(void) {
    return 1;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void) vm;
    (void) reserved;
    Dl_info info;
    if (dladdr((void *) &mkl_serv_intel_cpu_true, &info) && info.dli_fname != NULL) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
    }
    return JNI_VERSION_1_8;
}
