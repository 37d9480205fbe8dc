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

/*
 * Packed weights for the linear layers of an inference forward (io.vitscope.engine.PackedGemm). MKL's packed GEMM
 * API (cblas_sgemm_pack / cblas_sgemm_compute), which libtorch's MKL exports but libtorch itself does not use for
 * nn.Linear, lays a weight matrix out once in the order its kernels read it; a plain sgemm re-packs the weight on every
 * call, which at batch 1 (197 rows against 768x2304 weights) is a large share of the product.
 *
 * The functions are looked up in the already-loaded libtorch_cpu.so at first use; without them every call reports
 * unavailability and Java falls back to libtorch's own linear.
 */
#include <link.h>
#include <stdlib.h>
#include <string.h>

typedef size_t (*pack_get_size_fn)(int, int, int, int);
typedef void (*pack_fn)(int, int, int, int, int, int, float, const float *, int, float *);
typedef void (*compute_fn)(int, int, int, int, int, int, const float *, int, const float *, int, float, float *, int);

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, PACKED = 151, B_MATRIX = 162 };

static pack_get_size_fn pack_get_size;
static pack_fn pack;
static compute_fn compute;
static int looked_up;

static int find_torch(struct dl_phdr_info *info, size_t size, void *data) {
    (void) size;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "libtorch_cpu.so") != NULL) {
        *(void **) data = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD);
        return 1;
    }
    return 0;
}

static int lookup(void) {
    if (!looked_up) {
        void *torch = NULL;
        dl_iterate_phdr(find_torch, &torch);
        void *where = torch != NULL ? torch : RTLD_DEFAULT;
        pack_get_size = (pack_get_size_fn) dlsym(where, "cblas_sgemm_pack_get_size");
        pack = (pack_fn) dlsym(where, "cblas_sgemm_pack");
        compute = (compute_fn) dlsym(where, "cblas_sgemm_compute");
        looked_up = 1;
    }
    return pack_get_size != NULL && pack != NULL && compute != NULL;
}

JNIEXPORT jboolean JNICALL Java_io_vitscope_engine_PackedGemm_nativeAvailable(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    return lookup() ? JNI_TRUE : JNI_FALSE;
}

/* Packs weight (n, k) row-major, as nn.Linear stores it, as the B operand of x (m, k) · weightᵀ. Returns a malloc'd
 * buffer (0 on failure); m is a hint only: MKL's packed size does not depend on it. */
JNIEXPORT jlong JNICALL Java_io_vitscope_engine_PackedGemm_pack(JNIEnv *env, jclass cls, jobject weight, jint n,
                                                                 jint k) {
    (void) cls;
    if (!lookup()) {
        return 0;
    }
    const float *w = (const float *) (*env)->GetDirectBufferAddress(env, weight);
    if (w == NULL || (*env)->GetDirectBufferCapacity(env, weight) < (jlong) n * k * 4) {
        return 0;
    }
    size_t bytes = pack_get_size(B_MATRIX, 1, n, k);
    float *dest = (float *) aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (dest == NULL) {
        return 0;
    }
    pack(ROW_MAJOR, B_MATRIX, TRANS, 1, n, k, 1.0f, w, k, dest);
    return (jlong) (intptr_t) dest;
}

JNIEXPORT void JNICALL Java_io_vitscope_engine_PackedGemm_free(JNIEnv *env, jclass cls, jlong packed) {
    (void) env;
    (void) cls;
    free((void *) (intptr_t) packed);
}

/* y (m, n) = x (m, k) · weightᵀ (+ bias), with weight packed by pack(). Returns 0 on success. */
JNIEXPORT jint JNICALL Java_io_vitscope_engine_PackedGemm_linear(JNIEnv *env, jclass cls, jobject x, jint m, jint k,
                                                                 jlong packed, jint n, jobject bias, jobject y) {
    (void) cls;
    if (!lookup() || packed == 0) {
        return 1;
    }
    const float *xp = (const float *) (*env)->GetDirectBufferAddress(env, x);
    float *yp = (float *) (*env)->GetDirectBufferAddress(env, y);
    if (xp == NULL || yp == NULL || (*env)->GetDirectBufferCapacity(env, x) < (jlong) m * k * 4
            || (*env)->GetDirectBufferCapacity(env, y) < (jlong) m * n * 4) {
        return 2;
    }
    float beta = 0.0f;
    if (bias != NULL) {
        const float *b = (const float *) (*env)->GetDirectBufferAddress(env, bias);
        if (b == NULL || (*env)->GetDirectBufferCapacity(env, bias) < (jlong) n * 4) {
            return 3;
        }
        for (jint i = 0; i < m; i++) {
            memcpy(yp + (size_t) i * n, b, (size_t) n * 4);
        }
        beta = 1.0f;
    }
    compute(ROW_MAJOR, NO_TRANS, PACKED, m, n, k, xp, k, (const float *) (intptr_t) packed, k, beta, yp, n);
    return 0;
}
