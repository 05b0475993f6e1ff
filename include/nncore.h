/* nncore.h — the C API of nncore. GENERATED from api/nncore.toml by api/generate.py: do not edit. */
/**
 * nncore builds, trains, saves, loads and runs multi-layer perceptrons on the CPU.
 *
 * OBJECT MODEL
 *   nn_model   a network: an input width, a list of layers (dense, maxout, dropout), a loss,
 *              its parameters, input standardisation, labels, metadata, training state and
 *              history. Created by nn_model_create, nn_model_load, nn_model_load_from_buffer or
 *              nn_model_clone; destroyed by nn_model_free.
 *   nn_graph   a computational graph of tensor ops with reverse-mode backpropagation, for
 *              custom computations and gradients. Created by nn_graph_create; destroyed by
 *              nn_graph_free.
 *
 * A TYPICAL LIFECYCLE
 *   nn_model *model;
 *   nn_model_create(2, NN_LOSS_SOFTMAX_CROSS_ENTROPY, 42, &model);
 *   nn_model_add_dense(model, 100, NN_ACTIVATION_RELU, 0);
 *   nn_model_add_dense(model, 3, NN_ACTIVATION_IDENTITY, 0);
 *   nn_dataset data; nn_dataset_init(&data);
 *   data.inputs = x; data.rows = 300; data.cols = 2; data.labels = y;
 *   nn_train_options options; nn_train_options_init(&options);
 *   options.epochs = 10000; options.batch_size = 0; options.learning_rate = 1.0f; options.l2 = 1e-3f;
 *   nn_model_fit(model, &data, NULL, &options, NULL);
 *   nn_model_classify(model, x, 300, 2, classes, 300);
 *   nn_model_save(model, "spiral.nnm", NULL);
 *   nn_model_free(model);
 *
 * ERRORS
 *   Every fallible function returns an nn_status: NN_OK (0) or a specific code. Codes are pinned
 *   forever and never reused. On failure, out-parameters are left untouched and
 *   nn_last_error_message() gives a specific message for this thread ("layer 2 expects 100
 *   inputs, got 64"); it is never NULL and stays valid until the next nncore call on the same
 *   thread. nn_status_string(code) gives static text for a code. The library never prints,
 *   never exits and never aborts: bad input is an error status, never a crash.
 *
 * OWNERSHIP
 *   The caller owns every buffer it passes in and every buffer it receives results in; the
 *   library checks each buffer's stated capacity and never keeps a caller's pointer after a call
 *   returns (data sets are read during the call only). Handles belong to the caller until freed
 *   with their _free function; _free(NULL) does nothing. A freed, forged or wrong-kind handle is
 *   detected and refused with NN_ERR_INVALID_HANDLE rather than being undefined behaviour.
 *   Strings returned as `const char *` are static and never freed.
 *
 * THREAD SAFETY
 *   Global functions (versions, status strings, the last error message) are always safe.
 *   Functions taking a `const nn_model *` (predict, classify, evaluate, inspection, save) may
 *   run concurrently on one model from many threads. Functions taking a non-const handle (fit,
 *   train_step, setters) need exclusive access: if another thread is using the model, they
 *   return NN_ERR_BUSY at once instead of racing or waiting; likewise a const call made while
 *   the model is being trained returns NN_ERR_BUSY. nn_model_free may be called at any time: the
 *   handle dies at once and a call still running on another thread finishes safely. A graph is
 *   used by one thread at a time (a second thread's call returns NN_ERR_BUSY).
 *
 * STRUCTS
 *   Option and result structs begin with `uint32_t struct_size`, are filled with every default
 *   by their _init function, and only ever grow at the end; set struct_size to sizeof(struct)
 *   (the _init function does). No struct is passed by value.
 *
 * VERSIONS
 *   NN_VERSION_MAJOR/MINOR/PATCH/NUMBER describe this header; nn_version_number() describes the
 *   library that is loaded. A program can compare them to detect a mismatch. The model file
 *   format has its own version (docs/format.md).
 */
#ifndef NNCORE_H
#define NNCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this header. @since 0.1 */
#define NN_VERSION_MAJOR 0
#define NN_VERSION_MINOR 1
#define NN_VERSION_PATCH 0
/** NN_VERSION_MAJOR*10000 + NN_VERSION_MINOR*100 + NN_VERSION_PATCH; compare with nn_version_number(). */
#define NN_VERSION_NUMBER 100

/**
 * Result of every fallible function. Values are pinned forever.
 *
 * @since 0.1
 */
typedef int32_t nn_status;
enum {
    /** Success. */
    NN_OK = 0,
    /** An argument is malformed (bad count, index, name, or misuse of the API). */
    NN_ERR_INVALID_ARGUMENT = 1,
    /** A pointer that must not be NULL was NULL. */
    NN_ERR_NULL_POINTER = 2,
    /** Two shapes that must agree do not (input width, element counts). */
    NN_ERR_SHAPE_MISMATCH = 3,
    /** An output buffer's capacity is smaller than the result. */
    NN_ERR_BUFFER_TOO_SMALL = 4,
    /** A class label is negative or not below the number of classes. */
    NN_ERR_LABEL_OUT_OF_RANGE = 5,
    /** Data contains NaN or infinity. */
    NN_ERR_NON_FINITE = 6,
    /** A data set has no samples. */
    NN_ERR_EMPTY_DATA = 7,
    /** A hyper-parameter is out of its domain. */
    NN_ERR_BAD_HYPERPARAMETER = 8,
    /** The object cannot do this now (e.g. training a model without layers). */
    NN_ERR_INVALID_STATE = 9,
    /** The training loss became NaN or infinite; the model keeps the weights of the last good step. */
    NN_ERR_DIVERGED = 10,
    /** A callback asked to stop; the model is as of the last completed epoch. */
    NN_ERR_CANCELLED = 11,
    /** Reading or writing a file failed. */
    NN_ERR_IO = 12,
    /** A file, directory or key does not exist. */
    NN_ERR_NOT_FOUND = 13,
    /** A model file is malformed, truncated, damaged or inconsistent. */
    NN_ERR_CORRUPT_FILE = 14,
    /** A model file needs a newer reader. */
    NN_ERR_UNSUPPORTED_VERSION = 15,
    /** A size exceeds a hard limit of the library. */
    NN_ERR_LIMIT_EXCEEDED = 16,
    /** The model is in use by another thread in a way that excludes this call. */
    NN_ERR_BUSY = 17,
    /** Memory could not be allocated. */
    NN_ERR_OUT_OF_MEMORY = 18,
    /** A handle is freed, forged, or of the wrong kind (a NULL handle is NN_ERR_NULL_POINTER). */
    NN_ERR_INVALID_HANDLE = 19,
    /** A bug in nncore; please report it with the message. */
    NN_ERR_INTERNAL = 20,
};

/**
 * Activation functions of dense layers and graph nodes.
 *
 * @since 0.1
 */
typedef int32_t nn_activation;
enum {
    /** f(x) = x (a linear layer). */
    NN_ACTIVATION_IDENTITY = 1,
    /** f(x) = max(0, x). */
    NN_ACTIVATION_RELU = 2,
    /** f(x) = x for x > 0, alpha*x otherwise (0.01 is the usual alpha). */
    NN_ACTIVATION_LEAKY_RELU = 3,
    /** f(x) = 1 / (1 + exp(-x)). */
    NN_ACTIVATION_SIGMOID = 4,
    /** f(x) = tanh(x). */
    NN_ACTIVATION_TANH = 5,
    /** f(x) = x for x > 0, alpha*(exp(x) - 1) otherwise (1 is the usual alpha). */
    NN_ACTIVATION_ELU = 6,
    /** f(x) = x * Phi(x), the exact erf form. */
    NN_ACTIVATION_GELU = 7,
    /** f(x) = log(1 + exp(x)), computed stably. */
    NN_ACTIVATION_SOFTPLUS = 8,
};

