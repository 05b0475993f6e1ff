/* Shared helpers of the C benchmark programs: timing, raw data files, memory readings,
 * the allocation counter of alloc_count.so (when it is preloaded), a tiny JSON writer. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void bench_die(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

/* Reads exactly `bytes` bytes of `dir/name` into a fresh malloc'ed buffer. */
static inline void *bench_read(const char *dir, const char *name, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "bench: cannot open %s\n", path);
        exit(2);
    }
    void *buffer = malloc(bytes ? bytes : 1);
    if (!buffer) bench_die("out of memory");
    if (fread(buffer, 1, bytes, file) != bytes) {
        fprintf(stderr, "bench: %s is shorter than %zu bytes\n", path, bytes);
        exit(2);
    }
    fclose(file);
    return buffer;
}

/* A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or -1. */
static inline long bench_status_kb(const char *field) {
    FILE *file = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t length = strlen(field);
    if (!file) return -1;
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, field, length) == 0 && line[length] == ':') {
            value = strtol(line + length + 1, NULL, 10);
            break;
        }
    }
    fclose(file);
    return value;
}

/* Calls and bytes counted by alloc_count.so since the process started; -1 when not preloaded. */
static inline void bench_alloc_stats(long *calls, long *bytes) {
    typedef void (*stats_fn)(unsigned long *, unsigned long *);
    stats_fn function = (stats_fn)dlsym(RTLD_DEFAULT, "bench_alloc_stats");
    if (!function) {
        *calls = -1;
        *bytes = -1;
        return;
    }
    unsigned long c, b;
    function(&c, &b);
    *calls = (long)c;
    *bytes = (long)b;
}

static inline int bench_compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *values, size_t count) {
    qsort(values, count, sizeof *values, bench_compare_double);
    if (count == 0) return 0;
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

/* argv lookup: "--name value" -> value, or fallback. */
static inline const char *bench_arg(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

static inline long bench_arg_long(int argc, char **argv, const char *name, long fallback) {
    const char *value = bench_arg(argc, argv, name, NULL);
    return value ? strtol(value, NULL, 10) : fallback;
}

static inline double bench_arg_double(int argc, char **argv, const char *name, double fallback) {
    const char *value = bench_arg(argc, argv, name, NULL);
    return value ? strtod(value, NULL) : fallback;
}

/* Parses "784,256,128,10" into sizes; returns the count. */
static inline int bench_parse_sizes(const char *text, int *sizes, int capacity) {
    int count = 0;
    const char *p = text;
    while (*p && count < capacity) {
        sizes[count++] = (int)strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
    }
    return count;
}


#endif
