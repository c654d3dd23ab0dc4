#ifndef CK_ISA_H
#define CK_ISA_H

// Compiling one kernel body per x86-64 ISA level and choosing one at run time (ATen's
// CPU_CAPABILITY), shared by the row kernels. A file writes its wrappers once, as a macro
// WRAPPERS(SUFFIX, TARGET) defining `static` functions name_##SUFFIX with TARGET as their target
// attribute, instantiates them with CK_FOR_EACH_LEVEL(WRAPPERS), and picks one in its public
// function with CK_DISPATCH(name, arguments...) (void functions). Off x86-64 only `generic` exists.

#include "ckernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define CK_FOR_EACH_LEVEL(WRAPPERS) WRAPPERS(generic, ) WRAPPERS(avx2, CK_TARGET_AVX2) WRAPPERS(avx512, CK_TARGET_AVX512)
#define CK_DISPATCH(name, ...)                                \
    switch (ck_isa_level()) {                                 \
    case 2: name##_avx512(__VA_ARGS__); return;               \
    case 1: name##_avx2(__VA_ARGS__); return;                 \
    default: name##_generic(__VA_ARGS__); return;             \
    }
#else
#define CK_FOR_EACH_LEVEL(WRAPPERS) WRAPPERS(generic, )
#define CK_DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

#endif
