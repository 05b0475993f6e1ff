"""Raw ctypes layer of the nncore C API. GENERATED from api/nncore.toml by api/generate.py:
do not edit. One Python name per C name; the Pythonic API is built on top of this module."""
import ctypes

VERSION_MAJOR = 0
VERSION_MINOR = 1
VERSION_PATCH = 0
VERSION_NUMBER = 100

# nn_status: Result of every fallible function. Values are pinned forever.
NN_OK = 0
NN_ERR_INVALID_ARGUMENT = 1
NN_ERR_NULL_POINTER = 2
NN_ERR_SHAPE_MISMATCH = 3
NN_ERR_BUFFER_TOO_SMALL = 4
NN_ERR_LABEL_OUT_OF_RANGE = 5
NN_ERR_NON_FINITE = 6
NN_ERR_EMPTY_DATA = 7
NN_ERR_BAD_HYPERPARAMETER = 8
NN_ERR_INVALID_STATE = 9
NN_ERR_DIVERGED = 10
NN_ERR_CANCELLED = 11
NN_ERR_IO = 12
NN_ERR_NOT_FOUND = 13
NN_ERR_CORRUPT_FILE = 14
NN_ERR_UNSUPPORTED_VERSION = 15
NN_ERR_LIMIT_EXCEEDED = 16
NN_ERR_BUSY = 17
NN_ERR_OUT_OF_MEMORY = 18
NN_ERR_INVALID_HANDLE = 19
NN_ERR_INTERNAL = 20
NN_STATUS_NAMES = {0: 'NN_OK', 1: 'NN_ERR_INVALID_ARGUMENT', 2: 'NN_ERR_NULL_POINTER', 3: 'NN_ERR_SHAPE_MISMATCH', 4: 'NN_ERR_BUFFER_TOO_SMALL', 5: 'NN_ERR_LABEL_OUT_OF_RANGE', 6: 'NN_ERR_NON_FINITE', 7: 'NN_ERR_EMPTY_DATA', 8: 'NN_ERR_BAD_HYPERPARAMETER', 9: 'NN_ERR_INVALID_STATE', 10: 'NN_ERR_DIVERGED', 11: 'NN_ERR_CANCELLED', 12: 'NN_ERR_IO', 13: 'NN_ERR_NOT_FOUND', 14: 'NN_ERR_CORRUPT_FILE', 15: 'NN_ERR_UNSUPPORTED_VERSION', 16: 'NN_ERR_LIMIT_EXCEEDED', 17: 'NN_ERR_BUSY', 18: 'NN_ERR_OUT_OF_MEMORY', 19: 'NN_ERR_INVALID_HANDLE', 20: 'NN_ERR_INTERNAL'}

# nn_activation: Activation functions of dense layers and graph nodes.
NN_ACTIVATION_IDENTITY = 1
NN_ACTIVATION_RELU = 2
NN_ACTIVATION_LEAKY_RELU = 3
NN_ACTIVATION_SIGMOID = 4
NN_ACTIVATION_TANH = 5
NN_ACTIVATION_ELU = 6
NN_ACTIVATION_GELU = 7
NN_ACTIVATION_SOFTPLUS = 8
NN_ACTIVATION_NAMES = {1: 'NN_ACTIVATION_IDENTITY', 2: 'NN_ACTIVATION_RELU', 3: 'NN_ACTIVATION_LEAKY_RELU', 4: 'NN_ACTIVATION_SIGMOID', 5: 'NN_ACTIVATION_TANH', 6: 'NN_ACTIVATION_ELU', 7: 'NN_ACTIVATION_GELU', 8: 'NN_ACTIVATION_SOFTPLUS'}

# nn_loss: The data loss a model is trained with.
NN_LOSS_SOFTMAX_CROSS_ENTROPY = 1
NN_LOSS_MULTICLASS_HINGE = 2
NN_LOSS_MEAN_SQUARED_ERROR = 3
NN_LOSS_BINARY_CROSS_ENTROPY = 4
NN_LOSS_NAMES = {1: 'NN_LOSS_SOFTMAX_CROSS_ENTROPY', 2: 'NN_LOSS_MULTICLASS_HINGE', 3: 'NN_LOSS_MEAN_SQUARED_ERROR', 4: 'NN_LOSS_BINARY_CROSS_ENTROPY'}

# nn_layer_kind: Kinds of layer.
NN_LAYER_DENSE = 1
NN_LAYER_MAXOUT = 2
NN_LAYER_DROPOUT = 3
NN_LAYER_KIND_NAMES = {1: 'NN_LAYER_DENSE', 2: 'NN_LAYER_MAXOUT', 3: 'NN_LAYER_DROPOUT'}

