/* The C test suite of nncore's C ABI: every function of include/nncore.h, every status code that
 * can be reached, misuse (NULL and dead handles, wrong lengths, overflowing counts, bad data and
 * hyper-parameters) and concurrency (parallel predictions, NN_ERR_BUSY during training, the
 * thread-local error message). Built as C11 with -Wall -Wextra -pedantic -Werror and pthreads
 * against an installed libnncore (pkg-config), like a user's program; run under AddressSanitizer,
 * ThreadSanitizer and valgrind by `make sanitize` / `make valgrind`. Prints one line per test
 * case and "N passed, N failed" alone on the last line; exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Shared helpers ---------------------------------------------------------------------- */

#define SENTINEL_MODEL ((nn_model *)(uintptr_t)0x5E47140)
#define SENTINEL_GRAPH ((nn_graph *)(uintptr_t)0x5E47141)
#define SENTINEL_SIZE ((size_t)0xDEADBEEF)
#define SENTINEL_NODE ((int32_t)-777)
#define FORGED_MODEL ((nn_model *)(uintptr_t)0x12345678)
#define FORGED_GRAPH ((nn_graph *)(uintptr_t)0x12345679)
#define MAX_PARAMETERS 4096

static char temp_dir[64];

static void temp_path(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", temp_dir, name); }

/* xorshift64* with Box-Muller: deterministic data for every run. */
static uint64_t rng_state = 1;
static void rng_seed(uint64_t seed) { rng_state = seed * 0x9E3779B97F4A7C15u + 0x2545F4914F6CDD1Du; }
static double rng_uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 0x2545F4914F6CDD1Du) >> 11) + 0.5) / 9007199254740992.0;
}
static double rng_normal(void) {
    return sqrt(-2.0 * log(rng_uniform())) * cos(6.283185307179586 * rng_uniform());
}

/* The lecture's spiral, small: 3 classes x 40 points. */
#define SPIRAL_CLASSES 3
#define SPIRAL_PER_CLASS 40
#define SPIRAL_ROWS (SPIRAL_CLASSES * SPIRAL_PER_CLASS)
static float spiral_x[SPIRAL_ROWS * 2];
static int32_t spiral_y[SPIRAL_ROWS];

static void make_spiral(void) {
    int k, i;
    rng_seed(42);
    for (k = 0; k < SPIRAL_CLASSES; k++) {
        for (i = 0; i < SPIRAL_PER_CLASS; i++) {
            const int row = k * SPIRAL_PER_CLASS + i;
            const double r = (double)i / (SPIRAL_PER_CLASS - 1);
            const double t = 4.0 * k + 4.0 * i / (SPIRAL_PER_CLASS - 1) + 0.2 * rng_normal();
            spiral_x[2 * row] = (float)(r * sin(t));
            spiral_x[2 * row + 1] = (float)(r * cos(t));
            spiral_y[row] = k;
        }
    }
}

static void labelled(nn_dataset *data, const float *x, size_t rows, size_t cols, const int32_t *y) {
    nn_dataset_init(data);
    data->inputs = x;
    data->rows = rows;
    data->cols = cols;
    data->labels = y;
}

static void spiral_data(nn_dataset *data) { labelled(data, spiral_x, SPIRAL_ROWS, 2, spiral_y); }

/* 2 -> hidden ReLU -> 3, softmax cross-entropy. */
static nn_model *classifier(uint32_t hidden, uint64_t seed) {
    nn_model *model = NULL;
    if (!OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, seed, &model))) return NULL;
    OK(nn_model_add_dense(model, hidden, NN_ACTIVATION_RELU, 0.0f));
    OK(nn_model_add_dense(model, 3, NN_ACTIVATION_IDENTITY, 0.0f));
    return model;
}

static void quick_options(nn_train_options *options, uint32_t epochs) {
    nn_train_options_init(options);
    options->epochs = epochs;
    options->batch_size = 0;
    options->learning_rate = 0.5f;
}

/* Every weight and bias of every trainable layer, in order; returns the count. */
static size_t all_parameters(const nn_model *model, float *out, size_t capacity) {
    nn_model_info info;
    nn_layer_info layer;
    size_t total = 0, count = 0;
    uint32_t i;
    nn_model_info_init(&info);
    if (nn_model_get_info(model, &info) != NN_OK) return 0;
    for (i = 0; i < info.layer_count; i++) {
        nn_layer_info_init(&layer);
        if (nn_model_get_layer(model, i, &layer) != NN_OK || layer.kind == NN_LAYER_DROPOUT) continue;
        if (nn_model_get_weights(model, i, out + total, capacity - total, &count) != NN_OK) return 0;
        total += count;
        if (nn_model_get_biases(model, i, out + total, capacity - total, &count) != NN_OK) return 0;
        total += count;
    }
    return total;
}

static int same_parameters(const nn_model *a, const nn_model *b) {
    static float pa[MAX_PARAMETERS], pb[MAX_PARAMETERS];
    const size_t na = all_parameters(a, pa, MAX_PARAMETERS), nb = all_parameters(b, pb, MAX_PARAMETERS);
    return na > 0 && na == nb && memcmp(pa, pb, na * sizeof(float)) == 0;
}

static int all_finite(const float *values, size_t count) {
    size_t i;
    for (i = 0; i < count; i++)
        if (!isfinite(values[i])) return 0;
    return 1;
}

static nn_model_info model_info(const nn_model *model) {
    nn_model_info info;
    nn_model_info_init(&info);
    OK(nn_model_get_info(model, &info));
    return info;
}

static int near(double a, double b, double tolerance) { return fabs(a - b) <= tolerance * (1.0 + fabs(b)); }

/* CRC-32C (Castagnoli), as the model file's trailer uses. */
static uint32_t crc32c(const unsigned char *bytes, size_t count) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int bit;
    for (i = 0; i < count; i++) {
        crc ^= bytes[i];
        for (bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static int write_file(const char *path, const void *bytes, size_t count) {
    FILE *file = fopen(path, "wb");
    int ok;
    if (file == NULL) return 0;
    ok = fwrite(bytes, 1, count, file) == count;
    return fclose(file) == 0 && ok;
}

static long file_size(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 ? (long)info.st_size : -1;
}

static int directory_entries(const char *path) {
    DIR *dir = opendir(path);
    struct dirent *entry;
    int count = 0;
    if (dir == NULL) return -1;
    while ((entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) count++;
    closedir(dir);
    return count;
}

/* ---- Versions, status strings, the last error, threads ------------------------------------ */

static void test_versions(void) {
    char expected[32];
    CHECK(nn_version_number() == NN_VERSION_NUMBER);
    CHECK(NN_VERSION_NUMBER == NN_VERSION_MAJOR * 10000 + NN_VERSION_MINOR * 100 + NN_VERSION_PATCH);
    snprintf(expected, sizeof expected, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR, NN_VERSION_PATCH);
    CHECK(nn_version_string() != NULL);
    CHECK(strcmp(nn_version_string(), expected) == 0);
    CHECK(nn_version_string() == nn_version_string()); /* static text */
}

static void test_status_strings(void) {
    const nn_status unknown[] = {-1, 21, 22, 1000, INT32_MIN, INT32_MAX};
    nn_status code, other;
    size_t i;
    for (code = 0; code < STATUS_CODES; code++) {
        const char *text = nn_status_string(code);
        CHECK(text != NULL && text[0] != '\0');
        if (text == NULL) continue;
        CHECK(strcmp(text, "unknown status") != 0);
        CHECK(text == nn_status_string(code));
        for (other = 0; other < code; other++) CHECK(strcmp(text, nn_status_string(other)) != 0);
    }
    CHECK(strcmp(nn_status_string(NN_ERR_SHAPE_MISMATCH), "shape mismatch") == 0);
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(nn_status_string(unknown[i]) != NULL);
        CHECK(strcmp(nn_status_string(unknown[i]), "unknown status") == 0);
    }
    /* Status strings leave the last error alone. */
    EXPECT(nn_model_create(0, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, NULL), NN_ERR_NULL_POINTER);
    nn_status_string(NN_ERR_IO);
    nn_version_string();
    CHECK(nn_last_error_message()[0] != '\0');
}

typedef struct {
    char initial[256];  /* the message before this thread made any call */
    char failure[256];  /* after its own failing call */
    char after_ok[256]; /* after its own successful call */
    int mismatches;     /* iterations whose message was not this thread's own */
    int which;
} message_result;

static void copy_message(char *out, size_t size) {
    strncpy(out, nn_last_error_message(), size - 1);
    out[size - 1] = '\0';
}

static void *message_thread(void *argument) {
    message_result *result = argument;
    nn_model *model = NULL;
    nn_graph *graph = NULL;
    int i;
    copy_message(result->initial, sizeof result->initial);
    nn_model_create(2, 99, 0, &model);
    copy_message(result->failure, sizeof result->failure);
    if (nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model) == NN_OK) nn_model_free(model);
    copy_message(result->after_ok, sizeof result->after_ok);
    /* Many failures with a message of this thread's own, while other threads do the same. */
    for (i = 0; i < 300; i++) {
        const char *message;
        if (result->which % 2 == 0) {
            nn_graph_create(0, 0, &graph);
            message = nn_last_error_message();
            if (strstr(message, "batch capacity") == NULL) result->mismatches++;
        } else {
            nn_model_create(0, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model);
            message = nn_last_error_message();
            if (strstr(message, "input width") == NULL) result->mismatches++;
        }
        if (nn_version_number() == 0 || nn_get_thread_count() < 1) result->mismatches++;
        nn_graph_create(1, 0, &graph);
        nn_graph_free(graph);
        if (nn_last_error_message()[0] != '\0') result->mismatches++;
    }
    return NULL;
}

static void test_last_error_message(void) {
    nn_model *model = SENTINEL_MODEL;
    char saved[256];
    const char *message;
    pthread_t threads[4];
    message_result results[4];
    int i;

    EXPECT(nn_model_create(0, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model), NN_ERR_INVALID_ARGUMENT);
    message = nn_last_error_message();
    CHECK(strstr(message, "input width") != NULL); /* specific, not just the status's text */
    CHECK(strcmp(message, nn_status_string(NN_ERR_INVALID_ARGUMENT)) != 0);
    copy_message(saved, sizeof saved);
    CHECK(strcmp(nn_last_error_message(), saved) == 0); /* reading it does not change it */
    CHECK(model == SENTINEL_MODEL);

    /* Another thread's failures and successes leave this thread's message alone. */
    memset(results, 0, sizeof results);
    for (i = 0; i < 4; i++) {
        results[i].which = i;
        CHECK(pthread_create(&threads[i], NULL, message_thread, &results[i]) == 0);
    }
    for (i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    CHECK(strcmp(nn_last_error_message(), saved) == 0);
    for (i = 0; i < 4; i++) {
        CHECK(results[i].initial[0] == '\0'); /* a new thread starts with an empty message */
        CHECK(strstr(results[i].failure, "nn_loss") != NULL);
        CHECK(results[i].after_ok[0] == '\0');
        CHECK(results[i].mismatches == 0);
    }

    /* Success empties it. */
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model));
    CHECK(nn_last_error_message() != NULL && nn_last_error_message()[0] == '\0');
    nn_model_free(model);
}

static void test_thread_count(void) {
    const int32_t original = nn_get_thread_count();
    CHECK(original >= 1);
    EXPECT(nn_set_thread_count(0), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_set_thread_count(-3), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_set_thread_count(INT32_MIN), NN_ERR_INVALID_ARGUMENT);
    CHECK(nn_get_thread_count() == original);
    OK(nn_set_thread_count(1));
    CHECK(nn_get_thread_count() == 1);
    OK(nn_set_thread_count(original));
    CHECK(nn_get_thread_count() == original);
}

static void test_struct_init_defaults(void) {
    nn_train_options options;
    nn_save_options save;
    nn_dataset data;
    nn_train_result result;
    nn_epoch_stats stats;
    nn_step_stats step;
    nn_evaluation evaluation;
    nn_model_info info;
    nn_layer_info layer;

    memset(&options, 0xAB, sizeof options);
    OK(nn_train_options_init(&options));
    CHECK(options.struct_size == sizeof options);
    CHECK(options.epochs == 10 && options.batch_size == 32 && options.optimizer == NN_OPTIMIZER_SGD);
    CHECK(options.learning_rate == 0.01f && options.momentum == 0.9f && options.beta1 == 0.9f);
    CHECK(options.beta2 == 0.999f && options.epsilon == 1e-8f && options.rho == 0.9f);
    CHECK(options.weight_decay == 0.01f && options.schedule == NN_SCHEDULE_CONSTANT);
    CHECK(options.step_milestones == NULL && options.step_milestone_count == 0 && options.step_factor == 0.1f);
    CHECK(options.exponential_gamma == 0.95f && options.cosine_period == 100 && options.cosine_minimum_factor == 0.0f);
    CHECK(options.warmup_epochs == 0 && options.l2 == 0.0f && options.l1 == 0.0f && options.gradient_clip_norm == 0.0f);
    CHECK(options.validation_fraction == 0.0f && options.early_stopping_patience == 0);
    CHECK(options.early_stopping_min_delta == 0.0f && options.shuffle == 1 && options.standardize == 0);
    CHECK(options.callback == NULL && options.user_data == NULL);

    memset(&save, 0xAB, sizeof save);
    OK(nn_save_options_init(&save));
    CHECK(save.struct_size == sizeof save && save.include_training_state == 1 && save.pin_creation_time == 0);
    CHECK(save.creation_time == 0);

    memset(&data, 0xAB, sizeof data);
    OK(nn_dataset_init(&data));
    CHECK(data.struct_size == sizeof data && data.inputs == NULL && data.rows == 0 && data.cols == 0);
    CHECK(data.labels == NULL && data.targets == NULL && data.target_cols == 0 && data.sample_weights == NULL);

    memset(&result, 0xAB, sizeof result);
    OK(nn_train_result_init(&result));
    CHECK(result.struct_size == sizeof result && result.epochs_run == 0 && result.best_epoch == 0);
    CHECK(result.stop_reason == NN_STOP_COMPLETED && result.final.struct_size == sizeof(nn_epoch_stats));

    memset(&stats, 0xAB, sizeof stats);
    OK(nn_epoch_stats_init(&stats));
    CHECK(stats.struct_size == sizeof stats && stats.epoch == 0 && stats.seconds == 0.0);
    memset(&step, 0xAB, sizeof step);
    OK(nn_step_stats_init(&step));
    CHECK(step.struct_size == sizeof step && step.data_loss == 0.0f && step.gradient_norm == 0.0f);
    memset(&evaluation, 0xAB, sizeof evaluation);
    OK(nn_evaluation_init(&evaluation));
    CHECK(evaluation.struct_size == sizeof evaluation && evaluation.count == 0);
    memset(&info, 0xAB, sizeof info);
    OK(nn_model_info_init(&info));
    CHECK(info.struct_size == sizeof info && info.layer_count == 0 && info.seed == 0);
    memset(&layer, 0xAB, sizeof layer);
    OK(nn_layer_info_init(&layer));
    CHECK(layer.struct_size == sizeof layer && layer.kind == 0 && layer.weight_cols == 0);

    EXPECT(nn_train_options_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_save_options_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_dataset_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_train_result_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_epoch_stats_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_step_stats_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_evaluation_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_info_init(NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_layer_info_init(NULL), NN_ERR_NULL_POINTER);
}

/* ---- Building models ---------------------------------------------------------------------- */

static void test_create_every_loss(void) {
    const nn_loss losses[] = {NN_LOSS_SOFTMAX_CROSS_ENTROPY, NN_LOSS_MULTICLASS_HINGE, NN_LOSS_MEAN_SQUARED_ERROR,
                              NN_LOSS_BINARY_CROSS_ENTROPY};
    /* class_count of a 3-output model per loss, and of a 1-output model */
    const uint32_t classes3[] = {3, 3, 0, 3}, classes1[] = {1, 1, 0, 2};
    nn_model *model = SENTINEL_MODEL;
    nn_model_info info;
    size_t i;

    for (i = 0; i < 4; i++) {
        OK(nn_model_create(5, losses[i], 1234 + i, &model));
        info = model_info(model);
        CHECK(info.loss == losses[i] && info.input_width == 5 && info.output_width == 5 && info.layer_count == 0);
        CHECK(info.parameter_count == 0 && info.seed == 1234 + i && info.epochs_trained == 0);
        OK(nn_model_add_dense(model, 3, NN_ACTIVATION_IDENTITY, 0.0f));
        info = model_info(model);
        CHECK(info.class_count == classes3[i] && info.output_width == 3 && info.parameter_count == 18);
        nn_model_free(model);
        OK(nn_model_create(5, losses[i], 0, &model));
        OK(nn_model_add_dense(model, 1, NN_ACTIVATION_IDENTITY, 0.0f));
        CHECK(model_info(model).class_count == classes1[i]);
        nn_model_free(model);
    }
    model = SENTINEL_MODEL;
    EXPECT(nn_model_create(0, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_create((1u << 24) + 1, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_create(UINT32_MAX, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_create(2, 0, 0, &model), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_create(2, 5, 0, &model), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_create(2, -1, 0, &model), NN_ERR_INVALID_ARGUMENT);
    CHECK(model == SENTINEL_MODEL);
    EXPECT(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, NULL), NN_ERR_NULL_POINTER);
    OK(nn_model_create(1u << 24, NN_LOSS_MEAN_SQUARED_ERROR, 0, &model)); /* the widest input */
    nn_model_free(model);
}

static void test_every_layer_kind_and_activation(void) {
    const nn_activation activations[] = {NN_ACTIVATION_IDENTITY, NN_ACTIVATION_RELU, NN_ACTIVATION_LEAKY_RELU,
                                         NN_ACTIVATION_SIGMOID, NN_ACTIVATION_TANH, NN_ACTIVATION_ELU,
                                         NN_ACTIVATION_GELU, NN_ACTIVATION_SOFTPLUS};
    const float alphas[] = {0.0f, 0.0f, 0.01f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
    nn_model *model = NULL;
    nn_layer_info layer;
    nn_model_info info;
    float x[4 * 5], out[5 * 3], p[5 * 3];
    int32_t classes[5];
    uint32_t i;

    OK(nn_model_create(4, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 7, &model));
    for (i = 0; i < 8; i++) OK(nn_model_add_dense(model, 8, activations[i], alphas[i]));
    OK(nn_model_add_maxout(model, 4, 3));
    OK(nn_model_add_dropout(model, 0.25f));
    OK(nn_model_add_dense(model, 3, NN_ACTIVATION_IDENTITY, 0.0f));

    info = model_info(model);
    CHECK(info.layer_count == 11 && info.input_width == 4 && info.output_width == 3 && info.class_count == 3);
    CHECK(info.parameter_count == (4 * 8 + 8) + 7 * (8 * 8 + 8) + (8 * 12 + 12) + (4 * 3 + 3));
    for (i = 0; i < 8; i++) {
        OK(nn_layer_info_init(&layer));
        OK(nn_model_get_layer(model, i, &layer));
        CHECK(layer.struct_size == sizeof layer);
        CHECK(layer.kind == NN_LAYER_DENSE && layer.units == 8 && layer.activation == activations[i]);
        CHECK(layer.alpha == alphas[i] && layer.pieces == 0 && layer.rate == 0.0f);
        CHECK(layer.input_width == (i == 0 ? 4u : 8u) && layer.output_width == 8);
        CHECK(layer.weight_rows == layer.input_width && layer.weight_cols == 8);
    }
    OK(nn_model_get_layer(model, 8, &layer));
    CHECK(layer.kind == NN_LAYER_MAXOUT && layer.units == 4 && layer.pieces == 3 && layer.activation == 0);
    CHECK(layer.input_width == 8 && layer.output_width == 4 && layer.weight_rows == 8 && layer.weight_cols == 12);
    OK(nn_model_get_layer(model, 9, &layer));
    CHECK(layer.kind == NN_LAYER_DROPOUT && layer.rate == 0.25f && layer.units == 0 && layer.activation == 0);
    CHECK(layer.input_width == 4 && layer.output_width == 4 && layer.weight_rows == 0 && layer.weight_cols == 0);
    OK(nn_model_get_layer(model, 10, &layer));
    CHECK(layer.kind == NN_LAYER_DENSE && layer.units == 3 && layer.input_width == 4);

    /* The whole stack runs: dropout is off at inference, probabilities are finite and sum to 1. */
    for (i = 0; i < 20; i++) x[i] = (float)i / 10.0f - 1.0f;
    OK(nn_model_predict(model, x, 5, 4, out, 15));
    OK(nn_model_predict_proba(model, x, 5, 4, p, 15));
    OK(nn_model_classify(model, x, 5, 4, classes, 5));
    CHECK(all_finite(out, 15) && all_finite(p, 15));
    for (i = 0; i < 5; i++) {
        CHECK(near(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1.0, 1e-5));
        CHECK(classes[i] >= 0 && classes[i] < 3);
    }
    nn_model_free(model);
}

static void test_layer_errors_and_limits(void) {
    nn_model *model = NULL, *wide = NULL;
    uint32_t i;
    OK(nn_model_create(4, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model));
    OK(nn_model_add_dense(model, 5, NN_ACTIVATION_RELU, 0.0f));

    EXPECT(nn_model_add_dense(model, 0, NN_ACTIVATION_RELU, 0.0f), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("units");
    EXPECT(nn_model_add_dense(model, (1u << 24) + 1, NN_ACTIVATION_RELU, 0.0f), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_add_dense(model, 3, 0, 0.0f), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_add_dense(model, 3, 9, 0.0f), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_add_dense(model, 3, NN_ACTIVATION_LEAKY_RELU, NAN), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dense(model, 3, NN_ACTIVATION_LEAKY_RELU, INFINITY), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dense(model, 3, NN_ACTIVATION_ELU, -1.0f), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dense(model, 3, NN_ACTIVATION_ELU, NAN), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_maxout(model, 0, 2), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_add_maxout(model, 3, 0), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_maxout(model, 3, 65), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dropout(model, 1.0f), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dropout(model, -0.1f), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_add_dropout(model, NAN), NN_ERR_BAD_HYPERPARAMETER);
    CHECK(model_info(model).layer_count == 1); /* nothing was added */
    OK(nn_model_add_maxout(model, 3, 64));
    OK(nn_model_add_dropout(model, 0.0f));
    CHECK(model_info(model).layer_count == 3);

    /* 65536 x 65536 weights exceed the 2^30-parameter limit: refused before any allocation. */
    OK(nn_model_create(65536, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &wide));
    EXPECT(nn_model_add_dense(wide, 65536, NN_ACTIVATION_RELU, 0.0f), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_add_maxout(wide, 1u << 14, 64), NN_ERR_LIMIT_EXCEEDED);
    CHECK(model_info(wide).layer_count == 0);
    nn_model_free(wide);

    /* At most 1024 layers. */
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &wide));
    for (i = 0; i < 1024; i++)
        if (!OK(nn_model_add_dropout(wide, 0.1f))) break;
    EXPECT(nn_model_add_dropout(wide, 0.1f), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_add_dense(wide, 2, NN_ACTIVATION_RELU, 0.0f), NN_ERR_LIMIT_EXCEEDED);
    CHECK(model_info(wide).layer_count == 1024);
    nn_model_free(wide);
    nn_model_free(model);
}

static void test_set_loss_and_reinitialize(void) {
    nn_model *a = classifier(6, 5), *b = classifier(6, 9);
    nn_loss loss;
    if (a == NULL || b == NULL) return;
    for (loss = NN_LOSS_SOFTMAX_CROSS_ENTROPY; loss <= NN_LOSS_BINARY_CROSS_ENTROPY; loss++) {
        OK(nn_model_set_loss(a, loss));
        CHECK(model_info(a).loss == loss);
    }
    EXPECT(nn_model_set_loss(a, 0), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_loss(a, 77), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(a).loss == NN_LOSS_BINARY_CROSS_ENTROPY);
    OK(nn_model_set_loss(a, NN_LOSS_SOFTMAX_CROSS_ENTROPY));

    /* Reinitialising with seed 5 draws exactly what creating with seed 5 drew. */
    CHECK(!same_parameters(a, b));
    OK(nn_model_reinitialize(b, 5));
    CHECK(same_parameters(a, b));
    CHECK(model_info(b).seed == 5);
    OK(nn_model_reinitialize(b, 6));
    CHECK(!same_parameters(a, b) && model_info(b).seed == 6);
    nn_model_free(a);
    nn_model_free(b);
}

static void test_clone(void) {
    nn_model *model = classifier(8, 3), *copy = SENTINEL_MODEL;
    float before[SPIRAL_ROWS * 3], after[SPIRAL_ROWS * 3], w[16];
    size_t count = 0;
    nn_dataset data;
    nn_train_options options;
    if (model == NULL) return;
    spiral_data(&data);
    quick_options(&options, 3);
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    OK(nn_model_set_metadata(model, "owner", "test"));
    OK(nn_model_clone(model, &copy));
    CHECK(copy != SENTINEL_MODEL && copy != model);
    CHECK(same_parameters(model, copy));
    CHECK(model_info(copy).history_count == 3 && model_info(copy).metadata_count == 1);
    CHECK(model_info(copy).epochs_trained == 3);
    OK(nn_model_predict(model, spiral_x, SPIRAL_ROWS, 2, before, sizeof before / sizeof before[0]));
    /* Changing the copy leaves the original alone, and the other way round. */
    OK(nn_model_get_weights(copy, 0, w, 16, &count));
    w[0] += 1.0f;
    OK(nn_model_set_weights(copy, 0, w, count));
    OK(nn_model_fit(copy, &data, NULL, &options, NULL));
    OK(nn_model_set_metadata(copy, "owner", NULL));
    OK(nn_model_predict(model, spiral_x, SPIRAL_ROWS, 2, after, sizeof after / sizeof after[0]));
    CHECK(memcmp(before, after, sizeof before) == 0);
    CHECK(model_info(model).history_count == 3 && model_info(model).metadata_count == 1);
    CHECK(!same_parameters(model, copy));
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    CHECK(model_info(copy).history_count == 6);
    nn_model_free(model);
    /* The copy outlives its original. */
    OK(nn_model_predict(copy, spiral_x, SPIRAL_ROWS, 2, after, sizeof after / sizeof after[0]));
    nn_model_free(copy);
}

static void test_handles(void) {
    nn_model *a = NULL, *b = NULL;
    nn_graph *graph = NULL;
    nn_model_info info;
    int32_t node = SENTINEL_NODE;
    int local = 0;
    nn_model *const forged[] = {FORGED_MODEL, (nn_model *)(uintptr_t)1, (nn_model *)(uintptr_t)2,
                                (nn_model *)(uintptr_t)UINTPTR_MAX, (nn_model *)(void *)&local,
                                (nn_model *)(uintptr_t)((UINT64_C(0xFFFFFFF0) << 32) | (1u << 1))};
    size_t i;

    nn_model_free(NULL);
    nn_graph_free(NULL);
    nn_model_info_init(&info);

    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &a));
    nn_model_free(a);
    EXPECT(nn_model_get_info(a, &info), NN_ERR_INVALID_HANDLE);
    EXPECT_MESSAGE("nn_model");
    EXPECT(nn_model_add_dense(a, 3, NN_ACTIVATION_RELU, 0.0f), NN_ERR_INVALID_HANDLE);
    nn_model_free(a); /* a second free does nothing */
    nn_model_free(a);
    /* A new model may reuse the slot; the old handle stays dead. */
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &b));
    EXPECT(nn_model_get_info(a, &info), NN_ERR_INVALID_HANDLE);
    nn_model_free(a); /* and freeing the old handle again does not free the new model */
    OK(nn_model_get_info(b, &info));

    for (i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        EXPECT(nn_model_get_info(forged[i], &info), NN_ERR_INVALID_HANDLE);
        EXPECT(nn_model_set_loss(forged[i], NN_LOSS_SOFTMAX_CROSS_ENTROPY), NN_ERR_INVALID_HANDLE);
        nn_model_free(forged[i]);
        nn_graph_free((nn_graph *)forged[i]);
    }

    /* A graph handle is not a model handle and the other way round; freeing with the wrong
     * function does nothing. */
    OK(nn_graph_create(1, 0, &graph));
    EXPECT(nn_model_get_info((const nn_model *)graph, &info), NN_ERR_INVALID_HANDLE);
    nn_model_free((nn_model *)graph);
    OK(nn_graph_input(graph, "x", 1, 1, &node));
    EXPECT(nn_graph_input((nn_graph *)b, "x", 1, 1, &node), NN_ERR_INVALID_HANDLE);
    nn_graph_free((nn_graph *)b);
    OK(nn_model_get_info(b, &info));
    nn_graph_free(graph);
    EXPECT(nn_graph_input(graph, "x", 1, 1, &node), NN_ERR_INVALID_HANDLE);
    nn_graph_free(graph);
    EXPECT(nn_graph_forward(FORGED_GRAPH), NN_ERR_INVALID_HANDLE);
    nn_graph_free(FORGED_GRAPH);
    nn_model_free(b);
    EXPECT(nn_model_get_info(b, &info), NN_ERR_INVALID_HANDLE);
}

