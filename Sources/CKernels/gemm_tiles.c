#include "ckernels.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Register tiles of the float32 convolution GEMMs (ConvImplicit.swift), one copy per ISA level
// with vector extensions, chosen at run time like the softmax rows. The baseline level has none:
// there the convolutions use OpenBLAS on materialized columns.
#pragma clang diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) || defined(__i386__)
// AVX2 + FMA: 16 registers of 8 floats: a 6 × 16 tile (12 accumulators), 2 × 4 dots.
#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_SUFFIX avx2
#define CK_VL 8
#define CK_MR 6
#define CK_NV 2
#define CK_DMR 2
#define CK_DNR 4
#include "gemm_tiles.h"  // which #undefs the parameters

// AVX-512: 32 registers of 16 floats: an 8 × 48 tile (24 accumulators), 4 × 4 dots.
#define CK_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define CK_SUFFIX avx512
#define CK_VL 16
#define CK_MR 8
#define CK_NV 3
#define CK_DMR 4
#define CK_DNR 4
#include "gemm_tiles.h"  // which #undefs the parameters
#endif

const ck_sgemm_kernels *ck_sgemm_kernels_for_isa(void) {
    switch (ck_isa_level()) {
#if defined(__x86_64__) || defined(__i386__)
    case 2: return &ck_sgemm_kernels_avx512;
    case 1: return &ck_sgemm_kernels_avx2;
#endif
    default: return 0;
    }
}
