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

/// out[0] = Σ g, out[1] = Σ g·(x − mu) over a row of n floats, in double (the normalization
/// backward's sums); prefetches the row at next_g/next_x (both NULL: none) meanwhile.
void ck_norm_row_sums_f32(const float *g, const float *x, float mu, long n, const float *next_g, const float *next_x,
                          double *out);

/// dx = g·a + (x − mu)·b + k over a row of n floats (the normalization backward's ∂x).
void ck_norm_row_grad_f32(const float *g, const float *x, float *dx, long n, float a, float b, float mu, float k);

/// Prefetches the cache lines of `bytes` bytes at p for reading: for planes that are read whole,
/// each too short a stream for the hardware prefetchers to ramp up on.
void ck_prefetch(const void *p, long bytes);

/// The ISA level in use: 2 = AVX-512 (F, DQ, BW, VL) + FMA, 1 = AVX2 + FMA, 0 = baseline.
int ck_isa_level(void);

/// Uses `level` (clamped to what the CPU supports) from now on; returns the level in use.
/// For tests that compare the variants (a kernel already running keeps the level it started with).
int ck_set_isa_level(int level);

/// A run of columns of a packed panel block: `count` columns from column `within` of panel `panel`,
/// read from element `source` of a plane.
typedef struct {
    long panel, within, source, count;
} ck_piece;

/// The float32 GEMM register tiles of one ISA level (gemm_tiles.c), for the convolutions.
typedef struct {
    /// `tile` computes an `mr` × `nr` block of C from packed panels.
    long mr, nr;
    /// `dots` computes a `dot_mr` × `dot_nr` block of row dot products.
    long dot_mr, dot_nr;
    /// C[r][j] (+)= Σ_{p<k} a[p·mr + r] · b[p·nr + j] for r < m ≤ mr, j < n ≤ nr; C row r at c + r·ldc.
    /// `accumulate` = 0 overwrites C.
    void (*tile)(long k, const float *a, const float *b, float *c, long ldc, long m, long n, int accumulate);
    /// c[r·ldc + j] += Σ_{u<batches} Σ_{s<rows} Σ_{t<len} a[r][u·a_batch + s·a_row + t] · b[j][u·b_batch + s·b_row + t]
    /// for r < m ≤ dot_mr, j < n ≤ dot_nr; only the elements named are read.
    void (*dots)(long len, long rows, long batches, const float *const *a, long a_row, long a_batch,
                 const float *const *b, long b_row, long b_batch, float *c, long ldc, long m, long n);
    /// For each tap q < taps and piece k: copies the piece from plane + offsets[q] + source to
    /// dst + q·nr + panel·stride + within, then zeroes columns `filled ..< nr` of panel `last_panel`
    /// in each tap's row; prefetches `next` (may be NULL) over the same region.
    void (*pack)(const float *plane, const float *next, const long *offsets, long taps, const ck_piece *pieces,
                 long count, float *dst, long stride, long last_panel, long filled);
    /// For each piece i and k < count: copies pieces[i].count floats from image + pixels[k] + source
    /// to dst + panel·stride + k·nr + within (a block of panels from pixel-major, channels-last data).
    void (*pack_pixels)(const float *image, const long *pixels, long count, const ck_piece *pieces, long npieces,
                        float *dst, long stride);
    /// dst[k·mr + r] = rows[r][k] for k < depth and r < m ≤ mr, zero for m ≤ r < mr: a row panel.
    void (*pack_rows)(const float *const *rows, long m, long depth, float *dst);
} ck_sgemm_kernels;

/// The tiles for the ISA level in use, or NULL at the baseline level (no vector FMA: OpenBLAS
/// serves there).
const ck_sgemm_kernels *ck_sgemm_kernels_for_isa(void);

#ifdef __cplusplus
}
#endif

#endif