/**
 * The data loss a model is trained with.
 *
 * @since 0.1
 */
typedef int32_t nn_loss;
enum {
    /** Softmax cross-entropy, for single-label classification (integer labels). */
    NN_LOSS_SOFTMAX_CROSS_ENTROPY = 1,
    /** Weston-Watkins multiclass SVM hinge loss, margin 1 (integer labels). */
    NN_LOSS_MULTICLASS_HINGE = 2,
    /** Mean squared error, for regression (float targets). */
    NN_LOSS_MEAN_SQUARED_ERROR = 3,
    /** Binary cross-entropy with logits: one output per yes/no target (float targets in [0, 1], or 0/1 labels with one output). */
    NN_LOSS_BINARY_CROSS_ENTROPY = 4,
};

/**
 * Kinds of layer.
 *
 * @since 0.1
 */
typedef int32_t nn_layer_kind;
enum {
    /** Fully connected: y = f(x W + b). */
    NN_LAYER_DENSE = 1,
    /** x W + b with units*pieces outputs, then the max of each group of pieces. */
    NN_LAYER_MAXOUT = 2,
    /** Inverted dropout (training only). */
    NN_LAYER_DROPOUT = 3,
};

/**
 * Parameter update rules.
 *
 * @since 0.1
 */
typedef int32_t nn_optimizer;
enum {
    /** p -= lr * g. */
    NN_OPTIMIZER_SGD = 1,
    /** v = mu*v - lr*g; p += v. */
    NN_OPTIMIZER_MOMENTUM = 2,
    /** Nesterov momentum: v' = mu*v - lr*g; p += -mu*v + (1 + mu)*v'. */
    NN_OPTIMIZER_NESTEROV = 3,
    /** c += g^2; p -= lr*g / (sqrt(c) + eps). */
    NN_OPTIMIZER_ADAGRAD = 4,
    /** c = rho*c + (1 - rho)*g^2; p -= lr*g / (sqrt(c) + eps). */
    NN_OPTIMIZER_RMSPROP = 5,
    /** Adam with bias correction. */
    NN_OPTIMIZER_ADAM = 6,
    /** Adam with decoupled weight decay on weights (not biases). */
    NN_OPTIMIZER_ADAMW = 7,
};

/**
 * Learning-rate schedules (per epoch, over the model's whole training life).
 *
 * @since 0.1
 */
typedef int32_t nn_schedule;
enum {
    /** The same rate every epoch. */
    NN_SCHEDULE_CONSTANT = 1,
    /** Multiply by step_factor at each of step_milestones (epoch indices, 0-based). */
    NN_SCHEDULE_STEP_DECAY = 2,
    /** rate * gamma^epoch. */
    NN_SCHEDULE_EXPONENTIAL = 3,
    /** Cosine annealing to rate*cosine_minimum_factor over cosine_period epochs. */
    NN_SCHEDULE_COSINE = 4,
};

/**
 * Graph operations for nn_graph_op. `parameter` is the op's scalar hyper-parameter where it
 * has one.
 *
 * @since 0.1
 */
typedef int32_t nn_op;
enum {
    /** A B: (m,k)(k,n) -> (m,n). Inputs: A, B. */
    NN_OP_MATMUL = 1,
    /** X W + b: inputs X (m,k), W (k,n), b (1,n). */
    NN_OP_AFFINE = 2,
    /** X + b for a row vector b (1,n). Inputs: X, b. */
    NN_OP_BIAS_ADD = 3,
    /** a + b element-wise; dimensions of size 1 broadcast. */
    NN_OP_ADD = 4,
    /** a - b element-wise; dimensions of size 1 broadcast. */
    NN_OP_SUB = 5,
    /** a * b element-wise; dimensions of size 1 broadcast. */
    NN_OP_MUL = 6,
    /** parameter * x. */
    NN_OP_SCALE = 7,
    /** Sum of all elements (1x1). */
    NN_OP_SUM = 8,
    /** Mean of all elements (1x1). */
    NN_OP_MEAN = 9,
    /** exp(x) element-wise. */
    NN_OP_EXP = 10,
    /** log(x) element-wise. */
    NN_OP_LOG = 11,
    /** max(0, x). */
    NN_OP_RELU = 12,
    /** Leaky ReLU with alpha = parameter. */
    NN_OP_LEAKY_RELU = 13,
    /** Logistic sigmoid. */
    NN_OP_SIGMOID = 14,
    /** tanh(x). */
    NN_OP_TANH = 15,
    /** ELU with alpha = parameter. */
    NN_OP_ELU = 16,
    /** GELU (exact). */
    NN_OP_GELU = 17,
    /** log(1 + exp(x)). */
    NN_OP_SOFTPLUS = 18,
    /** Maxout over groups of `parameter` (an integer) consecutive columns. */
    NN_OP_MAXOUT = 19,
    /** Inverted dropout with rate = parameter, active in training mode only. */
    NN_OP_DROPOUT = 20,
    /** Row-wise softmax. */
    NN_OP_SOFTMAX = 21,
    /** Mean softmax cross-entropy. Inputs: logits (m,K), labels (m,1) as float class indices, optional weights (m,1). */
    NN_OP_SOFTMAX_CROSS_ENTROPY = 22,
    /** Mean Weston-Watkins hinge loss; inputs as NN_OP_SOFTMAX_CROSS_ENTROPY. */
    NN_OP_MULTICLASS_HINGE = 23,
    /** Mean squared error. Inputs: predictions, targets (same shape), optional weights (m,1). */
    NN_OP_MEAN_SQUARED_ERROR = 24,
    /** Mean binary cross-entropy with logits; inputs as NN_OP_MEAN_SQUARED_ERROR. */
    NN_OP_BINARY_CROSS_ENTROPY = 25,
    /** parameter * sum(x^2) (1x1). */
    NN_OP_L2_PENALTY = 26,
    /** parameter * sum(|x|) (1x1). */
    NN_OP_L1_PENALTY = 27,
};

/**
 * Why nn_model_fit ended.
 *
 * @since 0.1
 */
typedef int32_t nn_stop_reason;
enum {
    /** All requested epochs ran. */
    NN_STOP_COMPLETED = 0,
    /** Early stopping ran out of patience; the best epoch's weights were restored. */
    NN_STOP_EARLY_STOPPED = 1,
};

/**
 * A multi-layer perceptron with its parameters, data description, training state and history.
 * Opaque: use it only through its functions.
 *
 * @since 0.1
 */
typedef struct nn_model nn_model;

/**
 * A computational graph of 2-D float tensors with reverse-mode backpropagation. Opaque: use it
 * only through its functions.
 *
 * @since 0.1
 */
typedef struct nn_graph nn_graph;

typedef struct nn_model_info nn_model_info;
typedef struct nn_layer_info nn_layer_info;
typedef struct nn_dataset nn_dataset;
typedef struct nn_epoch_stats nn_epoch_stats;
typedef struct nn_train_options nn_train_options;
typedef struct nn_train_result nn_train_result;
typedef struct nn_step_stats nn_step_stats;
typedef struct nn_evaluation nn_evaluation;
typedef struct nn_save_options nn_save_options;

