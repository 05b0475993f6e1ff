/* Save-in-one-language, load-in-the-other checks for the Python tests (test_c_interop.py).
 *
 *   interop predict MODEL INPUTS ROWS COLS OUTPUTS
 *       loads MODEL, predicts the ROWS x COLS float32 rows in the raw file INPUTS and writes the
 *       raw float32 outputs to OUTPUTS.
 *   interop train MODEL INPUTS LABELS ROWS COLS CLASSES OUTPUTS
 *       builds a COLS-32-CLASSES ReLU/softmax model in C (seed 7), trains it on the raw float32
 *       INPUTS and int32 LABELS (200 epochs, Adam), saves it to MODEL and writes its predictions
 *       for INPUTS to OUTPUTS.
 *
 * Exits 0 on success, 1 with a message on stderr otherwise. */
#include <nncore.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                    \
    do {                                                                               \
        nn_status status_ = (call);                                                    \
        if (status_ != NN_OK) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #call, nn_status_string(status_),   \
                    nn_last_error_message());                                          \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void *read_file(const char *path, size_t bytes) {
    FILE *file = fopen(path, "rb");
    void *data = malloc(bytes ? bytes : 1);
    if (file == NULL || data == NULL || fread(data, 1, bytes, file) != bytes) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", bytes, path);
        exit(1);
    }
    fclose(file);
    return data;
}

static void write_file(const char *path, const void *data, size_t bytes) {
    FILE *file = fopen(path, "wb");
    if (file == NULL || fwrite(data, 1, bytes, file) != bytes || fclose(file) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void predict_to_file(const nn_model *model, const float *x, size_t rows, size_t cols, const char *path) {
    nn_model_info info;
    float *out;
    CHECK(nn_model_info_init(&info));
    CHECK(nn_model_get_info(model, &info));
    out = malloc(rows * info.output_width * sizeof(float) + 1);
    CHECK(nn_model_predict(model, x, rows, cols, out, rows * info.output_width));
    write_file(path, out, rows * info.output_width * sizeof(float));
    free(out);
}

int main(int argc, char **argv) {
    nn_model *model = NULL;
    if (nn_version_number() / 10000 != NN_VERSION_MAJOR) {
        fprintf(stderr, "library %s does not match header %d.%d\n", nn_version_string(), NN_VERSION_MAJOR,
                NN_VERSION_MINOR);
        return 1;
    }
    if (argc == 7 && argv[1][0] == 'p') {
        size_t rows = strtoul(argv[4], NULL, 10), cols = strtoul(argv[5], NULL, 10);
        float *x = read_file(argv[3], rows * cols * sizeof(float));
        CHECK(nn_model_load(argv[2], &model));
        predict_to_file(model, x, rows, cols, argv[6]);
        free(x);
    } else if (argc == 9 && argv[1][0] == 't') {
        size_t rows = strtoul(argv[5], NULL, 10), cols = strtoul(argv[6], NULL, 10);
        uint32_t classes = (uint32_t)strtoul(argv[7], NULL, 10);
        float *x = read_file(argv[3], rows * cols * sizeof(float));
        int32_t *y = read_file(argv[4], rows * sizeof(int32_t));
        nn_dataset data;
        nn_train_options options;
        CHECK(nn_model_create((uint32_t)cols, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 7, &model));
        CHECK(nn_model_add_dense(model, 32, NN_ACTIVATION_RELU, 0));
        CHECK(nn_model_add_dense(model, classes, NN_ACTIVATION_IDENTITY, 0));
        CHECK(nn_dataset_init(&data));
        data.inputs = x;
        data.rows = rows;
        data.cols = cols;
        data.labels = y;
        CHECK(nn_train_options_init(&options));
        options.epochs = 200;
        options.optimizer = NN_OPTIMIZER_ADAM;
        options.learning_rate = 0.01f;
        CHECK(nn_model_set_metadata(model, "written by", "interop.c"));
        CHECK(nn_model_fit(model, &data, NULL, &options, NULL));
        CHECK(nn_model_save(model, argv[2], NULL));
        predict_to_file(model, x, rows, cols, argv[8]);
        free(x);
        free(y);
    } else {
        fprintf(stderr, "usage: interop predict MODEL INPUTS ROWS COLS OUTPUTS\n"
                        "       interop train MODEL INPUTS LABELS ROWS COLS CLASSES OUTPUTS\n");
        return 1;
    }
    nn_model_free(model);
    return 0;
}
