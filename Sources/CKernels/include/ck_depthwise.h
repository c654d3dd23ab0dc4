#ifndef CK_DEPTHWISE_H
#define CK_DEPTHWISE_H

/// Float32 rows of the 3×3, stride-1 depthwise convolution (NNOptimized's Depthwise3x3), compiled
/// per x86-64 ISA level and dispatched on ck_isa_level() as the softmax rows are.

#ifdef __cplusplus
extern "C" {
#endif

/// Memory the caller touches in its next call (the next plane's input and output), prefetched a
/// share per row while this call works, so the next call finds it in cache instead of stalling
/// on it (the planes are read or written whole, so the hardware prefetchers see only short
/// streams). Null pointers (or a null `next`) are skipped.
typedef struct {
    const float *read[2];
    long read_count[2];
    float *write;
    long write_count;
} ck_depthwise_next;

/// out[r·ldo + o] = (accumulate ? out[r·ldo + o] : 0) + (bias + Σ_{a,c<3} w[3a + c] · src[(r + a)·pitch + o + c])
/// for r < rows, o < width. src must be readable up to column ⌈width/16⌉·16 + 16 of rows 0..<rows + 2
/// (the lanes past width are computed and dropped); fastest with src 64-byte aligned and pitch a
/// multiple of 16 (each row is read in aligned 16-float vectors, shifted in registers).
void ck_depthwise3x3_rows_f32(const float *src, long pitch, const float *w, float bias,
                              float *out, long ldo, long rows, long width, int accumulate,
                              const ck_depthwise_next *next);

/// gw[3a + c] += Σ_{r<rows, o<width} gy[r·ldg + o] · src[(r + a)·pitch + o + c], for a, c < 3.
/// src is read as for ck_depthwise3x3_rows_f32, gy only within its rows·ldg floats; only products
/// with o < width are added.
void ck_depthwise3x3_taps_f32(const float *gy, long ldg, const float *src, long pitch,
                              long rows, long width, float *gw, const ck_depthwise_next *next);

/// ck_depthwise3x3_rows_f32(src, pitch, w, 0, out, ldo, rows, width, accumulate) and
/// ck_depthwise3x3_taps_f32(gy, ldg, src, pitch, rows, width, gw) in one pass over src.
void ck_depthwise3x3_both_f32(const float *src, long pitch, const float *w, float *out, long ldo, int accumulate,
                              const float *gy, long ldg, long rows, long width, float *gw,
                              const ck_depthwise_next *next);

#ifdef __cplusplus
}
#endif

#endif