/**
 * Called after every epoch of nn_model_fit on the calling thread; return non-zero to stop
 * training (nn_model_fit then returns NN_ERR_CANCELLED and the model keeps the weights of the
 * epoch just finished). `stats` is valid during the call only. The callback must not call
 * nncore functions on the model being trained (they return NN_ERR_BUSY).
 *
 * @since 0.1
 */
typedef int (*nn_epoch_callback)(const nn_epoch_stats *stats, void *user_data);

/**
 * A model's sizes and counters (nn_model_get_info). Begins with struct_size and only grows at
 * the end.
 *
 * @since 0.1
 */
struct nn_model_info {
    /** sizeof(nn_model_info); set by nn_model_info_init. */
    uint32_t struct_size;
    /** Width of an input row. */
    uint32_t input_width;
    /** Width of an output row. */
    uint32_t output_width;
    /** Number of layers. */
    uint32_t layer_count;
    /** Number of classes (0 for regression). */
    uint32_t class_count;
    /** The data loss. */
    nn_loss loss;
    /** Trainable parameters (weights and biases). */
    uint64_t parameter_count;
    /** Epochs completed over the model's life (the schedule's position). */
    uint64_t epochs_trained;
    /** Optimiser updates applied over the model's life. */
    uint64_t steps_trained;
    /** Records of training history (nn_model_get_epoch). */
    uint64_t history_count;
    /** 1 when the model standardises its inputs. */
    int32_t has_standardization;
    /** Metadata entries. */
    uint32_t metadata_count;
    /** Feature names (0 or input_width). */
    uint32_t feature_name_count;
    /** Class labels (0 or class_count). */
    uint32_t class_label_count;
    /** The seed the model was created with. */
    uint64_t seed;
};

/**
 * One layer's description (nn_model_get_layer). Begins with struct_size and only grows at the
 * end.
 *
 * @since 0.1
 */
struct nn_layer_info {
    /** sizeof(nn_layer_info); set by nn_layer_info_init. */
    uint32_t struct_size;
    /** Dense, maxout or dropout. */
    nn_layer_kind kind;
    /** Output width of a dense or maxout layer (0 for dropout). */
    uint32_t units;
    /** A dense layer's activation (0 otherwise). */
    nn_activation activation;
    /** alpha of Leaky ReLU and ELU (0 otherwise). */
    float alpha;
    /** Pieces per maxout unit (0 otherwise). */
    uint32_t pieces;
    /** Dropout rate (0 otherwise). */
    float rate;
    /** The layer's input width. */
    uint32_t input_width;
    /** The layer's output width. */
    uint32_t output_width;
    /** Rows of the weight matrix (= input_width; 0 for dropout). */
    uint32_t weight_rows;
    /** Columns of the weight matrix and number of biases (units, or units*pieces; 0 for dropout). */
    uint32_t weight_cols;
};

/**
 * Data described by caller-owned arrays, read during the call only and never kept or copied as
 * a whole. Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_dataset {
    /** sizeof(nn_dataset); set by nn_dataset_init. */
    uint32_t struct_size;
    /** rows*cols inputs, row-major. Required. */
    const float *inputs;
    /** Number of samples (>= 1). */
    size_t rows;
    /** Values per sample; must equal the model's input width. */
    size_t cols;
    /** One class index per row (softmax, hinge; 0/1 for a one-output binary cross-entropy model), or NULL. */
    const int32_t *labels;
    /** rows*target_cols real targets (MSE; [0,1] for binary cross-entropy), or NULL. Exactly one of labels and targets is set. */
    const float *targets;
    /** Columns of targets; must equal the model's output width. */
    size_t target_cols;
    /** One finite, non-negative weight per row, or NULL. Losses become sum(w*l)/sum(w). */
    const float *sample_weights;
};

/**
 * Statistics of one epoch (the training callback, nn_model_get_epoch). Absent values are NaN.
 * Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_epoch_stats {
    /** sizeof(nn_epoch_stats); set by nn_epoch_stats_init. */
    uint32_t struct_size;
    /** The epoch over the model's life, from 1. */
    uint32_t epoch;
    /** Mean data loss over the epoch's steps. */
    float data_loss;
    /** Mean l2*sum(W^2) + l1*sum(|W|) over the epoch's steps. */
    float regularization_loss;
    /** Training accuracy during the epoch (NaN for regression). */
    float accuracy;
    /** Data loss on the validation data (NaN without validation). */
    float validation_loss;
    /** Accuracy on the validation data (NaN without validation or for regression). */
    float validation_accuracy;
    /** The learning rate of the epoch. */
    float learning_rate;
    /** Wall-clock seconds the epoch took. */
    double seconds;
};

/**
 * Everything nn_model_fit and nn_model_train_step need besides the data. nn_train_options_init
 * fills every default. Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_train_options {
    /** sizeof(nn_train_options); set by nn_train_options_init. */
    uint32_t struct_size;
    /** Passes over the data (default 10). */
    uint32_t epochs;
    /** Samples per step; 0 means full batch (default 32). */
    uint32_t batch_size;
    /** The update rule (default NN_OPTIMIZER_SGD). */
    nn_optimizer optimizer;
    /** Base learning rate, > 0 (default 0.01). */
    float learning_rate;
    /** mu of momentum and Nesterov, in [0, 1) (default 0.9). */
    float momentum;
    /** Adam's beta1 (default 0.9). */
    float beta1;
    /** Adam's beta2 (default 0.999). */
    float beta2;
    /** epsilon of Adagrad, RMSProp and Adam (default 1e-8). */
    float epsilon;
    /** RMSProp's decay (default 0.9). */
    float rho;
    /** AdamW's decoupled weight decay (default 0.01). */
    float weight_decay;
    /** Learning-rate schedule (default NN_SCHEDULE_CONSTANT). */
    nn_schedule schedule;
    /** Step decay: epochs (0-based) at which the rate is multiplied by step_factor; read during the call only. */
    const uint32_t *step_milestones;
    /** Number of step_milestones. */
    size_t step_milestone_count;
    /** Step decay factor (default 0.1). */
    float step_factor;
    /** Exponential decay per epoch (default 0.95). */
    float exponential_gamma;
    /** Cosine annealing period in epochs (default 100). */
    uint32_t cosine_period;
    /** Cosine annealing floor as a share of the base rate (default 0). */
    float cosine_minimum_factor;
    /** Epochs of linear warm-up in front of the schedule (default 0). */
    uint32_t warmup_epochs;
    /** lambda2 of l2*sum(W^2) over weights, not biases (default 0). */
    float l2;
    /** lambda1 of l1*sum(|W|) over weights, not biases (default 0). */
    float l1;
    /** Rescale gradients to at most this global L2 norm; 0 disables (default 0). */
    float gradient_clip_norm;
    /** Share of the data held out for validation when no validation set is given, in [0, 1) (default 0). */
    float validation_fraction;
    /** Stop after this many epochs without improvement and restore the best weights; 0 disables (default 0). */
    uint32_t early_stopping_patience;
    /** Least decrease that counts as an improvement (default 0). */
    float early_stopping_min_delta;
    /** Non-zero to shuffle the training rows every epoch (default 1). */
    int32_t shuffle;
    /** Non-zero to fit input standardisation from the training rows before the first epoch, unless the model has one (default 0). */
    int32_t standardize;
    /** Called after every epoch, or NULL (default NULL). */
    nn_epoch_callback callback;
    /** Passed to callback unchanged (default NULL). */
    void *user_data;
};

