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

// Stops OpenBLAS's own worker threads, where its build has them (blas_thread_shutdown_, looked up
// at run time: not part of its API, but exported by its pthread builds for their fork handler).
// Returns 0 when they were stopped, -1 when there is no such function. OpenBLAS starts them as it
// loads, and each spins (calling sched_yield) for about 2^28 cycles before it sleeps: on a 2-core
// machine, one core's worth for the first 0.1 s of every process. nncore runs OpenBLAS on one
// thread per call (its own pool splits the work); OpenBLAS starts them again if a later call is
// to use several threads.
static inline int nncore_openblas_stop_threads(void) {
    extern void *dlsym(void *handle, const char *symbol);
    int (*shutdown)(void) = (int (*)(void))dlsym((void *)0 /* RTLD_DEFAULT */, "blas_thread_shutdown_");
    return shutdown ? shutdown() : -1;
}

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
