/* nncore through its C API, linked against the shipped libnncore.so.
 *
 *   nncore_bench train --data DIR --prefix m --sizes 784,256,128,10 --rows 60000 --batch 128
 *                      --epochs 1 --optimizer momentum --lr 0.01 [--l2 0] [--momentum 0.9]
 *                      [--shuffle 1] [--threads 2] [--warmup-rows 2560] [--warmup-epochs 1]
 *   nncore_bench infer --data DIR --prefix m --sizes 784,256,128,10 --rows 60000
 *                      [--calls 20000] [--batch 1024] [--seconds 1] [--threads 2]
 *   nncore_bench alloc --data DIR --prefix m --sizes ... --rows 60000 --batch 128 ...
 *                      (run with LD_PRELOAD=alloc_count.so: allocations per step and per batch)
 *
 * Data files (written by bench/run.py): PREFIX_x.f32 (rows x sizes[0], row-major float32),
 * PREFIX_y.i32 (rows int32 labels), PREFIX_w<i>.f32 / PREFIX_b<i>.f32 (the shared initial
 * weights, y = x W + b). Prints one JSON object on stdout. */
#include "bench_common.h"

#include <nncore.h>

#define MAX_LAYERS 8

#define CHECK(call)                                                                           \
    do {                                                                                      \
        nn_status status_ = (call);                                                           \
        if (status_ != NN_OK) {                                                               \
            fprintf(stderr, "bench: %s failed: %s: %s\n", #call, nn_status_string(status_),   \
                    nn_last_error_message());                                                 \
            exit(3);                                                                          \
        }                                                                                     \
    } while (0)

typedef struct {
    const char *dir, *prefix;
    int sizes[MAX_LAYERS + 1], layers;
    size_t rows;
    float *x;
    int32_t *y;
    float *w[MAX_LAYERS], *b[MAX_LAYERS];
} problem;

static void load_problem(problem *p, int argc, char **argv, int with_data) {
    char name[256];
    p->dir = bench_arg(argc, argv, "--data", ".");
    p->prefix = bench_arg(argc, argv, "--prefix", "m");
    p->layers = bench_parse_sizes(bench_arg(argc, argv, "--sizes", "784,256,128,10"), p->sizes, MAX_LAYERS + 1) - 1;
    p->rows = (size_t)bench_arg_long(argc, argv, "--rows", 0);
    if (with_data) {
        snprintf(name, sizeof name, "%s_x.f32", p->prefix);
        p->x = bench_read(p->dir, name, p->rows * (size_t)p->sizes[0] * sizeof(float));
        snprintf(name, sizeof name, "%s_y.i32", p->prefix);
        p->y = bench_read(p->dir, name, p->rows * sizeof(int32_t));
    }
    for (int i = 0; i < p->layers; i++) {
        snprintf(name, sizeof name, "%s_w%d.f32", p->prefix, i);
        p->w[i] = bench_read(p->dir, name, (size_t)p->sizes[i] * p->sizes[i + 1] * sizeof(float));
        snprintf(name, sizeof name, "%s_b%d.f32", p->prefix, i);
        p->b[i] = bench_read(p->dir, name, (size_t)p->sizes[i + 1] * sizeof(float));
    }
}

static void set_initial_weights(nn_model *model, const problem *p) {
    for (int i = 0; i < p->layers; i++) {
        CHECK(nn_model_set_weights(model, (uint32_t)i, p->w[i], (size_t)p->sizes[i] * p->sizes[i + 1]));
        CHECK(nn_model_set_biases(model, (uint32_t)i, p->b[i], (size_t)p->sizes[i + 1]));
    }
}

static nn_model *make_model(const problem *p) {
    nn_model *model = NULL;
    CHECK(nn_model_create((uint32_t)p->sizes[0], NN_LOSS_SOFTMAX_CROSS_ENTROPY, 42, &model));
    for (int i = 0; i < p->layers; i++)
        CHECK(nn_model_add_dense(model, (uint32_t)p->sizes[i + 1],
                                 i + 1 < p->layers ? NN_ACTIVATION_RELU : NN_ACTIVATION_IDENTITY, 0));
    set_initial_weights(model, p);
    return model;
}