/**
 * The outcome of nn_model_fit. Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_train_result {
    /** sizeof(nn_train_result); set by nn_train_result_init. */
    uint32_t struct_size;
    /** Epochs this call ran. */
    uint32_t epochs_run;
    /** Why training ended. */
    nn_stop_reason stop_reason;
    /** With early stopping, the epoch (over the model's life, from 1) whose weights the model holds; else 0. */
    uint32_t best_epoch;
    /** The statistics of the last epoch run. */
    nn_epoch_stats final;
};

/**
 * The outcome of nn_model_train_step. Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_step_stats {
    /** sizeof(nn_step_stats); set by nn_step_stats_init. */
    uint32_t struct_size;
    /** The batch's mean data loss before the update. */
    float data_loss;
    /** The regularisation loss before the update. */
    float regularization_loss;
    /** The batch's accuracy before the update (NaN for regression). */
    float accuracy;
    /** The learning rate used. */
    float learning_rate;
    /** Global L2 norm of the gradient before clipping. */
    float gradient_norm;
};

/**
 * The outcome of nn_model_evaluate. Begins with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_evaluation {
    /** sizeof(nn_evaluation); set by nn_evaluation_init. */
    uint32_t struct_size;
    /** Mean data loss (no regularisation term). */
    float loss;
    /** Share classified correctly (NaN for regression). */
    float accuracy;
    /** Samples evaluated. */
    uint64_t count;
};

/**
 * How a model is written. Passing NULL where these are accepted means the defaults. Begins
 * with struct_size and only grows at the end.
 *
 * @since 0.1
 */
struct nn_save_options {
    /** sizeof(nn_save_options); set by nn_save_options_init. */
    uint32_t struct_size;
    /** Non-zero to keep optimiser slots, counters and the random generator so training can continue exactly; 0 writes an inference-only copy (default 1). */
    int32_t include_training_state;
    /** Non-zero to record creation_time instead of the current time, for byte-identical files (default 0). */
    int32_t pin_creation_time;
    /** Seconds since 1970 UTC to record when pin_creation_time is set. */
    int64_t creation_time;
};

/* ---- Versions, errors and threads ---------------------------------------------------------- */

/**
 * The loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.
 *
 * Compare with NN_VERSION_NUMBER from this header to detect a header/library mismatch; a
 * different NN_VERSION_MAJOR means an incompatible library.
 *
 * @return See above.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
uint32_t nn_version_number(void);

/**
 * The loaded library's version as static text, "MAJOR.MINOR.PATCH".
 *
 * @return See above.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
const char * nn_version_string(void);

/**
 * A short static description of a status code ("shape mismatch"); "unknown status" for values
 * that are not codes.
 *
 * @param status [in] Any value.
 * @return See above.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
const char * nn_status_string(nn_status status);

/**
 * The message of the last failure on the calling thread.
 *
 * Specific to the failure ("layer 2 expects 100 inputs, got 64"); an empty string when the
 * last call on this thread succeeded or no call was made. Never NULL. Owned by the library;
 * valid until the next nncore call on the same thread.
 *
 * @return See above.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
const char * nn_last_error_message(void);

/**
 * Sets how many threads a large matrix product uses (process-wide).
 *
 * nncore splits products into blocks that the calling thread and the workers of its own pool
 * compute, each block with OpenBLAS single-threaded or nncore's own loops; products of fewer
 * than 2^15 multiply-adds run on the calling thread, and a training step's small products are
 * cut by the batch's rows. The count starts at OpenBLAS's own (the cores, or
 * OPENBLAS_NUM_THREADS); nncore's first product sets OpenBLAS's process-wide thread count to 1
 * and stops OpenBLAS's own idle worker threads (OpenBLAS starts them again if later asked for
 * several threads). Workers wait for work spinning for about 0.2 ms, then sleep; when they are
 * slow to finish (another process holds their core), products run on the calling thread alone
 * for a while. Training is deterministic for a given seed and thread count (never dependent on
 * timing); a different count may change the last bits of products, since OpenBLAS rounds the
 * blocks' edges differently and a small weight gradient adds its blocks' partial sums.
 * Products of fewer than 2^17 multiply-adds run in nncore's own SIMD loops, which exist in two
 * builds: AVX2 with fused multiply-adds, used where the CPU and OS support it (checked once
 * with CPUID), and baseline x86-64, used otherwise or when the environment variable
 * NNCORE_KERNELS=baseline is set before the first product. With the AVX2 build, larger
 * products of 16 rows or more (a dense layer's forward, input-gradient and weight-gradient
 * products) also run in nncore's own loops instead of OpenBLAS, cut into blocks of rows and
 * columns, and give the same bits for any thread count; each thread that computes them
 * allocates a 262 KiB packing buffer once, freed when the thread exits. The two builds round
 * differently, so results on different CPUs agree to float rounding, not bit for bit.
 *
 * @param threads [in] 1 or more; counts above 64 select 64.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: threads < 1.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_set_thread_count(int32_t threads);

/**
 * How many threads a large matrix product uses (see nn_set_thread_count).
 *
 * @return See above.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
int32_t nn_get_thread_count(void);

/* ---- Building models ----------------------------------------------------------------------- */

/**
 * Creates a model without layers.
 *
 * Add layers with nn_model_add_dense, nn_model_add_maxout and nn_model_add_dropout; each
 * layer's parameters are drawn from the model's own generator (seeded with `seed`) when it is
 * added: He-normal for the ReLU family and maxout, Glorot-uniform for identity, tanh and
 * sigmoid; biases zero.
 *
 * @param input_width [in] Width of an input row, 1 to 2^24.
 * @param loss [in] The data loss.
 * @param seed [in] Seeds the model's generator (initialisation, shuffling, dropout).
 * @param out_model [out] Receives the new model, owned by the caller; free it with
 *     nn_model_free.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: out_model is NULL.
 *   - NN_ERR_INVALID_ARGUMENT: input_width is 0 or too large, or loss is not a known value.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_model_create(uint32_t input_width, nn_loss loss, uint64_t seed, nn_model **out_model);

/**
 * Appends a fully connected layer y = f(x W + b).
 *
 * @param model [in] The model.
 * @param units [in] Output width, 1 to 2^24.
 * @param activation [in] The activation function.
 * @param alpha [in] alpha of Leaky ReLU (e.g. 0.01) and ELU (e.g. 1); ignored otherwise.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: units out of range or unknown activation.
 *   - NN_ERR_BAD_HYPERPARAMETER: alpha not finite (or negative for ELU).
 *   - NN_ERR_LIMIT_EXCEEDED: too many layers or parameters.
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_add_dense(nn_model *model, uint32_t units, nn_activation activation, float alpha);

/**
 * Appends a maxout layer: x W + b with units*pieces outputs, then the max of each group of
 * pieces.
 *
 * @param model [in] The model.
 * @param units [in] Output width.
 * @param pieces [in] Linear pieces per unit, 1 to 64.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: units out of range.
 *   - NN_ERR_BAD_HYPERPARAMETER: pieces out of range.
 *   - NN_ERR_LIMIT_EXCEEDED: too many layers or parameters.
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_add_maxout(nn_model *model, uint32_t units, uint32_t pieces);

/**
 * Appends an inverted-dropout layer (active during training only).
 *
 * @param model [in] The model.
 * @param rate [in] Drop probability in [0, 1).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_BAD_HYPERPARAMETER: rate outside [0, 1).
 *   - NN_ERR_LIMIT_EXCEEDED: too many layers.
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_add_dropout(nn_model *model, float rate);

/**
 * Changes the data loss.
 *
 * @param model [in] The model.
 * @param loss [in] The new loss.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: unknown loss.
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_loss(nn_model *model, nn_loss loss);

/**
 * Draws fresh parameters from a new generator seeded with `seed` and forgets the training
 * state (the history stays).
 *
 * @param model [in] The model.
 * @param seed [in] The new seed.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_reinitialize(nn_model *model, uint64_t seed);

/**
 * Creates an independent copy of a model: parameters, data description, training state and
 * history.
 *
 * @param model [in] The model to copy.
 * @param out_model [out] Receives the copy, owned by the caller; free it with nn_model_free.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: model or out_model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_clone(const nn_model *model, nn_model **out_model);

/**
 * Destroys a model. NULL does nothing; a handle that is not a live model is ignored.
 *
 * @param model [in] The model, or NULL. The handle is invalid afterwards.
 * Thread safety: may be called while another thread is still inside a call on the object: the
 *     handle dies at once, and the running call finishes on its own reference.
 * @since 0.1
 */
