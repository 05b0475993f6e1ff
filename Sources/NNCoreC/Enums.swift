// The C ABI's enum values (include/nncore.h) ↔ the engine's Swift types. Pinned forever.
import CNNCore
import NNCore

func loss(_ value: nn_loss) throws -> Loss {
    switch Int(value) {
    case Int(NN_LOSS_SOFTMAX_CROSS_ENTROPY): return .softmaxCrossEntropy
    case Int(NN_LOSS_MULTICLASS_HINGE): return .multiclassHinge
    case Int(NN_LOSS_MEAN_SQUARED_ERROR): return .meanSquaredError
    case Int(NN_LOSS_BINARY_CROSS_ENTROPY): return .binaryCrossEntropy
    default: throw NNError.invalidArgument("\(value) is not an nn_loss value")
    }
}

func code(_ loss: Loss) -> nn_loss {
    switch loss {
    case .softmaxCrossEntropy: return nn_loss(NN_LOSS_SOFTMAX_CROSS_ENTROPY)
    case .multiclassHinge: return nn_loss(NN_LOSS_MULTICLASS_HINGE)
    case .meanSquaredError: return nn_loss(NN_LOSS_MEAN_SQUARED_ERROR)
    case .binaryCrossEntropy: return nn_loss(NN_LOSS_BINARY_CROSS_ENTROPY)
    }
}

func activation(_ value: nn_activation, alpha: Float) throws -> Activation {
    switch Int(value) {
    case Int(NN_ACTIVATION_IDENTITY): return .identity
    case Int(NN_ACTIVATION_RELU): return .relu
    case Int(NN_ACTIVATION_LEAKY_RELU): return .leakyReLU(alpha: alpha)
    case Int(NN_ACTIVATION_SIGMOID): return .sigmoid
    case Int(NN_ACTIVATION_TANH): return .tanh
    case Int(NN_ACTIVATION_ELU): return .elu(alpha: alpha)
    case Int(NN_ACTIVATION_GELU): return .gelu
    case Int(NN_ACTIVATION_SOFTPLUS): return .softplus
    default: throw NNError.invalidArgument("\(value) is not an nn_activation value")
    }
}

func code(_ activation: Activation) -> (nn_activation, Float) {
    switch activation {
    case .identity: return (nn_activation(NN_ACTIVATION_IDENTITY), 0)
    case .relu: return (nn_activation(NN_ACTIVATION_RELU), 0)
    case .leakyReLU(let alpha): return (nn_activation(NN_ACTIVATION_LEAKY_RELU), alpha)
    case .sigmoid: return (nn_activation(NN_ACTIVATION_SIGMOID), 0)
    case .tanh: return (nn_activation(NN_ACTIVATION_TANH), 0)
    case .elu(let alpha): return (nn_activation(NN_ACTIVATION_ELU), alpha)
    case .gelu: return (nn_activation(NN_ACTIVATION_GELU), 0)
    case .softplus: return (nn_activation(NN_ACTIVATION_SOFTPLUS), 0)
    }
}

func optimizer(_ o: nn_train_options) throws -> Optimizer {
    switch Int(o.optimizer) {
    case Int(NN_OPTIMIZER_SGD): return .sgd
    case Int(NN_OPTIMIZER_MOMENTUM): return .momentum(o.momentum)
    case Int(NN_OPTIMIZER_NESTEROV): return .nesterov(o.momentum)
    case Int(NN_OPTIMIZER_ADAGRAD): return .adagrad(epsilon: o.epsilon)
    case Int(NN_OPTIMIZER_RMSPROP): return .rmsprop(decay: o.rho, epsilon: o.epsilon)
    case Int(NN_OPTIMIZER_ADAM): return .adam(beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon)
    case Int(NN_OPTIMIZER_ADAMW): return .adamW(beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weight_decay)
    default: throw NNError.invalidArgument("\(o.optimizer) is not an nn_optimizer value")
    }
}

func schedule(_ o: nn_train_options) throws -> Schedule {
    let inner: Schedule
    switch Int(o.schedule) {
    case Int(NN_SCHEDULE_CONSTANT):
        inner = .constant
    case Int(NN_SCHEDULE_STEP_DECAY):
        let milestones = try buffer(o.step_milestones, o.step_milestone_count, "options->step_milestones")
        inner = .stepDecay(milestones: milestones.map { Int($0) }, factor: o.step_factor)
    case Int(NN_SCHEDULE_EXPONENTIAL):
        inner = .exponential(gamma: o.exponential_gamma)
    case Int(NN_SCHEDULE_COSINE):
        inner = .cosine(period: Int(o.cosine_period), minimumFactor: o.cosine_minimum_factor)
    default:
        throw NNError.invalidArgument("\(o.schedule) is not an nn_schedule value")
    }
    return o.warmup_epochs > 0 ? .warmup(epochs: Int(o.warmup_epochs), then: inner) : inner
}