static void train_options(nn_train_options *o, int argc, char **argv) {
    CHECK(nn_train_options_init(o));
    o->epochs = (uint32_t)bench_arg_long(argc, argv, "--epochs", 1);
    o->batch_size = (uint32_t)bench_arg_long(argc, argv, "--batch", 128);
    const char *optimizer = bench_arg(argc, argv, "--optimizer", "momentum");
    o->optimizer = strcmp(optimizer, "sgd") == 0 ? NN_OPTIMIZER_SGD : NN_OPTIMIZER_MOMENTUM;
    o->learning_rate = (float)bench_arg_double(argc, argv, "--lr", 0.01);
    o->momentum = (float)bench_arg_double(argc, argv, "--momentum", 0.9);
    o->l2 = (float)bench_arg_double(argc, argv, "--l2", 0);
    o->shuffle = (int32_t)bench_arg_long(argc, argv, "--shuffle", 1);
}

static nn_dataset dataset(const problem *p, size_t rows) {
    nn_dataset d;
    CHECK(nn_dataset_init(&d));
    d.inputs = p->x;
    d.rows = rows;
    d.cols = (size_t)p->sizes[0];
    d.labels = p->y;
    return d;
}

/* Accuracy and mean loss on the first `rows` rows, through nn_model_evaluate. */
static void evaluate(const nn_model *model, const problem *p, size_t rows, double *accuracy, double *loss) {
    nn_dataset d = dataset(p, rows);
    nn_evaluation e;
    CHECK(nn_evaluation_init(&e));
    CHECK(nn_model_evaluate(model, &d, &e));
    *accuracy = e.accuracy;
    *loss = e.loss;
}

static int run_train(int argc, char **argv) {
    problem p;
    long rss_start = bench_status_kb("VmRSS");
    memset(&p, 0, sizeof p);
    load_problem(&p, argc, argv, 1);
    long rss_data = bench_status_kb("VmRSS"), hwm_data = bench_status_kb("VmHWM");
    int threads = (int)bench_arg_long(argc, argv, "--threads", 2);
    CHECK(nn_set_thread_count(threads));
    nn_train_options options;
    train_options(&options, argc, argv);
    nn_model *model = make_model(&p);

    /* Warm-up: the same work on the first warmup-rows rows, then back to the initial state. */
    size_t warm_rows = (size_t)bench_arg_long(argc, argv, "--warmup-rows", (long)p.rows);
    if (warm_rows > p.rows) warm_rows = p.rows;
    nn_train_options warm = options;
    warm.epochs = (uint32_t)bench_arg_long(argc, argv, "--warmup-epochs", 1);
    nn_dataset warm_data = dataset(&p, warm_rows);
    double t0 = bench_now();
    if (warm.epochs > 0) CHECK(nn_model_fit(model, &warm_data, NULL, &warm, NULL));
    double warm_seconds = bench_now() - t0;
    set_initial_weights(model, &p);
    CHECK(nn_model_reset_training(model));

    nn_dataset data = dataset(&p, p.rows);
    nn_train_result result;
    CHECK(nn_train_result_init(&result));
    t0 = bench_now();
    CHECK(nn_model_fit(model, &data, NULL, &options, &result));
    double seconds = bench_now() - t0;
    long hwm = bench_status_kb("VmHWM");

    double accuracy, loss;
    evaluate(model, &p, p.rows, &accuracy, &loss);
    size_t batch = options.batch_size ? options.batch_size : p.rows;
    size_t steps = (size_t)options.epochs * ((p.rows + batch - 1) / batch);
    printf("{\"seconds\": %.6f, \"steps\": %zu, \"samples\": %zu, \"steps_per_s\": %.3f, "
           "\"samples_per_s\": %.3f, \"accuracy\": %.6f, \"loss\": %.6f, \"train_loss_last_epoch\": %.6f, "
           "\"warmup_seconds\": %.4f, \"threads\": %d, \"thread_setting\": \"nn_set_thread_count(%d) -> %d\", "
           "\"rss_start_kb\": %ld, \"rss_after_data_kb\": %ld, \"hwm_after_data_kb\": %ld, \"peak_rss_kb\": %ld, "
           "\"data_bytes\": %zu}\n",
           seconds, steps, (size_t)options.epochs * p.rows, (double)steps / seconds,
           (double)options.epochs * (double)p.rows / seconds, accuracy, loss, result.final.data_loss,
           warm_seconds, threads, threads, nn_get_thread_count(), rss_start, rss_data, hwm_data, hwm,
           p.rows * ((size_t)p.sizes[0] * sizeof(float) + sizeof(int32_t)));
    nn_model_free(model);
    return 0;
}