/* Calls every function that takes a model handle, with other arguments valid for this file's
 * 2 -> 8 -> 3 classifiers, and expects `expected` from each with its out-parameters untouched.
 * Used with NULL, dead, forged and wrong-kind handles, and with a model that is being trained. */
static void every_model_function(nn_model *model, nn_status expected) {
    nn_model *out_model = SENTINEL_MODEL;
    nn_model_info info, info_before;
    nn_layer_info layer, layer_before;
    nn_epoch_stats stats, stats_before;
    nn_evaluation evaluation, evaluation_before;
    nn_step_stats step, step_before;
    nn_train_result result, result_before;
    float values[64], values_before[64], mean[2] = {0.0f, 0.0f}, scale[2] = {1.0f, 1.0f};
    int32_t classes[4] = {-5, -5, -5, -5};
    char text[64], text_before[64];
    size_t size = SENTINEL_SIZE;
    const char *labels[3] = {"a", "b", "c"}, *names[2] = {"x", "y"};
    nn_dataset data;
    nn_train_options options;
    char path[256];

    spiral_data(&data);
    quick_options(&options, 1);
    temp_path(path, sizeof path, "never-written.nnm");
    memset(values, 0x5A, sizeof values);
    memcpy(values_before, values, sizeof values);
    memset(text, 0x5A, sizeof text);
    memcpy(text_before, text, sizeof text);
#define FILLED(s) (memset(&(s), 0x5A, sizeof(s)), (s).struct_size = sizeof(s), memcpy(&(s##_before), &(s), sizeof(s)))
    FILLED(info);
    FILLED(layer);
    FILLED(stats);
    FILLED(evaluation);
    FILLED(step);
    FILLED(result);
#undef FILLED

    EXPECT(nn_model_add_dense(model, 3, NN_ACTIVATION_RELU, 0.0f), expected);
    EXPECT(nn_model_add_maxout(model, 3, 2), expected);
    EXPECT(nn_model_add_dropout(model, 0.5f), expected);
    EXPECT(nn_model_set_loss(model, NN_LOSS_SOFTMAX_CROSS_ENTROPY), expected);
    EXPECT(nn_model_reinitialize(model, 1), expected);
    EXPECT(nn_model_clone(model, &out_model), expected);
    CHECK(out_model == SENTINEL_MODEL);
    EXPECT(nn_model_get_info(model, &info), expected);
    CHECK(memcmp(&info, &info_before, sizeof info) == 0);
    EXPECT(nn_model_get_layer(model, 0, &layer), expected);
    CHECK(memcmp(&layer, &layer_before, sizeof layer) == 0);
    EXPECT(nn_model_get_weights(model, 0, values, 64, &size), expected);
    EXPECT(nn_model_set_weights(model, 0, mean, 2), expected);
    EXPECT(nn_model_get_biases(model, 0, values, 64, &size), expected);
    EXPECT(nn_model_set_biases(model, 0, mean, 2), expected);
    EXPECT(nn_model_set_metadata(model, "key", "value"), expected);
    EXPECT(nn_model_get_metadata(model, "key", text, sizeof text, &size), expected);
    EXPECT(nn_model_get_metadata_key(model, 0, text, sizeof text, &size), expected);
    EXPECT(nn_model_set_class_labels(model, labels, 3), expected);
    EXPECT(nn_model_get_class_label(model, 0, text, sizeof text, &size), expected);
    EXPECT(nn_model_set_feature_names(model, names, 2), expected);
    EXPECT(nn_model_get_feature_name(model, 0, text, sizeof text, &size), expected);
    EXPECT(nn_model_set_standardization(model, mean, scale, 2), expected);
    EXPECT(nn_model_get_standardization(model, values, values + 2, 2, &size), expected);
    EXPECT(nn_model_get_epoch(model, 0, &stats), expected);
    CHECK(memcmp(&stats, &stats_before, sizeof stats) == 0);
    EXPECT(nn_model_fit(model, &data, NULL, &options, &result), expected);
    CHECK(memcmp(&result, &result_before, sizeof result) == 0);
    EXPECT(nn_model_train_step(model, &data, &options, &step), expected);
    CHECK(memcmp(&step, &step_before, sizeof step) == 0);
    EXPECT(nn_model_advance_epoch(model), expected);
    EXPECT(nn_model_reset_training(model), expected);
    EXPECT(nn_model_evaluate(model, &data, &evaluation), expected);
    CHECK(memcmp(&evaluation, &evaluation_before, sizeof evaluation) == 0);
    EXPECT(nn_model_predict(model, spiral_x, 4, 2, values, 64), expected);
    EXPECT(nn_model_predict_proba(model, spiral_x, 4, 2, values, 64), expected);
    EXPECT(nn_model_classify(model, spiral_x, 4, 2, classes, 4), expected);
    CHECK(classes[0] == -5 && classes[3] == -5);
    EXPECT(nn_model_save(model, path, NULL), expected);
    CHECK(file_size(path) == -1);
    EXPECT(nn_model_serialized_size(model, NULL, &size), expected);
    EXPECT(nn_model_save_to_buffer(model, NULL, values, sizeof values, &size), expected);
    EXPECT(nn_model_to_dot(model, text, sizeof text, &size), expected);
    CHECK(size == SENTINEL_SIZE);
    CHECK(memcmp(values, values_before, sizeof values) == 0);
    CHECK(memcmp(text, text_before, sizeof text) == 0);
}

