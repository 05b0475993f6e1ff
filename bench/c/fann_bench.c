/* FANN (Debian's libfann-dev, 2.2) on the benchmark's data, from C.
 *
 *   fann_bench train --data DIR --prefix m --sizes 784,256,128,10 --rows 60000
 *                    [--subset N] --mode incremental|batch --epochs E --lr 0.01 [--momentum 0.9]
 *   fann_bench infer --data DIR --prefix m --sizes ... --rows 60000 [--calls N] [--batch 1024]
 *
 * FANN 2.2 has neither ReLU nor softmax nor L2 nor mini-batches: hidden layers use
 * FANN_SIGMOID_SYMMETRIC (tanh), the output FANN_SIGMOID against one-hot targets with FANN's
 * MSE; training is "batch" (full batch, FANN averages the gradient) or "incremental" (one
 * sample per update, with momentum). The shared initial weights are loaded into FANN's
 * connections (FANN keeps a bias neuron at the end of each layer). FANN is single-threaded.
 * With --subset N the training rate is measured on the first N rows only (one pass); with
 * --eval-rows N the accuracy is that of the first N rows (FANN's scalar forward pass is slow). */
#include "bench_common.h"

#include <floatfann.h>

#define MAX_LAYERS 8

typedef struct {
    int sizes[MAX_LAYERS + 1], layers;
    size_t rows;
    float *x;
    int32_t *y;
    float *w[MAX_LAYERS], *b[MAX_LAYERS];
} problem;

static void load(problem *p, int argc, char **argv) {
    char name[256];
    const char *dir = bench_arg(argc, argv, "--data", "."), *prefix = bench_arg(argc, argv, "--prefix", "m");
    p->layers = bench_parse_sizes(bench_arg(argc, argv, "--sizes", "784,256,128,10"), p->sizes, MAX_LAYERS + 1) - 1;
    p->rows = (size_t)bench_arg_long(argc, argv, "--rows", 0);
    snprintf(name, sizeof name, "%s_x.f32", prefix);
    p->x = bench_read(dir, name, p->rows * (size_t)p->sizes[0] * sizeof(float));
    snprintf(name, sizeof name, "%s_y.i32", prefix);
    p->y = bench_read(dir, name, p->rows * sizeof(int32_t));
    for (int i = 0; i < p->layers; i++) {
        snprintf(name, sizeof name, "%s_w%d.f32", prefix, i);
        p->w[i] = bench_read(dir, name, (size_t)p->sizes[i] * p->sizes[i + 1] * sizeof(float));
        snprintf(name, sizeof name, "%s_b%d.f32", prefix, i);
        p->b[i] = bench_read(dir, name, (size_t)p->sizes[i + 1] * sizeof(float));
    }
}

static struct fann *make(const problem *p) {
    unsigned int layers[MAX_LAYERS + 1];
    for (int i = 0; i <= p->layers; i++) layers[i] = (unsigned int)p->sizes[i];
    struct fann *ann = fann_create_standard_array((unsigned int)p->layers + 1, layers);
    if (!ann) bench_die("fann_create_standard_array failed");
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    /* Shared initial weights: neuron ids run layer by layer, each layer ending in a bias neuron. */
    unsigned int total = fann_get_total_connections(ann);
    struct fann_connection *connections = malloc(total * sizeof *connections);
    unsigned int first[MAX_LAYERS + 2];
    first[0] = 0;
    for (int i = 0; i <= p->layers; i++) first[i + 1] = first[i] + (unsigned int)p->sizes[i] + 1;
    fann_get_connection_array(ann, connections);
    for (unsigned int c = 0; c < total; c++) {
        int l = 0;
        while (l < p->layers && connections[c].from_neuron >= first[l + 1]) l++;
        unsigned int from = connections[c].from_neuron - first[l], to = connections[c].to_neuron - first[l + 1];
        connections[c].weight = from == (unsigned int)p->sizes[l] ? p->b[l][to]
                                                                : p->w[l][(size_t)from * p->sizes[l + 1] + to];
    }
    /* fann_set_weight_array looks every connection up by a linear search (quadratic for
     * millions of connections); fann_get_connection_array lists them in the order of
     * ann->weights, so the weights are written there directly. */
    for (unsigned int c = 0; c < total; c++) ann->weights[c] = connections[c].weight;
    free(connections);
    return ann;
}

static double accuracy(struct fann *ann, const problem *p, size_t rows) {
    size_t correct = 0;
    const int in = p->sizes[0], out = p->sizes[p->layers];
    for (size_t r = 0; r < rows; r++) {
        fann_type *scores = fann_run(ann, p->x + r * in);
        int best = 0;
        for (int c = 1; c < out; c++)
            if (scores[c] > scores[best]) best = c;
        correct += best == p->y[r];
    }
    return (double)correct / (double)rows;
}