static int run_infer(int argc, char **argv) {
    problem p;
    memset(&p, 0, sizeof p);
    load_problem(&p, argc, argv, 1);
    int threads = (int)bench_arg_long(argc, argv, "--threads", 2);
    CHECK(nn_set_thread_count(threads));
    nn_model *model = make_model(&p);
    const size_t in = (size_t)p.sizes[0], out = (size_t)p.sizes[p.layers];
    const long calls = bench_arg_long(argc, argv, "--calls", 20000);
    const size_t batch = (size_t)bench_arg_long(argc, argv, "--batch", 1024);
    const double budget = bench_arg_double(argc, argv, "--seconds", 1.0);
    const size_t pool = p.rows < 1000 ? p.rows : 1000;
    float *scores = malloc(batch * out * sizeof(float));
    double *times = malloc((size_t)calls * sizeof(double));
    if (!scores || !times || p.rows < batch) bench_die("infer: allocation or too few rows");

    /* Correctness: the scores of the first batch go to a file the driver compares across systems. */
    CHECK(nn_model_predict(model, p.x, batch, in, scores, batch * out));
    const char *dump = bench_arg(argc, argv, "--dump", NULL);
    if (dump) {
        FILE *file = fopen(dump, "wb");
        if (file) {
            fwrite(scores, sizeof(float), batch * out, file);
            fclose(file);
        }
    }

    /* Batch-1 latency: each call timed on its own, cycling over 1000 rows; warm-up first. */
    for (long i = 0; i < 2000; i++)
        CHECK(nn_model_predict(model, p.x + (size_t)(i % pool) * in, 1, in, scores, out));
    double total0 = bench_now();
    for (long i = 0; i < calls; i++) {
        const float *row = p.x + (size_t)(i % pool) * in;
        double t = bench_now();
        nn_status status = nn_model_predict(model, row, 1, in, scores, out);
        times[i] = bench_now() - t;
        if (status != NN_OK) bench_die("predict failed");
    }
    double mean_latency = (bench_now() - total0) / (double)calls;
    double median_latency = bench_median(times, (size_t)calls);
    double p90 = times[(size_t)(0.9 * (double)(calls - 1))];

    /* Batch throughput: whole batches for about `budget` seconds, after a warm-up. */
    for (int i = 0; i < 3; i++) CHECK(nn_model_predict(model, p.x, batch, in, scores, batch * out));
    long batches = 0;
    size_t offsets = p.rows / batch;
    double start = bench_now(), elapsed = 0;
    while (elapsed < budget || batches < 5) {
        const float *rows = p.x + (size_t)(batches % (long)offsets) * batch * in;
        CHECK(nn_model_predict(model, rows, batch, in, scores, batch * out));
        batches++;
        elapsed = bench_now() - start;
    }
    printf("{\"latency_median_us\": %.4f, \"latency_mean_us\": %.4f, \"latency_p90_us\": %.4f, \"calls\": %ld, "
           "\"batch\": %zu, \"batch_samples_per_s\": %.1f, \"batches\": %ld, \"threads\": %d, "
           "\"thread_setting\": \"nn_set_thread_count(%d)\"}\n",
           1e6 * median_latency, 1e6 * mean_latency, 1e6 * p90, calls, batch,
           (double)batches * (double)batch / elapsed, batches, threads, threads);
    nn_model_free(model);
    return 0;
}

