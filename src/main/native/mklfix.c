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
 * The linear layers of a grad-free forward, y (m, n) = x (m, k) · weightᵀ (+ bias), on libtorch's own OpenMP threads
 * (io.vitscope.engine.SlicedGemm and PackedGemm). libtorch's nn.Linear hands the whole product to MKL's threaded
 * sgemm; with few rows (197 at batch 1 of ViT-B/16) MKL splits the rows between the threads, so every thread packs
 * the whole weight for itself and the products run well below the rate they reach with many rows. Here the threads
 * split the weight's rows (the output columns) instead: each runs MKL single-threaded on its own slice, which it alone
 * reads, optionally from a copy packed once (cblas_sgemm_pack / cblas_sgemm_compute) so that no call packs at all.
 *
 * Everything is looked up in the already-loaded libtorch_cpu.so at first use, GOMP_parallel included: dlsym through
 * libtorch's handle finds the libgomp libtorch itself was linked against, so these products run on the same thread
 * team (and the same OMP_WAIT_POLICY) as every other libtorch operation, and no second pool competes for the cores.
 * Without the symbols every call reports unavailability and Java falls back to libtorch's own linear.
 */
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef void (*sgemm_fn)(const char *, const char *, const int *, const int *, const int *, const float *,
                         const float *, const int *, const float *, const int *, const float *, float *, const int *);
typedef size_t (*pack_get_size_fn)(int, int, int, int);
typedef void (*pack_fn)(int, int, int, int, int, int, float, const float *, int, float *);
typedef void (*compute_fn)(int, int, int, int, int, int, const float *, int, const float *, int, float, float *, int);
typedef void (*gomp_parallel_fn)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*set_int_fn)(int);

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, PACKED = 151, B_MATRIX = 162 };

static sgemm_fn sgemm;
static pack_get_size_fn pack_get_size;
static pack_fn pack;
static compute_fn compute;
static gomp_parallel_fn gomp_parallel;
static set_int_fn mkl_threads_local;
static pthread_once_t looked_up = PTHREAD_ONCE_INIT;

static int find_torch(struct dl_phdr_info *info, size_t size, void *data) {
    (void) size;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "libtorch_cpu.so") != NULL) {
        *(void **) data = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD);
        return 1;
    }
    return 0;
}

static void lookup_once(void) {
    void *torch = NULL;
    dl_iterate_phdr(find_torch, &torch);
    if (torch == NULL) {
        return; /* libtorch is not loaded: nothing here can run */
    }
    sgemm = (sgemm_fn) dlsym(torch, "sgemm_");
    pack_get_size = (pack_get_size_fn) dlsym(torch, "cblas_sgemm_pack_get_size");
    pack = (pack_fn) dlsym(torch, "cblas_sgemm_pack");
    compute = (compute_fn) dlsym(torch, "cblas_sgemm_compute");
    gomp_parallel = (gomp_parallel_fn) dlsym(torch, "GOMP_parallel");
    mkl_threads_local = (set_int_fn) dlsym(torch, "MKL_Set_Num_Threads_Local"); /* C, by value (the lower-case
                                                                                   symbol is Fortran's, by pointer) */
}

/*
 * glibc's malloc returns freed memory to the system as soon as the top of a heap has more than M_TRIM_THRESHOLD free
 * (128 KiB at first, raised as large blocks are freed) and maps blocks above M_MMAP_THRESHOLD (up to 32 MiB) on their
 * own; libtorch's tensors come from malloc. A forward that keeps tensors across blocks (a capture: every attention
 * call's projection and probabilities, about 350 MB at batch 8 of ViT-B/16) then frees them all at once, the heaps
 * are trimmed, and the next forward takes every page fresh from the kernel: 90,000 page faults per forward, zeroed
 * pages, +2-3 % of the forward. Keeping up to 1 GiB of freed memory per heap and taking blocks up to 32 MiB from the
 * heaps brought that to 2,000-17,000, varying from run to run.
 *
 * The rest came from the threads' own arenas (a Java thread is never the process's first thread, so it never uses
 * the main arena): their memory comes in heaps of at most 64 MiB, and glibc unmaps a heap that becomes entirely free
 * whatever M_TRIM_THRESHOLD says, unless the heap before it has M_TOP_PAD to spare. A pad of a whole heap keeps
 * every heap: about 1,000 faults per capturing forward (MklFastPath.retainFreedMemory; docs/benchmarks.md). The pad
 * also makes the main arena grow by 64 MiB of address space at a time; pages count only once written.
 * Returns whether glibc took all three.
 */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

