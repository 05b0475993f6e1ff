/// One layer of a feed-forward network, described at run time (a model read from a file is a
/// list of these, not a compile-time type).
public enum Layer: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A fully connected layer: y = f(x·W + b) with W of shape (inputs, units).
    case dense(units: Int, activation: Activation = .identity)
    /// A maxout layer: x·W + b with `units × pieces` outputs, then the maximum of each group
    /// of `pieces` consecutive outputs.
    case maxout(units: Int, pieces: Int)
    /// Inverted dropout with drop probability `rate` (training only; the identity otherwise).
    case dropout(rate: Float)

    public var description: String {
        switch self {
        case .dense(let units, let activation):
            return activation == .identity ? "dense(\(units))" : "dense(\(units), \(activation))"
        case .maxout(let units, let pieces): return "maxout(\(units), pieces: \(pieces))"
        case .dropout(let rate): return "dropout(\(rate))"
        }
    }

    /// Whether the layer owns weights and biases.
    public var isTrainable: Bool {
        if case .dropout = self { return false }
        return true
    }

    /// The layer's output width given its input width.
    public func outputWidth(inputWidth: Int) -> Int {
        switch self {
        case .dense(let units, _), .maxout(let units, _): return units
        case .dropout: return inputWidth
        }
    }

    /// Columns of the layer's weight matrix (units, or units × pieces for maxout).
    var weightColumns: Int {
        switch self {
        case .dense(let units, _): return units
        case .maxout(let units, let pieces): return units * pieces
        case .dropout: return 0
        }
    }
}

/// The data loss a model is trained with. The raw value is the short name used by the CLI,
/// Python and the model file.
public enum Loss: String, Equatable, Hashable, Sendable, CaseIterable {
    /// Softmax cross-entropy over the output scores, for single-label classification.
    case softmaxCrossEntropy = "softmax"
    /// Weston–Watkins multiclass SVM hinge loss with margin 1, for classification.
    case multiclassHinge = "hinge"
    /// Mean squared error, for regression.
    case meanSquaredError = "mse"
    /// Binary cross-entropy with logits: one output per independent yes/no target.
    case binaryCrossEntropy = "bce"

    /// Parses a short name ("softmax", "hinge", "mse", "bce") or a long alias.
    /// - Throws: `.invalidArgument` naming the known losses.
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "softmax", "cross_entropy", "crossentropy", "softmax_cross_entropy", "log_loss": self = .softmaxCrossEntropy
        case "hinge", "svm", "multiclass_hinge": self = .multiclassHinge
        case "mse", "squared_error", "mean_squared_error", "l2": self = .meanSquaredError
        case "bce", "binary_cross_entropy", "sigmoid": self = .binaryCrossEntropy
        default: throw NNError.invalidArgument("unknown loss '\(text)'; known: softmax, hinge, mse, bce")
        }
    }

    /// Whether predictions are classes (accuracy is defined).
    public var isClassification: Bool { self != .meanSquaredError }
}

/// How a model's weights are drawn. Biases always start at zero.
public enum Initializer: Equatable, Hashable, Sendable {
    /// He for the ReLU family (and maxout), Glorot for tanh, sigmoid and linear layers.
    case automatic
    /// He (Kaiming) normal: N(0, 2 / fan_in).
    case he
    /// Glorot (Xavier) uniform: U(−√(6 / (fan_in + fan_out)), +…).
    case glorot
    /// N(0, std²) for every layer (the lecture's `0.01 * randn`).
    case normal(std: Float)
    /// U(−limit, limit) for every layer.
    case uniform(limit: Float)
}

/// Hard limits on model sizes; a model (or a file) that exceeds them is refused.
public enum Limits {
    /// Most layers in a model.
    public static let maxLayers = 1024
    /// Widest layer (inputs or units × pieces).
    public static let maxWidth = 1 << 24
    /// Most maxout pieces.
    public static let maxPieces = 64
    /// Most parameters in a model (about 4 GiB of float32).
    public static let maxParameters = 1 << 30
}
