// CPUID and XGETBV, read directly: no dependency on a compiler runtime's CPU model.
#include "cpu_features.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int nncore_cpu_has_avx2_kernels_features(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int fma = 1u << 12, movbe = 1u << 22, popcnt = 1u << 23, osxsave = 1u << 27,
                       avx = 1u << 28, f16c = 1u << 29;
    const unsigned int leaf1 = fma | movbe | popcnt | osxsave | avx | f16c;
    if ((ecx & leaf1) != leaf1) return 0;
    // The OS saves and restores the SSE and AVX register state (XCR0 bits 1 and 2).
    if ((read_xcr0() & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int bmi1 = 1u << 3, avx2 = 1u << 5, bmi2 = 1u << 8;
    if ((ebx & (bmi1 | avx2 | bmi2)) != (bmi1 | avx2 | bmi2)) return 0;
    if (!__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int lzcnt = 1u << 5;
    return (ecx & lzcnt) != 0;
}
#else
int nncore_cpu_has_avx2_kernels_features(void) { return 0; }
#endif

int nncore_cpu_runs_avx2_kernels(void) {
    // -1 until computed; racing first calls compute the same answer.
    static atomic_int answer = -1;
    int known = atomic_load_explicit(&answer, memory_order_relaxed);
    if (known >= 0) return known;
    const char *choice = getenv("NNCORE_KERNELS");
    int runs = nncore_cpu_has_avx2_kernels_features() && !(choice && strcmp(choice, "baseline") == 0);
    atomic_store_explicit(&answer, runs, memory_order_relaxed);
    return runs;
}
