#include "ck_depthwise.h"
#include "ckernels.h"

// The bodies pass 16-lane vectors between always-inlined helpers; they never reach a call.
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>

// One body per kernel, always inlined into a wrapper per ISA level (AVX-512, AVX2 + FMA,
// baseline), which compiles it for that level, as softmax_rows.c does with its header. Written
// with 16-lane vector extensions (4 SSE, 2 AVX2 or 1 AVX-512 register); FMA levels fuse
// `v += a·b` within the expression.

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));

#define CK_INLINE static inline __attribute__((always_inline))

CK_INLINE vf dw_splat(float a) { return (vf){0} + a; }
CK_INLINE vf dw_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
CK_INLINE void dw_store(vf v, float *p) { memcpy(p, &v, sizeof v); }
/// The lanes added as a pairwise tree (halves, quarters, ...).
CK_INLINE float dw_sum(vf v) {
    float a[16];
    dw_store(v, a);
    for (int k = 0; k < 8; k++) a[k] += a[k + 8];
    for (int k = 0; k < 4; k++) a[k] += a[k + 4];
    for (int k = 0; k < 2; k++) a[k] += a[k + 2];
    return a[0] + a[1];
}

/// bias + Σ_{a,c} w[3a + c] · s_a[o + c], the taps in order.
#define DW_APPLY(o)                                                                   \
    (b + dw_load(s0 + (o)) * w0 + dw_load(s0 + (o) + 1) * w1 + dw_load(s0 + (o) + 2) * w2 \
       + dw_load(s1 + (o)) * w3 + dw_load(s1 + (o) + 1) * w4 + dw_load(s1 + (o) + 2) * w5 \
       + dw_load(s2 + (o)) * w6 + dw_load(s2 + (o) + 1) * w7 + dw_load(s2 + (o) + 2) * w8)

CK_INLINE void dw_rows(const float *src, long pitch, const float *w, float bias,
                       float *out, long ldo, long rows, long width, int accumulate) {
    const vf w0 = dw_splat(w[0]), w1 = dw_splat(w[1]), w2 = dw_splat(w[2]);
    const vf w3 = dw_splat(w[3]), w4 = dw_splat(w[4]), w5 = dw_splat(w[5]);
    const vf w6 = dw_splat(w[6]), w7 = dw_splat(w[7]), w8 = dw_splat(w[8]);
    const vf b = dw_splat(bias);
    for (long r = 0; r < rows; r++) {
        const float *s0 = src + r * pitch, *s1 = s0 + pitch, *s2 = s1 + pitch;
        float *y = out + r * ldo;
        long o = 0;
        if (accumulate) {
            for (; o + 16 <= width; o += 16) dw_store(dw_load(y + o) + DW_APPLY(o), y + o);
        } else {
            for (; o + 16 <= width; o += 16) dw_store(DW_APPLY(o), y + o);
        }
        if (o < width) {
            float t[16];
            dw_store(DW_APPLY(o), t);
            long k = 0;
            if (!accumulate && width - o >= 8) {
                memcpy(y + o, t, 8 * sizeof(float));
                k = 8;
            }
            for (; k < width - o; k++) y[o + k] = accumulate ? y[o + k] + t[k] : t[k];
        }
    }
}

/// The nine dot products of the rows of gy with the shifted rows of src, in nine accumulators;
/// the last vector of a row has the lanes past width zeroed in both factors.
CK_INLINE void dw_taps(const float *gy, long ldg, const float *src, long pitch,
                       long rows, long width, float *gw) {
    vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0}, a8 = {0};
    const long full = width & ~15L, rest = width - full;
    const vi lanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const vi inside = lanes < (int)rest;
    for (long r = 0; r < rows; r++) {
        const float *d = gy + r * ldg, *s0 = src + r * pitch, *s1 = s0 + pitch, *s2 = s1 + pitch;
        for (long o = 0; o < full; o += 16) {
            const vf v = dw_load(d + o);
            a0 += v * dw_load(s0 + o); a1 += v * dw_load(s0 + o + 1); a2 += v * dw_load(s0 + o + 2);
            a3 += v * dw_load(s1 + o); a4 += v * dw_load(s1 + o + 1); a5 += v * dw_load(s1 + o + 2);
            a6 += v * dw_load(s2 + o); a7 += v * dw_load(s2 + o + 1); a8 += v * dw_load(s2 + o + 2);
        }
        if (rest) {
            float t[16] = {0};
            for (long k = 0; k < rest; k++) t[k] = d[full + k];
            const vf v = dw_load(t);
            const long o = full;
#define DW_MASKED(p) ((vf)((vi)dw_load(p) & inside))
            a0 += v * DW_MASKED(s0 + o); a1 += v * DW_MASKED(s0 + o + 1); a2 += v * DW_MASKED(s0 + o + 2);
            a3 += v * DW_MASKED(s1 + o); a4 += v * DW_MASKED(s1 + o + 1); a5 += v * DW_MASKED(s1 + o + 2);
            a6 += v * DW_MASKED(s2 + o); a7 += v * DW_MASKED(s2 + o + 1); a8 += v * DW_MASKED(s2 + o + 2);
#undef DW_MASKED
        }
    }
    gw[0] += dw_sum(a0); gw[1] += dw_sum(a1); gw[2] += dw_sum(a2);
    gw[3] += dw_sum(a3); gw[4] += dw_sum(a4); gw[5] += dw_sum(a5);
    gw[6] += dw_sum(a6); gw[7] += dw_sum(a7); gw[8] += dw_sum(a8);
}

// MARK: one wrapper per ISA level

#define DW_WRAPPERS(SUFFIX, TARGET)                                                                      \
    TARGET static void dw_rows_##SUFFIX(const float *src, long pitch, const float *w, float bias,        \
                                        float *out, long ldo, long rows, long width, int accumulate) {   \
        dw_rows(src, pitch, w, bias, out, ldo, rows, width, accumulate);                                 \
    }                                                                                                    \
    TARGET static void dw_taps_##SUFFIX(const float *gy, long ldg, const float *src, long pitch,         \
                                        long rows, long width, float *gw) {                              \
        dw_taps(gy, ldg, src, pitch, rows, width, gw);                                                   \
    }

DW_WRAPPERS(generic, )
#if defined(__x86_64__) || defined(__i386__)
#define DW_X86 1
DW_WRAPPERS(avx2, __attribute__((target("avx2,fma"))))
DW_WRAPPERS(avx512, __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma"))))
#endif

void ck_depthwise3x3_rows_f32(const float *src, long pitch, const float *w, float bias,
                              float *out, long ldo, long rows, long width, int accumulate) {
    switch (ck_isa_level()) {
#ifdef DW_X86
    case 2: dw_rows_avx512(src, pitch, w, bias, out, ldo, rows, width, accumulate); return;
    case 1: dw_rows_avx2(src, pitch, w, bias, out, ldo, rows, width, accumulate); return;
#endif
    default: dw_rows_generic(src, pitch, w, bias, out, ldo, rows, width, accumulate);
    }
}

void ck_depthwise3x3_taps_f32(const float *gy, long ldg, const float *src, long pitch,
                              long rows, long width, float *gw) {
    switch (ck_isa_level()) {
#ifdef DW_X86
    case 2: dw_taps_avx512(gy, ldg, src, pitch, rows, width, gw); return;
    case 1: dw_taps_avx2(gy, ldg, src, pitch, rows, width, gw); return;
#endif
    default: dw_taps_generic(gy, ldg, src, pitch, rows, width, gw);
    }
}