JNIEXPORT jboolean JNICALL Java_io_vitscope_engine_MklFastPath_retainFreedMemory(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
#if defined(__GLIBC__)
    int mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 << 20);
    int trim_ok = mallopt(M_TRIM_THRESHOLD, 1 << 30);
    int pad_ok = mallopt(M_TOP_PAD, 64 << 20);
    return mmap_ok && trim_ok && pad_ok ? JNI_TRUE : JNI_FALSE;
#else
    return JNI_FALSE; /* another C library: its own defaults */
#endif
}

/* Whether the sliced products can run: MKL's sgemm and libtorch's OpenMP runtime were found. */
static int sliced_ready(void) {
    pthread_once(&looked_up, lookup_once);
    return sgemm != NULL && gomp_parallel != NULL && mkl_threads_local != NULL;
}

static int packed_ready(void) {
    return sliced_ready() && pack_get_size != NULL && pack != NULL && compute != NULL;
}

/* Where slice s of `slices` starts among n columns: equal shares, rounded to 16 columns (one AVX-512 register). */
static int slice_start(int n, int slices, int s) {
    if (s >= slices) {
        return n;
    }
    long b = ((long) n * s / slices + 8) / 16 * 16;
    return b > n ? n : (int) b;
}

/* A weight packed slice by slice (PackedGemm cuts two per thread; threads take them as they come free). */
struct packed_weight {
    int n, k, slices;
    float *slice[];
};

struct linear_job {
    const float *x, *w, *bias;
    const struct packed_weight *packed; /* or NULL: w is read in place */
    float *y;
    int m, k, n, slices;
    int next; /* the next slice to take */
};

/* y[i][c] += b[c] for m rows of nn columns, row stride ld: one rounding per value, the same result at any width, so
 * compiled for the widest vectors the CPU has (the library's baseline is SSE2). */
#if defined(__GLIBC__) /* target_clones picks the variant through an ifunc, which glibc provides */
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void add_bias(float *y, const float *b, int m, int nn, int ld) {
    for (int i = 0; i < m; i++, y += ld) {
        for (int c = 0; c < nn; c++) {
            y[c] += b[c];
        }
    }
}

