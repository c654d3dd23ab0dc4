#include "ckernels.h"

// The generic copy passes 16-lane vectors between always-inlined helpers; they never reach a call.
#pragma clang diagnostic ignored "-Wpsabi"
#include <math.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));

#define CK_TARGET
#define CK_SUFFIX generic
#include "softmax_rows.h"
#undef CK_TARGET
#undef CK_SUFFIX

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_SUFFIX avx2
#include "softmax_rows.h"
#undef CK_TARGET
#undef CK_SUFFIX

#define CK_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define CK_SUFFIX avx512
#include "softmax_rows.h"
#undef CK_TARGET
#undef CK_SUFFIX
#endif

// MARK: run-time dispatch

static int ck_supported_level(void) {
#ifdef CK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

/// −1 until first use; every thread that races here computes and stores the same value.
static int ck_level = -1;

int ck_isa_level(void) {
    int level = __atomic_load_n(&ck_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = ck_supported_level();
        __atomic_store_n(&ck_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

int ck_set_isa_level(int level) {
    int supported = ck_supported_level();
    if (level > supported) level = supported;
    if (level < 0) level = 0;
    __atomic_store_n(&ck_level, level, __ATOMIC_RELAXED);
    return level;
}

void ck_softmax_row_f32(const float *x, float *y, long n, int log) {
    switch (ck_isa_level()) {
#ifdef CK_X86
    case 2: ck_softmax_row_avx512(x, y, n, log); return;
    case 1: ck_softmax_row_avx2(x, y, n, log); return;
#endif
    default: ck_softmax_row_generic(x, y, n, log);
    }
}

void ck_softmax_row_backward_f32(const float *g, const float *y, float *dx, long n, int log) {
    switch (ck_isa_level()) {
#ifdef CK_X86
    case 2: ck_softmax_row_backward_avx512(g, y, dx, n, log); return;
    case 1: ck_softmax_row_backward_avx2(g, y, dx, n, log); return;
#endif
    default: ck_softmax_row_backward_generic(g, y, dx, n, log);
    }
}
