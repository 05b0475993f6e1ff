/// Training or evaluation data: inputs plus class labels or real-valued targets, and optional
/// per-sample weights.
public struct Dataset: Equatable, Sendable {
    /// What the model should predict for each row.
    public enum Targets: Equatable, Sendable {
        /// One class index per row (softmax, hinge; 0/1 for a one-output binary cross-entropy model).
        case labels([Int])
        /// One row of real targets per input row (MSE; probabilities in [0, 1] for binary cross-entropy).
        case values(Matrix)
    }

    /// One row per sample.
    public var inputs: Matrix
    /// The targets.
    public var targets: Targets
    /// Optional non-negative weight per sample; losses become Σwᵢℓᵢ / Σwᵢ.
    public var sampleWeights: [Float]?

    /// Data with class labels. - Throws: `.shapeMismatch` when the counts differ.
    public init(inputs: Matrix, labels: [Int], sampleWeights: [Float]? = nil) throws {
        guard labels.count == inputs.rows else {
            throw NNError.shapeMismatch("\(inputs.rows) input rows but \(labels.count) labels")
        }
        try self.init(inputs: inputs, targets: .labels(labels), sampleWeights: sampleWeights)
    }

    /// Data with real-valued targets. - Throws: `.shapeMismatch` when the row counts differ.
    public init(inputs: Matrix, targets: Matrix, sampleWeights: [Float]? = nil) throws {
        guard targets.rows == inputs.rows else {
            throw NNError.shapeMismatch("\(inputs.rows) input rows but \(targets.rows) target rows")
        }
        try self.init(inputs: inputs, targets: .values(targets), sampleWeights: sampleWeights)
    }

    private init(inputs: Matrix, targets: Targets, sampleWeights: [Float]?) throws {
        if let sampleWeights, sampleWeights.count != inputs.rows {
            throw NNError.shapeMismatch("\(inputs.rows) input rows but \(sampleWeights.count) sample weights")
        }
        self.inputs = inputs
        self.targets = targets
        self.sampleWeights = sampleWeights
    }

    /// The number of samples.
    public var count: Int { inputs.rows }

    /// Borrows the data as a `DataView` for the duration of `body`.
    func withView<R>(_ body: (DataView) throws -> R) throws -> R {
        try inputs.values.withUnsafeBufferPointer { x in
            try (sampleWeights ?? []).withUnsafeBufferPointer { w in
                let weights = sampleWeights == nil ? nil : w
                switch targets {
                case .labels(let labels):
                    var narrow = [Int32](repeating: 0, count: labels.count)
                    for (i, label) in labels.enumerated() {
                        guard let value = Int32(exactly: label) else {
                            throw NNError(.labelOutOfRange, "row \(i): label \(label) is out of range")
                        }
                        narrow[i] = value
                    }
                    return try narrow.withUnsafeBufferPointer { y in
                        try body(DataView(inputs: x, rows: inputs.rows, cols: inputs.cols, labels: y,
                                          targets: nil, targetWidth: 0, weights: weights))
                    }
                case .values(let targets):
                    return try targets.values.withUnsafeBufferPointer { t in
                        try body(DataView(inputs: x, rows: inputs.rows, cols: inputs.cols, labels: nil,
                                          targets: t, targetWidth: targets.cols, weights: weights))
                    }
                }
            }
        }
    }
}

