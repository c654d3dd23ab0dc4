// The GEMM register tiles' bodies, included once per ISA level by gemm_tiles.c with CK_TARGET set
// to that level's target attribute, CK_SUFFIX to the names' suffix, CK_VL to the float lanes of
// one register, CK_MR/CK_NV to the tile of ck_sgemm_tile (CK_MR rows × CK_NV registers) and
// CK_DMR/CK_DNR to the tile of ck_sdot_tile (CK_DMR·CK_DNR accumulators, CK_VL of them or, with
// 16 lanes, 24, reduced at the end). Sums are `acc += a * b` within one expression, which FMA
// levels fuse.

#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(name) CK_CAT(name, CK_SUFFIX)
#define CK_INLINE CK_TARGET static inline __attribute__((always_inline))
#define VEC CK_NAME(ck_gemm_vec_)
#define LOADV CK_NAME(ck_gemm_load_)
#define STOREV CK_NAME(ck_gemm_store_)
#define LOAD_MASKED CK_NAME(ck_gemm_load_masked_)
#define STORE_MASKED CK_NAME(ck_gemm_store_masked_)
#define NR (CK_VL * CK_NV)

typedef float VEC __attribute__((vector_size(CK_VL * 4)));

CK_INLINE VEC LOADV(const float *p) { VEC v; memcpy(&v, p, sizeof v); return v; }
CK_INLINE void STOREV(VEC v, float *p) { memcpy(p, &v, sizeof v); }
/// The first n (0 < n < VL) floats at p, zero above; nothing past them is read.
#if CK_VL == 16
CK_INLINE VEC LOAD_MASKED(const float *p, long n) { return (VEC)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
CK_INLINE void STORE_MASKED(VEC v, float *p, long n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#else
CK_INLINE __m256i CK_NAME(ck_gemm_mask_)(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
CK_INLINE VEC LOAD_MASKED(const float *p, long n) { return (VEC)_mm256_maskload_ps(p, CK_NAME(ck_gemm_mask_)(n)); }
CK_INLINE void STORE_MASKED(VEC v, float *p, long n) { _mm256_maskstore_ps(p, CK_NAME(ck_gemm_mask_)(n), (__m256)v); }
#endif

/// C[r][j] (+)= Σ_p a[p·MR + r] · b[p·NR + j] for r < m, j < n (m ≤ MR, n ≤ NR): an MR × NR
/// block of C kept in registers over the whole inner dimension k, from packed panels.
CK_TARGET static void CK_NAME(ck_sgemm_tile_)(long k, const float *a, const float *b, float *c, long ldc,
                                              long m, long n, int accumulate) {
    VEC acc[CK_MR][CK_NV];
    for (int r = 0; r < CK_MR; r++)
        for (int v = 0; v < CK_NV; v++) acc[r][v] = (VEC){0};
    for (long p = 0; p < k; p++, a += CK_MR, b += NR) {
        VEC bv[CK_NV];
        for (int v = 0; v < CK_NV; v++) bv[v] = LOADV(b + v * CK_VL);
        for (int r = 0; r < CK_MR; r++) {
            VEC ar = a[r] - (VEC){0};  // a splat (see v16_splat)
            for (int v = 0; v < CK_NV; v++) acc[r][v] += ar * bv[v];
        }
    }
    if (m == CK_MR && n == NR) {
        for (int r = 0; r < CK_MR; r++)
            for (int v = 0; v < CK_NV; v++) {
                float *p = c + r * ldc + v * CK_VL;
                STOREV(accumulate ? LOADV(p) + acc[r][v] : acc[r][v], p);
            }
        return;
    }
    float tile[NR];
    for (long r = 0; r < m; r++) {
        for (int v = 0; v < CK_NV; v++) STOREV(acc[r][v], tile + v * CK_VL);
        float *p = c + r * ldc;
        for (long j = 0; j < n; j++) p[j] = accumulate ? p[j] + tile[j] : tile[j];
    }
}

/// The lanes of x and y added pairwise at distance h: lanes [0, h) of the result are x's sums
/// of lane blocks of 2h, lanes [h, 2h) y's, and so on ("combine" of a transpose-and-add tree).
#if CK_VL == 16
#define HALF8(x, y) __builtin_shufflevector(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), \
                    __builtin_shufflevector(x, y, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31)
#define HALF4(x, y) __builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), \
                    __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31)
#define HALF2(x, y) __builtin_shufflevector(x, y, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29), \
                    __builtin_shufflevector(x, y, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31)
#define HALF1(x, y) __builtin_shufflevector(x, y, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), \
                    __builtin_shufflevector(x, y, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#else
#define HALF4(x, y) __builtin_shufflevector(x, y, 0, 1, 2, 3, 8, 9, 10, 11), \
                    __builtin_shufflevector(x, y, 4, 5, 6, 7, 12, 13, 14, 15)
#define HALF2(x, y) __builtin_shufflevector(x, y, 0, 1, 4, 5, 8, 9, 12, 13), \
                    __builtin_shufflevector(x, y, 2, 3, 6, 7, 10, 11, 14, 15)
#define HALF1(x, y) __builtin_shufflevector(x, y, 0, 2, 4, 6, 8, 10, 12, 14), \
                    __builtin_shufflevector(x, y, 1, 3, 5, 7, 9, 11, 13, 15)
#endif
CK_INLINE VEC CK_NAME(ck_gemm_add_)(VEC x, VEC y) { return x + y; }
#define COMBINE(HALF, x, y) CK_NAME(ck_gemm_add_)(HALF(x, y))

/// c[r·ldc + j] += Σ_{u < batches} Σ_{s < rows} Σ_{t < len} a[r][u·a_batch + s·a_row + t] ·
/// b[j][u·b_batch + s·b_row + t] for r < m ≤ DMR, j < n ≤ DNR: a DMR × DNR block of dot products
/// of rows (C = A·Bᵀ with the inner dimension in runs of `len` contiguous elements in both), one
/// register of lane-wise partial sums per dot, reduced by a transpose-and-add tree at the end.
/// Only the elements named are read (masked loads for a run's tail).
CK_TARGET static void CK_NAME(ck_sdot_tile_)(long len, long rows, long batches, const float *const *a, long a_row,
                                             long a_batch, const float *const *b, long b_row, long b_batch, float *c,
                                             long ldc, long m, long n) {
    const float *ar[CK_DMR], *br[CK_DNR];
    VEC acc[CK_DMR * CK_DNR];
    for (int q = 0; q < CK_DMR * CK_DNR; q++) acc[q] = (VEC){0};
    const long tail = len % CK_VL, full = len - tail;
    for (long u = 0; u < batches; u++) {
        for (long s = 0; s < rows; s++) {
            for (int r = 0; r < CK_DMR; r++) ar[r] = a[r < m ? r : 0] + u * a_batch + s * a_row;
            for (int j = 0; j < CK_DNR; j++) br[j] = b[j < n ? j : 0] + u * b_batch + s * b_row;
            for (long t = 0; t < full; t += CK_VL) {
                VEC av[CK_DMR];
                for (int r = 0; r < CK_DMR; r++) av[r] = LOADV(ar[r] + t);
                for (int j = 0; j < CK_DNR; j++) {
                    VEC bv = LOADV(br[j] + t);
                    for (int r = 0; r < CK_DMR; r++) acc[r * CK_DNR + j] += av[r] * bv;
                }
            }
            if (tail) {
                VEC av[CK_DMR];
                for (int r = 0; r < CK_DMR; r++) av[r] = LOAD_MASKED(ar[r] + full, tail);
                for (int j = 0; j < CK_DNR; j++) {
                    VEC bv = LOAD_MASKED(br[j] + full, tail);
                    for (int r = 0; r < CK_DMR; r++) acc[r * CK_DNR + j] += av[r] * bv;
                }
            }
        }
    }
    // Reduce the VL registers to one whose lane q is Σ acc[q] (and 8 more to the first half of a
    // second: the same tree, so every dot's lanes are added in the same order).
#if CK_VL == 16
    VEC s8[8], s4[4], s2[2];
    for (int q = 0; q < 8; q++) s8[q] = COMBINE(HALF8, acc[2 * q], acc[2 * q + 1]);
    for (int q = 0; q < 4; q++) s4[q] = COMBINE(HALF4, s8[2 * q], s8[2 * q + 1]);
    for (int q = 0; q < 2; q++) s2[q] = COMBINE(HALF2, s4[2 * q], s4[2 * q + 1]);
    VEC sums = COMBINE(HALF1, s2[0], s2[1]);
#if CK_DMR * CK_DNR == 24
    for (int q = 0; q < 4; q++) s8[q] = COMBINE(HALF8, acc[16 + 2 * q], acc[16 + 2 * q + 1]);
    for (int q = 0; q < 2; q++) s4[q] = COMBINE(HALF4, s8[2 * q], s8[2 * q + 1]);
    s2[0] = COMBINE(HALF2, s4[0], s4[1]);
    VEC more = COMBINE(HALF1, s2[0], s2[0]);
#endif
#else
    VEC s4[4], s2[2];
    for (int q = 0; q < 4; q++) s4[q] = COMBINE(HALF4, acc[2 * q], acc[2 * q + 1]);
    for (int q = 0; q < 2; q++) s2[q] = COMBINE(HALF2, s4[2 * q], s4[2 * q + 1]);
    VEC sums = COMBINE(HALF1, s2[0], s2[1]);
#endif
    float out[2 * CK_VL];
    STOREV(sums, out);
#if CK_VL == 16 && CK_DMR * CK_DNR == 24
    STOREV(more, out + CK_VL);
#endif
    for (long r = 0; r < m; r++)
        for (long j = 0; j < n; j++) c[r * ldc + j] += out[r * CK_DNR + j];
}

/// For each tap q < taps and piece k: copies pieces[k].count floats from plane + offsets[q] +
/// pieces[k].source to dst + q·NR + pieces[k].panel·stride + pieces[k].within; then zeroes the last
/// panel's columns from `filled` on. Prefetches `next` (the next plane's same region) meanwhile.
CK_TARGET static void CK_NAME(ck_pack_taps_)(const float *plane, const float *next, const long *offsets, long taps,
                                             const ck_piece *pieces, long count, float *dst, long stride,
                                             long last_panel, long filled) {
    if (next) {  // the first, middle and last taps' rows of the next plane
        for (long k = 0; k < count; k++) {
            const long taps3[3] = {0, taps / 2, taps - 1};
            for (int t = 0; t < 3; t++) {
                const char *p = (const char *)(next + pieces[k].source + offsets[taps3[t]]);
                for (long i = 0; i < pieces[k].count * 4; i += 64) __builtin_prefetch(p + i, 0, 3);
            }
        }
    }
    for (long q = 0; q < taps; q++) {
        const float *src = plane + offsets[q];
        float *row = dst + q * NR;
        for (long k = 0; k < count; k++) {
            const float *s = src + pieces[k].source;
            float *d = row + pieces[k].panel * stride + pieces[k].within;
            long n = pieces[k].count, i = 0;
            for (; i + CK_VL <= n; i += CK_VL) STOREV(LOADV(s + i), d + i);
            if (i < n) STORE_MASKED(LOAD_MASKED(s + i, n - i), d + i, n - i);
        }
        if (filled < NR) {
            float *d = row + last_panel * stride;
            for (long j = filled; j < NR; j++) d[j] = 0.0f;
        }
    }
}

/// For each piece i and k < count: copies pieces[i].count floats from image + pixels[k] +
/// pieces[i].source to dst + pieces[i].panel·stride + k·NR + pieces[i].within (a panel's rows
/// written in order).
CK_TARGET static void CK_NAME(ck_pack_pixels_)(const float *image, const long *pixels, long count,
                                               const ck_piece *pieces, long npieces, float *dst, long stride) {
    for (long i = 0; i < npieces; i++) {
        const float *src = image + pieces[i].source;
        float *d = dst + pieces[i].panel * stride + pieces[i].within;
        const long n = pieces[i].count, full = n - n % CK_VL;
        for (long k = 0; k < count; k++, d += NR) {
            const float *s = src + pixels[k];
            for (long t = 0; t < full; t += CK_VL) STOREV(LOADV(s + t), d + t);
            if (full < n) STORE_MASKED(LOAD_MASKED(s + full, n - full), d + full, n - full);
        }
    }
}

/// dst[k·MR + r] = rows[r][k] for k < depth and r < m ≤ MR, zero for m ≤ r < MR: a tile's row
/// panel, transposed 8 × 8 at a time in registers where MR is 8.
CK_TARGET static void CK_NAME(ck_pack_rows_)(const float *const *rows, long m, long depth, float *dst) {
    long k = 0;
#if CK_MR == 8
    typedef float v8 __attribute__((vector_size(32)));
    for (; m == 8 && k + 8 <= depth; k += 8) {
        v8 x[8], t[8], u[8];
        for (int r = 0; r < 8; r++) memcpy(&x[r], rows[r] + k, sizeof x[r]);
        for (int r = 0; r < 8; r += 2) {  // pairs of rows interleaved
            t[r] = __builtin_shufflevector(x[r], x[r + 1], 0, 8, 1, 9, 4, 12, 5, 13);
            t[r + 1] = __builtin_shufflevector(x[r], x[r + 1], 2, 10, 3, 11, 6, 14, 7, 15);
        }
        for (int h = 0; h < 8; h += 4) {  // then quadruples: u[h + c] holds columns c and c + 4
            u[h] = __builtin_shufflevector(t[h], t[h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[h + 1] = __builtin_shufflevector(t[h], t[h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
            u[h + 2] = __builtin_shufflevector(t[h + 1], t[h + 3], 0, 1, 8, 9, 4, 5, 12, 13);
            u[h + 3] = __builtin_shufflevector(t[h + 1], t[h + 3], 2, 3, 10, 11, 6, 7, 14, 15);
        }
        for (int c = 0; c < 4; c++) {
            v8 lo = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
            v8 hi = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
            memcpy(dst + (k + c) * 8, &lo, sizeof lo);
            memcpy(dst + (k + c + 4) * 8, &hi, sizeof hi);
        }
    }
#endif
    for (; k < depth; k++)
        for (long r = 0; r < CK_MR; r++) dst[k * CK_MR + r] = r < m ? rows[r][k] : 0.0f;
}

static const ck_sgemm_kernels CK_NAME(ck_sgemm_kernels_) = {
    CK_MR, NR, CK_DMR, CK_DNR, CK_NAME(ck_sgemm_tile_), CK_NAME(ck_sdot_tile_), CK_NAME(ck_pack_taps_),
    CK_NAME(ck_pack_pixels_), CK_NAME(ck_pack_rows_),
};

#undef CK_CAT2
#undef CK_CAT
#undef CK_NAME
#undef CK_INLINE
#undef VEC
#undef LOADV
#undef STOREV
#undef LOAD_MASKED
#undef STORE_MASKED
#undef NR
#undef HALF8
#undef HALF4
#undef HALF2
#undef HALF1
#undef COMBINE
// This level's parameters, set by gemm_tiles.c before each inclusion.
#undef CK_TARGET
#undef CK_SUFFIX
#undef CK_VL
#undef CK_MR
#undef CK_NV
#undef CK_DMR
#undef CK_DNR
