#include "ck_depthwise.h"
#include "isa.h"

#include "vec16.h"

// One body per kernel, always inlined into a wrapper per ISA level (AVX-512, AVX2 + FMA,
// baseline) that compiles it for that level (isa.h).

/// Lanes 1...16 and 2...17 of the 32 floats a ++ b: a row's vector shifted by one and two columns,
/// from the two aligned vectors that hold it (one valignd on AVX-512), instead of loads that
/// straddle cache lines.
#define DW_SHIFT1(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#define DW_SHIFT2(a, b) __builtin_shufflevector(a, b, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)

/// Row r's share (of rows) of the cache lines of `next`'s regions: reads for reading, the output
/// for writing.
V16_INLINE void dw_prefetch(const ck_depthwise_next *next, long r, long rows) {
    if (!next) return;
    for (int k = 0; k < 2; k++) {
        const char *p = (const char *)next->read[k];
        const long lines = (next->read_count[k] * (long)sizeof(float) + 63) / 64;
        if (p) for (long l = r * lines / rows; l < (r + 1) * lines / rows; l++) __builtin_prefetch(p + 64 * l, 0, 3);
    }
    const char *p = (const char *)next->write;
    const long lines = (next->write_count * (long)sizeof(float) + 63) / 64;
    if (p) for (long l = r * lines / rows; l < (r + 1) * lines / rows; l++) __builtin_prefetch(p + 64 * l, 1, 3);
}

V16_INLINE void dw_rows(const float *src, long pitch, const float *w, float bias,
                       float *out, long ldo, long rows, long width, int accumulate, const ck_depthwise_next *next) {
    const vf w0 = v16_splat(w[0]), w1 = v16_splat(w[1]), w2 = v16_splat(w[2]);
    const vf w3 = v16_splat(w[3]), w4 = v16_splat(w[4]), w5 = v16_splat(w[5]);
    const vf w6 = v16_splat(w[6]), w7 = v16_splat(w[7]), w8 = v16_splat(w[8]);
    const vf b = v16_splat(bias);
    for (long r = 0; r < rows; r++) {
        dw_prefetch(next, r, rows);
        const float *s0 = src + r * pitch, *s1 = s0 + pitch, *s2 = s1 + pitch;
        float *y = out + r * ldo;
        vf a0 = v16_load(s0), a1 = v16_load(s1), a2 = v16_load(s2);
        for (long o = 0; o < width; o += 16) {
            // bias + Σ_{a,c} w[3a + c] · s_a[o + c], as three chains (one per kernel row) added at
            // the end: a third of the latency of one chain of nine.
            const vf n0 = v16_load(s0 + o + 16), n1 = v16_load(s1 + o + 16), n2 = v16_load(s2 + o + 16);
            const vf r0 = b + a0 * w0 + DW_SHIFT1(a0, n0) * w1 + DW_SHIFT2(a0, n0) * w2;
            const vf r1 = a1 * w3 + DW_SHIFT1(a1, n1) * w4 + DW_SHIFT2(a1, n1) * w5;
            const vf r2 = a2 * w6 + DW_SHIFT1(a2, n2) * w7 + DW_SHIFT2(a2, n2) * w8;
            const vf v = r0 + (r1 + r2);
            a0 = n0, a1 = n1, a2 = n2;
            if (o + 16 <= width) {
                v16_store(accumulate ? v16_load(y + o) + v : v, y + o);
            } else if (!accumulate && ldo == width && r * ldo + o + 16 <= rows * ldo) {
                v16_store(v, y + o);  // the lanes past width land on later rows, which overwrite them
            } else {
                float t[16];
                v16_store(v, t);
                long k = 0;
                if (!accumulate && width - o >= 8) {
                    memcpy(y + o, t, 8 * sizeof(float));
                    k = 8;
                }
                for (; k < width - o; k++) y[o + k] = accumulate ? y[o + k] + t[k] : t[k];
            }
        }
    }
}

/// Row r's last, partial vector of gy (its `rest` lanes from `full` on, zeros above): a whole
/// masked vector when it stays inside the plane (the lanes past width belong to the next row),
/// else lane by lane.
V16_INLINE vf dw_gy_tail(const float *d, long r, long ldg, long rows, long full, long rest, vi inside) {
    if (r * ldg + full + 16 <= rows * ldg) return (vf)((vi)v16_load(d + full) & inside);
    float t[16] = {0};
    for (long k = 0; k < rest; k++) t[k] = d[full + k];
    return v16_load(t);
}