void nn_model_free(nn_model *model);

/* ---- Inspecting models --------------------------------------------------------------------- */

/**
 * Sets struct_size and zeroes every field of an nn_model_info.
 *
 * @param info [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: info is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_model_info_init(nn_model_info *info);

/**
 * Fills an nn_model_info (initialised with nn_model_info_init) with the model's sizes and
 * counters.
 *
 * @param model [in] The model.
 * @param out_info [out] Receives the information; its struct_size says how much the caller's
 *     struct holds.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: out_info->struct_size is too small.
 *   - NN_ERR_NULL_POINTER: model or out_info is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_info(const nn_model *model, nn_model_info *out_info);

/**
 * Sets struct_size and zeroes every field of an nn_layer_info.
 *
 * @param info [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: info is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_layer_info_init(nn_layer_info *info);

/**
 * Describes layer `index` (0-based).
 *
 * @param model [in] The model.
 * @param index [in] The layer, 0 to layer_count - 1.
 * @param out_info [out] Receives the description (initialise with nn_layer_info_init).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: index out of range or struct_size too small.
 *   - NN_ERR_NULL_POINTER: model or out_info is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_layer(const nn_model *model, uint32_t index, nn_layer_info *out_info);

/**
 * Copies layer `index`'s weight matrix (weight_rows x weight_cols, row-major; y = x W + b)
 * into a caller buffer.
 *
 * @param model [in] The model.
 * @param index [in] A dense or maxout layer.
 * @param out_values [out] Receives weight_rows*weight_cols floats; may be NULL when capacity
 *     is 0, to query the size.
 * @param capacity [in] Floats out_values can hold.
 * @param out_count [out] Receives the number of floats (also when the buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: the layer does not exist or has no parameters.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the count (out_count is still set).
 *   - NN_ERR_NULL_POINTER: model or out_count is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_weights(const nn_model *model, uint32_t index, float *out_values, size_t capacity, size_t *out_count);

/**
 * Replaces layer `index`'s weight matrix.
 *
 * @param model [in] The model.
 * @param index [in] A dense or maxout layer.
 * @param values [in] weight_rows*weight_cols finite floats, row-major; read during the call
 *     only.
 * @param count [in] Number of floats; must equal the matrix size.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: the layer does not exist or has no parameters.
 *   - NN_ERR_SHAPE_MISMATCH: count differs.
 *   - NN_ERR_NON_FINITE: a value is NaN or infinite.
 *   - NN_ERR_NULL_POINTER: model or values is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_weights(nn_model *model, uint32_t index, const float *values, size_t count);

/**
 * Copies layer `index`'s biases (weight_cols of them).
 *
 * @param model [in] The model.
 * @param index [in] A dense or maxout layer.
 * @param out_values [out] Receives the biases; may be NULL when capacity is 0.
 * @param capacity [in] Floats out_values can hold.
 * @param out_count [out] Receives the number of biases (also when the buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: the layer does not exist or has no parameters.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the count.
 *   - NN_ERR_NULL_POINTER: model or out_count is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_biases(const nn_model *model, uint32_t index, float *out_values, size_t capacity, size_t *out_count);

/**
 * Replaces layer `index`'s biases.
 *
 * @param model [in] The model.
 * @param index [in] A dense or maxout layer.
 * @param values [in] weight_cols finite floats; read during the call only.
 * @param count [in] Number of floats.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: the layer does not exist or has no parameters.
 *   - NN_ERR_SHAPE_MISMATCH: count differs.
 *   - NN_ERR_NON_FINITE: a value is NaN or infinite.
 *   - NN_ERR_NULL_POINTER: model or values is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_biases(nn_model *model, uint32_t index, const float *values, size_t count);

/**
 * Sets (or, with value NULL, removes) a free key/value metadata entry saved with the model.
 *
 * @param model [in] The model.
 * @param key [in] A non-empty NUL-terminated UTF-8 key; copied.
 * @param value [in] A NUL-terminated UTF-8 value (copied), or NULL to remove the key.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: key is NULL.
 *   - NN_ERR_INVALID_ARGUMENT: key is empty or a string is not valid UTF-8.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_metadata(nn_model *model, const char *key, const char *value);

/**
 * Copies the value of a metadata key as a NUL-terminated string.
 *
 * @param model [in] The model.
 * @param key [in] The key.
 * @param out_text [out] Receives the value and a terminating NUL; may be NULL when capacity is
 *     0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the value's length in bytes without the NUL (also when the
 *     buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NOT_FOUND: no such key.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: model, key or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_metadata(const nn_model *model, const char *key, char *out_text, size_t capacity, size_t *out_length);

/**
 * Copies the `index`-th metadata key (keys are in sorted order) as a NUL-terminated string.
 *
 * @param model [in] The model.
 * @param index [in] 0 to metadata_count - 1.
 * @param out_text [out] Receives the key and a NUL; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the key's length without the NUL.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: index out of range.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: model or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_metadata_key(const nn_model *model, uint32_t index, char *out_text, size_t capacity, size_t *out_length);

/**
 * Sets the class names (count = class_count), or removes them (count 0).
 *
 * @param model [in] The model.
 * @param labels [in] count NUL-terminated UTF-8 strings, copied; may be NULL when count is 0.
 * @param count [in] 0 or the model's class count.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_SHAPE_MISMATCH: count is neither 0 nor the class count.
 *   - NN_ERR_NULL_POINTER: a label is NULL.
 *   - NN_ERR_INVALID_ARGUMENT: a label is not valid UTF-8.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_class_labels(nn_model *model, const char *const *labels, size_t count);

/**
 * Copies the name of class `index` as a NUL-terminated string.
 *
 * @param model [in] The model.
 * @param index [in] 0 to class_label_count - 1.
 * @param out_text [out] Receives the name and a NUL; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the name's length without the NUL.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: index out of range.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: model or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_class_label(const nn_model *model, uint32_t index, char *out_text, size_t capacity, size_t *out_length);

/**
 * Sets the input feature names (count = input_width), or removes them (count 0).
 *
 * @param model [in] The model.
 * @param names [in] count NUL-terminated UTF-8 strings, copied; may be NULL when count is 0.
 * @param count [in] 0 or the input width.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_SHAPE_MISMATCH: count is neither 0 nor the input width.
 *   - NN_ERR_NULL_POINTER: a name is NULL.
 *   - NN_ERR_INVALID_ARGUMENT: a name is not valid UTF-8.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_feature_names(nn_model *model, const char *const *names, size_t count);

/**
 * Copies the name of input feature `index` as a NUL-terminated string.
 *
 * @param model [in] The model.
 * @param index [in] 0 to feature_name_count - 1.
 * @param out_text [out] Receives the name and a NUL; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the name's length without the NUL.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: index out of range.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: model or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_feature_name(const nn_model *model, uint32_t index, char *out_text, size_t capacity, size_t *out_length);

/**
 * Sets the input standardisation x' = (x - mean) / scale applied before the first layer, or
 * removes it (count 0).
 *
 * @param model [in] The model.
 * @param mean [in] count finite means; may be NULL when count is 0.
 * @param scale [in] count finite, positive scales; may be NULL when count is 0.
 * @param count [in] 0 or the input width.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_SHAPE_MISMATCH: count is neither 0 nor the input width.
 *   - NN_ERR_NON_FINITE: a mean is not finite.
 *   - NN_ERR_BAD_HYPERPARAMETER: a scale is not finite and positive.
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_set_standardization(nn_model *model, const float *mean, const float *scale, size_t count);

/**
 * Copies the input standardisation's means and scales.
 *
 * @param model [in] The model.
 * @param out_mean [out] Receives input_width means; may be NULL when capacity is 0.
 * @param out_scale [out] Receives input_width scales; may be NULL when capacity is 0.
 * @param capacity [in] Floats each of out_mean and out_scale can hold.
 * @param out_count [out] Receives input_width, or 0 when the model has no standardisation.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the count.
 *   - NN_ERR_NULL_POINTER: model or out_count is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_standardization(const nn_model *model, float *out_mean, float *out_scale, size_t capacity, size_t *out_count);

/**
 * Sets struct_size and clears every field of an nn_epoch_stats.
 *
 * @param stats [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: stats is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_epoch_stats_init(nn_epoch_stats *stats);

/**
 * Copies record `index` (0 = oldest) of the model's training history.
 *
 * @param model [in] The model.
 * @param index [in] 0 to history_count - 1.
 * @param out_stats [out] Receives the record (initialise with nn_epoch_stats_init).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: index out of range or struct_size too small.
 *   - NN_ERR_NULL_POINTER: model or out_stats is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_get_epoch(const nn_model *model, uint64_t index, nn_epoch_stats *out_stats);

/* ---- Training ------------------------------------------------------------------------------ */

