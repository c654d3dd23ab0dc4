#include "isa.h"

// The ISA level the kernels run at: the best the CPU supports, unless a test chose another.

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