/// gw[q] += the lanes of c_q summed (v16_sum's pairwise tree), for the nine taps.
V16_INLINE void dw_add_sums(float *gw, vf c0, vf c1, vf c2, vf c3, vf c4, vf c5, vf c6, vf c7, vf c8) {
    gw[0] += v16_sum(c0); gw[1] += v16_sum(c1); gw[2] += v16_sum(c2);
    gw[3] += v16_sum(c3); gw[4] += v16_sum(c4); gw[5] += v16_sum(c5);
    gw[6] += v16_sum(c6); gw[7] += v16_sum(c7); gw[8] += v16_sum(c8);
}

/// The nine dot products of the rows of gy with the shifted rows of src, in nine accumulators;
/// the last vector of a row has the lanes past width zeroed in both factors.
V16_INLINE void dw_taps(const float *gy, long ldg, const float *src, long pitch,
                       long rows, long width, float *gw, const ck_depthwise_next *next) {
    vf c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0}, c8 = {0};
    const long full = width & ~15L, rest = width - full;
    const vi inside = v16_lanes_below(rest);
    for (long r = 0; r < rows; r++) {
        dw_prefetch(next, r, rows);
        const float *d = gy + r * ldg, *s0 = src + r * pitch, *s1 = s0 + pitch, *s2 = s1 + pitch;
        vf a0 = v16_load(s0), a1 = v16_load(s1), a2 = v16_load(s2);
        for (long o = 0; o < full; o += 16) {
            const vf v = v16_load(d + o);
            const vf n0 = v16_load(s0 + o + 16), n1 = v16_load(s1 + o + 16), n2 = v16_load(s2 + o + 16);
            c0 += v * a0; c1 += v * DW_SHIFT1(a0, n0); c2 += v * DW_SHIFT2(a0, n0);
            c3 += v * a1; c4 += v * DW_SHIFT1(a1, n1); c5 += v * DW_SHIFT2(a1, n1);
            c6 += v * a2; c7 += v * DW_SHIFT1(a2, n2); c8 += v * DW_SHIFT2(a2, n2);
            a0 = n0, a1 = n1, a2 = n2;
        }
        if (rest) {
            const vf v = dw_gy_tail(d, r, ldg, rows, full, rest, inside);
            const vf n0 = v16_load(s0 + full + 16), n1 = v16_load(s1 + full + 16), n2 = v16_load(s2 + full + 16);
#define DW_IN(x) ((vf)((vi)(x) & inside))
            c0 += v * DW_IN(a0); c1 += v * DW_IN(DW_SHIFT1(a0, n0)); c2 += v * DW_IN(DW_SHIFT2(a0, n0));
            c3 += v * DW_IN(a1); c4 += v * DW_IN(DW_SHIFT1(a1, n1)); c5 += v * DW_IN(DW_SHIFT2(a1, n1));
            c6 += v * DW_IN(a2); c7 += v * DW_IN(DW_SHIFT1(a2, n2)); c8 += v * DW_IN(DW_SHIFT2(a2, n2));
#undef DW_IN
        }
    }
    dw_add_sums(gw, c0, c1, c2, c3, c4, c5, c6, c7, c8);
}

