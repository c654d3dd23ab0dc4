#include "isa.h"

#include "vec16.h"

// The normalization backward's rows (SIMDNormalizationCore.swift), each body compiled per ISA
// level (isa.h).

typedef double vd __attribute__((vector_size(64)));
typedef float vf8 __attribute__((vector_size(32)));

V16_INLINE vd nr_widen(const float *p) {
    vf8 v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, vd);
}

/// The lanes added as a pairwise tree (halves, quarters, ...).
V16_INLINE double nr_sum(vd v) {
    double a[8];
    memcpy(a, &v, sizeof a);
    for (int k = 0; k < 4; k++) a[k] += a[k + 4];
    for (int k = 0; k < 2; k++) a[k] += a[k + 2];
    return a[0] + a[1];
}

/// Σ g and Σ g·(x − mu) in 8 double lanes over whole vectors, then the tail in order. Prefetches
/// a cache line of `next_g` and `next_x` per line read, so the next row arrives while this one
/// is summed: the rows of a batch-norm channel lie a plane apart, each too short a stream for the
/// hardware prefetchers to ramp up on.
V16_INLINE void nr_sums(const float *g, const float *x, float mu, long n, const float *next_g, const float *next_x,
                        double *out) {
    vd sg = {0}, sgx = {0}, m = (double)mu - (vd){0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        if (next_g) {
            __builtin_prefetch(next_g + i, 0, 2);
            __builtin_prefetch(next_x + i, 0, 2);
        }
        vd g0 = nr_widen(g + i), g1 = nr_widen(g + i + 8);
        sg += g0;
        sg += g1;
        sgx += g0 * (nr_widen(x + i) - m);
        sgx += g1 * (nr_widen(x + i + 8) - m);
    }
    double a = nr_sum(sg), b = nr_sum(sgx);
    for (; i < n; i++) {
        a += (double)g[i];
        b += (double)g[i] * ((double)x[i] - (double)mu);
    }
    out[0] = a;
    out[1] = b;
}

/// dx = g·a + (x − mu)·b + k over a row.
V16_INLINE void nr_grad(const float *g, const float *x, float *dx, long n, float a, float b, float mu, float k) {
    long i = 0;
    for (; i + 16 <= n; i += 16) v16_store(v16_load(g + i) * a + (v16_load(x + i) - mu) * b + k, dx + i);
    for (; i < n; i++) dx[i] = g[i] * a + (x[i] - mu) * b + k;
}

#define NR_WRAPPERS(SUFFIX, TARGET)                                                                            \
    TARGET static void ck_norm_row_sums_##SUFFIX(const float *g, const float *x, float mu, long n,             \
                                                 const float *next_g, const float *next_x, double *out) {      \
        nr_sums(g, x, mu, n, next_g, next_x, out);                                                            \
    }                                                                                                          \
    TARGET static void ck_norm_row_grad_##SUFFIX(const float *g, const float *x, float *dx, long n, float a,    \
                                                 float b, float mu, float k) {                                 \
        nr_grad(g, x, dx, n, a, b, mu, k);                                                                     \
    }

CK_FOR_EACH_LEVEL(NR_WRAPPERS)

void ck_norm_row_sums_f32(const float *g, const float *x, float mu, long n, const float *next_g, const float *next_x,
                          double *out) {
    CK_DISPATCH(ck_norm_row_sums, g, x, mu, n, next_g, next_x, out);
}

void ck_norm_row_grad_f32(const float *g, const float *x, float *dx, long n, float a, float b, float mu, float k) {
    CK_DISPATCH(ck_norm_row_grad, g, x, dx, n, a, b, mu, k);
}
