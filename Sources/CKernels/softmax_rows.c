#include "isa.h"

#include "vec16.h"
#include <math.h>

// Each row kernel is one body, always inlined into a wrapper per ISA level (AVX-512, AVX2 + FMA,
// baseline) that compiles it for that level; the functions at the end dispatch on the level.

/// Max; then e^(x − m) summed in 16 lanes (stored: e for softmax, x − m for log_softmax, so the
/// last pass works on the row in cache); then y / Σ, or y − log Σ.
V16_INLINE void sm_row(const float *x, float *y, long n, int log) {
    vf mv = v16_splat(-INFINITY);
    long i = 0;
    for (; i + 16 <= n; i += 16) { vf v = v16_load(x + i); mv = v16_select(mv < v, v, mv); }
    float m = v16_max_lane(mv);
    for (long k = i; k < n; k++) if (x[k] > m) m = x[k];
    vf acc = v16_splat(0.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        vf d = v16_load(x + i) - m, e = v16_exp_np(d);
        v16_store(log ? d : e, y + i);
        acc += e;
    }
    if (i < n) {
        // The padded lanes add e^(−∞) = 0.
        vf d = v16_load_partial(x + i, n - i, -INFINITY) - m, e = v16_exp_np(d);
        v16_store_partial(log ? d : e, y + i, n - i);
        acc += e;
    }
    float sum = v16_sum(acc);
    if (log) {
        float l = logf(sum);
        for (i = 0; i + 16 <= n; i += 16) v16_store(v16_load(y + i) - l, y + i);
        for (long k = i; k < n; k++) y[k] -= l;
    } else {
        for (i = 0; i + 16 <= n; i += 16) v16_store(v16_load(y + i) / sum, y + i);
        for (long k = i; k < n; k++) y[k] /= sum;
    }
}

/// Σ g y (softmax) or Σ g (log_softmax) in 16 lanes; then y (g − Σ) or g − e^y Σ.
V16_INLINE void sm_row_backward(const float *g, const float *y, float *dx, long n, int log) {
    vf acc = v16_splat(0.0f);
    long i = 0;
    for (; i + 16 <= n; i += 16) acc += log ? v16_load(g + i) : v16_load(g + i) * v16_load(y + i);
    if (i < n) {
        vf gv = v16_load_partial(g + i, n - i, 0.0f);
        acc += log ? gv : gv * v16_load_partial(y + i, n - i, 0.0f);
    }
    float total = v16_sum(acc);
    for (i = 0; i + 16 <= n; i += 16) {
        vf gv = v16_load(g + i), yv = v16_load(y + i);
        v16_store(log ? gv - v16_exp_np(yv) * total : yv * (gv - total), dx + i);
    }
    if (i < n) {
        vf gv = v16_load_partial(g + i, n - i, 0.0f), yv = v16_load_partial(y + i, n - i, 0.0f);
        v16_store_partial(log ? gv - v16_exp_np(yv) * total : yv * (gv - total), dx + i, n - i);
    }
}

#define SM_WRAPPERS(SUFFIX, TARGET)                                                                      \
    TARGET static void ck_softmax_row_##SUFFIX(const float *x, float *y, long n, int log) {             \
        sm_row(x, y, n, log);                                                                            \
    }                                                                                                    \
    TARGET static void ck_softmax_row_backward_##SUFFIX(const float *g, const float *y, float *dx, long n, \
                                                       int log) {                                        \
        sm_row_backward(g, y, dx, n, log);                                                               \
    }

CK_FOR_EACH_LEVEL(SM_WRAPPERS)

void ck_softmax_row_f32(const float *x, float *y, long n, int log) { CK_DISPATCH(ck_softmax_row, x, y, n, log); }

void ck_softmax_row_backward_f32(const float *g, const float *y, float *dx, long n, int log) {
    CK_DISPATCH(ck_softmax_row_backward, g, y, dx, n, log);
}
