/* The sgemm-bound limit of one training epoch: times cblas_sgemm (the OpenBLAS nncore links)
 * for every matrix product of one training step of an MLP, with the shapes a row-major
 * implementation uses, and sums them.
 *
 *   sgemm_limit --sizes 784,256,128,10 --rows 60000 --batch 128 [--threads 2] [--seconds 0.2]
 *
 * Per layer i (in -> out), batch B:  forward  Y = X W           (B x in)(in x out)
 *                                    weights  dW = X^T dY       (in x B)(B x out)
 *                                    inputs   dX = dY W^T       (B x out)(out x in), not for
 *                                             the first layer (its input gradient is unused).
 * The epoch limit is full_batches * step(B) + step(rows % B). Prints one JSON object. */
#include "bench_common.h"

#include <cblas.h>

#define MAX_LAYERS 8

extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

typedef struct {
    int m, n, k;
    CBLAS_TRANSPOSE ta, tb;
    const char *what;
    int layer;
} product;

static float *buffer(size_t count) {
    float *p = aligned_alloc(64, ((count * sizeof(float) + 63) / 64) * 64);
    if (!p) bench_die("out of memory");
    for (size_t i = 0; i < count; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* Median seconds of one call of the product, repeated for about `budget` seconds. */
static double time_product(const product *p, double budget) {
    const int lda = p->ta == CblasNoTrans ? p->k : p->m;
    const int ldb = p->tb == CblasNoTrans ? p->n : p->k;
    float *a = buffer((size_t)p->m * p->k), *b = buffer((size_t)p->k * p->n), *c = buffer((size_t)p->m * p->n);
    double samples[4096];
    int count = 0;
    for (int i = 0; i < 3; i++)
        cblas_sgemm(CblasRowMajor, p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, lda, b, ldb, 0.0f, c, p->n);
    double start = bench_now();
    while (count < 4096 && (count < 15 || bench_now() - start < budget)) {
        double t = bench_now();
        cblas_sgemm(CblasRowMajor, p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, lda, b, ldb, 0.0f, c, p->n);
        samples[count++] = bench_now() - t;
    }
    free(a);
    free(b);
    free(c);
    return bench_median(samples, (size_t)count);
}

/* Sums the products of one step with batch `batch`; prints them as a JSON array when `print`. */
static double step_time(const int *sizes, int layers, int batch, double budget, int print) {
    product list[3 * MAX_LAYERS];
    int count = 0;
    for (int i = 0; i < layers; i++) {
        const int in = sizes[i], out = sizes[i + 1];
        list[count++] = (product){batch, out, in, CblasNoTrans, CblasNoTrans, "forward Y=XW", i};
        list[count++] = (product){in, out, batch, CblasTrans, CblasNoTrans, "weights dW=X^T dY", i};
        if (i > 0) list[count++] = (product){batch, in, out, CblasNoTrans, CblasTrans, "inputs dX=dY W^T", i};
    }
    double total = 0;
    if (print) printf("\"products\": [");
    for (int j = 0; j < count; j++) {
        double t = time_product(&list[j], budget);
        total += t;
        if (print)
            printf("%s{\"layer\": %d, \"what\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"us\": %.3f, \"gflops\": %.2f}",
                   j ? ", " : "", list[j].layer, list[j].what, list[j].m, list[j].n, list[j].k, 1e6 * t,
                   2.0 * list[j].m * list[j].n * list[j].k / t / 1e9);
    }
    if (print) printf("], ");
    return total;
}

int main(int argc, char **argv) {
    int sizes[MAX_LAYERS + 1];
    int layers = bench_parse_sizes(bench_arg(argc, argv, "--sizes", "784,256,128,10"), sizes, MAX_LAYERS + 1) - 1;
    long rows = bench_arg_long(argc, argv, "--rows", 60000);
    int batch = (int)bench_arg_long(argc, argv, "--batch", 128);
    int threads = (int)bench_arg_long(argc, argv, "--threads", 2);
    double budget = bench_arg_double(argc, argv, "--seconds", 0.2);
    openblas_set_num_threads(threads);
    printf("{");
    double full = step_time(sizes, layers, batch, budget, 1);
    long full_batches = rows / batch;
    int last = (int)(rows % batch);
    double tail = last ? step_time(sizes, layers, last, budget, 0) : 0;
    double epoch = (double)full_batches * full + tail;
    double flops = 0;
    for (int i = 0; i < layers; i++) flops += 2.0 * sizes[i] * sizes[i + 1] * (i > 0 ? 3 : 2);
    printf("\"step_us\": %.3f, \"last_step_us\": %.3f, \"last_batch\": %d, \"full_batches\": %ld, "
           "\"epoch_seconds\": %.6f, \"samples_per_s\": %.1f, \"gflops\": %.2f, \"threads\": %d, "
           "\"openblas_threads\": %d, \"corename\": \"%s\", \"config\": \"%s\"}\n",
           1e6 * full, 1e6 * tail, last, full_batches, epoch, (double)rows / epoch,
           flops * (double)batch / full / 1e9, threads, openblas_get_num_threads(), openblas_get_corename(),
           openblas_get_config());
    return 0;
}
