/* The lecture's spiral through the C API: 3 classes of 100 points in 2-D, a 2-layer net
 * (100 ReLU units, softmax), full-batch SGD at rate 1.0 with L2 1e-3 for 10,000 epochs.
 * Prints progress every 1000 epochs, checks the training accuracy is at least 97%, saves the
 * model to spiral.nnm and the points to spiral_points.bin (300*2 floats, then 300 int32 labels)
 * for classify.c. Exits non-zero on any failure. */
#include <nncore.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define CLASSES 3
#define POINTS_PER_CLASS 100
#define SAMPLES (CLASSES * POINTS_PER_CLASS)
#define EPOCHS 10000
#define MODEL_PATH "spiral.nnm"
#define POINTS_PATH "spiral_points.bin"

#define CHECK(call)                                                                    \
    do {                                                                               \
        nn_status status_ = (call);                                                    \
        if (status_ != NN_OK) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #call, nn_status_string(status_),   \
                    nn_last_error_message());                                          \
            nn_model_free(model);                                                      \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

/* A small deterministic generator: xorshift64* for uniforms, Box-Muller for normals. */
static uint64_t random_state = 0x9E3779B97F4A7C15u;

static double uniform(void) { /* in (0, 1) */
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return ((double)((random_state * 0x2545F4914F6CDD1Du) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void) {
    const double pi = 3.14159265358979323846;
    return sqrt(-2.0 * log(uniform())) * cos(2.0 * pi * uniform());
}

/* Point i of class k: r = i/99, t = 4k + 4i/99 + 0.2 N(0,1), x = (r sin t, r cos t). */
static void make_spiral(float *x, int32_t *y) {
    int k, i;
    for (k = 0; k < CLASSES; k++) {
        for (i = 0; i < POINTS_PER_CLASS; i++) {
            const int row = k * POINTS_PER_CLASS + i;
            const double r = (double)i / (POINTS_PER_CLASS - 1);
            const double t = 4.0 * k + 4.0 * i / (POINTS_PER_CLASS - 1) + 0.2 * normal();
            x[2 * row] = (float)(r * sin(t));
            x[2 * row + 1] = (float)(r * cos(t));
            y[row] = k;
        }
    }
}

/* Called after every epoch; prints every 1000th. Returning 0 lets training go on. */
static int progress(const nn_epoch_stats *stats, void *user_data) {
    (void)user_data;
    if (stats->epoch % 1000 == 0) {
        printf("epoch %5" PRIu32 "  loss %.4f (data %.4f + l2 %.4f)  accuracy %.3f  rate %g\n", stats->epoch,
               stats->data_loss + stats->regularization_loss, stats->data_loss, stats->regularization_loss,
               stats->accuracy, stats->learning_rate);
    }
    return 0;
}

static int write_points(const float *x, const int32_t *y) {
    FILE *file = fopen(POINTS_PATH, "wb");
    int ok;
    if (file == NULL) {
        perror(POINTS_PATH);
        return 0;
    }
    ok = fwrite(x, sizeof(float), 2 * SAMPLES, file) == 2 * SAMPLES &&
         fwrite(y, sizeof(int32_t), SAMPLES, file) == SAMPLES;
    if (fclose(file) != 0) ok = 0;
    if (!ok) fprintf(stderr, "writing %s failed\n", POINTS_PATH);
    return ok;
}

int main(void) {
    static float x[2 * SAMPLES];
    static int32_t y[SAMPLES];
    const char *const features[2] = {"x", "y"};
    const char *const classes[CLASSES] = {"red", "yellow", "blue"};
    nn_model *model = NULL;
    nn_dataset data;
    nn_train_options options;
    nn_train_result result;
    nn_evaluation evaluation;

    if (nn_version_number() != NN_VERSION_NUMBER) {
        fprintf(stderr, "header is version %d but the library is %s\n", NN_VERSION_NUMBER, nn_version_string());
        return 1;
    }
    make_spiral(x, y);

    /* The 2-layer net f = W2 max(0, W1 x + b1) + b2 with a softmax loss. */
    CHECK(nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 0, &model));
    CHECK(nn_model_add_dense(model, 100, NN_ACTIVATION_RELU, 0.0f));
    CHECK(nn_model_add_dense(model, CLASSES, NN_ACTIVATION_IDENTITY, 0.0f));
    CHECK(nn_model_set_feature_names(model, features, 2));
    CHECK(nn_model_set_class_labels(model, classes, CLASSES));
    CHECK(nn_model_set_metadata(model, "dataset", "spiral, 3 classes x 100 points, noise 0.2"));

    CHECK(nn_dataset_init(&data));
    data.inputs = x;
    data.rows = SAMPLES;
    data.cols = 2;
    data.labels = y;

    CHECK(nn_train_options_init(&options));
    options.epochs = EPOCHS;
    options.batch_size = 0; /* full batch */
    options.optimizer = NN_OPTIMIZER_SGD;
    options.learning_rate = 1.0f;
    options.l2 = 1e-3f;
    options.callback = progress;

    CHECK(nn_train_result_init(&result));
    CHECK(nn_model_fit(model, &data, NULL, &options, &result));
    printf("trained %" PRIu32 " epochs\n", result.epochs_run);

    CHECK(nn_evaluation_init(&evaluation));
    CHECK(nn_model_evaluate(model, &data, &evaluation));
    printf("training accuracy: %.4f (loss %.4f over %llu samples)\n", evaluation.accuracy, evaluation.loss,
           (unsigned long long)evaluation.count);
    if (!(evaluation.accuracy >= 0.97f)) {
        fprintf(stderr, "accuracy %.4f is below 0.97\n", evaluation.accuracy);
        nn_model_free(model);
        return 1;
    }

    CHECK(nn_model_save(model, MODEL_PATH, NULL));
    printf("saved %s\n", MODEL_PATH);
    nn_model_free(model);
    if (!write_points(x, y)) return 1;
    printf("saved %s\n", POINTS_PATH);
    return 0;
}