static int run_train(int argc, char **argv) {
    problem p;
    long rss_start = bench_status_kb("VmRSS");
    load(&p, argc, argv);
    long rss_data = bench_status_kb("VmRSS");
    size_t subset = (size_t)bench_arg_long(argc, argv, "--subset", (long)p.rows);
    if (subset > p.rows) subset = p.rows;
    const int in = p.sizes[0], out = p.sizes[p.layers];
    const char *mode = bench_arg(argc, argv, "--mode", "incremental");
    int epochs = (int)bench_arg_long(argc, argv, "--epochs", 1);
    struct fann *ann = make(&p);
    fann_set_training_algorithm(ann, strcmp(mode, "batch") == 0 ? FANN_TRAIN_BATCH : FANN_TRAIN_INCREMENTAL);
    fann_set_learning_rate(ann, (float)bench_arg_double(argc, argv, "--lr", 0.01));
    fann_set_learning_momentum(ann, (float)bench_arg_double(argc, argv, "--momentum", 0.0));
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    struct fann_train_data *data = fann_create_train((unsigned int)subset, (unsigned int)in, (unsigned int)out);
    for (size_t r = 0; r < subset; r++) {
        memcpy(data->input[r], p.x + r * in, (size_t)in * sizeof(float));
        for (int c = 0; c < out; c++) data->output[r][c] = c == p.y[r] ? 1.0f : 0.0f;
    }
    /* Warm-up: a short pass on a throw-away network. */
    struct fann *warm = fann_copy(ann);
    struct fann_train_data *warm_data = fann_subset_train_data(data, 0, subset < 256 ? (unsigned int)subset : 256);
    fann_train_epoch(warm, warm_data);
    fann_destroy_train(warm_data);
    fann_destroy(warm);

    int shuffle = (int)bench_arg_long(argc, argv, "--shuffle", 1);
    double t0 = bench_now();
    float mse = 0;
    for (int e = 0; e < epochs; e++) {
        if (shuffle) fann_shuffle_train_data(data);
        mse = fann_train_epoch(ann, data);
    }
    double seconds = bench_now() - t0;
    long hwm = bench_status_kb("VmHWM");
    size_t eval_rows = (size_t)bench_arg_long(argc, argv, "--eval-rows", (long)p.rows);
    if (eval_rows > p.rows) eval_rows = p.rows;
    double acc = accuracy(ann, &p, eval_rows);
    double steps = strcmp(mode, "batch") == 0 ? (double)epochs : (double)epochs * (double)subset;
    printf("{\"seconds\": %.6f, \"steps\": %.0f, \"samples\": %zu, \"steps_per_s\": %.3f, \"samples_per_s\": %.3f, "
           "\"accuracy\": %.6f, \"accuracy_rows\": %zu, \"mse\": %.6f, \"subset\": %zu, \"threads\": 1, "
           "\"thread_setting\": \"FANN is single-threaded\", \"rss_start_kb\": %ld, \"rss_after_data_kb\": %ld, "
           "\"peak_rss_kb\": %ld, \"fann_version\": \"%s\"}\n",
           seconds, steps, (size_t)epochs * subset, steps / seconds, (double)epochs * (double)subset / seconds, acc,
           eval_rows, mse, subset, rss_start, rss_data, hwm, "2.2 (Debian libfann-dev)");
    fann_destroy_train(data);
    fann_destroy(ann);
    return 0;
}

static int run_infer(int argc, char **argv) {
    problem p;
    load(&p, argc, argv);
    struct fann *ann = make(&p);
    const int in = p.sizes[0];
    const long calls = bench_arg_long(argc, argv, "--calls", 20000);
    const size_t batch = (size_t)bench_arg_long(argc, argv, "--batch", 1024);
    const double budget = bench_arg_double(argc, argv, "--seconds", 1.0);
    const size_t pool = p.rows < 1000 ? p.rows : 1000;
    double *times = malloc((size_t)calls * sizeof(double));
    volatile float sink = 0;
    for (long i = 0; i < 2000; i++) sink += fann_run(ann, p.x + (size_t)(i % pool) * in)[0];
    double total0 = bench_now();
    for (long i = 0; i < calls; i++) {
        double t = bench_now();
        sink += fann_run(ann, p.x + (size_t)(i % pool) * in)[0];
        times[i] = bench_now() - t;
    }
    double mean = (bench_now() - total0) / (double)calls;
    double median = bench_median(times, (size_t)calls);
    double p90 = times[(size_t)(0.9 * (double)(calls - 1))];
    long batches = 0;
    double start = bench_now(), elapsed = 0;
    while (elapsed < budget || batches < 3) {
        for (size_t r = 0; r < batch; r++) sink += fann_run(ann, p.x + ((size_t)batches * batch + r) % p.rows * in)[0];
        batches++;
        elapsed = bench_now() - start;
    }
    printf("{\"latency_median_us\": %.4f, \"latency_mean_us\": %.4f, \"latency_p90_us\": %.4f, \"calls\": %ld, "
           "\"batch\": %zu, \"batch_samples_per_s\": %.1f, \"batches\": %ld, \"threads\": 1, "
           "\"thread_setting\": \"FANN is single-threaded (fann_run per row)\"}\n",
           1e6 * median, 1e6 * mean, 1e6 * p90, calls, batch, (double)batches * (double)batch / elapsed, batches);
    fann_destroy(ann);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) bench_die("usage: fann_bench train|infer ...");
    if (strcmp(argv[1], "train") == 0) return run_train(argc, argv);
    if (strcmp(argv[1], "infer") == 0) return run_infer(argc, argv);
    bench_die("unknown mode");
    return 2;
}
