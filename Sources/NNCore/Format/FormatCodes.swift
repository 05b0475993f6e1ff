// The numbers the model file uses for each enum (schema/nncore.proto). Pinned forever.

extension Activation {
    var fileCode: Int {
        switch self {
        case .identity: return 1
        case .relu: return 2
        case .leakyReLU: return 3
        case .sigmoid: return 4
        case .tanh: return 5
        case .elu: return 6
        case .gelu: return 7
        case .softplus: return 8
        }
    }

    var fileAlpha: Float {
        switch self {
        case .leakyReLU(let alpha), .elu(let alpha): return alpha
        default: return 0
        }
    }

    init?(fileCode: Int, alpha: Float) {
        switch fileCode {
        case 1: self = .identity
        case 2: self = .relu
        case 3: self = .leakyReLU(alpha: alpha)
        case 4: self = .sigmoid
        case 5: self = .tanh
        case 6: self = .elu(alpha: alpha)
        case 7: self = .gelu
        case 8: self = .softplus
        default: return nil
        }
    }
}

extension Loss {
    var fileCode: Int {
        switch self {
        case .softmaxCrossEntropy: return 1
        case .multiclassHinge: return 2
        case .meanSquaredError: return 3
        case .binaryCrossEntropy: return 4
        }
    }

    init?(fileCode: Int) {
        switch fileCode {
        case 1: self = .softmaxCrossEntropy
        case 2: self = .multiclassHinge
        case 3: self = .meanSquaredError
        case 4: self = .binaryCrossEntropy
        default: return nil
        }
    }
}

extension Initializer {
    var fileCode: (kind: Int, scale: Float) {
        switch self {
        case .automatic: return (1, 0)
        case .he: return (2, 0)
        case .glorot: return (3, 0)
        case .normal(let std): return (4, std)
        case .uniform(let limit): return (5, limit)
        }
    }

    init?(fileCode: Int, scale: Float) {
        switch fileCode {
        case 1: self = .automatic
        case 2: self = .he
        case 3: self = .glorot
        case 4: self = .normal(std: scale)
        case 5: self = .uniform(limit: scale)
        default: return nil
        }
    }
}

/// An optimiser as the file stores it: a kind and every hyper-parameter field.
struct OptimizerFields {
    var kind = 0
    var momentum: Float = 0, epsilon: Float = 0, decay: Float = 0
    var beta1: Float = 0, beta2: Float = 0, weightDecay: Float = 0

    init(_ optimizer: Optimizer) {
        switch optimizer {
        case .sgd: kind = 1
        case .momentum(let mu): kind = 2; momentum = mu
        case .nesterov(let mu): kind = 3; momentum = mu
        case .adagrad(let eps): kind = 4; epsilon = eps
        case .rmsprop(let rho, let eps): kind = 5; decay = rho; epsilon = eps
        case .adam(let b1, let b2, let eps): kind = 6; beta1 = b1; beta2 = b2; epsilon = eps
        case .adamW(let b1, let b2, let eps, let wd): kind = 7; beta1 = b1; beta2 = b2; epsilon = eps; weightDecay = wd
        }
    }

    init(kind: Int, momentum: Float, epsilon: Float, decay: Float, beta1: Float, beta2: Float, weightDecay: Float) {
        self.kind = kind
        self.momentum = momentum; self.epsilon = epsilon; self.decay = decay
        self.beta1 = beta1; self.beta2 = beta2; self.weightDecay = weightDecay
    }

    var optimizer: Optimizer? {
        switch kind {
        case 1: return .sgd
        case 2: return .momentum(momentum)
        case 3: return .nesterov(momentum)
        case 4: return .adagrad(epsilon: epsilon)
        case 5: return .rmsprop(decay: decay, epsilon: epsilon)
        case 6: return .adam(beta1: beta1, beta2: beta2, epsilon: epsilon)
        case 7: return .adamW(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
        default: return nil
        }
    }
}

/// A schedule as the file stores it: flat, with the warm-up as a number of epochs in front.
struct ScheduleFields {
    var kind = 1
    var milestones: [UInt32] = []
    var factor: Float = 0, gamma: Float = 0, minimumFactor: Float = 0
    var period: UInt32 = 0
    var warmupEpochs: UInt32 = 0

    init(_ schedule: Schedule) {
        var inner = schedule
        if case .warmup(let epochs, let then) = schedule {
            warmupEpochs = UInt32(clamping: epochs)
            inner = then
        }
        switch inner {
        case .constant, .warmup: kind = 1
        case .stepDecay(let m, let f): kind = 2; milestones = m.map { UInt32(clamping: $0) }; factor = f
        case .exponential(let g): kind = 3; gamma = g
        case .cosine(let p, let minimum): kind = 4; period = UInt32(clamping: p); minimumFactor = minimum
        }
    }

    init(kind: Int, milestones: [UInt32], factor: Float, gamma: Float, period: UInt32, minimumFactor: Float, warmupEpochs: UInt32) {
        self.kind = kind; self.milestones = milestones; self.factor = factor; self.gamma = gamma
        self.period = period; self.minimumFactor = minimumFactor; self.warmupEpochs = warmupEpochs
    }

    var schedule: Schedule? {
        let inner: Schedule
        switch kind {
        case 1: inner = .constant
        case 2: inner = .stepDecay(milestones: milestones.map(Int.init), factor: factor)
        case 3: inner = .exponential(gamma: gamma)
        case 4: inner = .cosine(period: Int(period), minimumFactor: minimumFactor)
        default: return nil
        }
        return warmupEpochs > 0 ? .warmup(epochs: Int(warmupEpochs), then: inner) : inner
    }
}