# nn_optimizer: Parameter update rules.
NN_OPTIMIZER_SGD = 1
NN_OPTIMIZER_MOMENTUM = 2
NN_OPTIMIZER_NESTEROV = 3
NN_OPTIMIZER_ADAGRAD = 4
NN_OPTIMIZER_RMSPROP = 5
NN_OPTIMIZER_ADAM = 6
NN_OPTIMIZER_ADAMW = 7
NN_OPTIMIZER_NAMES = {1: 'NN_OPTIMIZER_SGD', 2: 'NN_OPTIMIZER_MOMENTUM', 3: 'NN_OPTIMIZER_NESTEROV', 4: 'NN_OPTIMIZER_ADAGRAD', 5: 'NN_OPTIMIZER_RMSPROP', 6: 'NN_OPTIMIZER_ADAM', 7: 'NN_OPTIMIZER_ADAMW'}

# nn_schedule: Learning-rate schedules (per epoch, over the model's whole training life).
NN_SCHEDULE_CONSTANT = 1
NN_SCHEDULE_STEP_DECAY = 2
NN_SCHEDULE_EXPONENTIAL = 3
NN_SCHEDULE_COSINE = 4
NN_SCHEDULE_NAMES = {1: 'NN_SCHEDULE_CONSTANT', 2: 'NN_SCHEDULE_STEP_DECAY', 3: 'NN_SCHEDULE_EXPONENTIAL', 4: 'NN_SCHEDULE_COSINE'}

# nn_op: Graph operations for nn_graph_op. `parameter` is the op's scalar hyper-parameter where it has one.
NN_OP_MATMUL = 1
NN_OP_AFFINE = 2
NN_OP_BIAS_ADD = 3
NN_OP_ADD = 4
NN_OP_SUB = 5
NN_OP_MUL = 6
NN_OP_SCALE = 7
NN_OP_SUM = 8
NN_OP_MEAN = 9
NN_OP_EXP = 10
NN_OP_LOG = 11
NN_OP_RELU = 12
NN_OP_LEAKY_RELU = 13
NN_OP_SIGMOID = 14
NN_OP_TANH = 15
NN_OP_ELU = 16
NN_OP_GELU = 17
NN_OP_SOFTPLUS = 18
NN_OP_MAXOUT = 19
NN_OP_DROPOUT = 20
NN_OP_SOFTMAX = 21
NN_OP_SOFTMAX_CROSS_ENTROPY = 22
NN_OP_MULTICLASS_HINGE = 23
NN_OP_MEAN_SQUARED_ERROR = 24
NN_OP_BINARY_CROSS_ENTROPY = 25
NN_OP_L2_PENALTY = 26
NN_OP_L1_PENALTY = 27
NN_OP_NAMES = {1: 'NN_OP_MATMUL', 2: 'NN_OP_AFFINE', 3: 'NN_OP_BIAS_ADD', 4: 'NN_OP_ADD', 5: 'NN_OP_SUB', 6: 'NN_OP_MUL', 7: 'NN_OP_SCALE', 8: 'NN_OP_SUM', 9: 'NN_OP_MEAN', 10: 'NN_OP_EXP', 11: 'NN_OP_LOG', 12: 'NN_OP_RELU', 13: 'NN_OP_LEAKY_RELU', 14: 'NN_OP_SIGMOID', 15: 'NN_OP_TANH', 16: 'NN_OP_ELU', 17: 'NN_OP_GELU', 18: 'NN_OP_SOFTPLUS', 19: 'NN_OP_MAXOUT', 20: 'NN_OP_DROPOUT', 21: 'NN_OP_SOFTMAX', 22: 'NN_OP_SOFTMAX_CROSS_ENTROPY', 23: 'NN_OP_MULTICLASS_HINGE', 24: 'NN_OP_MEAN_SQUARED_ERROR', 25: 'NN_OP_BINARY_CROSS_ENTROPY', 26: 'NN_OP_L2_PENALTY', 27: 'NN_OP_L1_PENALTY'}

# nn_stop_reason: Why nn_model_fit ended.
NN_STOP_COMPLETED = 0
NN_STOP_EARLY_STOPPED = 1
NN_STOP_REASON_NAMES = {0: 'NN_STOP_COMPLETED', 1: 'NN_STOP_EARLY_STOPPED'}

class nn_model_info(ctypes.Structure):
    """A model's sizes and counters (nn_model_get_info)."""

class nn_layer_info(ctypes.Structure):
    """One layer's description (nn_model_get_layer)."""

class nn_dataset(ctypes.Structure):
    """Data described by caller-owned arrays, read during the call only and never kept or copied as a whole."""

class nn_epoch_stats(ctypes.Structure):
    """Statistics of one epoch (the training callback, nn_model_get_epoch). Absent values are NaN."""

