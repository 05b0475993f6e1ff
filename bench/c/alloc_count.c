/* LD_PRELOAD shim that counts heap allocations (malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign) of the whole process; nncore_bench reads the counters through
 * bench_alloc_stats (looked up with dlsym). Forwarding goes to glibc's __libc_* entry points,
 * so no dlsym is needed during allocation. Build: gcc -O2 -shared -fPIC alloc_count.c. */
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long alloc_calls, alloc_bytes;

static void count(size_t bytes) {
    __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&alloc_bytes, bytes, __ATOMIC_RELAXED);
}

void bench_alloc_stats(unsigned long *calls, unsigned long *bytes) {
    *calls = __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
    *bytes = __atomic_load_n(&alloc_bytes, __ATOMIC_RELAXED);
}

void *malloc(size_t size) {
    count(size);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    count(n * size);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    count(size);
    return __libc_realloc(p, size);
}

void *memalign(size_t alignment, size_t size) {
    count(size);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count(size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count(size);
    void *p = __libc_memalign(alignment, size);
    if (!p && size) return ENOMEM;
    *out = p;
    return 0;
}