/**
 * Sets struct_size and clears every field of an nn_dataset.
 *
 * @param data [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: data is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_dataset_init(nn_dataset *data);

/**
 * Sets struct_size and every default of an nn_train_options (see each field).
 *
 * @param options [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: options is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_train_options_init(nn_train_options *options);

/**
 * Sets struct_size and clears every field of an nn_train_result.
 *
 * @param result [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: result is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_train_result_init(nn_train_result *result);

/**
 * Trains the model on a data set: epochs of shuffled mini-batches, each step forward,
 * backward, optional clipping and an optimiser update.
 *
 * The learning rate follows the schedule over the model's whole life (its epoch counter and
 * the optimiser's state carry over between calls), so two calls of 10 epochs equal one of 20.
 * Data are validated before the model changes. If the loss or the gradient becomes NaN or
 * infinite, training stops with NN_ERR_DIVERGED and the model keeps the weights of the last
 * good step. The data are read during the call only.
 *
 * @param model [in] The model; needs at least one dense or maxout layer.
 * @param data [in] The training data.
 * @param validation [in] Validation data monitored after every epoch, or NULL (then
 *     options->validation_fraction may hold rows out).
 * @param options [in] Hyper-parameters (initialise with nn_train_options_init), or NULL for
 *     the defaults.
 * @param out_result [out] Receives the outcome (initialise with nn_train_result_init), or
 *     NULL.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_STATE: the model has no trainable layer.
 *   - NN_ERR_BAD_HYPERPARAMETER: an option is out of range (the message names it).
 *   - NN_ERR_EMPTY_DATA, NN_ERR_SHAPE_MISMATCH, NN_ERR_NON_FINITE, NN_ERR_LABEL_OUT_OF_RANGE,
 *       NN_ERR_INVALID_ARGUMENT: bad data (the model is unchanged).
 *   - NN_ERR_DIVERGED: the loss became NaN or infinite.
 *   - NN_ERR_CANCELLED: the callback returned non-zero.
 *   - NN_ERR_BUSY: another thread is using the model.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model or data is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_fit(nn_model *model, const nn_dataset *data, const nn_dataset *validation, const nn_train_options *options, nn_train_result *out_result);

/**
 * Sets struct_size and clears every field of an nn_step_stats.
 *
 * @param stats [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: stats is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_step_stats_init(nn_step_stats *stats);

/**
 * One optimisation step on a batch the caller supplies (for callers that stream their own
 * data).
 *
 * The learning rate is the schedule's at the model's epoch counter, which
 * nn_model_advance_epoch moves on. options->epochs, batch_size, validation and early stopping
 * are not used.
 *
 * @param model [in] The model.
 * @param batch [in] The batch (all its rows).
 * @param options [in] Optimiser, rates, schedule, penalties, clipping; or NULL for the
 *     defaults.
 * @param out_stats [out] Receives the step's statistics (initialise with nn_step_stats_init),
 *     or NULL.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - As nn_model_fit.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model or batch is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_train_step(nn_model *model, const nn_dataset *batch, const nn_train_options *options, nn_step_stats *out_stats);

/**
 * Moves the model's epoch counter (the schedule's position) on by one, for nn_model_train_step
 * callers.
 *
 * @param model [in] The model.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_advance_epoch(nn_model *model);

/**
 * Forgets the optimiser state and the epoch and step counters (weights and history stay).
 *
 * @param model [in] The model.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: model is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another thread is using
 *     it.
 * @since 0.1
 */
nn_status nn_model_reset_training(nn_model *model);

/**
 * Sets struct_size and clears every field of an nn_evaluation.
 *
 * @param evaluation [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: evaluation is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_evaluation_init(nn_evaluation *evaluation);

/**
 * Mean data loss and accuracy of the model on a data set (dropout off, no regularisation
 * term).
 *
 * @param model [in] The model.
 * @param data [in] The data, read during the call only.
 * @param out_evaluation [out] Receives the result (initialise with nn_evaluation_init).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_STATE: the model has no layers.
 *   - NN_ERR_EMPTY_DATA, NN_ERR_SHAPE_MISMATCH, NN_ERR_NON_FINITE, NN_ERR_LABEL_OUT_OF_RANGE:
 *       bad data.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model, data or out_evaluation is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_evaluate(const nn_model *model, const nn_dataset *data, nn_evaluation *out_evaluation);

/* ---- Inference ----------------------------------------------------------------------------- */