/* The same for every function that takes a graph handle. */
static void every_graph_function(nn_graph *graph, nn_status expected) {
    int32_t node = SENTINEL_NODE, ids[2] = {0, 0};
    float values[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    size_t count = SENTINEL_SIZE;
    uint32_t rows = 77, cols = 77;
    char text[64];
    memset(text, 0x5A, sizeof text);
    EXPECT(nn_graph_input(graph, "x", 1, 2, &node), expected);
    EXPECT(nn_graph_batch_input(graph, "b", 2, &node), expected);
    EXPECT(nn_graph_parameter(graph, "w", 1, 2, values, 2, &node), expected);
    EXPECT(nn_graph_op(graph, NN_OP_ADD, ids, 2, 0.0f, &node), expected);
    CHECK(node == SENTINEL_NODE);
    EXPECT(nn_graph_set_value(graph, 0, values, 2), expected);
    EXPECT(nn_graph_set_batch_size(graph, 1), expected);
    EXPECT(nn_graph_set_training(graph, 1), expected);
    EXPECT(nn_graph_forward(graph), expected);
    EXPECT(nn_graph_backward(graph, 0), expected);
    EXPECT(nn_graph_value(graph, 0, values, 4, &count), expected);
    EXPECT(nn_graph_gradient(graph, 0, values, 4, &count), expected);
    EXPECT(nn_graph_node_shape(graph, 0, &rows, &cols), expected);
    EXPECT(nn_graph_to_dot(graph, text, sizeof text, &count), expected);
    CHECK(count == SENTINEL_SIZE && rows == 77 && cols == 77 && values[0] == 1.0f && text[0] == 0x5A);
}

static void test_every_function_refuses_bad_handles(void) {
    nn_model *freed = classifier(8, 0), *live = classifier(8, 1);
    nn_graph *graph = NULL, *freed_graph = NULL;
    OK(nn_graph_create(2, 0, &graph));
    OK(nn_graph_create(2, 0, &freed_graph));
    nn_model_free(freed);
    nn_graph_free(freed_graph);

    every_model_function(NULL, NN_ERR_NULL_POINTER);
    every_model_function(freed, NN_ERR_INVALID_HANDLE);
    every_model_function(FORGED_MODEL, NN_ERR_INVALID_HANDLE);
    every_model_function((nn_model *)graph, NN_ERR_INVALID_HANDLE);
    every_graph_function(NULL, NN_ERR_NULL_POINTER);
    every_graph_function(freed_graph, NN_ERR_INVALID_HANDLE);
    every_graph_function(FORGED_GRAPH, NN_ERR_INVALID_HANDLE);
    every_graph_function((nn_graph *)live, NN_ERR_INVALID_HANDLE);

    /* Neither the graph nor the live model was harmed. */
    CHECK(model_info(live).layer_count == 2);
    {
        int32_t node = SENTINEL_NODE;
        OK(nn_graph_input(graph, "x", 1, 1, &node));
        CHECK(node == 0);
    }
    nn_graph_free(graph);
    nn_model_free(live);
}

static void test_null_pointers(void) {
    nn_model *model = classifier(8, 0), *out = SENTINEL_MODEL;
    nn_graph *graph = NULL;
    nn_model_info info;
    nn_layer_info layer;
    nn_epoch_stats stats;
    nn_evaluation evaluation;
    nn_dataset data, no_inputs;
    float values[64];
    char text[64];
    size_t size = SENTINEL_SIZE;
    int32_t node = SENTINEL_NODE, ids[1] = {0}, classes[4];
    uint32_t rows = 0, cols = 0;
    const char *labels_with_null[3] = {"a", NULL, "c"}, *names_with_null[2] = {NULL, "y"};
    unsigned char bytes[8] = {0};
    if (model == NULL) return;
    nn_model_info_init(&info);
    nn_layer_info_init(&layer);
    nn_epoch_stats_init(&stats);
    nn_evaluation_init(&evaluation);
    spiral_data(&data);
    spiral_data(&no_inputs);
    no_inputs.inputs = NULL;

    EXPECT(nn_model_clone(model, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_info(model, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_layer(model, 0, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_weights(model, 0, values, 64, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_weights(model, 0, NULL, 64, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_weights(model, 0, NULL, 16), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_biases(model, 0, values, 64, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_biases(model, 0, NULL, 64, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_biases(model, 0, NULL, 8), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_metadata(model, NULL, "v"), NN_ERR_NULL_POINTER);
    OK(nn_model_set_metadata(model, "k", "v"));
    EXPECT(nn_model_get_metadata(model, NULL, text, sizeof text, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_metadata(model, "k", text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_metadata(model, "k", NULL, sizeof text, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_metadata_key(model, 0, text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_class_labels(model, NULL, 3), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_class_labels(model, labels_with_null, 3), NN_ERR_NULL_POINTER);
    EXPECT_MESSAGE("labels[1]");
    {
        const char *three[3] = {"a", "b", "c"};
        OK(nn_model_set_class_labels(model, three, 3));
    }
    EXPECT(nn_model_get_class_label(model, 0, text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_feature_names(model, NULL, 2), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_feature_names(model, names_with_null, 2), NN_ERR_NULL_POINTER);
    {
        const char *two[2] = {"x", "y"};
        OK(nn_model_set_feature_names(model, two, 2));
    }
    EXPECT(nn_model_get_feature_name(model, 0, text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_standardization(model, NULL, values, 2), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_set_standardization(model, values, NULL, 2), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_standardization(model, values, values, 2, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_get_epoch(model, 0, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_fit(model, NULL, NULL, NULL, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_fit(model, &no_inputs, NULL, NULL, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_train_step(model, NULL, NULL, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_evaluate(model, NULL, &evaluation), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_evaluate(model, &data, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_predict(model, NULL, 4, 2, values, 64), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_predict(model, spiral_x, 4, 2, NULL, 64), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_predict_proba(model, NULL, 4, 2, values, 64), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_predict_proba(model, spiral_x, 4, 2, NULL, 64), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_classify(model, NULL, 4, 2, classes, 4), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_classify(model, spiral_x, 4, 2, NULL, 4), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_save(model, NULL, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_load(NULL, &out), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_load("model.nnm", NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_serialized_size(model, NULL, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_save_to_buffer(model, NULL, values, sizeof values, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_save_to_buffer(model, NULL, NULL, 1u << 20, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_load_from_buffer(NULL, 100, &out), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_load_from_buffer(bytes, sizeof bytes, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_to_dot(model, text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_model_to_dot(model, NULL, 1u << 20, &size), NN_ERR_NULL_POINTER);
    CHECK(out == SENTINEL_MODEL && size == SENTINEL_SIZE);

    EXPECT(nn_graph_create(1, 0, NULL), NN_ERR_NULL_POINTER);
    OK(nn_graph_create(1, 0, &graph));
    EXPECT(nn_graph_input(graph, "x", 1, 1, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_batch_input(graph, "x", 1, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_parameter(graph, "w", 1, 1, NULL, 1, &node), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_parameter(graph, "w", 1, 1, values, 1, NULL), NN_ERR_NULL_POINTER);
    OK(nn_graph_input(graph, "x", 1, 1, &node));
    EXPECT(nn_graph_op(graph, NN_OP_RELU, NULL, 1, 0.0f, &node), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_op(graph, NN_OP_RELU, ids, 1, 0.0f, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_set_value(graph, 0, NULL, 1), NN_ERR_NULL_POINTER);
    OK(nn_graph_forward(graph));
    EXPECT(nn_graph_value(graph, 0, values, 1, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_value(graph, 0, NULL, 1, &size), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_gradient(graph, 0, values, 1, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_node_shape(graph, 0, NULL, &cols), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_node_shape(graph, 0, &rows, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_to_dot(graph, text, sizeof text, NULL), NN_ERR_NULL_POINTER);
    EXPECT(nn_graph_to_dot(graph, NULL, 1u << 20, &size), NN_ERR_NULL_POINTER);
    CHECK(node == 0 && size == SENTINEL_SIZE && rows == 0 && cols == 0);
    /* A name may be NULL. */
    OK(nn_graph_input(graph, NULL, 1, 1, &node));
    nn_graph_free(graph);
    nn_model_free(model);
}

/* ---- Inspecting models ------------------------------------------------------------------- */

static void test_model_info_struct_sizes(void) {
    nn_model *model = classifier(8, 11);
    nn_model_info info;
    nn_layer_info layer;
    struct {
        nn_model_info info;
        unsigned char newer_fields[64];
    } bigger;
    size_t i;
    int untouched = 1;
    if (model == NULL) return;

    info = model_info(model);
    CHECK(info.struct_size == sizeof info && info.input_width == 2 && info.output_width == 3);
    CHECK(info.layer_count == 2 && info.class_count == 3 && info.loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    CHECK(info.parameter_count == 2 * 8 + 8 + 8 * 3 + 3 && info.epochs_trained == 0 && info.steps_trained == 0);
    CHECK(info.history_count == 0 && info.has_standardization == 0 && info.metadata_count == 0);
    CHECK(info.feature_name_count == 0 && info.class_label_count == 0 && info.seed == 11);

    /* An older caller's smaller struct: only the fields it declares are written. */
    memset(&info, 0xCD, sizeof info);
    info.struct_size = (uint32_t)offsetof(nn_model_info, layer_count);
    OK(nn_model_get_info(model, &info));
    CHECK(info.struct_size == offsetof(nn_model_info, layer_count));
    CHECK(info.input_width == 2 && info.output_width == 3);
    for (i = offsetof(nn_model_info, layer_count); i < sizeof info; i++)
        if (((unsigned char *)&info)[i] != 0xCD) untouched = 0;
    CHECK(untouched);
    /* A newer caller's bigger struct: the fields it knows and we do not stay as they were. */
    memset(&bigger, 0xCD, sizeof bigger);
    bigger.info.struct_size = sizeof bigger;
    OK(nn_model_get_info(model, &bigger.info));
    CHECK(bigger.info.struct_size == sizeof bigger && bigger.info.seed == 11 && bigger.info.layer_count == 2);
    untouched = 1;
    for (i = 0; i < sizeof bigger.newer_fields; i++)
        if (bigger.newer_fields[i] != 0xCD) untouched = 0;
    CHECK(untouched);
    /* struct_size 0 or below its own size field: refused. */
    memset(&info, 0, sizeof info);
    EXPECT(nn_model_get_info(model, &info), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("struct_size");
    info.struct_size = 3;
    EXPECT(nn_model_get_info(model, &info), NN_ERR_INVALID_ARGUMENT);

    memset(&layer, 0, sizeof layer);
    EXPECT(nn_model_get_layer(model, 0, &layer), NN_ERR_INVALID_ARGUMENT);
    OK(nn_layer_info_init(&layer));
    EXPECT(nn_model_get_layer(model, 2, &layer), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_get_layer(model, UINT32_MAX, &layer), NN_ERR_INVALID_ARGUMENT);
    CHECK(layer.kind == 0);
    nn_model_free(model);
}

static void test_weights_and_biases(void) {
    nn_model *model = NULL, *other = NULL;
    const float w[4] = {1.0f, 2.0f, 3.0f, 4.0f}, b[2] = {0.5f, -0.5f}, too_many[5] = {1, 2, 3, 4, 5};
    const float bad_nan[4] = {1.0f, NAN, 3.0f, 4.0f}, bad_inf[2] = {INFINITY, 0.0f};
    const float x[4] = {1.0f, 1.0f, 2.0f, -1.0f};
    float got[8], small[3], out[4];
    size_t count = SENTINEL_SIZE;

    OK(nn_model_create(2, NN_LOSS_MEAN_SQUARED_ERROR, 0, &model));
    OK(nn_model_add_dense(model, 2, NN_ACTIVATION_IDENTITY, 0.0f));
    /* Size queries report the size with NN_ERR_BUFFER_TOO_SMALL. */
    EXPECT(nn_model_get_weights(model, 0, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 4);
    count = SENTINEL_SIZE;
    memset(small, 0x5A, sizeof small);
    EXPECT(nn_model_get_weights(model, 0, small, 3, &count), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT_MESSAGE("4");
    CHECK(count == 4 && ((unsigned char *)small)[0] == 0x5A);
    count = SENTINEL_SIZE;
    EXPECT(nn_model_get_biases(model, 0, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 2);

    OK(nn_model_set_weights(model, 0, w, 4));
    OK(nn_model_set_biases(model, 0, b, 2));
    OK(nn_model_get_weights(model, 0, got, 8, &count));
    CHECK(count == 4 && memcmp(got, w, sizeof w) == 0);
    OK(nn_model_get_biases(model, 0, got, 2, &count));
    CHECK(count == 2 && memcmp(got, b, sizeof b) == 0);
    OK(nn_model_get_weights(model, 0, got, SIZE_MAX, &count)); /* a capacity above any result is fine */
    CHECK(count == 4);
    /* y = x W + b with W row-major (inputs x outputs): (1,1) -> (4.5, 5.5), (2,-1) -> (-0.5, -0.5). */
    OK(nn_model_predict(model, x, 2, 2, out, 4));
    CHECK(out[0] == 4.5f && out[1] == 5.5f && out[2] == -0.5f && out[3] == -0.5f);

    EXPECT(nn_model_set_weights(model, 0, w, 3), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_weights(model, 0, too_many, 5), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_weights(model, 0, w, SIZE_MAX), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_weights(model, 0, w, SIZE_MAX / 2), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_weights(model, 0, w, 0), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_weights(model, 0, bad_nan, 4), NN_ERR_NON_FINITE);
    EXPECT(nn_model_set_biases(model, 0, b, 1), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_biases(model, 0, b, SIZE_MAX), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_biases(model, 0, bad_inf, 2), NN_ERR_NON_FINITE);
    EXPECT(nn_model_set_weights(model, 1, w, 4), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_biases(model, 1, b, 2), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_get_weights(model, 1, got, 8, &count), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_get_biases(model, UINT32_MAX, got, 8, &count), NN_ERR_INVALID_ARGUMENT);
    OK(nn_model_get_weights(model, 0, got, 8, &count));
    CHECK(memcmp(got, w, sizeof w) == 0); /* every refused change left the weights alone */
    OK(nn_model_get_biases(model, 0, got, 8, &count));
    CHECK(memcmp(got, b, sizeof b) == 0);

    /* Maxout weights have units*pieces columns; dropout has no parameters. */
    OK(nn_model_create(3, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &other));
    OK(nn_model_add_maxout(other, 2, 3));
    OK(nn_model_add_dropout(other, 0.5f));
    EXPECT(nn_model_get_weights(other, 0, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 18);
    EXPECT(nn_model_get_biases(other, 0, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 6);
    count = SENTINEL_SIZE;
    EXPECT(nn_model_get_weights(other, 1, got, 8, &count), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("no parameters");
    EXPECT(nn_model_get_biases(other, 1, got, 8, &count), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_weights(other, 1, w, 4), NN_ERR_INVALID_ARGUMENT);
    CHECK(count == SENTINEL_SIZE);
    nn_model_free(other);
    nn_model_free(model);
}

static void test_metadata(void) {
    nn_model *model = classifier(4, 0);
    char text[64];
    size_t length = SENTINEL_SIZE;
    const char *utf8 = "na\xc3\xafve \xe2\x80\x94 \xcf\x80 \xf0\x9f\x8c\x80"; /* naïve — π 🌀 */
    if (model == NULL) return;

    OK(nn_model_set_metadata(model, "zeta", "last"));
    OK(nn_model_set_metadata(model, "alpha", "first"));
    OK(nn_model_set_metadata(model, "beta", utf8));
    OK(nn_model_set_metadata(model, "empty", ""));
    CHECK(model_info(model).metadata_count == 4);
    EXPECT(nn_model_get_metadata(model, "beta", NULL, 0, &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(length == strlen(utf8));
    memset(text, 0x5A, sizeof text);
    EXPECT(nn_model_get_metadata(model, "beta", text, strlen(utf8), &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(text[0] == 0x5A); /* no room for the NUL: nothing written */
    OK(nn_model_get_metadata(model, "beta", text, strlen(utf8) + 1, &length));
    CHECK(length == strlen(utf8) && strcmp(text, utf8) == 0);
    OK(nn_model_get_metadata(model, "empty", text, 1, &length));
    CHECK(length == 0 && text[0] == '\0');
    OK(nn_model_set_metadata(model, "alpha", "replaced"));
    OK(nn_model_get_metadata(model, "alpha", text, sizeof text, &length));
    CHECK(strcmp(text, "replaced") == 0 && length == 8);

    /* Keys come back in sorted order. */
    OK(nn_model_get_metadata_key(model, 0, text, sizeof text, &length));
    CHECK(strcmp(text, "alpha") == 0 && length == 5);
    OK(nn_model_get_metadata_key(model, 1, text, sizeof text, &length));
    CHECK(strcmp(text, "beta") == 0);
    OK(nn_model_get_metadata_key(model, 3, text, sizeof text, &length));
    CHECK(strcmp(text, "zeta") == 0);
    EXPECT(nn_model_get_metadata_key(model, 3, text, 4, &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(length == 4);
    length = SENTINEL_SIZE;
    EXPECT(nn_model_get_metadata_key(model, 4, text, sizeof text, &length), NN_ERR_INVALID_ARGUMENT);
    CHECK(length == SENTINEL_SIZE);

    EXPECT(nn_model_get_metadata(model, "missing", text, sizeof text, &length), NN_ERR_NOT_FOUND);
    EXPECT_MESSAGE("missing");
    CHECK(length == SENTINEL_SIZE);
    EXPECT(nn_model_set_metadata(model, "", "value"), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_metadata(model, "bad\xff", "value"), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_metadata(model, "key", "bad \xc3"), NN_ERR_INVALID_ARGUMENT);      /* truncated */
    EXPECT(nn_model_set_metadata(model, "key", "\xc0\xaf"), NN_ERR_INVALID_ARGUMENT);      /* overlong */
    EXPECT(nn_model_set_metadata(model, "key", "\xed\xa0\x80"), NN_ERR_INVALID_ARGUMENT);  /* surrogate */
    EXPECT(nn_model_get_metadata(model, "\xfe", text, sizeof text, &length), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(model).metadata_count == 4);

    /* NULL removes; removing an absent key is fine. */
    OK(nn_model_set_metadata(model, "zeta", NULL));
    OK(nn_model_set_metadata(model, "never-set", NULL));
    EXPECT(nn_model_get_metadata(model, "zeta", text, sizeof text, &length), NN_ERR_NOT_FOUND);
    CHECK(model_info(model).metadata_count == 3);
    nn_model_free(model);
}

static void test_class_labels_and_feature_names(void) {
    nn_model *model = classifier(4, 0);
    const char *labels[4] = {"red", "yellow", "bl\xc3\xbc", "extra"}, *bad_labels[3] = {"a", "\xff", "c"};
    const char *names[3] = {"x", "y", "z"}, *bad_names[2] = {"x", "\xc3("};
    char text[16];
    size_t length = SENTINEL_SIZE;
    if (model == NULL) return;

    OK(nn_model_set_class_labels(model, labels, 3));
    CHECK(model_info(model).class_label_count == 3);
    OK(nn_model_get_class_label(model, 2, text, sizeof text, &length));
    CHECK(strcmp(text, "bl\xc3\xbc") == 0 && length == 4);
    EXPECT(nn_model_get_class_label(model, 1, text, 6, &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(length == 6);
    length = SENTINEL_SIZE;
    EXPECT(nn_model_get_class_label(model, 3, text, sizeof text, &length), NN_ERR_INVALID_ARGUMENT);
    CHECK(length == SENTINEL_SIZE);
    EXPECT(nn_model_set_class_labels(model, labels, 2), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_class_labels(model, labels, 4), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_class_labels(model, labels, SIZE_MAX), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_class_labels(model, bad_labels, 3), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(model).class_label_count == 3);
    OK(nn_model_get_class_label(model, 0, text, sizeof text, &length));
    CHECK(strcmp(text, "red") == 0);
    OK(nn_model_set_class_labels(model, NULL, 0)); /* removes them */
    CHECK(model_info(model).class_label_count == 0);
    EXPECT(nn_model_get_class_label(model, 0, text, sizeof text, &length), NN_ERR_INVALID_ARGUMENT);

    OK(nn_model_set_feature_names(model, names, 2));
    CHECK(model_info(model).feature_name_count == 2);
    OK(nn_model_get_feature_name(model, 1, text, sizeof text, &length));
    CHECK(strcmp(text, "y") == 0 && length == 1);
    EXPECT(nn_model_get_feature_name(model, 1, text, 1, &length), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT(nn_model_get_feature_name(model, 2, text, sizeof text, &length), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_set_feature_names(model, names, 3), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_feature_names(model, names, 1), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_feature_names(model, bad_names, 2), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(model).feature_name_count == 2);
    OK(nn_model_set_feature_names(model, NULL, 0));
    CHECK(model_info(model).feature_name_count == 0);
    nn_model_free(model);
}

static void test_standardization(void) {
    nn_model *model = classifier(8, 2), *plain = NULL;
    const float mean[3] = {0.25f, -0.5f, 9.0f}, scale[3] = {2.0f, 0.5f, 1.0f};
    const float nan_mean[2] = {NAN, 0.0f}, zero_scale[2] = {1.0f, 0.0f}, negative_scale[2] = {-1.0f, 1.0f};
    const float infinite_scale[2] = {INFINITY, 1.0f};
    float got_mean[4], got_scale[4], standardized[SPIRAL_ROWS * 2];
    float with[SPIRAL_ROWS * 3], without[SPIRAL_ROWS * 3];
    size_t count = SENTINEL_SIZE;
    int i;
    if (model == NULL) return;
    OK(nn_model_clone(model, &plain));

    OK(nn_model_get_standardization(model, NULL, NULL, 0, &count));
    CHECK(count == 0);
    OK(nn_model_set_standardization(model, mean, scale, 2));
    CHECK(model_info(model).has_standardization == 1);
    count = SENTINEL_SIZE;
    EXPECT(nn_model_get_standardization(model, NULL, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 2);
    EXPECT(nn_model_get_standardization(model, got_mean, got_scale, 1, &count), NN_ERR_BUFFER_TOO_SMALL);
    OK(nn_model_get_standardization(model, got_mean, got_scale, 4, &count));
    CHECK(count == 2 && memcmp(got_mean, mean, 2 * sizeof(float)) == 0 && memcmp(got_scale, scale, 2 * sizeof(float)) == 0);

    /* Predicting with a standardisation = predicting (x - mean) / scale without one, bit for bit. */
    for (i = 0; i < SPIRAL_ROWS * 2; i++) standardized[i] = (spiral_x[i] - mean[i % 2]) / scale[i % 2];
    OK(nn_model_predict(model, spiral_x, SPIRAL_ROWS, 2, with, SPIRAL_ROWS * 3));
    OK(nn_model_predict(plain, standardized, SPIRAL_ROWS, 2, without, SPIRAL_ROWS * 3));
    CHECK(memcmp(with, without, sizeof with) == 0);

    EXPECT(nn_model_set_standardization(model, mean, scale, 3), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_standardization(model, mean, scale, 1), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_standardization(model, mean, scale, SIZE_MAX), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_model_set_standardization(model, nan_mean, scale, 2), NN_ERR_NON_FINITE);
    EXPECT(nn_model_set_standardization(model, mean, zero_scale, 2), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_set_standardization(model, mean, negative_scale, 2), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_model_set_standardization(model, mean, infinite_scale, 2), NN_ERR_BAD_HYPERPARAMETER);
    OK(nn_model_get_standardization(model, got_mean, got_scale, 4, &count));
    CHECK(count == 2 && got_mean[0] == mean[0] && got_scale[1] == scale[1]);
    OK(nn_model_set_standardization(model, NULL, NULL, 0)); /* removes it */
    CHECK(model_info(model).has_standardization == 0);
    OK(nn_model_get_standardization(model, NULL, NULL, 0, &count));
    CHECK(count == 0);
    nn_model_free(plain);
    nn_model_free(model);
}

/* ---- Training ---------------------------------------------------------------------------- */

typedef struct {
    int calls;
    uint32_t epochs[64];
    float rates[64];
    float validation_loss[64];
    float validation_accuracy[64];
    uint32_t stop_at; /* return non-zero after this epoch (0: never) */
    void *expected_user_data;
    int wrong_user_data;
    uint32_t struct_size;
} recorder;

static int record_epoch(const nn_epoch_stats *stats, void *user_data) {
    recorder *r = user_data;
    if (r->expected_user_data != user_data) r->wrong_user_data = 1;
    r->struct_size = stats->struct_size;
    if (r->calls < 64) {
        r->epochs[r->calls] = stats->epoch;
        r->rates[r->calls] = stats->learning_rate;
        r->validation_loss[r->calls] = stats->validation_loss;
        r->validation_accuracy[r->calls] = stats->validation_accuracy;
    }
    r->calls++;
    return r->stop_at != 0 && stats->epoch >= r->stop_at;
}

static void test_fit_result_and_history(void) {
    nn_model *model = classifier(16, 0);
    nn_dataset data;
    nn_train_options options;
    nn_train_result result;
    nn_evaluation before, after;
    nn_epoch_stats stats;
    nn_model_info info;
    recorder r;
    if (model == NULL) return;
    spiral_data(&data);
    memset(&r, 0, sizeof r);
    r.expected_user_data = &r;
    nn_evaluation_init(&before);
    nn_evaluation_init(&after);
    OK(nn_model_evaluate(model, &data, &before));

    nn_train_options_init(&options);
    options.epochs = 20;
    options.batch_size = 32; /* 120 rows: 4 steps per epoch */
    options.learning_rate = 0.5f;
    options.callback = record_epoch;
    options.user_data = &r;
    OK(nn_train_result_init(&result));
    OK(nn_model_fit(model, &data, NULL, &options, &result));
    CHECK(result.epochs_run == 20 && result.stop_reason == NN_STOP_COMPLETED && result.best_epoch == 0);
    CHECK(result.final.struct_size == sizeof(nn_epoch_stats) && result.final.epoch == 20);
    CHECK(isfinite(result.final.data_loss) && result.final.regularization_loss == 0.0f);
    CHECK(result.final.accuracy >= 0.0f && result.final.accuracy <= 1.0f);
    CHECK(isnan(result.final.validation_loss) && isnan(result.final.validation_accuracy));
    CHECK(result.final.learning_rate == 0.5f && result.final.seconds >= 0.0);
    CHECK(r.calls == 20 && r.epochs[0] == 1 && r.epochs[19] == 20 && !r.wrong_user_data);
    CHECK(r.struct_size == sizeof(nn_epoch_stats));

    info = model_info(model);
    CHECK(info.epochs_trained == 20 && info.steps_trained == 80 && info.history_count == 20);
    OK(nn_model_evaluate(model, &data, &after));
    CHECK(after.loss < before.loss && after.count == SPIRAL_ROWS);

    /* History records, oldest first. */
    OK(nn_epoch_stats_init(&stats));
    OK(nn_model_get_epoch(model, 0, &stats));
    CHECK(stats.epoch == 1 && stats.learning_rate == 0.5f && isfinite(stats.data_loss));
    OK(nn_model_get_epoch(model, 19, &stats));
    CHECK(stats.epoch == 20 && stats.data_loss == result.final.data_loss && stats.accuracy == result.final.accuracy);
    EXPECT(nn_model_get_epoch(model, 20, &stats), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_model_get_epoch(model, UINT64_MAX, &stats), NN_ERR_INVALID_ARGUMENT);
    CHECK(stats.epoch == 20);
    memset(&stats, 0, sizeof stats);
    EXPECT(nn_model_get_epoch(model, 0, &stats), NN_ERR_INVALID_ARGUMENT);

    /* Defaults (NULL options: 10 epochs of 32) and no result struct; the epoch counter goes on. */
    OK(nn_epoch_stats_init(&stats));
    OK(nn_model_fit(model, &data, NULL, NULL, NULL));
    info = model_info(model);
    CHECK(info.epochs_trained == 30 && info.steps_trained == 120 && info.history_count == 30);
    OK(nn_model_get_epoch(model, 29, &stats));
    CHECK(stats.epoch == 30 && stats.learning_rate == 0.01f);

    /* A struct_size from an older caller: the fields it lacks take their defaults. */
    nn_train_options_init(&options);
    options.epochs = 2;
    options.struct_size = (uint32_t)offsetof(nn_train_options, learning_rate);
    OK(nn_train_result_init(&result));
    OK(nn_model_fit(model, &data, NULL, &options, &result));
    CHECK(result.epochs_run == 2 && result.final.learning_rate == 0.01f);
    options.struct_size = 0;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("struct_size");
    nn_train_options_init(&options);
    result.struct_size = 0;
    EXPECT(nn_model_fit(model, &data, NULL, &options, &result), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(model).epochs_trained == 32); /* refused before training */
    nn_model_free(model);
}

static void test_fit_with_validation(void) {
    nn_model *model = classifier(16, 1), *other = NULL;
    nn_dataset train, validation, tiny, narrow;
    nn_train_options options;
    nn_train_result result;
    const float three_columns[6] = {0, 0, 0, 1, 1, 1};
    const int32_t two_labels[2] = {0, 1};
    recorder r;
    int i;
    if (model == NULL) return;
    /* Train on the even rows, validate on the odd ones (strided copies). */
    {
        static float tx[SPIRAL_ROWS], vx[SPIRAL_ROWS];
        static int32_t ty[SPIRAL_ROWS / 2], vy[SPIRAL_ROWS / 2];
        for (i = 0; i < SPIRAL_ROWS / 2; i++) {
            tx[2 * i] = spiral_x[4 * i];
            tx[2 * i + 1] = spiral_x[4 * i + 1];
            ty[i] = spiral_y[2 * i];
            vx[2 * i] = spiral_x[4 * i + 2];
            vx[2 * i + 1] = spiral_x[4 * i + 3];
            vy[i] = spiral_y[2 * i + 1];
        }
        labelled(&train, tx, SPIRAL_ROWS / 2, 2, ty);
        labelled(&validation, vx, SPIRAL_ROWS / 2, 2, vy);
    }
    memset(&r, 0, sizeof r);
    r.expected_user_data = &r;
    quick_options(&options, 5);
    options.callback = record_epoch;
    options.user_data = &r;
    OK(nn_train_result_init(&result));
    OK(nn_model_fit(model, &train, &validation, &options, &result));
    CHECK(isfinite(result.final.validation_loss) && result.final.validation_accuracy >= 0.0f);
    CHECK(result.final.validation_accuracy <= 1.0f);
    CHECK(r.calls == 5 && isfinite(r.validation_loss[0]) && isfinite(r.validation_accuracy[4]));

    /* A held-out share of the training data instead. */
    OK(nn_model_clone(model, &other));
    options.validation_fraction = 0.25f;
    memset(&r, 0, sizeof r);
    r.expected_user_data = &r;
    OK(nn_model_fit(other, &train, NULL, &options, &result));
    CHECK(isfinite(result.final.validation_loss) && r.calls == 5 && isfinite(r.validation_loss[2]));
    /* Not both at once, and not on a single row. */
    EXPECT(nn_model_fit(other, &train, &validation, &options, NULL), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("validation");
    labelled(&tiny, spiral_x, 1, 2, spiral_y);
    EXPECT(nn_model_fit(other, &tiny, NULL, &options, NULL), NN_ERR_EMPTY_DATA);
    options.validation_fraction = 1.0f;
    EXPECT(nn_model_fit(other, &train, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    options.validation_fraction = -0.1f;
    EXPECT(nn_model_fit(other, &train, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    /* A validation set must fit the model too. */
    options.validation_fraction = 0.0f;
    labelled(&narrow, three_columns, 2, 3, two_labels);
    EXPECT(nn_model_fit(other, &train, &narrow, &options, NULL), NN_ERR_SHAPE_MISMATCH);
    EXPECT_MESSAGE("validation");
    CHECK(model_info(other).epochs_trained == 10);
    nn_model_free(other);
    nn_model_free(model);
}

static void test_early_stopping(void) {
    nn_model *model = classifier(16, 4), *reference = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_train_result result;
    nn_model_info info;
    if (model == NULL) return;
    spiral_data(&data);
    OK(nn_model_clone(model, &reference));

    /* With a minimum improvement no epoch can reach, epoch 1 stays the best: training stops
     * after `patience` more epochs and the weights of epoch 1 come back. */
    quick_options(&options, 50);
    options.early_stopping_patience = 3;
    options.early_stopping_min_delta = 1e9f;
    OK(nn_train_result_init(&result));
    OK(nn_model_fit(model, &data, NULL, &options, &result));
    CHECK(result.stop_reason == NN_STOP_EARLY_STOPPED && result.epochs_run == 4 && result.best_epoch == 1);
    info = model_info(model);
    CHECK(info.epochs_trained == 4 && info.history_count == 4);
    quick_options(&options, 1);
    OK(nn_model_fit(reference, &data, NULL, &options, NULL));
    CHECK(same_parameters(model, reference));

    /* Early stopping on validation loss, with patience that is never exhausted. */
    quick_options(&options, 6);
    options.early_stopping_patience = 100;
    options.validation_fraction = 0.2f;
    OK(nn_model_fit(model, &data, NULL, &options, &result));
    CHECK(result.stop_reason == NN_STOP_COMPLETED && result.epochs_run == 6);
    CHECK(result.best_epoch >= 5 && result.best_epoch <= 10);
    options.early_stopping_min_delta = -1.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    nn_model_free(reference);
    nn_model_free(model);
}

static void test_callback_cancels(void) {
    nn_model *model = classifier(16, 5), *reference = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_train_result result, result_before;
    recorder r;
    if (model == NULL) return;
    spiral_data(&data);
    OK(nn_model_clone(model, &reference));
    memset(&r, 0, sizeof r);
    r.expected_user_data = &r;
    r.stop_at = 3;
    quick_options(&options, 100);
    options.callback = record_epoch;
    options.user_data = &r;
    memset(&result, 0, sizeof result);
    OK(nn_train_result_init(&result));
    memcpy(&result_before, &result, sizeof result);
    EXPECT(nn_model_fit(model, &data, NULL, &options, &result), NN_ERR_CANCELLED);
    EXPECT_MESSAGE("cancel");
    CHECK(memcmp(&result, &result_before, sizeof result) == 0);
    CHECK(r.calls == 3);
    CHECK(model_info(model).epochs_trained == 3 && model_info(model).history_count == 3);
    /* The model is as of the epoch the callback stopped after. */
    quick_options(&options, 3);
    OK(nn_model_fit(reference, &data, NULL, &options, NULL));
    CHECK(same_parameters(model, reference));
    nn_model_free(reference);
    nn_model_free(model);
}

static void test_every_optimizer(void) {
    const nn_optimizer optimizers[] = {NN_OPTIMIZER_SGD,     NN_OPTIMIZER_MOMENTUM, NN_OPTIMIZER_NESTEROV,
                                       NN_OPTIMIZER_ADAGRAD, NN_OPTIMIZER_RMSPROP,  NN_OPTIMIZER_ADAM,
                                       NN_OPTIMIZER_ADAMW};
    const float rates[] = {0.5f, 0.1f, 0.1f, 0.1f, 0.01f, 0.01f, 0.01f};
    nn_dataset data;
    nn_train_options options;
    nn_evaluation before, after;
    size_t i;
    spiral_data(&data);
    for (i = 0; i < sizeof optimizers / sizeof optimizers[0]; i++) {
        nn_model *model = classifier(16, 6), *again = NULL;
        if (model == NULL) return;
        OK(nn_model_clone(model, &again));
        nn_evaluation_init(&before);
        nn_evaluation_init(&after);
        OK(nn_model_evaluate(model, &data, &before));
        nn_train_options_init(&options);
        options.optimizer = optimizers[i];
        options.learning_rate = rates[i];
        options.epochs = 30;
        options.batch_size = 16;
        options.l2 = 1e-4f;
        options.l1 = 1e-5f;
        options.gradient_clip_norm = 5.0f;
        OK(nn_model_fit(model, &data, NULL, &options, NULL));
        OK(nn_model_evaluate(model, &data, &after));
        if (!CHECK(after.loss < 0.9f * before.loss)) fprintf(stderr, "    optimizer %d\n", (int)optimizers[i]);
        /* Deterministic: the same seed and options give the same weights. */
        OK(nn_model_fit(again, &data, NULL, &options, NULL));
        CHECK(same_parameters(model, again));
        nn_model_free(again);
        nn_model_free(model);
    }
}

static void test_bad_hyperparameters(void) {
    nn_model *model = classifier(8, 7), *reference = NULL;
    nn_dataset data;
    nn_train_options options;
    const uint32_t milestones[2] = {2, 4};
    if (model == NULL) return;
    spiral_data(&data);
    OK(nn_model_clone(model, &reference));
#define BAD(field, value, status)                                                    \
    do {                                                                             \
        quick_options(&options, 2);                                                  \
        options.field = value;                                                       \
        if (!EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), status))       \
            fprintf(stderr, "    options.%s = %s\n", #field, #value);                \
        EXPECT(nn_model_train_step(model, &data, &options, NULL), status);           \
    } while (0)
    BAD(epochs, 0, NN_ERR_BAD_HYPERPARAMETER);
    BAD(learning_rate, 0.0f, NN_ERR_BAD_HYPERPARAMETER);
    BAD(learning_rate, -1.0f, NN_ERR_BAD_HYPERPARAMETER);
    BAD(learning_rate, NAN, NN_ERR_BAD_HYPERPARAMETER);
    BAD(learning_rate, INFINITY, NN_ERR_BAD_HYPERPARAMETER);
    BAD(l2, -1e-3f, NN_ERR_BAD_HYPERPARAMETER);
    BAD(l1, NAN, NN_ERR_BAD_HYPERPARAMETER);
    BAD(gradient_clip_norm, -1.0f, NN_ERR_BAD_HYPERPARAMETER);
    BAD(gradient_clip_norm, NAN, NN_ERR_BAD_HYPERPARAMETER);
    BAD(optimizer, 0, NN_ERR_INVALID_ARGUMENT);
    BAD(optimizer, 8, NN_ERR_INVALID_ARGUMENT);
    BAD(schedule, 0, NN_ERR_INVALID_ARGUMENT);
    BAD(schedule, 5, NN_ERR_INVALID_ARGUMENT);
    quick_options(&options, 2);
    options.optimizer = NN_OPTIMIZER_MOMENTUM;
    options.momentum = 1.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT_MESSAGE("momentum");
    options.optimizer = NN_OPTIMIZER_NESTEROV;
    options.momentum = -0.5f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.optimizer = NN_OPTIMIZER_ADAGRAD;
    options.epsilon = 0.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.optimizer = NN_OPTIMIZER_RMSPROP;
    options.rho = 1.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.optimizer = NN_OPTIMIZER_ADAM;
    options.beta1 = 1.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    options.beta1 = 0.9f;
    options.beta2 = NAN;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.optimizer = NN_OPTIMIZER_ADAMW;
    options.weight_decay = -0.01f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.schedule = NN_SCHEDULE_STEP_DECAY;
    options.step_milestones = milestones;
    options.step_milestone_count = 2;
    options.step_factor = 0.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    options.step_factor = 0.5f;
    options.step_milestones = NULL;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_NULL_POINTER);
    options.step_milestones = milestones;
    options.step_milestone_count = SIZE_MAX;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_SHAPE_MISMATCH);
    quick_options(&options, 2);
    options.schedule = NN_SCHEDULE_EXPONENTIAL;
    options.exponential_gamma = 0.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    quick_options(&options, 2);
    options.schedule = NN_SCHEDULE_COSINE;
    options.cosine_period = 0;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
    options.cosine_period = 10;
    options.cosine_minimum_factor = 2.0f;
    EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), NN_ERR_BAD_HYPERPARAMETER);
#undef BAD
    /* None of it changed the model. */
    CHECK(same_parameters(model, reference));
    CHECK(model_info(model).epochs_trained == 0 && model_info(model).history_count == 0);
    nn_model_free(reference);
    nn_model_free(model);
}

/* The learning rates the callback sees over `epochs` epochs of one fit with these options. */
static int rates_of(nn_model *model, nn_train_options *options, uint32_t epochs, recorder *r) {
    static const float xor_x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const int32_t xor_y[4] = {0, 1, 1, 0};
    nn_dataset data;
    labelled(&data, xor_x, 4, 2, xor_y);
    memset(r, 0, sizeof *r);
    r->expected_user_data = r;
    options->epochs = epochs;
    options->batch_size = 0;
    options->callback = record_epoch;
    options->user_data = r;
    return OK(nn_model_fit(model, &data, NULL, options, NULL)) && CHECK(r->calls == (int)epochs);
}

static void test_schedules(void) {
    const uint32_t lecture[3] = {30, 60, 90}, milestones[2] = {2, 4};
    nn_train_options options;
    nn_model *model;
    recorder *r = malloc(sizeof *r), *lecture_rates = malloc(sizeof *r);
    float expected;
    int e, i;
    if (r == NULL || lecture_rates == NULL) return;

    /* The lecture's step decay: x0.1 after epochs 30, 60 and 90 (0-based milestones). Checked
     * at each milestone through the callback's learning_rate; 100 epochs of XOR, 64 recorded. */
    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 1.0f;
    options.schedule = NN_SCHEDULE_STEP_DECAY;
    options.step_milestones = lecture;
    options.step_milestone_count = 3;
    options.step_factor = 0.1f;
    if (rates_of(model, &options, 29, lecture_rates)) { /* epochs 0..28: the base rate */
        for (e = 0; e < 29; e++) CHECK(lecture_rates->rates[e] == 1.0f);
    }
    if (rates_of(model, &options, 2, r)) { /* epochs 29 and 30: the first milestone */
        CHECK(r->epochs[0] == 30 && r->rates[0] == 1.0f);
        CHECK(r->epochs[1] == 31 && near(r->rates[1], 0.1, 1e-6));
    }
    if (rates_of(model, &options, 30, r)) { /* epochs 31..60 */
        CHECK(near(r->rates[28], 0.1, 1e-6) && r->epochs[29] == 61 && near(r->rates[29], 0.01, 1e-6));
    }
    if (rates_of(model, &options, 40, r)) { /* epochs 61..100 */
        CHECK(near(r->rates[28], 0.01, 1e-6) && r->epochs[29] == 91 && near(r->rates[29], 0.001, 1e-6));
        CHECK(near(r->rates[39], 0.001, 1e-6));
    }
    CHECK(model_info(model).epochs_trained == 101);
    nn_model_free(model);

    /* Step decay with powers of two is exact; two calls of 3 epochs equal one of 6. */
    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 0.1f;
    options.schedule = NN_SCHEDULE_STEP_DECAY;
    options.step_milestones = milestones;
    options.step_milestone_count = 2;
    options.step_factor = 0.5f;
    if (rates_of(model, &options, 3, r)) CHECK(r->rates[0] == 0.1f && r->rates[1] == 0.1f && r->rates[2] == 0.05f);
    if (rates_of(model, &options, 3, r)) CHECK(r->rates[0] == 0.05f && r->rates[1] == 0.025f && r->rates[2] == 0.025f);
    nn_model_free(model);

    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 0.1f;
    options.schedule = NN_SCHEDULE_EXPONENTIAL;
    options.exponential_gamma = 0.5f;
    if (rates_of(model, &options, 4, r))
        CHECK(r->rates[0] == 0.1f && r->rates[1] == 0.05f && r->rates[2] == 0.025f && r->rates[3] == 0.0125f);
    nn_model_free(model);

    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 0.1f;
    options.schedule = NN_SCHEDULE_COSINE;
    options.cosine_period = 4;
    options.cosine_minimum_factor = 0.2f;
    if (rates_of(model, &options, 6, r)) {
        for (e = 0; e < 6; e++) {
            const double progress = (e < 4 ? e : 4) / 4.0;
            expected = (float)(0.1 * (0.2 + 0.8 * 0.5 * (1.0 + cos(3.14159265358979323846 * progress))));
            CHECK(near(r->rates[e], expected, 1e-5));
        }
    }
    nn_model_free(model);

    /* Linear warm-up over 2 epochs in front of a constant rate. */
    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 0.1f;
    options.warmup_epochs = 2;
    if (rates_of(model, &options, 3, r)) CHECK(r->rates[0] == 0.05f && r->rates[1] == 0.1f && r->rates[2] == 0.1f);
    nn_model_free(model);

    /* The constant schedule. */
    model = classifier(4, 0);
    nn_train_options_init(&options);
    options.learning_rate = 0.3f;
    if (rates_of(model, &options, 5, r))
        for (i = 0; i < 5; i++) CHECK(r->rates[i] == 0.3f);
    nn_model_free(model);
    free(lecture_rates);
    free(r);
}

static void test_train_step_and_epochs(void) {
    nn_model *model = classifier(8, 8), *empty = NULL;
    nn_dataset batch;
    nn_train_options options;
    nn_step_stats stats, before;
    nn_model_info info;
    const uint32_t milestone[1] = {1};
    if (model == NULL) return;
    labelled(&batch, spiral_x, 16, 2, spiral_y);
    nn_train_options_init(&options);
    options.learning_rate = 0.2f;
    options.schedule = NN_SCHEDULE_STEP_DECAY;
    options.step_milestones = milestone;
    options.step_milestone_count = 1;
    options.step_factor = 0.5f;

    OK(nn_step_stats_init(&stats));
    OK(nn_model_train_step(model, &batch, &options, &stats));
    CHECK(stats.struct_size == sizeof stats && isfinite(stats.data_loss) && stats.learning_rate == 0.2f);
    CHECK(stats.gradient_norm > 0.0f && stats.accuracy >= 0.0f && stats.accuracy <= 1.0f);
    CHECK(stats.regularization_loss == 0.0f);
    info = model_info(model);
    CHECK(info.steps_trained == 1 && info.epochs_trained == 0 && info.history_count == 0);
    OK(nn_model_train_step(model, &batch, &options, NULL));
    CHECK(model_info(model).steps_trained == 2);
    OK(nn_model_advance_epoch(model));
    CHECK(model_info(model).epochs_trained == 1);
    OK(nn_model_train_step(model, &batch, &options, &stats));
    CHECK(stats.learning_rate == 0.1f); /* past the milestone at epoch 1 */
    options.l2 = 0.01f;
    OK(nn_model_train_step(model, &batch, &options, &stats));
    CHECK(stats.regularization_loss > 0.0f);
    OK(nn_model_reset_training(model));
    info = model_info(model);
    CHECK(info.steps_trained == 0 && info.epochs_trained == 0);
    OK(nn_model_train_step(model, &batch, &options, &stats));
    CHECK(stats.learning_rate == 0.2f);
    /* Clipping reports the norm before clipping. */
    options.gradient_clip_norm = 1e-3f;
    OK(nn_model_train_step(model, &batch, &options, &stats));
    CHECK(stats.gradient_norm > 1e-3f);
    /* An out_stats whose struct_size is 0 is refused before the step. */
    memset(&before, 0, sizeof before);
    stats = before;
    EXPECT(nn_model_train_step(model, &batch, &options, &stats), NN_ERR_INVALID_ARGUMENT);
    CHECK(model_info(model).steps_trained == 2);
    /* A model without layers cannot train. */
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &empty));
    EXPECT(nn_model_train_step(empty, &batch, &options, NULL), NN_ERR_INVALID_STATE);
    nn_model_free(empty);
    nn_model_free(model);
}

static void test_bad_training_data(void) {
    nn_model *model = classifier(8, 9), *reference = NULL, *empty = NULL, *dropout_only = NULL;
    nn_model *regression = NULL, *binary = NULL;
    nn_dataset data;
    nn_train_options options;
    float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, targets[8] = {0, 1, 1, 0, 0, 1, 1, 0};
    float weights[4] = {1, 1, 1, 1};
    int32_t y[4] = {0, 1, 2, 1};
    if (model == NULL) return;
    OK(nn_model_clone(model, &reference));
    quick_options(&options, 2);

#define DATA(status)                                                                 \
    do {                                                                             \
        EXPECT(nn_model_fit(model, &data, NULL, &options, NULL), status);            \
        EXPECT(nn_model_train_step(model, &data, &options, NULL), status);           \
    } while (0)
    labelled(&data, x, 0, 2, y);
    DATA(NN_ERR_EMPTY_DATA);
    labelled(&data, x, 4, 3, y);
    DATA(NN_ERR_SHAPE_MISMATCH);
    labelled(&data, x, 4, 1, y);
    DATA(NN_ERR_SHAPE_MISMATCH);
    x[5] = NAN;
    labelled(&data, x, 4, 2, y);
    DATA(NN_ERR_NON_FINITE);
    x[5] = INFINITY;
    DATA(NN_ERR_NON_FINITE);
    x[5] = -INFINITY;
    DATA(NN_ERR_NON_FINITE);
    x[5] = 0.6f;
    y[2] = 3;
    DATA(NN_ERR_LABEL_OUT_OF_RANGE);
    EXPECT_MESSAGE("3");
    y[2] = -1;
    DATA(NN_ERR_LABEL_OUT_OF_RANGE);
    y[2] = 2;
    data.targets = targets; /* labels and targets */
    data.target_cols = 2;
    DATA(NN_ERR_INVALID_ARGUMENT);
    data.labels = NULL; /* targets for a softmax classifier */
    DATA(NN_ERR_INVALID_ARGUMENT);
    data.targets = NULL; /* neither */
    DATA(NN_ERR_INVALID_ARGUMENT);
    labelled(&data, x, 4, 2, y);
    data.sample_weights = weights;
    weights[1] = -1.0f;
    DATA(NN_ERR_INVALID_ARGUMENT);
    weights[1] = NAN;
    DATA(NN_ERR_INVALID_ARGUMENT);
    weights[0] = weights[1] = weights[2] = weights[3] = 0.0f;
    DATA(NN_ERR_INVALID_ARGUMENT);
    weights[0] = weights[1] = weights[2] = weights[3] = 1.0f;
    data.struct_size = 0;
    DATA(NN_ERR_INVALID_ARGUMENT);
    labelled(&data, NULL, 4, 2, y);
    DATA(NN_ERR_NULL_POINTER);
    /* Every refusal came before the model changed. */
    CHECK(same_parameters(model, reference));
    CHECK(model_info(model).epochs_trained == 0 && model_info(model).steps_trained == 0);
    /* Weighted data trains. */
    labelled(&data, x, 4, 2, y);
    data.sample_weights = weights;
    weights[0] = 3.0f;
    OK(nn_model_fit(model, &data, NULL, &options, NULL));

    /* Models that cannot train. */
    labelled(&data, x, 4, 2, y);
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &empty));
    EXPECT(nn_model_fit(empty, &data, NULL, &options, NULL), NN_ERR_INVALID_STATE);
    EXPECT_MESSAGE("layer");
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &dropout_only));
    OK(nn_model_add_dropout(dropout_only, 0.5f));
    EXPECT(nn_model_fit(dropout_only, &data, NULL, &options, NULL), NN_ERR_INVALID_STATE);

    /* Regression wants targets of the output width; binary cross-entropy wants them in [0, 1]. */
    OK(nn_model_create(2, NN_LOSS_MEAN_SQUARED_ERROR, 0, &regression));
    OK(nn_model_add_dense(regression, 2, NN_ACTIVATION_IDENTITY, 0.0f));
    EXPECT(nn_model_fit(regression, &data, NULL, &options, NULL), NN_ERR_INVALID_ARGUMENT);
    data.labels = NULL;
    data.targets = targets;
    data.target_cols = 2;
    OK(nn_model_fit(regression, &data, NULL, &options, NULL));
    data.target_cols = 1;
    EXPECT(nn_model_fit(regression, &data, NULL, &options, NULL), NN_ERR_SHAPE_MISMATCH);
    data.target_cols = 0;
    EXPECT(nn_model_fit(regression, &data, NULL, &options, NULL), NN_ERR_INVALID_ARGUMENT);
    data.target_cols = 2;
    targets[3] = NAN;
    EXPECT(nn_model_fit(regression, &data, NULL, &options, NULL), NN_ERR_NON_FINITE);
    targets[3] = 0.0f;
    OK(nn_model_create(2, NN_LOSS_BINARY_CROSS_ENTROPY, 0, &binary));
    OK(nn_model_add_dense(binary, 2, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_fit(binary, &data, NULL, &options, NULL));
    targets[2] = 1.5f;
    EXPECT(nn_model_fit(binary, &data, NULL, &options, NULL), NN_ERR_INVALID_ARGUMENT);
    targets[2] = 1.0f;
    labelled(&data, x, 4, 2, y); /* class labels for a two-output binary model */
    EXPECT(nn_model_fit(binary, &data, NULL, &options, NULL), NN_ERR_INVALID_ARGUMENT);
#undef DATA
    nn_model_free(binary);
    nn_model_free(regression);
    nn_model_free(dropout_only);
    nn_model_free(empty);
    nn_model_free(reference);
    nn_model_free(model);
}

static void test_overflowing_counts(void) {
    nn_model *model = classifier(8, 10), *narrow = NULL;
    nn_dataset data;
    nn_evaluation evaluation;
    float out[64];
    int32_t classes[64];
    if (model == NULL) return;
    nn_evaluation_init(&evaluation);
    memset(out, 0x5A, sizeof out);

    /* rows * cols overflows size_t: refused before any element is read. */
    labelled(&data, spiral_x, SIZE_MAX / 2, 2, spiral_y);
    EXPECT(nn_model_fit(model, &data, NULL, NULL, NULL), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_train_step(model, &data, NULL, NULL), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_evaluate(model, &data, &evaluation), NN_ERR_LIMIT_EXCEEDED);
    labelled(&data, spiral_x, SIZE_MAX, 2, spiral_y);
    EXPECT(nn_model_fit(model, &data, NULL, NULL, NULL), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_predict(model, spiral_x, SIZE_MAX / 2, 2, out, 64), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_predict_proba(model, spiral_x, SIZE_MAX / 2, 2, out, 64), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_classify(model, spiral_x, SIZE_MAX / 2, 2, classes, 64), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_predict(model, spiral_x, SIZE_MAX, 2, out, 64), NN_ERR_LIMIT_EXCEEDED);
    /* The same with one column: no overflow, but far more rows than the buffers hold. */
    OK(nn_model_create(1, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &narrow));
    OK(nn_model_add_dense(narrow, 3, NN_ACTIVATION_IDENTITY, 0.0f));
    labelled(&data, spiral_x, SIZE_MAX / 2, 1, spiral_y);
    EXPECT(nn_model_fit(narrow, &data, NULL, NULL, NULL), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_predict(narrow, spiral_x, SIZE_MAX / 2, 1, out, 64), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_model_predict(narrow, spiral_x, SIZE_MAX / 8, 1, out, 64), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT(nn_model_classify(narrow, spiral_x, SIZE_MAX / 2, 1, classes, 64), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(((unsigned char *)out)[0] == 0x5A);
    nn_model_free(narrow);
    nn_model_free(model);
}

static void test_diverged(void) {
    nn_model *model = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_train_result result, before;
    const float x[4] = {1.0f, 2.0f, 3.0f, 4.0f}, t[4] = {2.0f, 4.0f, 6.0f, 8.0f};
    float parameters[16];
    size_t count;
    OK(nn_model_create(1, NN_LOSS_MEAN_SQUARED_ERROR, 0, &model));
    OK(nn_model_add_dense(model, 4, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_add_dense(model, 1, NN_ACTIVATION_IDENTITY, 0.0f));
    nn_dataset_init(&data);
    data.inputs = x;
    data.rows = 4;
    data.cols = 1;
    data.targets = t;
    data.target_cols = 1;
    quick_options(&options, 50);
    options.learning_rate = 1e30f;
    memset(&result, 0, sizeof result);
    OK(nn_train_result_init(&result));
    memcpy(&before, &result, sizeof result);
    EXPECT(nn_model_fit(model, &data, NULL, &options, &result), NN_ERR_DIVERGED);
    CHECK(memcmp(&result, &before, sizeof result) == 0);
    count = all_parameters(model, parameters, 16);
    CHECK(count == 13);
    CHECK(all_finite(parameters, count)); /* the last good step's weights */
    EXPECT(nn_model_train_step(model, &data, &options, NULL), NN_ERR_DIVERGED);
    count = all_parameters(model, parameters, 16);
    CHECK(count == 13 && all_finite(parameters, count));
    /* Fresh weights train at a sane rate. */
    OK(nn_model_reinitialize(model, 1));
    options.learning_rate = 1e-3f;
    options.epochs = 2;
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    nn_model_free(model);
}

static void test_evaluate(void) {
    nn_model *model = classifier(16, 12), *regression = NULL, *empty = NULL;
    nn_dataset data;
    nn_evaluation evaluation, before;
    nn_train_options options;
    const float x[4] = {1.0f, 2.0f, 3.0f, 4.0f}, t[4] = {2.0f, 4.0f, 6.0f, 8.0f};
    float w[SPIRAL_ROWS];
    int i;
    if (model == NULL) return;
    spiral_data(&data);
    quick_options(&options, 100);
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    OK(nn_evaluation_init(&evaluation));
    OK(nn_model_evaluate(model, &data, &evaluation));
    CHECK(evaluation.struct_size == sizeof evaluation && evaluation.count == SPIRAL_ROWS);
    CHECK(isfinite(evaluation.loss) && evaluation.loss > 0.0f);
    CHECK(evaluation.accuracy > 0.6f && evaluation.accuracy <= 1.0f);
    /* Weights that keep only class 0 give the accuracy on class 0. */
    for (i = 0; i < SPIRAL_ROWS; i++) w[i] = spiral_y[i] == 0 ? 1.0f : 0.0f;
    data.sample_weights = w;
    OK(nn_model_evaluate(model, &data, &evaluation));
    {
        int32_t classes[SPIRAL_ROWS];
        int correct = 0;
        OK(nn_model_classify(model, spiral_x, SPIRAL_ROWS, 2, classes, SPIRAL_ROWS));
        for (i = 0; i < SPIRAL_PER_CLASS; i++) correct += classes[i] == 0;
        CHECK(near(evaluation.accuracy, (double)correct / SPIRAL_PER_CLASS, 1e-5));
    }
    data.sample_weights = NULL;

    OK(nn_model_create(1, NN_LOSS_MEAN_SQUARED_ERROR, 0, &regression));
    OK(nn_model_add_dense(regression, 1, NN_ACTIVATION_IDENTITY, 0.0f));
    nn_dataset_init(&data);
    data.inputs = x;
    data.rows = 4;
    data.cols = 1;
    data.targets = t;
    data.target_cols = 1;
    OK(nn_model_evaluate(regression, &data, &evaluation));
    CHECK(isnan(evaluation.accuracy) && isfinite(evaluation.loss) && evaluation.count == 4);

    memset(&before, 0, sizeof before); /* so that memcmp compares no uninitialised padding */
    OK(nn_evaluation_init(&before));
    memcpy(&evaluation, &before, sizeof evaluation);
    OK(nn_model_create(1, NN_LOSS_MEAN_SQUARED_ERROR, 0, &empty));
    EXPECT(nn_model_evaluate(empty, &data, &evaluation), NN_ERR_INVALID_STATE);
    data.rows = 0;
    EXPECT(nn_model_evaluate(regression, &data, &evaluation), NN_ERR_EMPTY_DATA);
    data.rows = 4;
    data.cols = 2;
    EXPECT(nn_model_evaluate(regression, &data, &evaluation), NN_ERR_SHAPE_MISMATCH);
    CHECK(memcmp(&evaluation, &before, sizeof evaluation) == 0);
    spiral_data(&data);
    spiral_y[5] = 7;
    EXPECT(nn_model_evaluate(model, &data, &evaluation), NN_ERR_LABEL_OUT_OF_RANGE);
    spiral_y[5] = 0;
    spiral_x[3] = NAN;
    EXPECT(nn_model_evaluate(model, &data, &evaluation), NN_ERR_NON_FINITE);
    make_spiral();
    evaluation.struct_size = 0;
    EXPECT(nn_model_evaluate(model, &data, &evaluation), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(empty);
    nn_model_free(regression);
    nn_model_free(model);
}

/* ---- Inference --------------------------------------------------------------------------- */

#define MANY_ROWS 600 /* more than one inference batch (256 rows) */

static void many_inputs(float *x) {
    int i;
    for (i = 0; i < MANY_ROWS * 2; i++) x[i] = spiral_x[i % (SPIRAL_ROWS * 2)] * (1.0f + (float)(i / 240) * 0.1f);
}

static void test_predict_proba_classify(void) {
    nn_model *model = classifier(16, 13), *empty = NULL;
    nn_dataset data;
    nn_train_options options;
    static float x[MANY_ROWS * 2], scores[MANY_ROWS * 3], p[MANY_ROWS * 3], one[3], sentinel[MANY_ROWS * 3];
    static int32_t classes[MANY_ROWS], class_sentinel[MANY_ROWS];
    int i, j, argmax_agrees = 1, rows_agree = 1, sums_ok = 1, in_range = 1;
    if (model == NULL) return;
    spiral_data(&data);
    quick_options(&options, 50);
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    many_inputs(x);

    OK(nn_model_predict(model, x, MANY_ROWS, 2, scores, MANY_ROWS * 3));
    OK(nn_model_predict_proba(model, x, MANY_ROWS, 2, p, MANY_ROWS * 3));
    OK(nn_model_classify(model, x, MANY_ROWS, 2, classes, MANY_ROWS));
    for (i = 0; i < MANY_ROWS; i++) {
        const float *s = scores + 3 * i, *q = p + 3 * i;
        int best = 0;
        double sum = 0.0, expected;
        for (j = 1; j < 3; j++)
            if (s[j] > s[best]) best = j;
        if (classes[i] != best) argmax_agrees = 0;
        for (j = 0; j < 3; j++) {
            sum += q[j];
            if (!(q[j] >= 0.0f && q[j] <= 1.0f)) in_range = 0;
            /* softmax of the scores */
            expected = exp(s[j] - s[best]) / (exp(s[0] - s[best]) + exp(s[1] - s[best]) + exp(s[2] - s[best]));
            if (!near(q[j], expected, 1e-5)) in_range = 0;
        }
        if (!near(sum, 1.0, 1e-5)) sums_ok = 0;
        /* Row i alone gives row i of the batch (tolerance: a 1-row product may round differently). */
        if (i % 37 == 0) {
            OK(nn_model_predict(model, x + 2 * i, 1, 2, one, 3));
            for (j = 0; j < 3; j++)
                if (!near(one[j], s[j], 1e-5)) rows_agree = 0;
        }
    }
    CHECK(argmax_agrees && rows_agree && sums_ok && in_range);

    /* Capacities and shapes; the output stays untouched on every failure. */
    memset(sentinel, 0x5A, sizeof sentinel);
    memcpy(scores, sentinel, sizeof scores);
    memset(class_sentinel, 0x5A, sizeof class_sentinel);
    memcpy(classes, class_sentinel, sizeof classes);
    EXPECT(nn_model_predict(model, x, MANY_ROWS, 2, scores, MANY_ROWS * 3 - 1), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT_MESSAGE("1800");
    EXPECT(nn_model_predict_proba(model, x, MANY_ROWS, 2, scores, 3), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT(nn_model_classify(model, x, MANY_ROWS, 2, classes, MANY_ROWS - 1), NN_ERR_BUFFER_TOO_SMALL);
    EXPECT(nn_model_predict(model, x, MANY_ROWS, 3, scores, MANY_ROWS * 3), NN_ERR_SHAPE_MISMATCH);
    EXPECT_MESSAGE("2");
    EXPECT(nn_model_classify(model, x, 4, 1, classes, 4), NN_ERR_SHAPE_MISMATCH);
    /* A NaN in the last row, beyond the first batch, leaves the first batches unwritten too. */
    x[MANY_ROWS * 2 - 1] = NAN;
    EXPECT(nn_model_predict(model, x, MANY_ROWS, 2, scores, MANY_ROWS * 3), NN_ERR_NON_FINITE);
    EXPECT_MESSAGE("599");
    EXPECT(nn_model_predict_proba(model, x, MANY_ROWS, 2, scores, MANY_ROWS * 3), NN_ERR_NON_FINITE);
    EXPECT(nn_model_classify(model, x, MANY_ROWS, 2, classes, MANY_ROWS), NN_ERR_NON_FINITE);
    x[MANY_ROWS * 2 - 1] = 0.5f;
    x[0] = INFINITY;
    EXPECT(nn_model_predict(model, x, 1, 2, scores, 3), NN_ERR_NON_FINITE);
    EXPECT(nn_model_predict(model, x, 10, 2, scores, 30), NN_ERR_NON_FINITE);
    CHECK(memcmp(scores, sentinel, sizeof scores) == 0);
    CHECK(memcmp(classes, class_sentinel, sizeof classes) == 0);
    many_inputs(x);
    /* Zero rows do nothing; a capacity above any result is fine. */
    OK(nn_model_predict(model, x, 0, 2, scores, 0));
    OK(nn_model_classify(model, x, 0, 2, classes, 0));
    CHECK(memcmp(scores, sentinel, sizeof scores) == 0);
    OK(nn_model_predict(model, x, 2, 2, scores, SIZE_MAX));
    OK(nn_model_classify(model, x, 2, 2, classes, SIZE_MAX));

    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &empty));
    EXPECT(nn_model_predict(empty, x, 1, 2, scores, 3), NN_ERR_INVALID_STATE);
    EXPECT(nn_model_predict_proba(empty, x, 1, 2, scores, 3), NN_ERR_INVALID_STATE);
    EXPECT(nn_model_classify(empty, x, 1, 2, classes, 1), NN_ERR_INVALID_STATE);
    nn_model_free(empty);
    nn_model_free(model);
}

static void test_outputs_per_loss(void) {
    nn_model *hinge = NULL, *mse = NULL, *bce1 = NULL, *bce3 = NULL;
    const float x[4] = {0.5f, -1.0f, 2.0f, 0.25f};
    float out[6], p[6];
    int32_t classes[2];
    int i;
    OK(nn_model_create(2, NN_LOSS_MULTICLASS_HINGE, 0, &hinge));
    OK(nn_model_add_dense(hinge, 3, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_predict(hinge, x, 2, 2, out, 6));
    OK(nn_model_classify(hinge, x, 2, 2, classes, 2));
    EXPECT(nn_model_predict_proba(hinge, x, 2, 2, p, 6), NN_ERR_INVALID_STATE);
    EXPECT_MESSAGE("probabilities");

    OK(nn_model_create(2, NN_LOSS_MEAN_SQUARED_ERROR, 0, &mse));
    OK(nn_model_add_dense(mse, 3, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_predict(mse, x, 2, 2, out, 6));
    EXPECT(nn_model_predict_proba(mse, x, 2, 2, p, 6), NN_ERR_INVALID_STATE);
    EXPECT(nn_model_classify(mse, x, 2, 2, classes, 2), NN_ERR_INVALID_STATE);

    /* One-output binary cross-entropy: sigmoid probability, class 1 when the logit is positive. */
    OK(nn_model_create(2, NN_LOSS_BINARY_CROSS_ENTROPY, 0, &bce1));
    OK(nn_model_add_dense(bce1, 1, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_predict(bce1, x, 2, 2, out, 2));
    OK(nn_model_predict_proba(bce1, x, 2, 2, p, 2));
    OK(nn_model_classify(bce1, x, 2, 2, classes, 2));
    for (i = 0; i < 2; i++) {
        CHECK(near(p[i], 1.0 / (1.0 + exp(-out[i])), 1e-6));
        CHECK(classes[i] == (out[i] > 0.0f ? 1 : 0));
    }
    /* Several binary outputs are multi-label: probabilities, no single class. */
    OK(nn_model_create(2, NN_LOSS_BINARY_CROSS_ENTROPY, 0, &bce3));
    OK(nn_model_add_dense(bce3, 3, NN_ACTIVATION_IDENTITY, 0.0f));
    OK(nn_model_predict(bce3, x, 2, 2, out, 6));
    OK(nn_model_predict_proba(bce3, x, 2, 2, p, 6));
    for (i = 0; i < 6; i++) CHECK(near(p[i], 1.0 / (1.0 + exp(-out[i])), 1e-6));
    EXPECT(nn_model_classify(bce3, x, 2, 2, classes, 2), NN_ERR_INVALID_STATE);
    nn_model_free(bce3);
    nn_model_free(bce1);
    nn_model_free(mse);
    nn_model_free(hinge);
}

static void test_standardize_option(void) {
    nn_model *model = classifier(8, 14);
    nn_dataset data;
    nn_train_options options;
    float mean[2], scale[2];
    double m0 = 0.0, m1 = 0.0;
    size_t count = 0;
    int i;
    if (model == NULL) return;
    spiral_data(&data);
    quick_options(&options, 2);
    options.standardize = 1;
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    CHECK(model_info(model).has_standardization == 1);
    OK(nn_model_get_standardization(model, mean, scale, 2, &count));
    for (i = 0; i < SPIRAL_ROWS; i++) {
        m0 += spiral_x[2 * i];
        m1 += spiral_x[2 * i + 1];
    }
    CHECK(count == 2 && near(mean[0], m0 / SPIRAL_ROWS, 1e-5) && near(mean[1], m1 / SPIRAL_ROWS, 1e-5));
    CHECK(scale[0] > 0.0f && scale[1] > 0.0f);
    nn_model_free(model);
}

/* ---- Files and memory -------------------------------------------------------------------- */

static void test_save_and_load_file(void) {
    nn_model *model = classifier(16, 15), *loaded = SENTINEL_MODEL, *reference = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_save_options save;
    nn_model_info a, b;
    char directory[128], path[256], sub[256], text[32];
    const char *labels[3] = {"r", "g", "b"};
    float before[SPIRAL_ROWS * 3], after[SPIRAL_ROWS * 3];
    size_t length = 0, size = 0;
    if (model == NULL) return;
    spiral_data(&data);
    nn_train_options_init(&options);
    options.epochs = 5;
    options.batch_size = 16;
    options.optimizer = NN_OPTIMIZER_ADAM;
    options.learning_rate = 0.01f;
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    OK(nn_model_set_metadata(model, "author", "test_capi"));
    OK(nn_model_set_class_labels(model, labels, 3));
    temp_path(directory, sizeof directory, "save");
    CHECK(mkdir(directory, 0700) == 0);
    snprintf(path, sizeof path, "%s/model.nnm", directory);

    OK(nn_model_save(model, path, NULL));
    OK(nn_model_serialized_size(model, NULL, &size));
    CHECK(file_size(path) == (long)size);
    OK(nn_model_load(path, &loaded));
    CHECK(loaded != SENTINEL_MODEL && loaded != NULL);
    a = model_info(model);
    b = model_info(loaded);
    CHECK(a.input_width == b.input_width && a.output_width == b.output_width && a.layer_count == b.layer_count);
    CHECK(a.parameter_count == b.parameter_count && a.epochs_trained == b.epochs_trained && a.seed == b.seed);
    CHECK(a.steps_trained == b.steps_trained && a.history_count == b.history_count && a.loss == b.loss);
    CHECK(b.metadata_count == 1 && b.class_label_count == 3);
    OK(nn_model_get_metadata(loaded, "author", text, sizeof text, &length));
    CHECK(strcmp(text, "test_capi") == 0);
    CHECK(same_parameters(model, loaded));
    OK(nn_model_predict(model, spiral_x, SPIRAL_ROWS, 2, before, SPIRAL_ROWS * 3));
    OK(nn_model_predict(loaded, spiral_x, SPIRAL_ROWS, 2, after, SPIRAL_ROWS * 3));
    CHECK(memcmp(before, after, sizeof before) == 0);
    /* Training state travels with the file: save, load, train on = never stopping. */
    OK(nn_model_clone(model, &reference));
    OK(nn_model_fit(reference, &data, NULL, &options, NULL));
    OK(nn_model_fit(loaded, &data, NULL, &options, NULL));
    CHECK(same_parameters(reference, loaded));
    nn_model_free(loaded);

    /* Saving over an existing file replaces it; a failed save leaves no temporary file. */
    OK(nn_model_save(reference, path, NULL));
    OK(nn_model_load(path, &loaded));
    CHECK(same_parameters(reference, loaded));
    nn_model_free(loaded);
    snprintf(sub, sizeof sub, "%s/a-directory", directory);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(directory_entries(directory) == 2);
    EXPECT(nn_model_save(model, sub, NULL), NN_ERR_IO);
    CHECK(directory_entries(directory) == 2 && directory_entries(sub) == 0);
    snprintf(sub, sizeof sub, "%s/missing/model.nnm", directory);
    EXPECT(nn_model_save(model, sub, NULL), NN_ERR_NOT_FOUND);
    EXPECT(nn_model_save(model, "", NULL), NN_ERR_INVALID_ARGUMENT);
    nn_save_options_init(&save);
    save.struct_size = 0;
    EXPECT(nn_model_save(model, path, &save), NN_ERR_INVALID_ARGUMENT);
    OK(nn_model_load(path, &loaded)); /* the file is still the good one */
    CHECK(same_parameters(reference, loaded));
    nn_model_free(loaded);
    nn_model_free(reference);
    nn_model_free(model);
}

static void test_save_and_load_buffer(void) {
    nn_model *model = classifier(16, 16), *loaded = SENTINEL_MODEL, *light = NULL, *empty = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_save_options pinned, inference_only;
    unsigned char *bytes = NULL, *again = NULL, *file_bytes = NULL;
    size_t size = SENTINEL_SIZE, written = 0, light_size = 0;
    char path[256];
    float before[SPIRAL_ROWS * 3], after[SPIRAL_ROWS * 3];
    FILE *file;
    if (model == NULL) return;
    spiral_data(&data);
    nn_train_options_init(&options);
    options.epochs = 4;
    options.batch_size = 16;
    options.optimizer = NN_OPTIMIZER_MOMENTUM;
    options.learning_rate = 0.1f;
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    nn_save_options_init(&pinned);
    pinned.pin_creation_time = 1;
    pinned.creation_time = 1700000000;

    /* Size query, then fill. */
    OK(nn_model_serialized_size(model, &pinned, &size));
    CHECK(size > 100);
    written = SENTINEL_SIZE;
    EXPECT(nn_model_save_to_buffer(model, &pinned, NULL, 0, &written), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(written == size);
    bytes = malloc(size);
    again = malloc(size);
    file_bytes = malloc(size + 1);
    if (bytes == NULL || again == NULL || file_bytes == NULL) goto done;
    memset(bytes, 0x5A, size);
    EXPECT(nn_model_save_to_buffer(model, &pinned, bytes, size - 1, &written), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(written == size && bytes[0] == 0x5A);
    OK(nn_model_save_to_buffer(model, &pinned, bytes, size, &written));
    CHECK(written == size && memcmp(bytes, "\x0a\x0cnncore-model", 14) == 0);
    /* The same model saves to the same bytes, in memory and on disk. */
    OK(nn_model_save_to_buffer(model, &pinned, again, size, &written));
    CHECK(memcmp(bytes, again, size) == 0);
    temp_path(path, sizeof path, "pinned.nnm");
    OK(nn_model_save(model, path, &pinned));
    file = fopen(path, "rb");
    if (CHECK(file != NULL)) {
        CHECK(fread(file_bytes, 1, size + 1, file) == size);
        fclose(file);
        CHECK(memcmp(file_bytes, bytes, size) == 0);
    }

    OK(nn_model_load_from_buffer(bytes, size, &loaded));
    CHECK(loaded != SENTINEL_MODEL);
    OK(nn_model_predict(model, spiral_x, SPIRAL_ROWS, 2, before, SPIRAL_ROWS * 3));
    OK(nn_model_predict(loaded, spiral_x, SPIRAL_ROWS, 2, after, SPIRAL_ROWS * 3));
    CHECK(memcmp(before, after, sizeof before) == 0);
    OK(nn_model_save_to_buffer(loaded, &pinned, again, size, &written));
    CHECK(written == size && memcmp(bytes, again, size) == 0); /* a loaded model saves to the same bytes */
    nn_model_free(loaded);

    /* The inference-only copy: smaller, same predictions. */
    nn_save_options_init(&inference_only);
    inference_only.include_training_state = 0;
    OK(nn_model_serialized_size(model, &inference_only, &light_size));
    CHECK(light_size < size);
    OK(nn_model_save_to_buffer(model, &inference_only, again, size, &written));
    CHECK(written == light_size);
    OK(nn_model_load_from_buffer(again, written, &light));
    OK(nn_model_predict(light, spiral_x, SPIRAL_ROWS, 2, after, SPIRAL_ROWS * 3));
    CHECK(memcmp(before, after, sizeof before) == 0);
    nn_model_free(light);

    /* A model without layers saves and loads too. */
    OK(nn_model_create(3, NN_LOSS_MEAN_SQUARED_ERROR, 99, &empty));
    OK(nn_model_save_to_buffer(empty, NULL, again, size, &written));
    nn_model_free(empty);
    empty = NULL;
    OK(nn_model_load_from_buffer(again, written, &empty));
    CHECK(model_info(empty).input_width == 3 && model_info(empty).layer_count == 0 && model_info(empty).seed == 99);
    nn_model_free(empty);
done:
    free(file_bytes);
    free(again);
    free(bytes);
    nn_model_free(model);
}

static void test_load_refuses_bad_input(void) {
    nn_model *model = classifier(8, 17), *loaded = SENTINEL_MODEL;
    unsigned char *bytes = NULL;
    size_t size = 0, written = 0, i;
    char path[256];
    const char garbage[] = "this is not a model file, just some text";
    const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13};
    uint32_t crc;
    int flips_refused = 1;
    if (model == NULL) return;
    OK(nn_model_serialized_size(model, NULL, &size));
    bytes = malloc(size);
    if (bytes == NULL) return;
    OK(nn_model_save_to_buffer(model, NULL, bytes, size, &written));

    EXPECT(nn_model_load_from_buffer(garbage, sizeof garbage, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load_from_buffer(png, sizeof png, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load_from_buffer(bytes, 0, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load_from_buffer(NULL, 0, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load_from_buffer(bytes, size - 1, &loaded), NN_ERR_CORRUPT_FILE); /* truncated */
    EXPECT(nn_model_load_from_buffer(bytes, 14, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load_from_buffer(bytes, SIZE_MAX, &loaded), NN_ERR_LIMIT_EXCEEDED); /* never read */
    EXPECT(nn_model_load_from_buffer(bytes, (size_t)5 << 30, &loaded), NN_ERR_LIMIT_EXCEEDED);
    /* Any single bit flip is caught (a sample of positions). */
    for (i = 0; i < size; i += 7) {
        bytes[i] ^= (unsigned char)(1u << (i % 8));
        if (nn_model_load_from_buffer(bytes, size, &loaded) == NN_OK) {
            flips_refused = 0;
            nn_model_free(loaded);
            loaded = SENTINEL_MODEL;
        }
        bytes[i] ^= (unsigned char)(1u << (i % 8));
    }
    CHECK(flips_refused);
    /* A file that needs a newer reader (min_reader_version 2), with a valid checksum. */
    CHECK(bytes[14] == 0x10 && bytes[16] == 0x18 && bytes[17] == 1 && bytes[size - 5] == 0x7D);
    crc = crc32c(bytes, size - 5); /* the trailer is the CRC-32C of every byte before field 15 */
    CHECK(crc == ((uint32_t)bytes[size - 4] | (uint32_t)bytes[size - 3] << 8 | (uint32_t)bytes[size - 2] << 16 |
                  (uint32_t)bytes[size - 1] << 24));
    bytes[15] = 2;
    bytes[17] = 2;
    crc = crc32c(bytes, size - 5); /* every byte before field 15 */
    bytes[size - 4] = (unsigned char)crc;
    bytes[size - 3] = (unsigned char)(crc >> 8);
    bytes[size - 2] = (unsigned char)(crc >> 16);
    bytes[size - 1] = (unsigned char)(crc >> 24);
    EXPECT(nn_model_load_from_buffer(bytes, size, &loaded), NN_ERR_UNSUPPORTED_VERSION);
    EXPECT_MESSAGE("2");
    temp_path(path, sizeof path, "future.nnm");
    CHECK(write_file(path, bytes, size));
    EXPECT(nn_model_load(path, &loaded), NN_ERR_UNSUPPORTED_VERSION);
    /* ... and the same bytes with version 1 and the right checksum load. */
    bytes[15] = 1;
    bytes[17] = 1;
    crc = crc32c(bytes, size - 5);
    bytes[size - 4] = (unsigned char)crc;
    bytes[size - 3] = (unsigned char)(crc >> 8);
    bytes[size - 2] = (unsigned char)(crc >> 16);
    bytes[size - 1] = (unsigned char)(crc >> 24);
    loaded = NULL;
    OK(nn_model_load_from_buffer(bytes, size, &loaded));
    nn_model_free(loaded);
    loaded = SENTINEL_MODEL;

    temp_path(path, sizeof path, "garbage.nnm");
    CHECK(write_file(path, garbage, sizeof garbage));
    EXPECT(nn_model_load(path, &loaded), NN_ERR_CORRUPT_FILE);
    temp_path(path, sizeof path, "empty.nnm");
    CHECK(write_file(path, "", 0));
    EXPECT(nn_model_load(path, &loaded), NN_ERR_CORRUPT_FILE);
    temp_path(path, sizeof path, "truncated.nnm");
    CHECK(write_file(path, bytes, size / 2));
    EXPECT(nn_model_load(path, &loaded), NN_ERR_CORRUPT_FILE);
    EXPECT(nn_model_load(temp_dir, &loaded), NN_ERR_IO);
    EXPECT_MESSAGE("directory");
    EXPECT(nn_model_load("/dev/null", &loaded), NN_ERR_IO);
    temp_path(path, sizeof path, "no-such-file.nnm");
    EXPECT(nn_model_load(path, &loaded), NN_ERR_NOT_FOUND);
    EXPECT_MESSAGE("no-such-file.nnm");
    temp_path(path, sizeof path, "no-such-directory/model.nnm");
    EXPECT(nn_model_load(path, &loaded), NN_ERR_NOT_FOUND);
    CHECK(nn_model_load("bad-\xff-path.nnm", &loaded) != NN_OK && nn_last_error_message()[0] != '\0');
    CHECK(loaded == SENTINEL_MODEL);
    free(bytes);
    nn_model_free(model);
}

static void test_model_dot(void) {
    nn_model *model = classifier(4, 18), *empty = NULL;
    char *text;
    size_t length = SENTINEL_SIZE, again = 0;
    if (model == NULL) return;
    EXPECT(nn_model_to_dot(model, NULL, 0, &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(length > 20 && length != SENTINEL_SIZE);
    text = malloc(length + 1);
    if (text == NULL) return;
    memset(text, 0x5A, length + 1);
    EXPECT(nn_model_to_dot(model, text, length, &again), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(again == length && text[0] == 0x5A);
    OK(nn_model_to_dot(model, text, length + 1, &again));
    CHECK(again == length && strlen(text) == length && strncmp(text, "digraph", 7) == 0);
    CHECK(strchr(text, '}') != NULL);
    OK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &empty));
    EXPECT(nn_model_to_dot(empty, text, length + 1, &again), NN_ERR_INVALID_STATE);
    nn_model_free(empty);
    free(text);
    nn_model_free(model);
}

/* ---- Computational graphs ---------------------------------------------------------------- */

static void test_graph_lecture_example(void) {
    nn_graph *graph = SENTINEL_GRAPH;
    int32_t x = SENTINEL_NODE, y, z, q, f, inputs[2];
    const float xv = -2.0f, yv = 5.0f, zv = -4.0f;
    float value = 0.0f, dx = 0.0f, dy = 0.0f, dz = 0.0f, dq = 0.0f;
    size_t count = 0;
    uint32_t rows = 0, cols = 0;
    OK(nn_graph_create(1, 0, &graph));
    CHECK(graph != SENTINEL_GRAPH && graph != NULL);
    OK(nn_graph_input(graph, "x", 1, 1, &x));
    OK(nn_graph_input(graph, "y", 1, 1, &y));
    OK(nn_graph_input(graph, "z", 1, 1, &z));
    CHECK(x == 0 && y == 1 && z == 2); /* ids in creation order */
    OK(nn_graph_set_value(graph, x, &xv, 1));
    OK(nn_graph_set_value(graph, y, &yv, 1));
    OK(nn_graph_set_value(graph, z, &zv, 1));
    inputs[0] = x;
    inputs[1] = y;
    OK(nn_graph_op(graph, NN_OP_ADD, inputs, 2, 0.0f, &q));
    inputs[0] = q;
    inputs[1] = z;
    OK(nn_graph_op(graph, NN_OP_MUL, inputs, 2, 0.0f, &f));
    CHECK(q == 3 && f == 4);
    OK(nn_graph_node_shape(graph, f, &rows, &cols));
    CHECK(rows == 1 && cols == 1);
    EXPECT(nn_graph_backward(graph, f), NN_ERR_INVALID_STATE); /* before the first forward */
    OK(nn_graph_forward(graph));
    OK(nn_graph_backward(graph, f));
    OK(nn_graph_value(graph, f, &value, 1, &count));
    CHECK(count == 1 && value == -12.0f);
    OK(nn_graph_gradient(graph, x, &dx, 1, &count));
    OK(nn_graph_gradient(graph, y, &dy, 1, &count));
    OK(nn_graph_gradient(graph, z, &dz, 1, &count));
    OK(nn_graph_gradient(graph, q, &dq, 1, &count));
    CHECK(dx == -4.0f && dy == -4.0f && dz == 3.0f && dq == -4.0f);
    /* Backward again from q: gradients are reset, not accumulated across calls. */
    OK(nn_graph_backward(graph, q));
    OK(nn_graph_gradient(graph, x, &dx, 1, &count));
    OK(nn_graph_gradient(graph, z, &dz, 1, &count));
    CHECK(dx == 1.0f && dz == 0.0f);
    nn_graph_free(graph);
}

typedef struct {
    uint32_t rows, cols;
    int data; /* labels, targets or weights: an input set by value, not differentiated */
    const float *values;
} leaf;

static double graph_sum(nn_graph *graph, int32_t node) {
    float values[64];
    size_t count = 0, i;
    double sum = 0.0;
    if (nn_graph_value(graph, node, values, 64, &count) != NN_OK) return NAN;
    for (i = 0; i < count; i++) sum += values[i];
    return sum;
}

/* Builds leaves -> op in a graph of batch capacity 2; checks the op's shape and value against a
 * reference and the gradient of the sum of its elements with respect to every non-batch leaf
 * against central differences of the library's own forward pass. */
static void check_op(const char *label, nn_op op, float parameter, const leaf *leaves, size_t count,
                     const double *expected, uint32_t rows, uint32_t cols) {
    nn_graph *graph = NULL;
    int32_t ids[3], out = SENTINEL_NODE;
    float value[64], gradient[64], moved[64];
    size_t n = 0, i, j;
    uint32_t r = 0, c = 0;
    int values_ok = 1, gradients_ok = 1;
    if (!OK(nn_graph_create(2, 3, &graph))) return;
    for (i = 0; i < count; i++) {
        char name[16];
        snprintf(name, sizeof name, "%s%u", leaves[i].data ? "data" : "p", (unsigned)i);
        if (leaves[i].data) {
            OK(nn_graph_input(graph, name, leaves[i].rows, leaves[i].cols, &ids[i]));
            OK(nn_graph_set_value(graph, ids[i], leaves[i].values, (size_t)leaves[i].rows * leaves[i].cols));
        } else {
            OK(nn_graph_parameter(graph, name, leaves[i].rows, leaves[i].cols, leaves[i].values,
                                  (size_t)leaves[i].rows * leaves[i].cols, &ids[i]));
        }
    }
    if (!OK(nn_graph_op(graph, op, ids, count, parameter, &out))) {
        fprintf(stderr, "    op %s\n", label);
        nn_graph_free(graph);
        return;
    }
    OK(nn_graph_node_shape(graph, out, &r, &c));
    OK(nn_graph_forward(graph));
    OK(nn_graph_value(graph, out, value, 64, &n));
    if (!(r == rows && c == cols && n == (size_t)rows * cols)) values_ok = 0;
    for (i = 0; values_ok && i < n; i++)
        if (!near(value[i], expected[i], 1e-5)) {
            fprintf(stderr, "    %s value[%u] = %.7g, expected %.7g\n", label, (unsigned)i, value[i], expected[i]);
            values_ok = 0;
        }
    OK(nn_graph_backward(graph, out));
    for (i = 0; i < count; i++) {
        const size_t m = (size_t)leaves[i].rows * leaves[i].cols;
        if (leaves[i].data) continue;
        OK(nn_graph_gradient(graph, ids[i], gradient, 64, &n));
        if (n != m) gradients_ok = 0;
        memcpy(moved, leaves[i].values, m * sizeof(float));
        for (j = 0; j < m && n == m; j++) {
            const float h = 1e-3f, plus = leaves[i].values[j] + h, minus = leaves[i].values[j] - h;
            double up, down, numeric;
            moved[j] = plus;
            nn_graph_set_value(graph, ids[i], moved, m);
            nn_graph_forward(graph);
            up = graph_sum(graph, out);
            moved[j] = minus;
            nn_graph_set_value(graph, ids[i], moved, m);
            nn_graph_forward(graph);
            down = graph_sum(graph, out);
            moved[j] = leaves[i].values[j];
            numeric = (up - down) / ((double)plus - (double)minus);
            if (!near(gradient[j], numeric, 2e-2)) {
                fprintf(stderr, "    %s d/d input %u [%u] = %.6g, numerically %.6g\n", label, (unsigned)i,
                        (unsigned)j, gradient[j], numeric);
                gradients_ok = 0;
            }
        }
        OK(nn_graph_set_value(graph, ids[i], leaves[i].values, m));
    }
    if (!CHECK(values_ok && gradients_ok)) fprintf(stderr, "    op %s\n", label);
    nn_graph_free(graph);
}

static double ref_exp(double x, double p) { (void)p; return exp(x); }
static double ref_log(double x, double p) { (void)p; return log(x); }
static double ref_relu(double x, double p) { (void)p; return x > 0 ? x : 0; }
static double ref_leaky(double x, double p) { return x > 0 ? x : p * x; }
static double ref_sigmoid(double x, double p) { (void)p; return 1.0 / (1.0 + exp(-x)); }
static double ref_tanh(double x, double p) { (void)p; return tanh(x); }
static double ref_elu(double x, double p) { return x > 0 ? x : p * (exp(x) - 1.0); }
static double ref_gelu(double x, double p) { (void)p; return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double ref_softplus(double x, double p) { (void)p; return log1p(exp(x)); }
static double ref_scale(double x, double p) { return p * x; }
static double ref_identity(double x, double p) { (void)p; return x; }

static void test_graph_every_op(void) {
    static const float A[6] = {0.5f, -1.2f, 2.0f, 1.5f, 0.3f, -0.7f};     /* 2x3 */
    static const float B[6] = {1.0f, -0.5f, 0.25f, 2.0f, -1.5f, 0.75f};  /* 3x2 */
    static const float C[6] = {1.1f, 0.4f, -0.6f, -2.0f, 0.9f, 1.3f};    /* 2x3 */
    static const float P[6] = {0.5f, 1.2f, 2.0f, 1.5f, 0.3f, 0.7f};      /* 2x3, positive */
    static const float M[8] = {0.1f, 0.9f, -0.3f, -0.8f, 1.4f, 0.2f, 0.5f, 0.6f}; /* 2x4 */
    static const float bias2[2] = {0.1f, -0.2f}, bias3[3] = {0.3f, -0.1f, 0.2f}, column[2] = {2.0f, -1.0f};
    static const float labels[2] = {0.0f, 2.0f}, weights[2] = {1.0f, 3.0f};
    static const float T[6] = {0.0f, 1.0f, 0.5f, 1.0f, 0.0f, 0.25f};
    const struct {
        const char *name;
        nn_op op;
        double (*f)(double, double);
        float parameter;
        const float *input;
    } unary[] = {
        {"exp", NN_OP_EXP, ref_exp, 0.0f, A},          {"log", NN_OP_LOG, ref_log, 0.0f, P},
        {"relu", NN_OP_RELU, ref_relu, 0.0f, A},       {"leaky_relu", NN_OP_LEAKY_RELU, ref_leaky, 0.1f, A},
        {"sigmoid", NN_OP_SIGMOID, ref_sigmoid, 0.0f, A}, {"tanh", NN_OP_TANH, ref_tanh, 0.0f, A},
        {"elu", NN_OP_ELU, ref_elu, 1.0f, A},          {"gelu", NN_OP_GELU, ref_gelu, 0.0f, A},
        {"softplus", NN_OP_SOFTPLUS, ref_softplus, 0.0f, A}, {"scale", NN_OP_SCALE, ref_scale, 2.5f, A},
        {"dropout (inference)", NN_OP_DROPOUT, ref_identity, 0.5f, A},
    };
    leaf leaves[3];
    double e[16], sum;
    size_t i;
    int r, j, k;

    for (i = 0; i < sizeof unary / sizeof unary[0]; i++) {
        leaf in = {2, 3, 0, NULL};
        in.values = unary[i].input;
        for (j = 0; j < 6; j++) e[j] = unary[i].f(unary[i].input[j], unary[i].parameter);
        check_op(unary[i].name, unary[i].op, unary[i].parameter, &in, 1, e, 2, 3);
    }

    /* matmul, affine, bias_add */
    leaves[0] = (leaf){2, 3, 0, A};
    leaves[1] = (leaf){3, 2, 0, B};
    leaves[2] = (leaf){1, 2, 0, bias2};
    for (r = 0; r < 2; r++)
        for (k = 0; k < 2; k++) {
            e[2 * r + k] = 0.0;
            for (j = 0; j < 3; j++) e[2 * r + k] += (double)A[3 * r + j] * B[2 * j + k];
        }
    check_op("matmul", NN_OP_MATMUL, 0.0f, leaves, 2, e, 2, 2);
    for (j = 0; j < 4; j++) e[j] += bias2[j % 2];
    check_op("affine", NN_OP_AFFINE, 0.0f, leaves, 3, e, 2, 2);
    leaves[1] = (leaf){1, 3, 0, bias3};
    for (j = 0; j < 6; j++) e[j] = (double)A[j] + bias3[j % 3];
    check_op("bias_add", NN_OP_BIAS_ADD, 0.0f, leaves, 2, e, 2, 3);
    check_op("add (row broadcast)", NN_OP_ADD, 0.0f, leaves, 2, e, 2, 3);

    /* element-wise with and without broadcasting */
    leaves[1] = (leaf){2, 3, 0, C};
    for (j = 0; j < 6; j++) e[j] = (double)A[j] + C[j];
    check_op("add", NN_OP_ADD, 0.0f, leaves, 2, e, 2, 3);
    for (j = 0; j < 6; j++) e[j] = (double)A[j] - C[j];
    check_op("sub", NN_OP_SUB, 0.0f, leaves, 2, e, 2, 3);
    for (j = 0; j < 6; j++) e[j] = (double)A[j] * C[j];
    check_op("mul", NN_OP_MUL, 0.0f, leaves, 2, e, 2, 3);
    leaves[1] = (leaf){2, 1, 0, column};
    for (j = 0; j < 6; j++) e[j] = (double)A[j] - column[j / 3];
    check_op("sub (column broadcast)", NN_OP_SUB, 0.0f, leaves, 2, e, 2, 3);
    for (j = 0; j < 6; j++) e[j] = (double)A[j] * column[j / 3];
    check_op("mul (column broadcast)", NN_OP_MUL, 0.0f, leaves, 2, e, 2, 3);

    /* reductions and penalties */
    leaves[0] = (leaf){2, 3, 0, A};
    for (sum = 0.0, j = 0; j < 6; j++) sum += A[j];
    e[0] = sum;
    check_op("sum", NN_OP_SUM, 0.0f, leaves, 1, e, 1, 1);
    e[0] = sum / 6.0;
    check_op("mean", NN_OP_MEAN, 0.0f, leaves, 1, e, 1, 1);
    for (sum = 0.0, j = 0; j < 6; j++) sum += (double)A[j] * A[j];
    e[0] = 0.1 * sum;
    check_op("l2_penalty", NN_OP_L2_PENALTY, 0.1f, leaves, 1, e, 1, 1);
    for (sum = 0.0, j = 0; j < 6; j++) sum += fabs(A[j]);
    e[0] = 0.1 * sum;
    check_op("l1_penalty", NN_OP_L1_PENALTY, 0.1f, leaves, 1, e, 1, 1);

    /* maxout over pairs of columns, softmax */
    leaves[0] = (leaf){2, 4, 0, M};
    for (j = 0; j < 4; j++) e[j] = M[2 * j] > M[2 * j + 1] ? M[2 * j] : M[2 * j + 1];
    check_op("maxout", NN_OP_MAXOUT, 2.0f, leaves, 1, e, 2, 2);
    leaves[0] = (leaf){2, 3, 0, A};
    for (r = 0; r < 2; r++) {
        for (sum = 0.0, j = 0; j < 3; j++) sum += exp(A[3 * r + j]);
        for (j = 0; j < 3; j++) e[3 * r + j] = exp(A[3 * r + j]) / sum;
    }
    check_op("softmax", NN_OP_SOFTMAX, 0.0f, leaves, 1, e, 2, 3);

    /* losses: logits A, labels {0, 2}, weights {1, 3} */
    leaves[1] = (leaf){2, 1, 1, labels};
    leaves[2] = (leaf){2, 1, 1, weights};
    for (r = 0; r < 2; r++) {
        double lse = 0.0;
        for (j = 0; j < 3; j++) lse += exp(A[3 * r + j]);
        e[r] = log(lse) - A[3 * r + (int)labels[r]];
    }
    e[2] = (e[0] + e[1]) / 2.0;
    e[3] = (weights[0] * e[0] + weights[1] * e[1]) / (weights[0] + weights[1]);
    check_op("softmax_cross_entropy", NN_OP_SOFTMAX_CROSS_ENTROPY, 0.0f, leaves, 2, e + 2, 1, 1);
    check_op("softmax_cross_entropy (weighted)", NN_OP_SOFTMAX_CROSS_ENTROPY, 0.0f, leaves, 3, e + 3, 1, 1);
    for (r = 0; r < 2; r++) {
        const int y = (int)labels[r];
        e[r] = 0.0;
        for (j = 0; j < 3; j++)
            if (j != y && A[3 * r + j] - A[3 * r + y] + 1.0 > 0) e[r] += A[3 * r + j] - A[3 * r + y] + 1.0;
    }
    e[2] = (e[0] + e[1]) / 2.0;
    e[3] = (weights[0] * e[0] + weights[1] * e[1]) / (weights[0] + weights[1]);
    CHECK(near(e[2], 3.85, 1e-6)); /* the lecture's hinge arithmetic, by hand */
    check_op("multiclass_hinge", NN_OP_MULTICLASS_HINGE, 0.0f, leaves, 2, e + 2, 1, 1);
    check_op("multiclass_hinge (weighted)", NN_OP_MULTICLASS_HINGE, 0.0f, leaves, 3, e + 3, 1, 1);
    leaves[1] = (leaf){2, 3, 1, T};
    for (r = 0; r < 2; r++) {
        e[r] = 0.0;
        for (j = 0; j < 3; j++) e[r] += ((double)A[3 * r + j] - T[3 * r + j]) * ((double)A[3 * r + j] - T[3 * r + j]);
        e[r] /= 3.0;
    }
    e[2] = (e[0] + e[1]) / 2.0;
    e[3] = (weights[0] * e[0] + weights[1] * e[1]) / (weights[0] + weights[1]);
    check_op("mean_squared_error", NN_OP_MEAN_SQUARED_ERROR, 0.0f, leaves, 2, e + 2, 1, 1);
    check_op("mean_squared_error (weighted)", NN_OP_MEAN_SQUARED_ERROR, 0.0f, leaves, 3, e + 3, 1, 1);
    for (r = 0; r < 2; r++) {
        e[r] = 0.0;
        for (j = 0; j < 3; j++) {
            const double z = A[3 * r + j], t = T[3 * r + j];
            e[r] += (z > 0 ? z : 0) - z * t + log1p(exp(-fabs(z)));
        }
        e[r] /= 3.0;
    }
    e[2] = (e[0] + e[1]) / 2.0;
    e[3] = (weights[0] * e[0] + weights[1] * e[1]) / (weights[0] + weights[1]);
    check_op("binary_cross_entropy", NN_OP_BINARY_CROSS_ENTROPY, 0.0f, leaves, 2, e + 2, 1, 1);
    check_op("binary_cross_entropy (weighted)", NN_OP_BINARY_CROSS_ENTROPY, 0.0f, leaves, 3, e + 3, 1, 1);
}

static void test_graph_dropout_and_training_mode(void) {
    nn_graph *graph = NULL;
    float x[64], y[64], g[64];
    int32_t in, out;
    size_t count = 0;
    int i, dropped = 0, kept_scaled = 1, gradient_matches = 1;
    for (i = 0; i < 64; i++) x[i] = 0.5f + (float)i / 64.0f;
    OK(nn_graph_create(1, 7, &graph));
    OK(nn_graph_parameter(graph, "x", 1, 64, x, 64, &in));
    OK(nn_graph_op(graph, NN_OP_DROPOUT, &in, 1, 0.5f, &out));
    OK(nn_graph_set_training(graph, 0));
    OK(nn_graph_forward(graph));
    OK(nn_graph_value(graph, out, y, 64, &count));
    CHECK(count == 64 && memcmp(x, y, sizeof x) == 0); /* inference: identity */
    OK(nn_graph_set_training(graph, 1));
    OK(nn_graph_forward(graph));
    OK(nn_graph_value(graph, out, y, 64, &count));
    OK(nn_graph_backward(graph, out));
    OK(nn_graph_gradient(graph, in, g, 64, &count));
    for (i = 0; i < 64; i++) {
        if (y[i] == 0.0f) dropped++;
        else if (!near(y[i], 2.0 * x[i], 1e-6)) kept_scaled = 0; /* inverted dropout: x / (1 - rate) */
        if (!near(g[i], y[i] == 0.0f ? 0.0 : 2.0, 1e-6)) gradient_matches = 0;
    }
    CHECK(dropped > 8 && dropped < 56 && kept_scaled && gradient_matches);
    OK(nn_graph_set_training(graph, 0));
    OK(nn_graph_forward(graph));
    OK(nn_graph_value(graph, out, y, 64, &count));
    CHECK(memcmp(x, y, sizeof x) == 0);
    nn_graph_free(graph);
}

/* Softmax regression written with the graph API: batch inputs, set_batch_size, and a hand-made
 * gradient-descent loop on the gradients the graph computes. */
static void test_graph_batches_and_training(void) {
    nn_graph *graph = NULL;
    int32_t X, Y, W, b, logits, loss, ids[3];
    float w[6] = {0}, bias[3] = {0}, labels[SPIRAL_ROWS], dw[6], db[3], value[SPIRAL_ROWS * 3];
    float first = 0.0f, last = 0.0f;
    size_t count = 0;
    uint32_t rows = 0, cols = 0;
    int step, i;
    for (i = 0; i < SPIRAL_ROWS; i++) labels[i] = (float)spiral_y[i];
    OK(nn_graph_create(SPIRAL_ROWS, 0, &graph));
    OK(nn_graph_batch_input(graph, "X", 2, &X));
    OK(nn_graph_batch_input(graph, "labels", 1, &Y));
    OK(nn_graph_parameter(graph, "W", 2, 3, w, 6, &W));
    OK(nn_graph_parameter(graph, "b", 1, 3, bias, 3, &b));
    ids[0] = X;
    ids[1] = W;
    ids[2] = b;
    OK(nn_graph_op(graph, NN_OP_AFFINE, ids, 3, 0.0f, &logits));
    ids[0] = logits;
    ids[1] = Y;
    OK(nn_graph_op(graph, NN_OP_SOFTMAX_CROSS_ENTROPY, ids, 2, 0.0f, &loss));
    OK(nn_graph_node_shape(graph, X, &rows, &cols));
    CHECK(rows == SPIRAL_ROWS && cols == 2); /* batched nodes report their capacity */
    OK(nn_graph_node_shape(graph, logits, &rows, &cols));
    CHECK(rows == SPIRAL_ROWS && cols == 3);

    /* Two active rows. */
    OK(nn_graph_set_batch_size(graph, 2));
    OK(nn_graph_set_value(graph, X, spiral_x, 4));
    EXPECT(nn_graph_set_value(graph, X, spiral_x, 8), NN_ERR_SHAPE_MISMATCH);
    OK(nn_graph_set_value(graph, Y, labels, 2));
    OK(nn_graph_forward(graph));
    OK(nn_graph_value(graph, logits, value, SPIRAL_ROWS * 3, &count));
    CHECK(count == 6);
    OK(nn_graph_value(graph, loss, value, 1, &count));
    CHECK(count == 1 && near(value[0], log(3.0), 1e-6)); /* zero weights: uniform */
    EXPECT(nn_graph_set_batch_size(graph, 0), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_set_batch_size(graph, SPIRAL_ROWS + 1), NN_ERR_INVALID_ARGUMENT);

    /* All rows, 100 steps of gradient descent. */
    OK(nn_graph_set_batch_size(graph, SPIRAL_ROWS));
    OK(nn_graph_set_value(graph, X, spiral_x, SPIRAL_ROWS * 2));
    OK(nn_graph_set_value(graph, Y, labels, SPIRAL_ROWS));
    for (step = 0; step < 100; step++) {
        if (!OK(nn_graph_forward(graph))) break;
        OK(nn_graph_value(graph, loss, value, 1, &count));
        if (step == 0) first = value[0];
        last = value[0];
        OK(nn_graph_backward(graph, loss));
        OK(nn_graph_gradient(graph, W, dw, 6, &count));
        OK(nn_graph_gradient(graph, b, db, 3, &count));
        for (i = 0; i < 6; i++) w[i] -= 1.0f * dw[i];
        for (i = 0; i < 3; i++) bias[i] -= 1.0f * db[i];
        OK(nn_graph_set_value(graph, W, w, 6));
        OK(nn_graph_set_value(graph, b, bias, 3));
    }
    CHECK(near(first, log(3.0), 1e-6) && last < first - 0.1f);
    OK(nn_graph_value(graph, logits, value, SPIRAL_ROWS * 3, &count));
    CHECK(count == SPIRAL_ROWS * 3);
    /* A batch input has no gradient: backward from it is refused; its gradient reads as zeros. */
    EXPECT(nn_graph_backward(graph, X), NN_ERR_INVALID_ARGUMENT);
    OK(nn_graph_gradient(graph, Y, value, SPIRAL_ROWS, &count));
    CHECK(count == SPIRAL_ROWS && value[0] == 0.0f);
    nn_graph_free(graph);
}

static void test_graph_errors(void) {
    nn_graph *graph = SENTINEL_GRAPH;
    int32_t a, m, big, labels, weights, loss, node = SENTINEL_NODE, ids[4], bad[2];
    const float values[8] = {1, 2, 3, 4, 5, 6, 7, 8}, label_values[2] = {0.0f, 5.0f}, w_values[2] = {1.0f, -1.0f};
    float out[8];
    size_t count = SENTINEL_SIZE;
    uint32_t rows = 77, cols = 77;

    EXPECT(nn_graph_create(0, 0, &graph), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_create((1u << 24) + 1, 0, &graph), NN_ERR_INVALID_ARGUMENT);
    CHECK(graph == SENTINEL_GRAPH);
    OK(nn_graph_create(2, 0, &graph));
    EXPECT(nn_graph_input(graph, "x", 0, 2, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_input(graph, "x", 2, 0, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_input(graph, "x", 65536, 65536, &node), NN_ERR_LIMIT_EXCEEDED);
    EXPECT(nn_graph_input(graph, "bad\xff", 1, 1, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_batch_input(graph, "x", 0, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_parameter(graph, "w", 2, 2, values, 3, &node), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_graph_parameter(graph, "w", 2, 2, values, 5, &node), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_graph_parameter(graph, "w", 2, 2, values, SIZE_MAX, &node), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_graph_parameter(graph, "w", 0, 2, values, 0, &node), NN_ERR_INVALID_ARGUMENT);
    CHECK(node == SENTINEL_NODE);

    OK(nn_graph_parameter(graph, "a", 2, 3, values, 6, &a));
    OK(nn_graph_parameter(graph, "m", 2, 4, values, 8, &m));
    ids[0] = a;
    ids[1] = a;
    ids[2] = a;
    ids[3] = a;
    EXPECT(nn_graph_op(graph, 0, ids, 1, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, 28, ids, 1, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, NN_OP_RELU, ids, 0, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, NN_OP_AFFINE, ids, 4, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, NN_OP_RELU, ids, SIZE_MAX, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, NN_OP_ADD, ids, 1, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_op(graph, NN_OP_RELU, ids, 2, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    bad[0] = -1;
    bad[1] = a;
    EXPECT(nn_graph_op(graph, NN_OP_ADD, bad, 2, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    bad[0] = 999;
    EXPECT(nn_graph_op(graph, NN_OP_ADD, bad, 2, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT_MESSAGE("999");
    EXPECT(nn_graph_op(graph, NN_OP_MATMUL, ids, 2, 0.0f, &node), NN_ERR_SHAPE_MISMATCH); /* (2,3)(2,3) */
    ids[1] = m;
    EXPECT(nn_graph_op(graph, NN_OP_ADD, ids, 2, 0.0f, &node), NN_ERR_SHAPE_MISMATCH); /* (2,3)+(2,4) */
    ids[1] = a;
    EXPECT(nn_graph_op(graph, NN_OP_MAXOUT, &m, 1, 2.5f, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_MAXOUT, &m, 1, 0.0f, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_MAXOUT, &m, 1, 65.0f, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_MAXOUT, &m, 1, NAN, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_MAXOUT, &m, 1, 3.0f, &node), NN_ERR_SHAPE_MISMATCH); /* 4 columns */
    EXPECT(nn_graph_op(graph, NN_OP_DROPOUT, &a, 1, 1.0f, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_LEAKY_RELU, &a, 1, NAN, &node), NN_ERR_BAD_HYPERPARAMETER);
    EXPECT(nn_graph_op(graph, NN_OP_SCALE, &a, 1, INFINITY, &node), NN_ERR_BAD_HYPERPARAMETER);
    CHECK(node == SENTINEL_NODE);

    /* Losses check their label and weight inputs when they run. */
    OK(nn_graph_input(graph, "labels", 2, 1, &labels));
    OK(nn_graph_input(graph, "weights", 2, 1, &weights));
    {
        int32_t batch_labels, mixed[2];
        OK(nn_graph_batch_input(graph, "batch labels", 1, &batch_labels));
        mixed[0] = a;
        mixed[1] = batch_labels; /* fixed-shape logits with batch labels */
        EXPECT(nn_graph_op(graph, NN_OP_SOFTMAX_CROSS_ENTROPY, mixed, 2, 0.0f, &node), NN_ERR_SHAPE_MISMATCH);
    }
    ids[0] = a;
    ids[1] = labels;
    ids[2] = weights;
    OK(nn_graph_op(graph, NN_OP_SOFTMAX_CROSS_ENTROPY, ids, 3, 0.0f, &loss));
    EXPECT(nn_graph_op(graph, NN_OP_SOFTMAX_CROSS_ENTROPY, ids, 1, 0.0f, &node), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_set_value(graph, labels, label_values, 1), NN_ERR_SHAPE_MISMATCH);
    OK(nn_graph_set_value(graph, labels, label_values, 2));
    OK(nn_graph_set_value(graph, weights, values, 2));
    EXPECT(nn_graph_forward(graph), NN_ERR_LABEL_OUT_OF_RANGE); /* label 5 of 3 classes */
    OK(nn_graph_set_value(graph, labels, values, 2));           /* labels 1 and 2 */
    OK(nn_graph_set_value(graph, weights, w_values, 2));
    EXPECT(nn_graph_forward(graph), NN_ERR_INVALID_ARGUMENT); /* a negative weight */
    OK(nn_graph_set_value(graph, weights, values, 2));
    OK(nn_graph_forward(graph));
    OK(nn_graph_backward(graph, loss));

    EXPECT(nn_graph_set_value(graph, loss, values, 1), NN_ERR_INVALID_ARGUMENT); /* an op node */
    EXPECT(nn_graph_set_value(graph, 999, values, 1), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_set_value(graph, a, values, 5), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_graph_set_value(graph, a, values, SIZE_MAX), NN_ERR_SHAPE_MISMATCH);
    EXPECT(nn_graph_backward(graph, -1), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_value(graph, 999, out, 8, &count), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_gradient(graph, -5, out, 8, &count), NN_ERR_INVALID_ARGUMENT);
    EXPECT(nn_graph_node_shape(graph, 999, &rows, &cols), NN_ERR_INVALID_ARGUMENT);
    CHECK(count == SENTINEL_SIZE && rows == 77 && cols == 77);
    EXPECT(nn_graph_value(graph, a, out, 5, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 6);
    count = SENTINEL_SIZE;
    EXPECT(nn_graph_gradient(graph, a, NULL, 0, &count), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 6);
    OK(nn_graph_value(graph, a, out, SIZE_MAX, &count));

    /* A tensor over the element limit is refused, and so is a batch input of a huge capacity. */
    EXPECT(nn_graph_input(graph, "huge", 1u << 16, 1u << 15, &big), NN_ERR_LIMIT_EXCEEDED);
    nn_graph_free(graph);
}

static void test_graph_dot(void) {
    nn_graph *graph = NULL;
    int32_t x, y, s;
    char *text;
    size_t length = SENTINEL_SIZE, again = 0;
    int32_t ids[2];
    OK(nn_graph_create(1, 0, &graph));
    OK(nn_graph_input(graph, "first_input", 1, 2, &x));
    OK(nn_graph_input(graph, "second_input", 1, 2, &y));
    ids[0] = x;
    ids[1] = y;
    OK(nn_graph_op(graph, NN_OP_ADD, ids, 2, 0.0f, &s));
    EXPECT(nn_graph_to_dot(graph, NULL, 0, &length), NN_ERR_BUFFER_TOO_SMALL);
    CHECK(length > 10 && length != SENTINEL_SIZE);
    text = malloc(length + 1);
    if (text != NULL) {
        EXPECT(nn_graph_to_dot(graph, text, length, &again), NN_ERR_BUFFER_TOO_SMALL);
        OK(nn_graph_to_dot(graph, text, length + 1, &again));
        CHECK(again == length && strlen(text) == length && strncmp(text, "digraph", 7) == 0);
        CHECK(strstr(text, "first_input") != NULL && strstr(text, "second_input") != NULL);
        free(text);
    }
    nn_graph_free(graph);
}

/* ---- Concurrency ------------------------------------------------------------------------- */

#define PREDICT_THREADS 8
#define PREDICT_ITERATIONS 40

typedef struct {
    const nn_model *model;
    const float *inputs;
    size_t rows, cols, outputs;
    int iterations;
    const float *expected_many;      /* rows x outputs */
    const float *expected_one;       /* row 0 alone */
    const int32_t *expected_classes; /* rows, or NULL to skip nn_model_classify */
    int failures;        /* calls that did not return NN_OK */
    int mismatches;      /* results that differ from the serial ones in any bit */
    char message[256];
} predict_job;

static void *predict_thread(void *argument) {
    predict_job *job = argument;
    float *out = malloc(job->rows * job->outputs * sizeof(float));
    float *one = malloc(job->outputs * sizeof(float));
    int32_t *classes = malloc(job->rows * sizeof(int32_t));
    int i;
    if (out == NULL || one == NULL || classes == NULL) {
        job->failures++;
    } else {
        for (i = 0; i < job->iterations; i++) {
            if (nn_model_predict(job->model, job->inputs, job->rows, job->cols, out, job->rows * job->outputs) != NN_OK) {
                job->failures++;
                copy_message(job->message, sizeof job->message);
            } else if (memcmp(out, job->expected_many, job->rows * job->outputs * sizeof(float)) != 0) {
                job->mismatches++;
            }
            if (nn_model_predict(job->model, job->inputs, 1, job->cols, one, job->outputs) != NN_OK) job->failures++;
            else if (memcmp(one, job->expected_one, job->outputs * sizeof(float)) != 0) job->mismatches++;
            if (job->expected_classes != NULL && i % 8 == 0) {
                if (nn_model_classify(job->model, job->inputs, job->rows, job->cols, classes, job->rows) != NN_OK) job->failures++;
                else if (memcmp(classes, job->expected_classes, job->rows * sizeof(int32_t)) != 0) job->mismatches++;
            }
        }
    }
    free(classes);
    free(one);
    free(out);
    return NULL;
}

/* `threads` threads (at most PREDICT_THREADS) each run `job`'s predictions and compare
 * them with the serial results it names. */
static void check_concurrent_predictions(const predict_job *job, int threads) {
    pthread_t ids[PREDICT_THREADS];
    predict_job jobs[PREDICT_THREADS];
    int i;
    for (i = 0; i < threads; i++) {
        jobs[i] = *job;
        CHECK(pthread_create(&ids[i], NULL, predict_thread, &jobs[i]) == 0);
    }
    for (i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    for (i = 0; i < threads; i++) {
        if (!CHECK(jobs[i].failures == 0 && jobs[i].mismatches == 0))
            fprintf(stderr, "    thread %d: %d failures (%s), %d mismatches\n", i, jobs[i].failures, jobs[i].message,
                    jobs[i].mismatches);
    }
}

static void test_concurrent_predictions(void) {
    nn_model *model = classifier(32, 19);
    nn_dataset data;
    nn_train_options options;
    static float x[MANY_ROWS * 2], expected[MANY_ROWS * 3], one[3];
    static int32_t classes[MANY_ROWS];
    if (model == NULL) return;
    spiral_data(&data);
    quick_options(&options, 20);
    OK(nn_model_fit(model, &data, NULL, &options, NULL));
    many_inputs(x);
    /* The serial results first. */
    OK(nn_model_predict(model, x, MANY_ROWS, 2, expected, MANY_ROWS * 3));
    OK(nn_model_predict(model, x, 1, 2, one, 3));
    OK(nn_model_classify(model, x, MANY_ROWS, 2, classes, MANY_ROWS));
    check_concurrent_predictions(&(predict_job){.model = model, .inputs = x, .rows = MANY_ROWS, .cols = 2, .outputs = 3,
                                                 .iterations = PREDICT_ITERATIONS, .expected_many = expected,
                                                 .expected_one = one, .expected_classes = classes},
                                 PREDICT_THREADS);
    nn_model_free(model);
}

/* Products large enough for nncore's worker pool (over 2^17 multiply-adds): a 256-512-128-10
 * net trained twice with 2 threads ends with the same weights bit for bit, and within rounding
 * of the weights trained with 1 thread (OpenBLAS may round a product's blocks differently from
 * the whole); with 2 threads, predictions from several threads at once (which then contend for
 * the pool; on AVX2 machines their batches run in bands of rows through every layer) equal the
 * serial ones. Under `make sanitize` this runs the pool under ASan and TSan. */
#define POOL_INPUTS 256
#define POOL_ROWS 384
#define POOL_THREADS 4
#define POOL_PARAMETERS (256 * 512 + 512 + 512 * 128 + 128 + 128 * 10 + 10)

static nn_model *pool_model(void) {
    nn_model *model = NULL;
    if (!OK(nn_model_create(POOL_INPUTS, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 5, &model))) return NULL;
    OK(nn_model_add_dense(model, 512, NN_ACTIVATION_RELU, 0.0f));
    OK(nn_model_add_dense(model, 128, NN_ACTIVATION_RELU, 0.0f));
    OK(nn_model_add_dense(model, 10, NN_ACTIVATION_IDENTITY, 0.0f));
    return model;
}

static void test_pool_products(void) {
    static float x[POOL_ROWS * POOL_INPUTS], first[POOL_PARAMETERS], second[POOL_PARAMETERS], third[POOL_PARAMETERS];
    static float expected[POOL_ROWS * 10], one[10];
    static int32_t y[POOL_ROWS];
    nn_model *serial = pool_model(), *parallel = pool_model(), *again = pool_model();
    nn_dataset data;
    nn_train_options options;
    const int32_t original = nn_get_thread_count();
    uint32_t state = 12345;
    float worst = 0;
    int i;
    if (serial == NULL || parallel == NULL || again == NULL) return;
    for (i = 0; i < POOL_ROWS * POOL_INPUTS; i++) {
        state = state * 1664525u + 1013904223u;
        x[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
    }
    for (i = 0; i < POOL_ROWS; i++) y[i] = (x[i * POOL_INPUTS] > 0) + 2 * (x[i * POOL_INPUTS + 1] > 0);
    labelled(&data, x, POOL_ROWS, POOL_INPUTS, y);
    nn_train_options_init(&options);
    options.epochs = 3;
    options.batch_size = 128;
    options.learning_rate = 0.05f;
    OK(nn_set_thread_count(1));
    OK(nn_model_fit(serial, &data, NULL, &options, NULL));
    OK(nn_set_thread_count(2));
    OK(nn_model_fit(parallel, &data, NULL, &options, NULL));
    OK(nn_model_fit(again, &data, NULL, &options, NULL));
    CHECK(all_parameters(serial, first, POOL_PARAMETERS) == POOL_PARAMETERS);
    CHECK(all_parameters(parallel, second, POOL_PARAMETERS) == POOL_PARAMETERS);
    CHECK(all_parameters(again, third, POOL_PARAMETERS) == POOL_PARAMETERS);
    CHECK(memcmp(second, third, sizeof second) == 0);
    for (i = 0; i < POOL_PARAMETERS; i++) {
        const float d = fabsf(first[i] - second[i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-4f);
    OK(nn_model_predict(parallel, x, POOL_ROWS, POOL_INPUTS, expected, POOL_ROWS * 10));
    OK(nn_model_predict(parallel, x, 1, POOL_INPUTS, one, 10));
    check_concurrent_predictions(&(predict_job){.model = parallel, .inputs = x, .rows = POOL_ROWS, .cols = POOL_INPUTS,
                                                 .outputs = 10, .iterations = 20, .expected_many = expected, .expected_one = one},
                                 POOL_THREADS);
    OK(nn_set_thread_count(original));
    nn_model_free(serial);
    nn_model_free(parallel);
    nn_model_free(again);
}

/* A fit whose callback holds the training open until the main thread lets it go, so that the
 * main thread's calls meet a model that is certainly being trained. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int training;  /* set by the callback once training is under way */
    int released;  /* set by the main thread when it is done */
    nn_model *model;
    nn_model *other;
    nn_status fit_status;
    nn_status inside_same;  /* a call the callback made on the model being trained */
    nn_status inside_other; /* a call the callback made on another model */
    char inside_message[256];
} busy_context;

static int hold_training(const nn_epoch_stats *stats, void *user_data) {
    busy_context *context = user_data;
    float out[3];
    if (stats->epoch == 1) {
        context->inside_same = nn_model_predict(context->model, spiral_x, 1, 2, out, 3);
        copy_message(context->inside_message, sizeof context->inside_message);
        context->inside_other = nn_model_predict(context->other, spiral_x, 1, 2, out, 3);
        pthread_mutex_lock(&context->lock);
        context->training = 1;
        pthread_cond_broadcast(&context->changed);
        while (!context->released) pthread_cond_wait(&context->changed, &context->lock);
        pthread_mutex_unlock(&context->lock);
    }
    return 0;
}

static void *fit_thread(void *argument) {
    busy_context *context = argument;
    nn_dataset data;
    nn_train_options options;
    spiral_data(&data);
    quick_options(&options, 3);
    options.callback = hold_training;
    options.user_data = context;
    context->fit_status = nn_model_fit(context->model, &data, NULL, &options, NULL);
    return NULL;
}

typedef struct {
    const nn_model *model;
    nn_status status;
    char message[256];
} busy_reader;

static void *predict_once(void *argument) {
    busy_reader *reader = argument;
    float out[3];
    reader->status = nn_model_predict(reader->model, spiral_x, 1, 2, out, 3);
    copy_message(reader->message, sizeof reader->message);
    return NULL;
}

static void release_training(busy_context *context) {
    pthread_mutex_lock(&context->lock);
    context->released = 1;
    pthread_cond_broadcast(&context->changed);
    pthread_mutex_unlock(&context->lock);
}

static void wait_for_training(busy_context *context) {
    pthread_mutex_lock(&context->lock);
    while (!context->training) pthread_cond_wait(&context->changed, &context->lock);
    pthread_mutex_unlock(&context->lock);
}

static void test_busy_while_training(void) {
    busy_context context;
    pthread_t trainer, readers[4];
    busy_reader reader[4];
    int i;
    float out[3];
    nn_model *model = classifier(8, 20), *other = classifier(8, 21);
    if (model == NULL || other == NULL) return;
    memset(&context, 0, sizeof context);
    pthread_mutex_init(&context.lock, NULL);
    pthread_cond_init(&context.changed, NULL);
    context.model = model;
    context.other = other;
    context.fit_status = -1;
    if (!CHECK(pthread_create(&trainer, NULL, fit_thread, &context) == 0)) return;
    wait_for_training(&context);

    /* The model is being trained: every call on it, const or not, is NN_ERR_BUSY at once, from
     * this thread and from others. */
    memset(reader, 0, sizeof reader);
    for (i = 0; i < 4; i++) {
        reader[i].model = model;
        reader[i].status = -1;
        CHECK(pthread_create(&readers[i], NULL, predict_once, &reader[i]) == 0);
    }
    for (i = 0; i < 4; i++) pthread_join(readers[i], NULL);
    for (i = 0; i < 4; i++) CHECK(reader[i].status == NN_ERR_BUSY && reader[i].message[0] != '\0');
    every_model_function(model, NN_ERR_BUSY);
    EXPECT(nn_model_predict(model, spiral_x, 1, 2, out, 3), NN_ERR_BUSY);
    EXPECT_MESSAGE("trained");
    EXPECT(nn_model_set_loss(model, NN_LOSS_MULTICLASS_HINGE), NN_ERR_BUSY);
    /* Other models are not affected. */
    OK(nn_model_predict(other, spiral_x, 1, 2, out, 3));
    OK(nn_model_set_loss(other, NN_LOSS_SOFTMAX_CROSS_ENTROPY));

    release_training(&context);
    pthread_join(trainer, NULL);
    CHECK(context.fit_status == NN_OK);
    CHECK(context.inside_same == NN_ERR_BUSY && context.inside_message[0] != '\0');
    CHECK(context.inside_other == NN_OK);
    /* Training finished untouched by the refused calls, and the model is free again. */
    CHECK(model_info(model).epochs_trained == 3 && model_info(model).loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    CHECK(model_info(model).metadata_count == 0 && model_info(model).layer_count == 2);
    OK(nn_model_predict(model, spiral_x, 1, 2, out, 3));
    pthread_cond_destroy(&context.changed);
    pthread_mutex_destroy(&context.lock);
    nn_model_free(other);
    nn_model_free(model);
}

/* Freeing a model while another thread trains it: the handle dies at once (later calls are
 * NN_ERR_INVALID_HANDLE), the training call finishes on the model it holds, and nothing crashes
 * or leaks (the sanitizers and valgrind check the last part). */
static void test_free_while_training(void) {
    busy_context context;
    pthread_t trainer;
    nn_model_info info;
    nn_model *model = classifier(8, 23), *other = classifier(8, 24);
    if (model == NULL || other == NULL) return;
    memset(&context, 0, sizeof context);
    pthread_mutex_init(&context.lock, NULL);
    pthread_cond_init(&context.changed, NULL);
    context.model = model;
    context.other = other;
    context.fit_status = -1;
    if (!CHECK(pthread_create(&trainer, NULL, fit_thread, &context) == 0)) return;
    wait_for_training(&context);
    nn_model_free(model);
    nn_model_info_init(&info);
    EXPECT(nn_model_get_info(model, &info), NN_ERR_INVALID_HANDLE);
    release_training(&context);
    pthread_join(trainer, NULL);
    CHECK(context.fit_status == NN_OK);
    EXPECT(nn_model_get_info(model, &info), NN_ERR_INVALID_HANDLE);
    nn_model_free(model);
    pthread_cond_destroy(&context.changed);
    pthread_mutex_destroy(&context.lock);
    nn_model_free(other);
}

/* Readers and a writer race on one model: every call is NN_OK or NN_ERR_BUSY, never a torn
 * result. */
typedef struct {
    nn_model *model;
    const float *expected;
    int ok, busy, other, mismatches;
} reader_job;

static void *reader_thread(void *argument) {
    reader_job *job = argument;
    float out[8 * 3];
    int i;
    for (i = 0; i < 400; i++) {
        const nn_status status = nn_model_predict(job->model, spiral_x, 8, 2, out, 8 * 3);
        if (status == NN_OK) {
            job->ok++;
            if (memcmp(out, job->expected, sizeof out) != 0) job->mismatches++;
        } else if (status == NN_ERR_BUSY) {
            job->busy++;
        } else {
            job->other++;
        }
    }
    return NULL;
}

static void test_readers_and_writer_race(void) {
    nn_model *model = classifier(8, 22);
    float expected[8 * 3];
    pthread_t threads[4];
    reader_job jobs[4];
    int i, writes_ok = 0, writes_busy = 0, writes_other = 0, total_ok = 0;
    if (model == NULL) return;
    OK(nn_model_predict(model, spiral_x, 8, 2, expected, 8 * 3));
    memset(jobs, 0, sizeof jobs);
    for (i = 0; i < 4; i++) {
        jobs[i].model = model;
        jobs[i].expected = expected;
        CHECK(pthread_create(&threads[i], NULL, reader_thread, &jobs[i]) == 0);
    }
    /* The writes change nothing a prediction sees. */
    for (i = 0; i < 400; i++) {
        const nn_status status = i % 2 ? nn_model_set_loss(model, NN_LOSS_SOFTMAX_CROSS_ENTROPY)
                                       : nn_model_set_metadata(model, "iteration", i % 4 ? "odd" : "even");
        if (status == NN_OK) writes_ok++;
        else if (status == NN_ERR_BUSY) writes_busy++;
        else writes_other++;
    }
    for (i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    for (i = 0; i < 4; i++) {
        CHECK(jobs[i].other == 0 && jobs[i].mismatches == 0);
        total_ok += jobs[i].ok;
    }
    CHECK(writes_other == 0 && writes_ok + writes_busy == 400 && total_ok > 0);
    nn_model_free(model);
}

/* ---- Every status code --------------------------------------------------------------------- */

static void test_every_status_code_reached(void) {
    nn_status code;
    for (code = 0; code < STATUS_CODES; code++) {
        /* Memory exhaustion and internal errors cannot be provoked from outside. */
        if (code == NN_ERR_OUT_OF_MEMORY || code == NN_ERR_INTERNAL) continue;
        if (!CHECK(status_seen[code])) fprintf(stderr, "    %s was never expected\n", nn_status_string(code));
    }
}

/* ---- Main -------------------------------------------------------------------------------- */

static void remove_temp_dir(void) {
    DIR *dir = opendir(temp_dir);
    struct dirent *entry;
    char path[512];
    if (dir == NULL) return;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", temp_dir, entry->d_name);
        if (unlink(path) != 0) {
            /* one level of subdirectories */
            DIR *sub = opendir(path);
            struct dirent *inner;
            char inner_path[1024];
            if (sub != NULL) {
                while ((inner = readdir(sub)) != NULL) {
                    if (strcmp(inner->d_name, ".") == 0 || strcmp(inner->d_name, "..") == 0) continue;
                    snprintf(inner_path, sizeof inner_path, "%s/%s", path, inner->d_name);
                    if (unlink(inner_path) != 0) rmdir(inner_path);
                }
                closedir(sub);
            }
            rmdir(path);
        }
    }
    closedir(dir);
    rmdir(temp_dir);
}

int main(void) {
    static const test_case cases[] = {
        {"versions", test_versions},
        {"status strings", test_status_strings},
        {"last error message (thread-local)", test_last_error_message},
        {"thread count", test_thread_count},
        {"struct _init defaults", test_struct_init_defaults},
        {"create with every loss", test_create_every_loss},
        {"every layer kind and activation", test_every_layer_kind_and_activation},
        {"layer errors and limits", test_layer_errors_and_limits},
        {"set_loss and reinitialize", test_set_loss_and_reinitialize},
        {"clone", test_clone},
        {"handles: freed, double free, forged, wrong kind", test_handles},
        {"every function refuses NULL/dead/forged/wrong-kind handles", test_every_function_refuses_bad_handles},
        {"NULL pointers", test_null_pointers},
        {"model info and struct sizes", test_model_info_struct_sizes},
        {"weights and biases", test_weights_and_biases},
        {"metadata and UTF-8", test_metadata},
        {"class labels and feature names", test_class_labels_and_feature_names},
        {"standardization", test_standardization},
        {"fit result and history", test_fit_result_and_history},
        {"fit with validation", test_fit_with_validation},
        {"early stopping", test_early_stopping},
        {"callback cancels", test_callback_cancels},
        {"every optimizer", test_every_optimizer},
        {"bad hyper-parameters", test_bad_hyperparameters},
        {"schedules", test_schedules},
        {"train_step and epochs", test_train_step_and_epochs},
        {"bad training data", test_bad_training_data},
        {"overflowing counts", test_overflowing_counts},
        {"diverged", test_diverged},
        {"evaluate", test_evaluate},
        {"predict, proba, classify", test_predict_proba_classify},
        {"outputs per loss", test_outputs_per_loss},
        {"standardize option", test_standardize_option},
        {"save and load a file", test_save_and_load_file},
        {"save and load a buffer", test_save_and_load_buffer},
        {"load refuses bad input", test_load_refuses_bad_input},
        {"model DOT", test_model_dot},
        {"graph: the lecture example", test_graph_lecture_example},
        {"graph: every op", test_graph_every_op},
        {"graph: dropout and training mode", test_graph_dropout_and_training_mode},
        {"graph: batches and training", test_graph_batches_and_training},
        {"graph: errors", test_graph_errors},
        {"graph: DOT", test_graph_dot},
        {"concurrent predictions", test_concurrent_predictions},
        {"products split over the worker pool", test_pool_products},
        {"busy while training", test_busy_while_training},
        {"free while training", test_free_while_training},
        {"readers and a writer race", test_readers_and_writer_race},
        {"every status code reached", test_every_status_code_reached},
    };
    int result;
    snprintf(temp_dir, sizeof temp_dir, "/tmp/nncore-capi-XXXXXX");
    if (mkdtemp(temp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_spiral();
    result = run_tests(cases, sizeof cases / sizeof cases[0]);
    remove_temp_dir();
    return result;
}