static void linear_slices(void *arg) {
    struct linear_job *j = (struct linear_job *) arg;
    int before = mkl_threads_local(1); /* MKL inside a parallel region: one thread, said outright */
    /* Slices are taken, not assigned: a thread that starts late (woken late, or its core taken by another process
     * or the JVM's compiler) leaves its slice to the first thread free, instead of making it wait at the end. */
    for (int s; (s = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->slices;) {
        int n0 = slice_start(j->n, j->slices, s);
        int nn = slice_start(j->n, j->slices, s + 1) - n0;
        if (nn <= 0) {
            continue;
        }
        float *y = j->y + n0;
        if (j->packed != NULL) {
            compute(ROW_MAJOR, NO_TRANS, PACKED, j->m, nn, j->k, j->x, j->k, j->packed->slice[s], j->k, 0.0f, y, j->n);
        } else {
            /* Column-major view: yᵀ[n0:n0+nn, :] = (w[n0:n0+nn, :] as k×nn)ᵀ · xᵀ */
            float one = 1.0f;
            float zero = 0.0f;
            sgemm("T", "N", &nn, &j->m, &j->k, &one, j->w + (size_t) n0 * j->k, &j->k, j->x, &j->k, &zero, y, &j->n);
        }
        if (j->bias != NULL) {
            /* Added after the product, while this thread's slice of y is still in its cache: copying the bias into
             * y first and letting MKL add it (beta = 1) made one more pass over y from memory. */
            add_bias(y, j->bias + n0, j->m, nn, j->n);
        }
    }
    mkl_threads_local(before);
}

static const void *address(JNIEnv *env, jobject buffer, jlong floats) {
    if (buffer == NULL) {
        return NULL;
    }
    void *p = (*env)->GetDirectBufferAddress(env, buffer);
    return p != NULL && (*env)->GetDirectBufferCapacity(env, buffer) >= floats * 4 ? p : NULL;
}

/* Fills the job's buffers from Java's; 0 when one is missing or too small. */
static int bind_job(JNIEnv *env, struct linear_job *j, jobject x, jobject bias, jobject y) {
    j->x = (const float *) address(env, x, (jlong) j->m * j->k);
    j->y = (float *) address(env, y, (jlong) j->m * j->n);
    j->bias = (const float *) address(env, bias, j->n);
    return j->x != NULL && j->y != NULL && (bias == NULL || j->bias != NULL);
}

JNIEXPORT jboolean JNICALL Java_io_vitscope_engine_SlicedGemm_nativeAvailable(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    return sliced_ready() ? JNI_TRUE : JNI_FALSE;
}

/* y = x · weightᵀ (+ bias), weight (n, k) row-major read in place, split in `slices` column slices. 0 on success. */
JNIEXPORT jint JNICALL Java_io_vitscope_engine_SlicedGemm_linear(JNIEnv *env, jclass cls, jobject x, jint m, jint k,
                                                                 jobject weight, jint n, jobject bias, jobject y,
                                                                 jint slices) {
    (void) cls;
    struct linear_job j = {.m = m, .k = k, .n = n, .slices = slices};
    if (!sliced_ready() || slices < 1) {
        return 1;
    }
    j.w = (const float *) address(env, weight, (jlong) n * k);
    if (j.w == NULL || !bind_job(env, &j, x, bias, y)) {
        return 2;
    }
    gomp_parallel(linear_slices, &j, (unsigned) slices, 0);
    return 0;
}

JNIEXPORT jboolean JNICALL Java_io_vitscope_engine_PackedGemm_nativeAvailable(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    return packed_ready() ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void JNICALL Java_io_vitscope_engine_PackedGemm_free(JNIEnv *env, jclass cls, jlong handle) {
    (void) env;
    (void) cls;
    struct packed_weight *p = (struct packed_weight *) (intptr_t) handle;
    if (p != NULL) {
        for (int s = 0; s < p->slices; s++) {
            free(p->slice[s]);
        }
        free(p);
    }
}

/* Packs weight (n, k) row-major, as nn.Linear stores it, as `slices` column slices of the B operand of x · weightᵀ
 * for products of about `rows` rows (MKL lays the packing out for that many: ViT-B/16's products at batch 1 ran 4 %
 * faster packed for their 197 rows than packed for one). Returns the packing (0 on failure). */
JNIEXPORT jlong JNICALL Java_io_vitscope_engine_PackedGemm_pack(JNIEnv *env, jclass cls, jobject weight, jint n,
                                                                 jint k, jint slices, jint rows) {
    const float *w = (const float *) address(env, weight, (jlong) n * k);
    if (!packed_ready() || w == NULL || slices < 1 || rows < 1) {
        return 0;
    }
    struct packed_weight *p = calloc(1, sizeof(struct packed_weight) + (size_t) slices * sizeof(float *));
    if (p == NULL) {
        return 0;
    }
    p->n = n;
    p->k = k;
    p->slices = slices;
    for (int s = 0; s < slices; s++) {
        int n0 = slice_start(n, slices, s);
        int nn = slice_start(n, slices, s + 1) - n0;
        if (nn <= 0) {
            continue; /* an empty slice stays NULL and is never computed */
        }
        size_t bytes = pack_get_size(B_MATRIX, rows, nn, k);
        p->slice[s] = (float *) aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (p->slice[s] == NULL) {
            Java_io_vitscope_engine_PackedGemm_free(env, cls, (jlong) (intptr_t) p);
            return 0;
        }
        pack(ROW_MAJOR, B_MATRIX, TRANS, rows, nn, k, 1.0f, w + (size_t) n0 * k, k, p->slice[s]);
    }
    return (jlong) (intptr_t) p;
}

/* y = x · weightᵀ (+ bias) with the packing from pack(), on up to `threads` threads taking slices as they come free.
 * Returns 0 on success. */
JNIEXPORT jint JNICALL Java_io_vitscope_engine_PackedGemm_linear(JNIEnv *env, jclass cls, jobject x, jint m, jint k,
                                                                 jlong handle, jint n, jobject bias, jobject y,
                                                                 jint threads) {
    (void) cls;
    const struct packed_weight *p = (const struct packed_weight *) (intptr_t) handle;
    if (!packed_ready() || p == NULL || p->n != n || p->k != k) {
        return 1;
    }
    struct linear_job j = {.packed = p, .m = m, .k = k, .n = n, .slices = p->slices};
    if (!bind_job(env, &j, x, bias, y)) {
        return 2;
    }
    gomp_parallel(linear_slices, &j, (unsigned) (threads < 1 ? 1 : threads < p->slices ? threads : p->slices), 0);
    return 0;
}

/*
 * The core of an Attention call in a grad-free forward, in one parallel region (io.vitscope.engine.FusedAttention):
 * for every image b and head h, S = q·kᵀ (q, k, v read in place from the qkv projection, whose rows hold
 * [q | k | v] of all heads), S *= scale, P = softmax(S) per row, and P·v written straight into the merged-head
 * output (B, N, H·Dh). libtorch runs the same steps as eight operations with three copies (q, k, v made contiguous
 * for its batched products, and the merge of the heads) and as many thread hand-offs; at batch 1 of ViT-B/16 those
 * cost more than the arithmetic. The steps and their order of rounding are libtorch's: the product, then the scale,
 * then max-subtracted exponentials summed and multiplied by the sum's reciprocal.
 */
#include <immintrin.h>
#include <math.h>

/* e^x for 8 floats (Cephes' expf: x = n·ln2 + r, a degree-6 polynomial in r, times 2^n): within 2 ulp of the true
 * value where the result is a normal float; inputs below -87.3 give about 1e-38 instead of a denormal or 0, inputs
 * above 88.7 give the largest float near e^88.7, NaN stays NaN. */
__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365478515625f);
    x = _mm256_max_ps(lo, _mm256_min_ps(hi, x)); /* x second: a NaN x is returned, not the bound */
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* One row of softmax(row · scale), in place, with AVX2. The last n mod 8 values go through the same lanes, masked:
 * one at a time through exp8 they had cost as much as the rest of the row (197 = 24 × 8 + 5). */
__attribute__((target("avx2,fma"))) static void softmax_row_avx2(float *row, int n, float scale) {
    const __m256 s8 = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
    const int full = n / 8 * 8, rest = n - full;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 m8 = ninf;
    int j = 0;
    for (; j < full; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + j), s8);
        _mm256_storeu_ps(row + j, v);
        m8 = _mm256_max_ps(m8, v);
    }
    if (rest > 0) {
        __m256 v = _mm256_mul_ps(_mm256_maskload_ps(row + j, mask), s8);
        _mm256_maskstore_ps(row + j, mask, v);
        m8 = _mm256_max_ps(m8, _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(mask)));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    __m256 max8 = _mm256_set1_ps(_mm_cvtss_f32(m4));
    __m256 sum8 = _mm256_setzero_ps();
    for (j = 0; j < full; j += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), max8));
        _mm256_storeu_ps(row + j, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    if (rest > 0) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(row + j, mask), max8));
        _mm256_maskstore_ps(row + j, mask, e);
        sum8 = _mm256_add_ps(sum8, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
    }
    float s[8];
    _mm256_storeu_ps(s, sum8);
    float sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    __m256 inv8 = _mm256_set1_ps(1.0f / sum);
    for (j = 0; j < full; j += 8) {
        _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv8));
    }
    if (rest > 0) {
        _mm256_maskstore_ps(row + j, mask, _mm256_mul_ps(_mm256_maskload_ps(row + j, mask), inv8));
    }
}

