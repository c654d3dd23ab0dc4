#ifndef CK_VEC16_H
#define CK_VEC16_H

// 16-lane float vectors (as the Swift SIMD16 code: 4 SSE, 2 AVX2 or 1 AVX-512 register) and the
// helpers the row kernels share (softmax_rows, depthwise). The helpers carry no target
// attribute and are always inlined, so each ISA level's kernel compiles them for its own level:
// every level sums the same lanes in the same order, and FMA levels fuse a·b + c within an
// expression. Vectors only pass between inlined helpers, never through a call.
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));

#define V16_INLINE static inline __attribute__((always_inline))

/// a in every lane. Written a − 0, which is a for every a, so the subtraction folds away and an
/// FMA can take a from memory as an embedded broadcast; 0 + a would stay as an add, since it
/// turns −0 into +0.
V16_INLINE vf v16_splat(float a) { return a - (vf){0}; }
V16_INLINE vf v16_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
V16_INLINE void v16_store(vf v, float *p) { memcpy(p, &v, sizeof v); }
/// The first n (< 16) floats at p in the low lanes, `pad` above.
V16_INLINE vf v16_load_partial(const float *p, long n, float pad) {
    float b[16];
    for (int k = 0; k < 16; k++) b[k] = k < n ? p[k] : pad;
    return v16_load(b);
}
V16_INLINE void v16_store_partial(vf v, float *p, long n) {
    float b[16];
    v16_store(v, b);
    for (long k = 0; k < n; k++) p[k] = b[k];
}
/// mask ? a : b, lane by lane (mask lanes all ones or all zeros).
V16_INLINE vf v16_select(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
/// The lanes added as a pairwise tree (halves, quarters, ...), as the Swift `vsum`.
V16_INLINE float v16_sum(vf v) {
    float a[16];
    v16_store(v, a);
    for (int k = 0; k < 8; k++) a[k] += a[k + 8];
    for (int k = 0; k < 4; k++) a[k] += a[k + 4];
    for (int k = 0; k < 2; k++) a[k] += a[k + 2];
    return a[0] + a[1];
}
/// The largest lane, NaN lanes ignored unless all are NaN (the Swift `vmaxLane`).
V16_INLINE float v16_max_lane(vf v) {
    float a[16];
    v16_store(v, a);
    float m = a[0];
    for (int k = 1; k < 16; k++) if (a[k] > m || m != m) m = a[k];
    return m;
}

/// e^x for x ≤ 0 or NaN: Cephes' degree-6 polynomial after n = round(x·log2 e) by the 1.5·2^23
/// trick and r = x − n·ln 2 in two parts; 2^n as two normal factors (the Swift vexpNonPositive).
V16_INLINE vf v16_exp_np(vf x0) {
    vf x = v16_select(x0 < -104.0f, v16_splat(-104.0f), x0);
    vf t = x * 1.44269504088896341f + 12582912.0f;
    vi n = (vi)t - 0x4B400000;
    vf fx = t - 12582912.0f;
    vf r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    vf z = r * r;
    vf y = v16_splat(1.9875691500e-4f);
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    vi n1 = n >> 1, n2 = n - n1;
    return y * (vf)((n1 + 127) << 23) * (vf)((n2 + 127) << 23);
}

/// All ones in the lanes below n, zeros from lane n on (a mask for a row's last, partial vector).
V16_INLINE vi v16_lanes_below(long n) {
    const vi lanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return lanes < (int)n;
}

#endif
