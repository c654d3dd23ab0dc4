#include "isa.h"

#include <string.h>
#ifdef CK_X86
#include <immintrin.h>
#endif

// Register tiles of the float32 convolution GEMMs (ConvImplicit.swift), one copy per ISA level
// with vector extensions, chosen at run time like the softmax rows. The baseline level has none:
// there the convolutions use OpenBLAS on materialized columns.
#pragma clang diagnostic ignored "-Wpsabi"

#ifdef CK_X86
// AVX2 + FMA: 16 registers of 8 floats: a 6 × 16 tile (12 accumulators), 2 × 4 dots.
#define CK_TARGET CK_TARGET_AVX2
#define CK_SUFFIX avx2
#define CK_VL 8
#define CK_MR 6
#define CK_NV 2
#define CK_DMR 2
#define CK_DNR 4
#include "gemm_tiles.h"  // which #undefs the parameters

// AVX-512: 32 registers of 16 floats: an 8 × 48 tile (24 accumulators), 4 × 6 dots.
#define CK_TARGET CK_TARGET_AVX512
#define CK_SUFFIX avx512
#define CK_VL 16
#define CK_MR 8
#define CK_NV 3
#define CK_DMR 4
#define CK_DNR 6
#include "gemm_tiles.h"  // which #undefs the parameters
#endif

const ck_sgemm_kernels *ck_sgemm_kernels_for_isa(void) {
    switch (ck_isa_level()) {
#ifdef CK_X86
    case 2: return &ck_sgemm_kernels_avx512;
    case 1: return &ck_sgemm_kernels_avx2;
#endif
    default: return 0;
    }
}