/* The same without AVX2: libm's expf. */
static void softmax_row_plain(float *row, int n, float scale) {
    float max = -INFINITY;
    for (int j = 0; j < n; j++) {
        row[j] *= scale;
        max = row[j] > max ? row[j] : max;
    }
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        row[j] = expf(row[j] - max);
        sum += row[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) {
        row[j] *= inv;
    }
}

struct attention_job {
    const float *qkv;
    float *out, *attn; /* attn: (B, H, N, N) when the caller keeps it, else NULL */
    int b, n, h, dh;
    float scale;
    int avx2;
    int failed;
    int next; /* the next (image, head) pair to take */
};

/* dst[0, n) = src[0, n) with streaming stores, which skip reading dst's lines into the cache first: the probabilities
 * kept for a capture (B·H·N·N floats, 15 MB per layer at batch 8 of ViT-B/16) are written once and not read by this
 * forward, so filling them through the cache cost twice their size in memory traffic. SSE2, x86-64's baseline. */
static void copy_streaming(float *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i < n && ((uintptr_t) (dst + i) & 15) != 0; i++) {
        dst[i] = src[i];
    }
    for (; i + 4 <= n; i += 4) {
        _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    }
    for (; i < n; i++) {
        dst[i] = src[i];
    }
}

static void attention_heads(void *arg) {
    struct attention_job *j = (struct attention_job *) arg;
    int before = mkl_threads_local(1);
    int n = j->n, c = j->h * j->dh, ld = 3 * c;
    /* The probabilities are formed in a per-thread scratch that stays in the cache for P·v, and only then copied
     * out when the caller keeps them. */
    float *scratch = (float *) malloc((size_t) n * n * sizeof(float));
    if (scratch == NULL) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
    } else {
        /* (image, head) pairs are taken as threads come free, as the linear layers' slices are */
        for (int t; (t = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->b * j->h;) {
            int b = t / j->h, h = t % j->h;
            const float *q = j->qkv + (size_t) b * n * ld + (size_t) h * j->dh;
            const float *k = q + c;
            const float *v = q + 2 * c;
            float *s = scratch;
            float one = 1.0f, zero = 0.0f;
            /* S (n × n) = q · kᵀ: column-major, Sᵀ = kᵀᵀ… i.e. sgemm("T", "N") on (k, q) as in the linear layers */
            sgemm("T", "N", &n, &n, &j->dh, &one, k, &ld, q, &ld, &zero, s, &n);
            for (int i = 0; i < n; i++) {
                if (j->avx2) {
                    softmax_row_avx2(s + (size_t) i * n, n, j->scale);
                } else {
                    softmax_row_plain(s + (size_t) i * n, n, j->scale);
                }
            }
            /* out[b, :, h·dh : (h+1)·dh] (n × dh, row stride c) = P (n × n) · v (n × dh, row stride ld) */
            sgemm("N", "N", &j->dh, &n, &n, &one, v, &ld, s, &n, &zero, j->out + (size_t) b * n * c + (size_t) h * j->dh,
                  &c);
            if (j->attn != NULL) {
                copy_streaming(j->attn + (size_t) t * n * n, s, (size_t) n * n);
            }
        }
        _mm_sfence(); /* the streaming stores are visible before the region ends */
    }
    free(scratch);
    mkl_threads_local(before);
}

