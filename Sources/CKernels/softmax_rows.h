// The row kernels' bodies, included once per ISA level by softmax_rows.c with CK_TARGET set to
// that level's target attribute and CK_SUFFIX to the names' suffix. Everything is written with
// 16-lane vector extensions (as the Swift SIMD16 code: 4 SSE, 2 AVX2 or 1 AVX-512 register), so
// every level sums the same lanes in the same order; FMA levels fuse a·b + c within an expression.

#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(name) CK_CAT(name, CK_SUFFIX)

// Helpers, one copy per ISA (a vector argument across ISAs would change the ABI), always inlined.
#define CK_INLINE CK_TARGET static inline __attribute__((always_inline))
#define SPLAT CK_NAME(ck_splat_)
#define LOAD CK_NAME(ck_load_)
#define STORE CK_NAME(ck_store_)
#define LOAD_PARTIAL CK_NAME(ck_load_partial_)
#define STORE_PARTIAL CK_NAME(ck_store_partial_)
#define SELECT CK_NAME(ck_select_)
#define SUM CK_NAME(ck_sum_)
#define MAX_LANE CK_NAME(ck_max_lane_)
#define EXP_NP CK_NAME(ck_exp_np_)

CK_INLINE vf SPLAT(float a) { return (vf){0} + a; }
CK_INLINE vf LOAD(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
CK_INLINE void STORE(vf v, float *p) { memcpy(p, &v, sizeof v); }
/// The first n (< 16) floats at p in the low lanes, `pad` above.
CK_INLINE vf LOAD_PARTIAL(const float *p, long n, float pad) {
    float b[16];
    for (int k = 0; k < 16; k++) b[k] = k < n ? p[k] : pad;
    return LOAD(b);
}
CK_INLINE void STORE_PARTIAL(vf v, float *p, long n) {
    float b[16];
    STORE(v, b);
    for (long k = 0; k < n; k++) p[k] = b[k];
}
/// mask ? a : b, lane by lane (mask lanes all ones or all zeros).
CK_INLINE vf SELECT(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
/// The lanes added as a pairwise tree (halves, quarters, ...), as the Swift `vsum`.
CK_INLINE float SUM(vf v) {
    float a[16];
    STORE(v, a);
    for (int k = 0; k < 8; k++) a[k] += a[k + 8];
    for (int k = 0; k < 4; k++) a[k] += a[k + 4];
    for (int k = 0; k < 2; k++) a[k] += a[k + 2];
    return a[0] + a[1];
}
/// The largest lane, NaN lanes ignored unless all are NaN (the Swift `vmaxLane`).
CK_INLINE float MAX_LANE(vf v) {
    float a[16];
    STORE(v, a);
    float m = a[0];
    for (int k = 1; k < 16; k++) if (a[k] > m || m != m) m = a[k];
    return m;
}

/// e^x for x ≤ 0 or NaN: Cephes' degree-6 polynomial after n = round(x·log2 e) by the 1.5·2^23
/// trick and r = x − n·ln 2 in two parts; 2^n as two normal factors (the Swift vexpNonPositive).
CK_INLINE vf EXP_NP(vf x0) {
    vf x = SELECT(x0 < -104.0f, SPLAT(-104.0f), x0);
    vf t = x * 1.44269504088896341f + 12582912.0f;
    vi n = (vi)t - 0x4B400000;
    vf fx = t - 12582912.0f;
    vf r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    vf z = r * r;
    vf y = SPLAT(1.9875691500e-4f);
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    vi n1 = n >> 1, n2 = n - n1;
    return y * (vf)((n1 + 127) << 23) * (vf)((n2 + 127) << 23);
}

/// Max; then e^(x − m) summed in 16 lanes (stored: e for softmax, x − m for log_softmax, so the
/// last pass works on the row in cache); then y / Σ, or y − log Σ.
CK_TARGET static void CK_NAME(ck_softmax_row_)(const float *x, float *y, long n, int log) {
    vf mv = SPLAT(-INFINITY);
    long i = 0;
    for (; i + 16 <= n; i += 16) { vf v = LOAD(x + i); mv = SELECT(mv < v, v, mv); }
    float m = MAX_LANE(mv);
    for (long k = i; k < n; k++) if (x[k] > m) m = x[k];
    vf acc = SPLAT(0.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        vf d = LOAD(x + i) - m, e = EXP_NP(d);
        STORE(log ? d : e, y + i);
        acc += e;
    }
    if (i < n) {
        // The padded lanes add e^(−∞) = 0.
        vf d = LOAD_PARTIAL(x + i, n - i, -INFINITY) - m, e = EXP_NP(d);
        STORE_PARTIAL(log ? d : e, y + i, n - i);
        acc += e;
    }
    float sum = SUM(acc);
    if (log) {
        float l = logf(sum);
        for (i = 0; i + 16 <= n; i += 16) STORE(LOAD(y + i) - l, y + i);
        for (long k = i; k < n; k++) y[k] -= l;
    } else {
        for (i = 0; i + 16 <= n; i += 16) STORE(LOAD(y + i) / sum, y + i);
        for (long k = i; k < n; k++) y[k] /= sum;
    }
}

/// Σ g y (softmax) or Σ g (log_softmax) in 16 lanes; then y (g − Σ) or g − e^y Σ.
CK_TARGET static void CK_NAME(ck_softmax_row_backward_)(const float *g, const float *y, float *dx, long n, int log) {
    vf acc = SPLAT(0.0f);
    long i = 0;
    for (; i + 16 <= n; i += 16) acc += log ? LOAD(g + i) : LOAD(g + i) * LOAD(y + i);
    if (i < n) {
        vf gv = LOAD_PARTIAL(g + i, n - i, 0.0f);
        acc += log ? gv : gv * LOAD_PARTIAL(y + i, n - i, 0.0f);
    }
    float total = SUM(acc);
    for (i = 0; i + 16 <= n; i += 16) {
        vf gv = LOAD(g + i), yv = LOAD(y + i);
        STORE(log ? gv - EXP_NP(yv) * total : yv * (gv - total), dx + i);
    }
    if (i < n) {
        vf gv = LOAD_PARTIAL(g + i, n - i, 0.0f), yv = LOAD_PARTIAL(y + i, n - i, 0.0f);
        STORE_PARTIAL(log ? gv - EXP_NP(yv) * total : yv * (gv - total), dx + i, n - i);
    }
}

#undef CK_NAME
#undef CK_INLINE
#undef SPLAT
#undef LOAD
#undef STORE
#undef LOAD_PARTIAL
#undef STORE_PARTIAL
#undef SELECT
#undef SUM
#undef MAX_LANE
#undef EXP_NP