/// dw_rows (bias 0) and dw_taps over the same rows of src in one pass: each row vector of src is
/// loaded and shifted once for both (backward: ∂x from padded ∂y, ∂w from x against padded ∂y).
V16_INLINE void dw_both(const float *src, long pitch, const float *w, float *out, long ldo, int accumulate,
                       const float *gy, long ldg, long rows, long width, float *gw, const ck_depthwise_next *next) {
    const vf w0 = v16_splat(w[0]), w1 = v16_splat(w[1]), w2 = v16_splat(w[2]);
    const vf w3 = v16_splat(w[3]), w4 = v16_splat(w[4]), w5 = v16_splat(w[5]);
    const vf w6 = v16_splat(w[6]), w7 = v16_splat(w[7]), w8 = v16_splat(w[8]);
    vf c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0}, c8 = {0};
    const long full = width & ~15L, rest = width - full;
    const vi inside = v16_lanes_below(rest);
    for (long r = 0; r < rows; r++) {
        dw_prefetch(next, r, rows);
        const float *s0 = src + r * pitch, *s1 = s0 + pitch, *s2 = s1 + pitch, *d = gy + r * ldg;
        float *y = out + r * ldo;
        vf a0 = v16_load(s0), a1 = v16_load(s1), a2 = v16_load(s2);
        for (long o = 0; o < width; o += 16) {
            const vf n0 = v16_load(s0 + o + 16), n1 = v16_load(s1 + o + 16), n2 = v16_load(s2 + o + 16);
            vf p0 = a0, p1 = DW_SHIFT1(a0, n0), p2 = DW_SHIFT2(a0, n0);
            vf p3 = a1, p4 = DW_SHIFT1(a1, n1), p5 = DW_SHIFT2(a1, n1);
            vf p6 = a2, p7 = DW_SHIFT1(a2, n2), p8 = DW_SHIFT2(a2, n2);
            a0 = n0, a1 = n1, a2 = n2;
            const vf v = (p0 * w0 + p1 * w1 + p2 * w2) + ((p3 * w3 + p4 * w4 + p5 * w5) + (p6 * w6 + p7 * w7 + p8 * w8));
            vf g;
            if (o + 16 <= width) {
                v16_store(accumulate ? v16_load(y + o) + v : v, y + o);
                g = v16_load(d + o);
            } else {
                if (!accumulate && ldo == width && r * ldo + o + 16 <= rows * ldo) {
                    v16_store(v, y + o);  // the lanes past width land on later rows, which overwrite them
                } else {
                    float t[16];
                    v16_store(v, t);
                    for (long k = 0; k < rest; k++) y[o + k] = accumulate ? y[o + k] + t[k] : t[k];
                }
                g = dw_gy_tail(d, r, ldg, rows, full, rest, inside);
#define DW_IN(x) x = (vf)((vi)(x) & inside)
                DW_IN(p0); DW_IN(p1); DW_IN(p2); DW_IN(p3); DW_IN(p4); DW_IN(p5); DW_IN(p6); DW_IN(p7); DW_IN(p8);
#undef DW_IN
            }
            c0 += g * p0; c1 += g * p1; c2 += g * p2; c3 += g * p3; c4 += g * p4;
            c5 += g * p5; c6 += g * p6; c7 += g * p7; c8 += g * p8;
        }
    }
    dw_add_sums(gw, c0, c1, c2, c3, c4, c5, c6, c7, c8);
}

// MARK: one wrapper per ISA level

#define DW_WRAPPERS(SUFFIX, TARGET)                                                                      \
    TARGET static void dw_rows_##SUFFIX(const float *src, long pitch, const float *w, float bias,        \
                                        float *out, long ldo, long rows, long width, int accumulate,     \
                                        const ck_depthwise_next *next) {                                 \
        dw_rows(src, pitch, w, bias, out, ldo, rows, width, accumulate, next);                           \
    }                                                                                                    \
    TARGET static void dw_both_##SUFFIX(const float *src, long pitch, const float *w, float *out, long ldo,  \
                                        int accumulate, const float *gy, long ldg, long rows, long width, \
                                        float *gw, const ck_depthwise_next *next) {                      \
        dw_both(src, pitch, w, out, ldo, accumulate, gy, ldg, rows, width, gw, next);                    \
    }                                                                                                    \
    TARGET static void dw_taps_##SUFFIX(const float *gy, long ldg, const float *src, long pitch,         \
                                        long rows, long width, float *gw, const ck_depthwise_next *next) { \
        dw_taps(gy, ldg, src, pitch, rows, width, gw, next);                                             \
    }

CK_FOR_EACH_LEVEL(DW_WRAPPERS)

void ck_depthwise3x3_rows_f32(const float *src, long pitch, const float *w, float bias,
                              float *out, long ldo, long rows, long width, int accumulate,
                              const ck_depthwise_next *next) {
    CK_DISPATCH(dw_rows, src, pitch, w, bias, out, ldo, rows, width, accumulate, next);
}

void ck_depthwise3x3_taps_f32(const float *gy, long ldg, const float *src, long pitch,
                              long rows, long width, float *gw, const ck_depthwise_next *next) {
    CK_DISPATCH(dw_taps, gy, ldg, src, pitch, rows, width, gw, next);
}

void ck_depthwise3x3_both_f32(const float *src, long pitch, const float *w, float *out, long ldo, int accumulate,
                              const float *gy, long ldg, long rows, long width, float *gw,
                              const ck_depthwise_next *next) {
    CK_DISPATCH(dw_both, src, pitch, w, out, ldo, accumulate, gy, ldg, rows, width, gw, next);
}