/* x (B, N, H·Dh) = merge_heads(softmax(q·kᵀ·scale)·v) from qkv (B, N, 3·H·Dh); attn (B, H, N, N) is filled with the
 * probabilities when given. Returns 0 on success. */
JNIEXPORT jint JNICALL Java_io_vitscope_engine_FusedAttention_attention(JNIEnv *env, jclass cls, jobject qkv, jint b,
                                                                        jint n, jint h, jint dh, jfloat scale,
                                                                        jobject out, jobject attn, jint threads,
                                                                        jboolean vectorized) {
    (void) cls;
    if (!sliced_ready() || b < 1 || n < 1 || h < 1 || dh < 1 || threads < 1) {
        return 1;
    }
    jlong c = (jlong) h * dh;
    struct attention_job j = {.b = b, .n = n, .h = h, .dh = dh, .scale = scale,
                              .avx2 = vectorized && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")};
    j.qkv = (const float *) address(env, qkv, (jlong) b * n * 3 * c);
    j.out = (float *) address(env, out, (jlong) b * n * c);
    j.attn = attn == NULL ? NULL : (float *) address(env, attn, (jlong) b * h * n * n);
    if (j.qkv == NULL || j.out == NULL || (attn != NULL && j.attn == NULL)) {
        return 2;
    }
    gomp_parallel(attention_heads, &j, (unsigned) threads, 0);
    return j.failed ? 3 : 0;
}