/* Allocations per training step and per prediction batch after warm-up, counted by
 * alloc_count.so: fit one epoch on `rows` rows and on rows/10 rows; if the counts are equal,
 * the steps in between allocate nothing. Then 200 prediction batches. */
static int run_alloc(int argc, char **argv) {
    problem p;
    memset(&p, 0, sizeof p);
    load_problem(&p, argc, argv, 1);
    CHECK(nn_set_thread_count((int)bench_arg_long(argc, argv, "--threads", 2)));
    nn_train_options options;
    train_options(&options, argc, argv);
    options.epochs = 1;
    nn_model *model = make_model(&p);
    size_t small = p.rows / 10;
    nn_dataset big_data = dataset(&p, p.rows), small_data = dataset(&p, small);
    CHECK(nn_model_fit(model, &small_data, NULL, &options, NULL)); /* warm-up */
    long c0, b0, c1, b1, c2, b2, c3, b3;
    bench_alloc_stats(&c0, &b0);
    CHECK(nn_model_fit(model, &small_data, NULL, &options, NULL));
    bench_alloc_stats(&c1, &b1);
    CHECK(nn_model_fit(model, &big_data, NULL, &options, NULL));
    bench_alloc_stats(&c2, &b2);
    size_t batch = options.batch_size;
    size_t small_steps = (small + batch - 1) / batch, big_steps = (p.rows + batch - 1) / batch;

    const size_t in = (size_t)p.sizes[0], out = (size_t)p.sizes[p.layers], pbatch = 1024;
    float *scores = malloc(pbatch * out * sizeof(float));
    for (int i = 0; i < 3; i++) CHECK(nn_model_predict(model, p.x, pbatch, in, scores, pbatch * out));
    long pc0, pb0;
    bench_alloc_stats(&pc0, &pb0);
    for (int i = 0; i < 200; i++) CHECK(nn_model_predict(model, p.x, pbatch, in, scores, pbatch * out));
    bench_alloc_stats(&c3, &b3);
    long sc0, sb0, sc1, sb1;
    for (int i = 0; i < 100; i++) CHECK(nn_model_predict(model, p.x + i * in, 1, in, scores, out));
    bench_alloc_stats(&sc0, &sb0);
    for (int i = 0; i < 1000; i++) CHECK(nn_model_predict(model, p.x + (i % 100) * in, 1, in, scores, out));
    bench_alloc_stats(&sc1, &sb1);
    printf("{\"counting\": %s, \"fit_small_steps\": %zu, \"fit_small_allocs\": %ld, \"fit_small_bytes\": %ld, "
           "\"fit_big_steps\": %zu, \"fit_big_allocs\": %ld, \"fit_big_bytes\": %ld, "
           "\"allocs_per_extra_step\": %.4f, \"predict1024_batches\": 200, \"predict1024_allocs\": %ld, "
           "\"predict1024_bytes\": %ld, \"predict1_calls\": 1000, \"predict1_allocs\": %ld, \"predict1_bytes\": %ld}\n",
           c0 < 0 ? "false" : "true", small_steps, c1 - c0, b1 - b0, big_steps, c2 - c1, b2 - b1,
           (double)((c2 - c1) - (c1 - c0)) / (double)(big_steps - small_steps), c3 - pc0, b3 - pb0,
           sc1 - sc0, sb1 - sb0);
    nn_model_free(model);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) bench_die("usage: nncore_bench train|infer|alloc --data DIR ...");
    if (nn_version_number() / 10000 != NN_VERSION_MAJOR) bench_die("libnncore major version differs from the header");
    if (strcmp(argv[1], "train") == 0) return run_train(argc, argv);
    if (strcmp(argv[1], "infer") == 0) return run_infer(argc, argv);
    if (strcmp(argv[1], "alloc") == 0) return run_alloc(argc, argv);
    bench_die("unknown mode");
    return 2;
}
