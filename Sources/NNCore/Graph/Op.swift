/// The operations of the computational graph, identified by a stable enum (never magic numbers).
///
/// Shapes are 2-D, row-major: (rows, cols). A "batched" tensor's row count follows the graph's
/// active batch size. Parameters such as α or the number of maxout pieces travel with the op.
public enum Op: Equatable, Sendable {
    /// A value the caller sets before `forward` (data, labels, or the lecture's x, y, z).
    case input
    /// A trainable value (weights, biases).
    case parameter
    /// A fixed value.
    case constant
    /// A·B through `cblas_sgemm` (`cblas_sgemv` for one row).
    case matmul
    /// X·W + b in one op (b is a row vector broadcast over the rows).
    case affine
    /// X + b for a row vector b broadcast over the rows of X.
    case biasAdd
    /// Element-wise a + b (either side may broadcast along a dimension of size 1).
    case add
    /// Element-wise a − b (with broadcasting like `add`).
    case sub
    /// Element-wise a · b (with broadcasting like `add`).
    case mul
    /// s · x for a constant s.
    case scale(Float)
    /// The sum of all elements, a 1×1 result.
    case sum
    /// The mean of all elements, a 1×1 result.
    case mean
    /// eˣ element-wise.
    case exp
    /// ln x element-wise (−∞ at 0, NaN below, as IEEE says).
    case log
    /// An activation function applied element-wise.
    case activation(Activation)
    /// Maxout: the maximum over each group of `pieces` consecutive columns.
    case maxout(pieces: Int)
    /// Inverted dropout with drop probability `rate`; the identity outside training.
    case dropout(rate: Float)
    /// Row-wise softmax.
    case softmax
    /// Fused softmax + cross-entropy against integer labels: mean over rows of
    /// logsumexp(z) − z_y, computed stably. A 1×1 result.
    case softmaxCrossEntropy
    /// Weston–Watkins multiclass hinge, margin 1: mean over rows of Σ_{j≠y} max(0, s_j − s_y + 1).
    case multiclassHinge
    /// Mean squared error: mean over rows of the mean over columns of (p − t)².
    case meanSquaredError
    /// Binary cross-entropy with logits, stable: mean over rows of the mean over columns of
    /// max(z, 0) − z·t + log(1 + e^−|z|).
    case binaryCrossEntropyWithLogits
    /// λ · Σ x² (a 1×1 result).
    case l2Penalty(lambda: Float)
    /// λ · Σ |x| (a 1×1 result; the subgradient at 0 is 0).
    case l1Penalty(lambda: Float)

    /// A short name, used in messages and in the Graphviz export.
    public var name: String {
        switch self {
        case .input: return "input"
        case .parameter: return "parameter"
        case .constant: return "constant"
        case .matmul: return "matmul"
        case .affine: return "affine"
        case .biasAdd: return "bias_add"
        case .add: return "add"
        case .sub: return "sub"
        case .mul: return "mul"
        case .scale(let s): return "scale(\(s))"
        case .sum: return "sum"
        case .mean: return "mean"
        case .exp: return "exp"
        case .log: return "log"
        case .activation(let a): return a.description
        case .maxout(let k): return "maxout(\(k))"
        case .dropout(let p): return "dropout(\(p))"
        case .softmax: return "softmax"
        case .softmaxCrossEntropy: return "softmax_cross_entropy"
        case .multiclassHinge: return "multiclass_hinge"
        case .meanSquaredError: return "mean_squared_error"
        case .binaryCrossEntropyWithLogits: return "binary_cross_entropy_with_logits"
        case .l2Penalty(let l): return "l2_penalty(\(l))"
        case .l1Penalty(let l): return "l1_penalty(\(l))"
        }
    }

    var isLeaf: Bool {
        switch self {
        case .input, .parameter, .constant: return true
        default: return false
        }
    }
}

/// Element-wise activation functions.
public enum Activation: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// f(x) = x (no activation: a linear layer).
    case identity
    /// f(x) = max(0, x).
    case relu
    /// f(x) = x for x > 0, αx otherwise.
    case leakyReLU(alpha: Float = 0.01)
    /// f(x) = 1 / (1 + e^−x).
    case sigmoid
    /// f(x) = tanh x.
    case tanh
    /// f(x) = x for x > 0, α(eˣ − 1) otherwise.
    case elu(alpha: Float = 1)
    /// f(x) = x·Φ(x), the exact (erf) form.
    case gelu
    /// f(x) = ln(1 + eˣ), computed stably.
    case softplus

    public var description: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .leakyReLU(let a): return a == 0.01 ? "leaky_relu" : "leaky_relu(\(a))"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .elu(let a): return a == 1 ? "elu" : "elu(\(a))"
        case .gelu: return "gelu"
        case .softplus: return "softplus"
        }
    }

    /// Parses "relu", "leaky_relu", "leaky_relu(0.2)", "elu(0.5)", "linear"/"identity", ...
    /// - Throws: `NNError` `.invalidArgument` naming the known activations.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        var name = Substring(lower)
        var parameter: Float?
        if let open = lower.firstIndex(of: "("), lower.hasSuffix(")") {
            name = lower[..<open]
            let inner = lower[lower.index(after: open) ..< lower.index(before: lower.endIndex)]
            guard let value = Float(inner), value.isFinite else {
                throw NNError.invalidArgument("activation '\(text)': '\(inner)' is not a number")
            }
            parameter = value
        }
        switch name {
        case "identity", "linear", "none": self = .identity
        case "relu": self = .relu
        case "leaky_relu", "leakyrelu", "lrelu": self = .leakyReLU(alpha: parameter ?? 0.01)
        case "sigmoid", "logistic": self = .sigmoid
        case "tanh": self = .tanh
        case "elu": self = .elu(alpha: parameter ?? 1)
        case "gelu": self = .gelu
        case "softplus": self = .softplus
        default:
            throw NNError.invalidArgument(
                "unknown activation '\(text)'; known: identity, relu, leaky_relu(α), sigmoid, tanh, elu(α), gelu, softplus")
        }
        if parameter != nil, !(name.hasPrefix("leaky") || name == "lrelu" || name == "elu") {
            throw NNError.invalidArgument("activation '\(name)' takes no parameter")
        }
    }

    /// Whether its derivative can be computed from its output alone, so that the output may
    /// overwrite the input (`Graph.fusesActivations`): true where f′ is a function of f(x) —
    /// for ReLU, leaky ReLU and ELU with α ≥ 0 because f(x) > 0 exactly when x > 0.
    var backwardNeedsOnlyOutput: Bool {
        switch self {
        case .identity, .relu, .sigmoid, .tanh: return true
        case .leakyReLU(let alpha), .elu(let alpha): return alpha >= 0
        case .gelu, .softplus: return false
        }
    }

    /// Whether He initialisation suits it (the ReLU family) rather than Glorot.
    public var isReLUFamily: Bool {
        switch self {
        case .relu, .leakyReLU, .elu, .gelu, .softplus: return true
        case .identity, .sigmoid, .tanh: return false
        }
    }
}