/// Data borrowed from its owner for the length of one call (the library never keeps it and never
/// copies the inputs as a whole). Used by the Swift API and the C ABI alike.
package struct DataView {
    /// rows × cols inputs, row-major.
    package var inputs: UnsafeBufferPointer<Float>
    package var rows: Int
    package var cols: Int
    /// One class index per row, or nil.
    package var labels: UnsafeBufferPointer<Int32>?
    /// rows × targetWidth real targets, or nil.
    package var targets: UnsafeBufferPointer<Float>?
    package var targetWidth: Int
    /// One weight per row, or nil.
    package var weights: UnsafeBufferPointer<Float>?

    package init(inputs: UnsafeBufferPointer<Float>, rows: Int, cols: Int, labels: UnsafeBufferPointer<Int32>?,
                 targets: UnsafeBufferPointer<Float>?, targetWidth: Int, weights: UnsafeBufferPointer<Float>?) {
        self.inputs = inputs
        self.rows = rows
        self.cols = cols
        self.labels = labels
        self.targets = targets
        self.targetWidth = targetWidth
        self.weights = weights
    }

    /// Checks the data against a model before any of it is used.
    /// - Throws: `.emptyData`, `.shapeMismatch`, `.nonFiniteValue`, `.labelOutOfRange`,
    ///   `.invalidArgument` (wrong kind of targets for the loss, bad sample weights).
    func validate(for model: Model, role: String = "data") throws {
        guard rows >= 1 else { throw NNError(.emptyData, "the \(role) has no samples") }
        guard cols == model.inputWidth else {
            throw NNError.shapeMismatch("the model expects \(model.inputWidth) inputs per row, the \(role) has \(cols)")
        }
        guard rows <= Int(Int32.max) else {
            throw NNError(.limitExceeded, "the \(role) has \(rows) rows; at most \(Int32.max) are supported")
        }
        let inputCount = try checkedProduct(rows, cols, "\(role) size")
        guard inputs.count >= inputCount else {
            throw NNError.shapeMismatch("the \(role) needs \(inputCount) input values, got \(inputs.count)")
        }
        // One SIMD pass; the scalar search for the culprit runs only when there is one.
        if !allFinite(inputs.baseAddress!, count: inputCount) {
            for i in 0 ..< inputCount where !inputs[i].isFinite {
                throw NNError(.nonFiniteValue, "the \(role) has \(inputs[i]) at row \(i / cols), column \(i % cols)")
            }
        }
        let loss = model.loss, width = model.outputWidth
        if let labels {
            guard labels.count >= rows else { throw NNError.shapeMismatch("the \(role) has \(rows) rows but \(labels.count) labels") }
            let classes: Int
            switch loss {
            case .softmaxCrossEntropy, .multiclassHinge: classes = width
            case .binaryCrossEntropy:
                guard width == 1 else {
                    throw NNError.invalidArgument("a binary cross-entropy model with \(width) outputs needs a \(width)-column target matrix, not class labels")
                }
                classes = 2
            case .meanSquaredError:
                throw NNError.invalidArgument("a mean-squared-error model needs real-valued targets, not class labels")
            }
            for i in 0 ..< rows where labels[i] < 0 || Int(labels[i]) >= classes {
                throw NNError(.labelOutOfRange, "the \(role) has label \(labels[i]) at row \(i); the model has classes 0..<\(classes)")
            }
        } else if let targets {
            switch loss {
            case .softmaxCrossEntropy, .multiclassHinge:
                throw NNError.invalidArgument("a \(loss.rawValue) classifier needs integer class labels, not a target matrix")
            case .meanSquaredError, .binaryCrossEntropy:
                guard targetWidth == width else {
                    throw NNError.shapeMismatch("the model has \(width) outputs, the \(role)'s targets have \(targetWidth) columns")
                }
            }
            let targetCount = try checkedProduct(rows, targetWidth, "\(role) targets")
            guard targets.count >= targetCount else {
                throw NNError.shapeMismatch("the \(role) needs \(targetCount) target values, got \(targets.count)")
            }
            for i in 0 ..< targetCount {
                let t = targets[i]
                guard t.isFinite else {
                    throw NNError(.nonFiniteValue, "the \(role) has target \(t) at row \(i / targetWidth), column \(i % targetWidth)")
                }
                if loss == .binaryCrossEntropy, !(0 ... 1).contains(t) {
                    throw NNError.invalidArgument("binary cross-entropy targets must be in [0, 1]; the \(role) has \(t) at row \(i / targetWidth)")
                }
            }
        } else {
            throw NNError.invalidArgument("the \(role) has neither labels nor targets")
        }
        if let weights {
            guard weights.count >= rows else { throw NNError.shapeMismatch("the \(role) has \(rows) rows but \(weights.count) sample weights") }
            var total: Double = 0
            for i in 0 ..< rows {
                guard weights[i].isFinite, weights[i] >= 0 else {
                    throw NNError.invalidArgument("the \(role) has sample weight \(weights[i]) at row \(i); weights must be finite and ≥ 0")
                }
                total += Double(weights[i])
            }
            guard total > 0 else { throw NNError.invalidArgument("the \(role)'s sample weights sum to 0") }
        }
    }
}

/// Per-feature input standardisation x′ = (x − mean) / scale, kept with the model.
public struct Standardization: Equatable, Sendable {
    /// Per-feature means.
    public var mean: [Float]
    /// Per-feature scales (standard deviations; 1 where a feature is constant).
    public var scale: [Float]

    /// - Throws: `.shapeMismatch` when the arrays differ in length.
    public init(mean: [Float], scale: [Float]) throws {
        guard mean.count == scale.count else {
            throw NNError.shapeMismatch("standardisation has \(mean.count) means and \(scale.count) scales")
        }
        self.mean = mean
        self.scale = scale
    }

    /// Writes `rows` standardised rows of `cols` (the standardisation's width) floats from
    /// `source` to `destination`, both rows × cols contiguous.
    func apply(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        mean.withUnsafeBufferPointer { mean in
            scale.withUnsafeBufferPointer { scale in
                for r in 0 ..< rows {
                    let src = source + r &* cols, dst = destination + r &* cols
                    for j in 0 ..< cols { dst[j] = (src[j] - mean[j]) / scale[j] }
                }
            }
        }
    }

    func validate(width: Int) throws {
        guard mean.count == width else {
            throw NNError.shapeMismatch("standardisation covers \(mean.count) features, the model has \(width) inputs")
        }
        for j in 0 ..< width {
            guard mean[j].isFinite else { throw NNError(.nonFiniteValue, "standardisation mean \(j) is \(mean[j])") }
            guard scale[j].isFinite, scale[j] > 0 else {
                throw NNError.badHyperparameter("standardisation scale \(j) must be finite and positive, got \(scale[j])")
            }
        }
    }

    /// Mean and (population) standard deviation of the given rows, computed in Double.
    static func fit(_ data: DataView, rows: UnsafeBufferPointer<Int32>) -> Standardization {
        let cols = data.cols
        var sum = [Double](repeating: 0, count: cols), squares = [Double](repeating: 0, count: cols)
        for r in rows {
            let base = Int(r) * cols
            for j in 0 ..< cols {
                let v = Double(data.inputs[base + j])
                sum[j] += v
                squares[j] += v * v
            }
        }
        let n = Double(max(rows.count, 1))
        var mean = [Float](repeating: 0, count: cols), scale = [Float](repeating: 1, count: cols)
        for j in 0 ..< cols {
            let m = sum[j] / n
            let variance = max(squares[j] / n - m * m, 0)
            mean[j] = Float(m)
            let sd = Float(variance.squareRoot())
            scale[j] = sd > 1e-12 && sd.isFinite ? sd : 1
        }
        return Standardization(uncheckedMean: mean, scale: scale)
    }

    private init(uncheckedMean mean: [Float], scale: [Float]) {
        self.mean = mean
        self.scale = scale
    }
}
