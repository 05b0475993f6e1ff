/* Loads the model train_spiral.c saved (spiral.nnm, or the path in argv[1]) and the points it
 * wrote (spiral_points.bin: 300*2 floats, then 300 int32 labels), classifies the points with
 * nn_model_classify and nn_model_predict_proba, checks the accuracy is at least 97% and that
 * every row of probabilities sums to 1, and prints what the model knows about itself.
 * Exits non-zero on any failure. */
#include <nncore.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define SAMPLES 300
#define MAX_CLASSES 16
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

static int read_points(float *x, int32_t *y) {
    FILE *file = fopen(POINTS_PATH, "rb");
    int ok;
    if (file == NULL) {
        perror(POINTS_PATH);
        return 0;
    }
    ok = fread(x, sizeof(float), 2 * SAMPLES, file) == 2 * SAMPLES &&
         fread(y, sizeof(int32_t), SAMPLES, file) == SAMPLES;
    fclose(file);
    if (!ok) fprintf(stderr, "%s is shorter than %d points\n", POINTS_PATH, SAMPLES);
    return ok;
}

static const char *kind_name(nn_layer_kind kind) {
    switch (kind) {
    case NN_LAYER_DENSE: return "dense";
    case NN_LAYER_MAXOUT: return "maxout";
    case NN_LAYER_DROPOUT: return "dropout";
    default: return "?";
    }
}

static const char *activation_name(nn_activation activation) {
    switch (activation) {
    case NN_ACTIVATION_IDENTITY: return "identity";
    case NN_ACTIVATION_RELU: return "relu";
    case NN_ACTIVATION_LEAKY_RELU: return "leaky relu";
    case NN_ACTIVATION_SIGMOID: return "sigmoid";
    case NN_ACTIVATION_TANH: return "tanh";
    case NN_ACTIVATION_ELU: return "elu";
    case NN_ACTIVATION_GELU: return "gelu";
    case NN_ACTIVATION_SOFTPLUS: return "softplus";
    default: return "-";
    }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "spiral.nnm";
    static float x[2 * SAMPLES];
    static int32_t y[SAMPLES];
    static int32_t predicted[SAMPLES];
    static float probabilities[SAMPLES * MAX_CLASSES];
    char names[MAX_CLASSES][64];
    nn_model *model = NULL;
    nn_model_info info;
    nn_layer_info layer;
    nn_epoch_stats last;
    size_t length = 0;
    uint32_t i, j;
    int correct = 0, agree = 0;
    float worst = 0.0f;

    if (!read_points(x, y)) return 1;
    CHECK(nn_model_load(path, &model));

    /* What the file says about the model. */
    CHECK(nn_model_info_init(&info));
    CHECK(nn_model_get_info(model, &info));
    printf("%s: %" PRIu32 " inputs -> %" PRIu32 " outputs, %" PRIu32 " layers, %" PRIu64
           " parameters, %" PRIu64 " epochs trained, seed %" PRIu64 "\n",
           path, info.input_width, info.output_width, info.layer_count, info.parameter_count,
           info.epochs_trained, info.seed);
    if (info.input_width != 2 || info.class_count < 1 || info.class_count > MAX_CLASSES) {
        fprintf(stderr, "%s is not a 2-D classifier with at most %d classes\n", path, MAX_CLASSES);
        nn_model_free(model);
        return 1;
    }
    for (i = 0; i < info.layer_count; i++) {
        CHECK(nn_layer_info_init(&layer));
        CHECK(nn_model_get_layer(model, i, &layer));
        printf("  layer %" PRIu32 ": %-7s %" PRIu32 " -> %" PRIu32 "  activation %s, weights %" PRIu32 " x %" PRIu32 "\n",
               i, kind_name(layer.kind), layer.input_width, layer.output_width,
               activation_name(layer.activation), layer.weight_rows, layer.weight_cols);
    }
    for (i = 0; i < info.class_count; i++) {
        if (i < info.class_label_count) {
            CHECK(nn_model_get_class_label(model, i, names[i], sizeof names[i], &length));
        } else {
            sprintf(names[i], "class %" PRIu32, i);
        }
    }
    if (info.metadata_count > 0) {
        char key[64], value[256];
        for (i = 0; i < info.metadata_count; i++) {
            CHECK(nn_model_get_metadata_key(model, i, key, sizeof key, &length));
            CHECK(nn_model_get_metadata(model, key, value, sizeof value, &length));
            printf("  metadata %s = %s\n", key, value);
        }
    }
    if (info.history_count > 0) {
        CHECK(nn_epoch_stats_init(&last));
        CHECK(nn_model_get_epoch(model, info.history_count - 1, &last));
        printf("  last epoch %" PRIu32 ": loss %.4f, accuracy %.4f\n", last.epoch,
               last.data_loss + last.regularization_loss, last.accuracy);
    }

    /* Classes and probabilities for every point. */
    CHECK(nn_model_classify(model, x, SAMPLES, 2, predicted, SAMPLES));
    CHECK(nn_model_predict_proba(model, x, SAMPLES, 2, probabilities, SAMPLES * MAX_CLASSES));
    for (i = 0; i < SAMPLES; i++) {
        const float *p = probabilities + i * info.class_count;
        float sum = 0.0f;
        uint32_t best = 0;
        for (j = 0; j < info.class_count; j++) {
            sum += p[j];
            if (p[j] > p[best]) best = j;
        }
        if (fabsf(sum - 1.0f) > worst) worst = fabsf(sum - 1.0f);
        if (predicted[i] == y[i]) correct++;
        if ((int32_t)best == predicted[i]) agree++;
        if (i % 60 == 0) {
            printf("  (%+.3f, %+.3f) is %-6s p = [", x[2 * i], x[2 * i + 1], names[predicted[i]]);
            for (j = 0; j < info.class_count; j++) printf("%s%.3f", j ? ", " : "", p[j]);
            printf("]  (truth: %s)\n", names[y[i]]);
        }
    }
    nn_model_free(model);

    printf("accuracy %.4f (%d of %d), largest |sum(p) - 1| = %.2g\n", (double)correct / SAMPLES, correct,
           SAMPLES, worst);
    if (correct < 0.97 * SAMPLES) {
        fprintf(stderr, "accuracy below 0.97\n");
        return 1;
    }
    if (worst > 1e-5f) {
        fprintf(stderr, "probabilities do not sum to 1\n");
        return 1;
    }
    if (agree != SAMPLES) {
        fprintf(stderr, "nn_model_classify disagrees with the argmax of nn_model_predict_proba on %d points\n",
                SAMPLES - agree);
        return 1;
    }
    return 0;
}