/**
 * Computes the last layer's outputs (scores or logits for classifiers) for `rows` input rows.
 *
 * Inputs are standardised first when the model has a standardisation. Any number of rows. The
 * model keeps the working memory of its predictions for later calls: for each call running at
 * the same time, one set for single rows and one for batches, each with the activations of its
 * rows and, on AVX2 machines, a copy of the weights packed for the product loops (for single
 * rows, only when no layer's packed weights exceed 64 MiB). Later calls allocate nothing;
 * nn_model_free releases it.
 *
 * @param model [in] The model.
 * @param inputs [in] rows*cols finite inputs, row-major.
 * @param rows [in] Number of rows (0 does nothing).
 * @param cols [in] Values per row; must equal the input width.
 * @param out_values [out] Receives rows*output_width floats, row-major.
 * @param capacity [in] Floats out_values can hold.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_SHAPE_MISMATCH: cols differs from the input width.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity < rows*output_width.
 *   - NN_ERR_NON_FINITE: an input is NaN or infinite.
 *   - NN_ERR_INVALID_STATE: the model has no layers.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model, inputs or out_values is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_predict(const nn_model *model, const float *inputs, size_t rows, size_t cols, float *out_values, size_t capacity);

/**
 * Computes class probabilities: softmax rows (softmax loss) or per-output sigmoids (binary
 * cross-entropy).
 *
 * @param model [in] The model.
 * @param inputs [in] rows*cols finite inputs, row-major.
 * @param rows [in] Number of rows.
 * @param cols [in] Values per row.
 * @param out_values [out] Receives rows*output_width probabilities.
 * @param capacity [in] Floats out_values can hold.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - As nn_model_predict.
 *   - NN_ERR_INVALID_STATE: a hinge or MSE model has no probabilities.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model, inputs or out_values is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_predict_proba(const nn_model *model, const float *inputs, size_t rows, size_t cols, float *out_values, size_t capacity);

/**
 * Computes the predicted class of each row: the argmax of the scores (for a one-output binary
 * cross-entropy model, 1 when the logit is positive).
 *
 * @param model [in] The model.
 * @param inputs [in] rows*cols finite inputs, row-major.
 * @param rows [in] Number of rows.
 * @param cols [in] Values per row.
 * @param out_classes [out] Receives rows class indices.
 * @param capacity [in] Entries out_classes can hold.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - As nn_model_predict.
 *   - NN_ERR_INVALID_STATE: regression and multi-output binary models have no single class.
 *   - NN_ERR_LIMIT_EXCEEDED: rows*cols (or another count) overflows or exceeds a limit.
 *   - NN_ERR_NULL_POINTER: model, inputs or out_classes is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_classify(const nn_model *model, const float *inputs, size_t rows, size_t cols, int32_t *out_classes, size_t capacity);

/* ---- Files and memory ---------------------------------------------------------------------- */

/**
 * Sets struct_size and every default of an nn_save_options.
 *
 * @param options [out] The struct to fill.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: options is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_save_options_init(nn_save_options *options);

/**
 * Saves the model to a file atomically (temporary file in the same directory, fsync, rename,
 * directory fsync).
 *
 * If anything fails (full disk, unwritable directory, I/O error), the previous file at `path`
 * is untouched and no temporary file is left behind.
 *
 * @param model [in] The model.
 * @param path [in] The destination file (NUL-terminated).
 * @param options [in] Options, or NULL for the defaults.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_IO: writing failed (the message says which step and why).
 *   - NN_ERR_NOT_FOUND: the directory does not exist.
 *   - NN_ERR_INVALID_ARGUMENT: path is not valid UTF-8.
 *   - NN_ERR_NULL_POINTER: model or path is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_save(const nn_model *model, const char *path, const nn_save_options *options);

/**
 * Loads a model file, treating every byte as hostile.
 *
 * A directory, FIFO, device, missing or unreadable file, a file over 4 GiB, and any malformed,
 * truncated, damaged or inconsistent content is refused with a specific status and message;
 * the loader never crashes, hangs or over-allocates.
 *
 * @param path [in] The file (NUL-terminated).
 * @param out_model [out] Receives the model, owned by the caller; free it with nn_model_free.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NOT_FOUND, NN_ERR_IO: the file cannot be read.
 *   - NN_ERR_CORRUPT_FILE: not a valid model file (the message says what and where).
 *   - NN_ERR_UNSUPPORTED_VERSION: the file needs a newer reader.
 *   - NN_ERR_LIMIT_EXCEEDED: the file or model exceeds a limit.
 *   - NN_ERR_INVALID_ARGUMENT: path is not valid UTF-8.
 *   - NN_ERR_NULL_POINTER: path or out_model is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_model_load(const char *path, nn_model **out_model);

/**
 * The size in bytes nn_model_save_to_buffer needs for these options.
 *
 * @param model [in] The model.
 * @param options [in] Options, or NULL for the defaults.
 * @param out_size [out] Receives the size.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: model or out_size is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_serialized_size(const nn_model *model, const nn_save_options *options, size_t *out_size);

/**
 * Writes the model file's bytes into a caller buffer.
 *
 * @param model [in] The model.
 * @param options [in] Options, or NULL for the defaults.
 * @param out_buffer [out] Receives the bytes; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_buffer can hold.
 * @param out_size [out] Receives the number of bytes (also when the buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the size (out_size is still set).
 *   - NN_ERR_NULL_POINTER: model or out_size is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_save_to_buffer(const nn_model *model, const nn_save_options *options, void *out_buffer, size_t capacity, size_t *out_size);

/**
 * Loads a model from the bytes of a model file, with the same checks as nn_model_load.
 *
 * @param buffer [in] The bytes, read during the call only.
 * @param size [in] Number of bytes.
 * @param out_model [out] Receives the model, owned by the caller; free it with nn_model_free.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_CORRUPT_FILE, NN_ERR_UNSUPPORTED_VERSION, NN_ERR_LIMIT_EXCEEDED: as
 *       nn_model_load.
 *   - NN_ERR_NULL_POINTER: buffer or out_model is NULL.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_model_load_from_buffer(const void *buffer, size_t size, nn_model **out_model);

/**
 * Writes the model's computational graph (inference form) as Graphviz DOT text, NUL-
 * terminated.
 *
 * @param model [in] The model.
 * @param out_text [out] Receives the text and a NUL; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the text's length without the NUL (also when the buffer is
 *     too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: model or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: model is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is using the model in a conflicting way.
 * Thread safety: may run concurrently with other calls taking a const nn_model * on the same
 *     model; returns NN_ERR_BUSY while another thread trains or changes the model.
 * @since 0.1
 */
nn_status nn_model_to_dot(const nn_model *model, char *out_text, size_t capacity, size_t *out_length);

/* ---- Computational graphs ------------------------------------------------------------------ */

/**
 * Creates an empty graph.
 *
 * Nodes are identified by int32 ids in creation order (which is a topological order). The
 * first nn_graph_forward compiles the graph: buffers are allocated once; forward and backward
 * then allocate nothing.
 *
 * @param batch_capacity [in] Row capacity of batched inputs (nn_graph_batch_input); 1 if
 *     unused.
 * @param seed [in] Seeds the generator used by dropout.
 * @param out_graph [out] Receives the graph, owned by the caller; free it with nn_graph_free.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: out_graph is NULL.
 *   - NN_ERR_INVALID_ARGUMENT: batch_capacity is 0 or too large.
 * Thread safety: safe to call from any thread at any time.
 * @since 0.1
 */
nn_status nn_graph_create(uint32_t batch_capacity, uint64_t seed, nn_graph **out_graph);

/**
 * Destroys a graph. NULL does nothing; a handle that is not a live graph is ignored.
 *
 * @param graph [in] The graph, or NULL.
 * Thread safety: may be called while another thread is still inside a call on the object: the
 *     handle dies at once, and the running call finishes on its own reference.
 * @since 0.1
 */
void nn_graph_free(nn_graph *graph);

