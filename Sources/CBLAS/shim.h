// OpenBLAS's CBLAS interface for NNCore. Internal: no stable API (see README.md here).
#ifndef NNCORE_CBLAS_SHIM_H
#define NNCORE_CBLAS_SHIM_H
#include <cblas.h>

// OpenBLAS extensions (declared in OpenBLAS's cblas.h too; repeated here so that the module
// also compiles against a cblas.h that lacks them).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);

// A hint to the CPU inside a spin-wait loop (x86 PAUSE, Arm YIELD): lets the sibling
// hyper-thread run and saves power while a worker waits a few microseconds for the next job.
static inline void nncore_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

// The calling thread's flag for nncore's one-time OpenBLAS warm-up (see Gemm.warmUpOpenBLAS):
// 0 until the thread has run it.
static inline int *nncore_openblas_warm_flag(void) {
    static _Thread_local int warmed;
    return &warmed;
}
#endif