class nn_train_options(ctypes.Structure):
    """Everything nn_model_fit and nn_model_train_step need besides the data. nn_train_options_init fills every default."""

class nn_train_result(ctypes.Structure):
    """The outcome of nn_model_fit."""

class nn_step_stats(ctypes.Structure):
    """The outcome of nn_model_train_step."""

class nn_evaluation(ctypes.Structure):
    """The outcome of nn_model_evaluate."""

class nn_save_options(ctypes.Structure):
    """How a model is written. Passing NULL where these are accepted means the defaults."""

nn_epoch_callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(nn_epoch_stats), ctypes.c_void_p)

nn_model_info._fields_ = [('struct_size', ctypes.c_uint32), ('input_width', ctypes.c_uint32), ('output_width', ctypes.c_uint32), ('layer_count', ctypes.c_uint32), ('class_count', ctypes.c_uint32), ('loss', ctypes.c_int32), ('parameter_count', ctypes.c_uint64), ('epochs_trained', ctypes.c_uint64), ('steps_trained', ctypes.c_uint64), ('history_count', ctypes.c_uint64), ('has_standardization', ctypes.c_int32), ('metadata_count', ctypes.c_uint32), ('feature_name_count', ctypes.c_uint32), ('class_label_count', ctypes.c_uint32), ('seed', ctypes.c_uint64)]
nn_layer_info._fields_ = [('struct_size', ctypes.c_uint32), ('kind', ctypes.c_int32), ('units', ctypes.c_uint32), ('activation', ctypes.c_int32), ('alpha', ctypes.c_float), ('pieces', ctypes.c_uint32), ('rate', ctypes.c_float), ('input_width', ctypes.c_uint32), ('output_width', ctypes.c_uint32), ('weight_rows', ctypes.c_uint32), ('weight_cols', ctypes.c_uint32)]
nn_dataset._fields_ = [('struct_size', ctypes.c_uint32), ('inputs', ctypes.POINTER(ctypes.c_float)), ('rows', ctypes.c_size_t), ('cols', ctypes.c_size_t), ('labels', ctypes.POINTER(ctypes.c_int32)), ('targets', ctypes.POINTER(ctypes.c_float)), ('target_cols', ctypes.c_size_t), ('sample_weights', ctypes.POINTER(ctypes.c_float))]
nn_epoch_stats._fields_ = [('struct_size', ctypes.c_uint32), ('epoch', ctypes.c_uint32), ('data_loss', ctypes.c_float), ('regularization_loss', ctypes.c_float), ('accuracy', ctypes.c_float), ('validation_loss', ctypes.c_float), ('validation_accuracy', ctypes.c_float), ('learning_rate', ctypes.c_float), ('seconds', ctypes.c_double)]
nn_train_options._fields_ = [('struct_size', ctypes.c_uint32), ('epochs', ctypes.c_uint32), ('batch_size', ctypes.c_uint32), ('optimizer', ctypes.c_int32), ('learning_rate', ctypes.c_float), ('momentum', ctypes.c_float), ('beta1', ctypes.c_float), ('beta2', ctypes.c_float), ('epsilon', ctypes.c_float), ('rho', ctypes.c_float), ('weight_decay', ctypes.c_float), ('schedule', ctypes.c_int32), ('step_milestones', ctypes.POINTER(ctypes.c_uint32)), ('step_milestone_count', ctypes.c_size_t), ('step_factor', ctypes.c_float), ('exponential_gamma', ctypes.c_float), ('cosine_period', ctypes.c_uint32), ('cosine_minimum_factor', ctypes.c_float), ('warmup_epochs', ctypes.c_uint32), ('l2', ctypes.c_float), ('l1', ctypes.c_float), ('gradient_clip_norm', ctypes.c_float), ('validation_fraction', ctypes.c_float), ('early_stopping_patience', ctypes.c_uint32), ('early_stopping_min_delta', ctypes.c_float), ('shuffle', ctypes.c_int32), ('standardize', ctypes.c_int32), ('callback', nn_epoch_callback), ('user_data', ctypes.c_void_p)]
nn_train_result._fields_ = [('struct_size', ctypes.c_uint32), ('epochs_run', ctypes.c_uint32), ('stop_reason', ctypes.c_int32), ('best_epoch', ctypes.c_uint32), ('final', nn_epoch_stats)]
nn_step_stats._fields_ = [('struct_size', ctypes.c_uint32), ('data_loss', ctypes.c_float), ('regularization_loss', ctypes.c_float), ('accuracy', ctypes.c_float), ('learning_rate', ctypes.c_float), ('gradient_norm', ctypes.c_float)]
nn_evaluation._fields_ = [('struct_size', ctypes.c_uint32), ('loss', ctypes.c_float), ('accuracy', ctypes.c_float), ('count', ctypes.c_uint64)]
nn_save_options._fields_ = [('struct_size', ctypes.c_uint32), ('include_training_state', ctypes.c_int32), ('pin_creation_time', ctypes.c_int32), ('creation_time', ctypes.c_int64)]

