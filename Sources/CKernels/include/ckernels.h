#ifndef CKERNELS_H
#define CKERNELS_H

/// Float32 row kernels for the optimized backend, compiled once per x86-64 ISA level
/// (AVX-512, AVX2 + FMA, baseline) and chosen at run time from the CPU (ATen's CPU_CAPABILITY
/// dispatch), so the package needs no build flags and runs on any x86-64 (or other) CPU.

#ifdef __cplusplus
extern "C" {
#endif

/// y = softmax(x) over one contiguous row of n floats (log != 0: log_softmax), with m the
/// row's maximum: e^(x − m) / Σ e^(x − m), or (x − m) − log Σ e^(x − m). x and y may alias.
void ck_softmax_row_f32(const float *x, float *y, long n, int log);

/// The gradient of one row: softmax dx = y (g − Σ g y); log_softmax dx = g − e^y Σ g.
void ck_softmax_row_backward_f32(const float *g, const float *y, float *dx, long n, int log);

/// The ISA level in use: 2 = AVX-512 (F, DQ, BW, VL) + FMA, 1 = AVX2 + FMA, 0 = baseline.
int ck_isa_level(void);

/// Uses `level` (clamped to what the CPU supports) from now on; returns the level in use.
/// For tests that compare the variants (a kernel already running keeps the level it started with).
int ck_set_isa_level(int level);

#ifdef __cplusplus
}
#endif

#endif
