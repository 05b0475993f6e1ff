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
#endif
