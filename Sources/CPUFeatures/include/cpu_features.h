// What the CPU nncore runs on can execute, read once with CPUID.
#ifndef NNCORE_CPU_FEATURES_H
#define NNCORE_CPU_FEATURES_H

/// 1 when the CPU and the operating system run everything NNKernelsAVX2 is compiled for (the
/// Haswell instruction set: AVX and AVX2 with their register state enabled by the OS, FMA, BMI1,
/// BMI2, F16C, LZCNT, MOVBE, POPCNT) and the environment variable NNCORE_KERNELS is not
/// "baseline"; 0 otherwise. Computed on the first call; thread-safe.
int nncore_cpu_runs_avx2_kernels(void);

/// 1 when the CPU and the operating system run the AVX2 kernels, whatever NNCORE_KERNELS says.
int nncore_cpu_has_avx2_kernels_features(void);

#endif