# name: (restype, [argtypes])
FUNCTIONS = {
    'nn_version_number': (ctypes.c_uint32, []),
    'nn_version_string': (ctypes.c_char_p, []),
    'nn_status_string': (ctypes.c_char_p, [ctypes.c_int32]),
    'nn_last_error_message': (ctypes.c_char_p, []),
    'nn_set_thread_count': (ctypes.c_int32, [ctypes.c_int32]),
    'nn_get_thread_count': (ctypes.c_int32, []),
    'nn_model_create': (ctypes.c_int32, [ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]),
    'nn_model_add_dense': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int32, ctypes.c_float]),
    'nn_model_add_maxout': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]),
    'nn_model_add_dropout': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_float]),
    'nn_model_set_loss': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32]),
    'nn_model_reinitialize': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint64]),
    'nn_model_clone': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]),
    'nn_model_free': (None, [ctypes.c_void_p]),
    'nn_model_info_init': (ctypes.c_int32, [ctypes.POINTER(nn_model_info)]),
    'nn_model_get_info': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_model_info)]),
    'nn_layer_info_init': (ctypes.c_int32, [ctypes.POINTER(nn_layer_info)]),
    'nn_model_get_layer': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(nn_layer_info)]),
    'nn_model_get_weights': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_set_weights': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_model_get_biases': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_set_biases': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_model_set_metadata': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    'nn_model_get_metadata': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_get_metadata_key': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_set_class_labels': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]),
    'nn_model_get_class_label': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_set_feature_names': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]),
    'nn_model_get_feature_name': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_set_standardization': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_model_get_standardization': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_epoch_stats_init': (ctypes.c_int32, [ctypes.POINTER(nn_epoch_stats)]),
    'nn_model_get_epoch': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint64, ctypes.POINTER(nn_epoch_stats)]),
    'nn_dataset_init': (ctypes.c_int32, [ctypes.POINTER(nn_dataset)]),
    'nn_train_options_init': (ctypes.c_int32, [ctypes.POINTER(nn_train_options)]),
    'nn_train_result_init': (ctypes.c_int32, [ctypes.POINTER(nn_train_result)]),
    'nn_model_fit': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_dataset), ctypes.POINTER(nn_dataset), ctypes.POINTER(nn_train_options), ctypes.POINTER(nn_train_result)]),
    'nn_step_stats_init': (ctypes.c_int32, [ctypes.POINTER(nn_step_stats)]),
    'nn_model_train_step': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_dataset), ctypes.POINTER(nn_train_options), ctypes.POINTER(nn_step_stats)]),
    'nn_model_advance_epoch': (ctypes.c_int32, [ctypes.c_void_p]),
    'nn_model_reset_training': (ctypes.c_int32, [ctypes.c_void_p]),
    'nn_evaluation_init': (ctypes.c_int32, [ctypes.POINTER(nn_evaluation)]),
    'nn_model_evaluate': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_dataset), ctypes.POINTER(nn_evaluation)]),
    'nn_model_predict': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_model_predict_proba': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_model_classify': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_save_options_init': (ctypes.c_int32, [ctypes.POINTER(nn_save_options)]),
    'nn_model_save': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(nn_save_options)]),
    'nn_model_load': (ctypes.c_int32, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    'nn_model_serialized_size': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_save_options), ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_save_to_buffer': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(nn_save_options), ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_model_load_from_buffer': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]),
    'nn_model_to_dot': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_graph_create': (ctypes.c_int32, [ctypes.c_uint32, ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]),
    'nn_graph_free': (None, [ctypes.c_void_p]),
    'nn_graph_input': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]),
    'nn_graph_batch_input': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_void_p]),
    'nn_graph_parameter': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]),
    'nn_graph_op': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_float, ctypes.c_void_p]),
    'nn_graph_set_value': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t]),
    'nn_graph_set_batch_size': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_uint32]),
    'nn_graph_set_training': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32]),
    'nn_graph_forward': (ctypes.c_int32, [ctypes.c_void_p]),
    'nn_graph_backward': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32]),
    'nn_graph_value': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_graph_gradient': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    'nn_graph_node_shape': (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32)]),
    'nn_graph_to_dot': (ctypes.c_int32, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
}


def bind(library):
    """Sets restype and argtypes of every function on a loaded ctypes.CDLL and returns it."""
    for name, (restype, argtypes) in FUNCTIONS.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes
    return library