/**
 * Adds an input of fixed shape (zeros until nn_graph_set_value); it receives a gradient.
 *
 * @param graph [in] The graph.
 * @param name [in] A NUL-terminated name for messages and DOT output (copied), or NULL.
 * @param rows [in] Rows, >= 1.
 * @param cols [in] Columns, >= 1.
 * @param out_node [out] Receives the node id.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: a dimension is 0.
 *   - NN_ERR_LIMIT_EXCEEDED: the tensor is too large.
 *   - NN_ERR_NULL_POINTER: graph or out_node is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_input(nn_graph *graph, const char *name, uint32_t rows, uint32_t cols, int32_t *out_node);

/**
 * Adds an input with batch_capacity rows, of which nn_graph_set_batch_size are active (data,
 * labels, weights); no gradient.
 *
 * @param graph [in] The graph.
 * @param name [in] A name (copied), or NULL.
 * @param cols [in] Columns, >= 1.
 * @param out_node [out] Receives the node id.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: cols is 0.
 *   - NN_ERR_NULL_POINTER: graph or out_node is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_batch_input(nn_graph *graph, const char *name, uint32_t cols, int32_t *out_node);

/**
 * Adds a trainable tensor initialised with `values`.
 *
 * @param graph [in] The graph.
 * @param name [in] A name (copied), or NULL.
 * @param rows [in] Rows, >= 1.
 * @param cols [in] Columns, >= 1.
 * @param values [in] rows*cols values, row-major, copied.
 * @param count [in] Number of values; must be rows*cols.
 * @param out_node [out] Receives the node id.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_SHAPE_MISMATCH: count differs from rows*cols.
 *   - NN_ERR_NULL_POINTER: graph, values or out_node is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_parameter(nn_graph *graph, const char *name, uint32_t rows, uint32_t cols, const float *values, size_t count, int32_t *out_node);

/**
 * Adds an operation node on existing nodes; its shape is inferred and checked.
 *
 * @param graph [in] The graph.
 * @param op [in] The operation.
 * @param inputs [in] The input node ids, as the op's documentation lists them.
 * @param input_count [in] Number of inputs (1 to 3).
 * @param parameter [in] The op's scalar hyper-parameter (alpha, scale, rate, lambda, pieces);
 *     ignored by ops without one.
 * @param out_node [out] Receives the node id.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: unknown op, wrong number of inputs, or an id that is not a
 *       node.
 *   - NN_ERR_SHAPE_MISMATCH: the inputs' shapes do not fit the op.
 *   - NN_ERR_BAD_HYPERPARAMETER: the parameter is out of range.
 *   - NN_ERR_NULL_POINTER: graph, inputs or out_node is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_op(nn_graph *graph, nn_op op, const int32_t *inputs, size_t input_count, float parameter, int32_t *out_node);

/**
 * Sets an input's or parameter's value (the active rows of a batched input).
 *
 * @param graph [in] The graph.
 * @param node [in] An input or parameter node.
 * @param values [in] The values, row-major, copied.
 * @param count [in] Number of values; must equal the node's active size.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: not a node, or an op node.
 *   - NN_ERR_SHAPE_MISMATCH: count differs.
 *   - NN_ERR_NULL_POINTER: graph or values is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_set_value(nn_graph *graph, int32_t node, const float *values, size_t count);

/**
 * Sets how many rows of batched inputs are active (1 to batch_capacity).
 *
 * @param graph [in] The graph.
 * @param batch_size [in] Active rows.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: outside 1 to batch_capacity.
 *   - NN_ERR_NULL_POINTER: graph is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_set_batch_size(nn_graph *graph, uint32_t batch_size);

/**
 * Turns training mode on (non-zero) or off; dropout drops only in training mode.
 *
 * @param graph [in] The graph.
 * @param training [in] Non-zero for training mode.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_NULL_POINTER: graph is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_set_training(nn_graph *graph, int32_t training);

/**
 * Computes every node's value in topological order (compiling the graph the first time).
 *
 * @param graph [in] The graph.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_LABEL_OUT_OF_RANGE: a loss met a label outside its classes.
 *   - NN_ERR_INVALID_ARGUMENT: negative or non-finite sample weights.
 *   - NN_ERR_NULL_POINTER: graph is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_forward(nn_graph *graph);

/**
 * Backpropagates from `node`: resets every gradient, seeds d node/d node = 1 (for a non-scalar
 * node, the gradient of the sum of its elements) and applies the chain rule in reverse order,
 * accumulating.
 *
 * @param graph [in] The graph, after nn_graph_forward.
 * @param node [in] The node to differentiate.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: not a node, or it depends on nothing with a gradient.
 *   - NN_ERR_INVALID_STATE: nn_graph_forward has not run.
 *   - NN_ERR_NULL_POINTER: graph is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_backward(nn_graph *graph, int32_t node);

/**
 * Copies a node's value (active rows), row-major.
 *
 * @param graph [in] The graph.
 * @param node [in] The node.
 * @param out_values [out] Receives the values; may be NULL when capacity is 0.
 * @param capacity [in] Floats out_values can hold.
 * @param out_count [out] Receives the number of values (also when the buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: not a node.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the count.
 *   - NN_ERR_NULL_POINTER: graph or out_count is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_value(const nn_graph *graph, int32_t node, float *out_values, size_t capacity, size_t *out_count);

/**
 * Copies the gradient the last nn_graph_backward accumulated for a node (zeros if none).
 *
 * @param graph [in] The graph.
 * @param node [in] The node.
 * @param out_values [out] Receives the gradient; may be NULL when capacity is 0.
 * @param capacity [in] Floats out_values can hold.
 * @param out_count [out] Receives the number of values (also when the buffer is too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: not a node.
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity is below the count.
 *   - NN_ERR_NULL_POINTER: graph or out_count is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_gradient(const nn_graph *graph, int32_t node, float *out_values, size_t capacity, size_t *out_count);

/**
 * A node's shape (capacity rows for batched nodes).
 *
 * @param graph [in] The graph.
 * @param node [in] The node.
 * @param out_rows [out] Receives the rows.
 * @param out_cols [out] Receives the columns.
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_INVALID_ARGUMENT: not a node.
 *   - NN_ERR_NULL_POINTER: graph, out_rows or out_cols is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_node_shape(const nn_graph *graph, int32_t node, uint32_t *out_rows, uint32_t *out_cols);

/**
 * Writes the graph as Graphviz DOT text, NUL-terminated.
 *
 * @param graph [in] The graph.
 * @param out_text [out] Receives the text and a NUL; may be NULL when capacity is 0.
 * @param capacity [in] Bytes out_text can hold, including the NUL.
 * @param out_length [out] Receives the text's length without the NUL (also when the buffer is
 *     too small).
 * @return NN_OK on success; otherwise (out-parameters untouched):
 *   - NN_ERR_BUFFER_TOO_SMALL: capacity <= length.
 *   - NN_ERR_NULL_POINTER: graph or out_length is NULL.
 *   - NN_ERR_INVALID_HANDLE: graph is freed, forged or of the wrong kind.
 *   - NN_ERR_BUSY: another thread is inside a call on the graph.
 * Thread safety: a graph is used by one thread at a time; a call made while another thread is
 *     inside a call on the same graph returns NN_ERR_BUSY.
 * @since 0.1
 */
nn_status nn_graph_to_dot(const nn_graph *graph, char *out_text, size_t capacity, size_t *out_length);

#ifdef __cplusplus
}
#endif

#endif /* NNCORE_H */
