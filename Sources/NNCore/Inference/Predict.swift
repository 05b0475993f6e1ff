// Inference: raw outputs, probabilities, classes and evaluation, on any number of rows, from any
// number of threads at once. Each call borrows a compiled inference graph from the model's pool
// (or compiles one the first time), so steady-state prediction allocates only its result.

/// What `predict` returns for each output row.
package enum OutputKind: Sendable {
    /// The last layer's outputs (scores/logits for classifiers).
    case raw
    /// Class probabilities: softmax rows (softmax loss) or per-output sigmoids (binary cross-entropy).
    case probabilities
}

/// Mean loss and accuracy of a model on some data.
public struct Evaluation: Equatable, Sendable {
    /// The mean data loss (weighted by the sample weights, if any; no regularisation).
    public var loss: Float
    /// The share classified correctly (weighted likewise); nil for regression.
    public var accuracy: Float?
    /// The number of samples.
    public var count: Int
}

extension Model {
    /// Rows per inference batch beyond single-row calls (fewer for very wide models, see
    /// `batchCapacity(limit:)`). Large batches keep the products efficient: 1,024 rows of net M
    /// ran about a fifth faster per row than 256.
    static let inferenceBatch = 1024

    /// The last layer's outputs for each input row: a (rows × outputWidth) matrix.
    /// Inputs are standardised first when the model has a standardisation.
    ///
    /// The model keeps its predictions' working memory for later calls (`probabilities` and
    /// `classify` alike): per call running at the same time, one inference graph for single rows
    /// and one for batches, each with the activations of its rows and, on AVX2 machines, a copy
    /// of the weights packed for the product loops (for single rows, only when no layer's packed
    /// weights exceed 64 MiB). Later calls allocate only their result.
    /// - Throws: `.shapeMismatch` for a wrong width, `.nonFiniteValue` for NaN/∞ inputs,
    ///   `.invalidState` for a model without layers.
    /// - Thread safety: safe to call from many threads on the same model.
    public func predict(_ inputs: Matrix) throws -> Matrix {
        try output(inputs, kind: .raw)
    }

    /// Class probabilities: softmax of the scores (softmax cross-entropy) or the sigmoid of each
    /// output (binary cross-entropy).
    /// - Throws: as `predict`; `.invalidState` for hinge and MSE models, which define no probabilities.
    public func probabilities(_ inputs: Matrix) throws -> Matrix {
        try output(inputs, kind: .probabilities)
    }

    /// The predicted class of each row: the argmax of the scores, or for a one-output binary
    /// cross-entropy model 1 when the logit is positive.
    /// - Throws: as `predict`; `.invalidState` for regression and multi-output binary models.
    public func classify(_ inputs: Matrix) throws -> [Int] {
        var classes = [Int32](repeating: 0, count: inputs.rows)
        try inputs.values.withUnsafeBufferPointer { x in
            try classes.withUnsafeMutableBufferPointer { try classify(inputs: x, rows: inputs.rows, into: $0) }
        }
        return classes.map(Int.init)
    }

    /// Mean data loss and accuracy on `data` (dropout off, no regularisation term).
    /// - Throws: the data errors of `fit`.
    public func evaluate(_ data: Dataset) throws -> Evaluation {
        try data.withView { try evaluate(view: $0) }
    }

    /// `evaluate` on borrowed data (the C ABI's entry point).
    package func evaluate(view data: DataView) throws -> Evaluation {
        try requireLayers()
        try data.validate(for: self)
        let rows = (0 ..< Int32(data.rows)).map { $0 }
        let evaluator = try ModelGraph(model: storage, capacity: batchCapacity(limit: min(data.rows, 1024)),
                                       purpose: .evaluation(weighted: data.weights != nil))
        let result = try rows.withUnsafeBufferPointer { try storage.evaluate(evaluator, data, rows: $0) }
        return Evaluation(loss: result.loss, accuracy: result.accuracy, count: data.rows)
    }

    private func output(_ inputs: Matrix, kind: OutputKind) throws -> Matrix {
        guard inputs.cols == inputWidth else {
            throw NNError.shapeMismatch("the model expects \(inputWidth) inputs per row, got \(inputs.cols)")
        }
        var result = [Float](repeating: 0, count: inputs.rows * outputWidth)
        try inputs.values.withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer { try predict(inputs: x, rows: inputs.rows, into: $0, kind: kind) }
        }
        return try Matrix(rows: inputs.rows, cols: outputWidth, values: result)
    }

    /// Writes `rows` output rows for `rows` input rows into caller-owned memory.
    /// - Throws: `.bufferTooSmall`, `.shapeMismatch`, `.nonFiniteValue`, `.invalidState`.
    package func predict(inputs: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>,
                         kind: OutputKind) throws {
        try requireLayers()
        if kind == .probabilities {
            switch loss {
            case .softmaxCrossEntropy, .binaryCrossEntropy: break
            case .multiclassHinge, .meanSquaredError:
                throw NNError.invalidState("a \(loss.rawValue) model has no probabilities; use the raw outputs")
            }
        }
        let width = outputWidth
        let needed = try checkedProduct(rows, width, "output size")
        let given = try checkedProduct(rows, inputWidth, "input size")
        guard inputs.count >= given else {
            throw NNError.shapeMismatch("\(rows) rows of \(inputWidth) inputs need \(given) values, got \(inputs.count)")
        }
        guard output.count >= needed else {
            throw NNError(.bufferTooSmall, "\(rows) rows of \(width) outputs need room for \(needed) values, the buffer holds \(output.count)")
        }
        guard rows > 0 else { return }
        let checked = rows > batchCapacity(limit: Model.inferenceBatch)
        if checked { try Model.requireFinite(inputs, count: given, cols: inputWidth) }
        try withInferenceGraph(rows: rows) { mg in
            var first = 0
            while first < rows {
                let n = min(mg.graph.batchCapacity, rows - first)
                try mg.forward(inputs: inputs.baseAddress!, first: first, count: n, cols: inputWidth,
                               standardization: storage.standardization, revision: storage.revision,
                               inputsChecked: checked)
                let y = mg.graph.valuePointer(mg.output.id)
                let destination = output.baseAddress! + first &* width
                switch kind {
                case .raw:
                    destination.update(from: y, count: n &* width)
                case .probabilities where loss == .softmaxCrossEntropy:
                    Softmax.forward(x: y, y: destination, rows: n, cols: width)
                case .probabilities:
                    for i in 0 ..< n &* width { destination[i] = ActivationKernel.sigmoid(y[i]) }
                }
                first += n
            }
        }
    }

    /// Writes one class index per input row into caller-owned memory.
    /// - Throws: as `predict(inputs:rows:into:kind:)`; `.invalidState` for models without classes.
    package func classify(inputs: UnsafeBufferPointer<Float>, rows: Int, into classes: UnsafeMutableBufferPointer<Int32>) throws {
        try requireLayers()
        let width = outputWidth
        switch loss {
        case .meanSquaredError:
            throw NNError.invalidState("a regression (mse) model has no classes; use the raw outputs")
        case .binaryCrossEntropy where width != 1:
            throw NNError.invalidState("a binary cross-entropy model with \(width) outputs is multi-label; use probabilities")
        default: break
        }
        guard classes.count >= rows else {
            throw NNError(.bufferTooSmall, "\(rows) rows need room for \(rows) classes, the buffer holds \(classes.count)")
        }
        let given = try checkedProduct(rows, inputWidth, "input size")
        guard inputs.count >= given else {
            throw NNError.shapeMismatch("\(rows) rows of \(inputWidth) inputs need \(given) values, got \(inputs.count)")
        }
        guard rows > 0 else { return }
        let checked = rows > batchCapacity(limit: Model.inferenceBatch)
        if checked { try Model.requireFinite(inputs, count: given, cols: inputWidth) }
        try withInferenceGraph(rows: rows) { mg in
            var first = 0
            while first < rows {
                let n = min(mg.graph.batchCapacity, rows - first)
                try mg.forward(inputs: inputs.baseAddress!, first: first, count: n, cols: inputWidth,
                               standardization: storage.standardization, revision: storage.revision,
                               inputsChecked: checked)
                let y = mg.graph.valuePointer(mg.output.id)
                for r in 0 ..< n {
                    let row = y + r &* width
                    var best = 0
                    if width == 1 {
                        best = row[0] > 0 ? 1 : 0
                    } else {
                        for j in 1 ..< width where row[j] > row[best] { best = j }
                    }
                    classes[first + r] = Int32(best)
                }
                first += n
            }
        }
    }

    /// Inputs spanning several batches are checked before the first batch is written, so that a
    /// NaN in a later batch leaves the caller's output untouched (a single batch is checked as it
    /// is loaded, before anything is written).
    /// - Throws: `.nonFiniteValue` naming the row (counted from `firstRow`) and column of the first
    ///   NaN or ±∞.
    static func requireFinite(_ inputs: UnsafeBufferPointer<Float>, count: Int, cols: Int, firstRow: Int = 0) throws {
        guard count > 0, !allFinite(inputs.baseAddress!, count: count) else { return }
        for i in 0 ..< count where !inputs[i].isFinite {
            throw NNError(.nonFiniteValue, "input row \(firstRow + i / cols), column \(i % cols) is \(inputs[i])")
        }
    }

    func requireLayers() throws {
        guard !layers.isEmpty else { throw NNError.invalidState("the model has no layers") }
    }

    /// Floats of activations one row needs in an inference graph (input, affine outputs and
    /// activation or maxout outputs).
    var activationFloatsPerRow: Int {
        var total = inputWidth, width = inputWidth
        for layer in layers {
            switch layer {
            case .dense(let units, let activation): total += activation == .identity ? units : 2 * units
            case .maxout(let units, let pieces): total += units * pieces + units
            case .dropout: break
            }
            width = layer.outputWidth(inputWidth: width)
        }
        return total
    }

    /// The most rows an inference or evaluation graph holds: `limit`, fewer for very wide models
    /// so that a graph's activations stay within 2²⁴ floats (64 MiB) when a row allows it.
    func batchCapacity(limit: Int) -> Int {
        max(1, min(limit, (1 << 24) / max(activationFloatsPerRow, 1)))
    }

    /// Lends an inference graph from the pool for the duration of `body`: a one-row graph for
    /// one row, a full-batch graph otherwise. After the first calls the pool's arrays have room
    /// for every graph in use, so lending and returning allocate nothing.
    private func withInferenceGraph<R>(rows: Int, _ body: (ModelGraph) throws -> R) throws -> R {
        let singleRow = rows == 1
        let pooled = storage.inferenceGraphs.withLock { $0.take(singleRow: singleRow) }
        let mg = try pooled ?? ModelGraph(model: storage, capacity: singleRow ? 1 : batchCapacity(limit: Model.inferenceBatch),
                                          purpose: .inference)
        defer { storage.inferenceGraphs.withLock { $0.give(mg, singleRow: singleRow) } }
        return try body(mg)
    }
}

/// A model's compiled inference graphs that no call is using (see `withInferenceGraph`).
struct InferenceGraphPool {
    private var singleRow: [ModelGraph] = []
    private var batched: [ModelGraph] = []

    mutating func take(singleRow one: Bool) -> ModelGraph? {
        one ? singleRow.popLast() : batched.popLast()
    }

    mutating func give(_ graph: ModelGraph, singleRow one: Bool) {
        if one { singleRow.append(graph) } else { batched.append(graph) }
    }
}

extension Model {
    /// The model's inference graph (affine, activation, maxout and dropout nodes over the input
    /// and the parameters) as Graphviz DOT text.
    /// - Throws: `.invalidState` for a model without layers.
    public func dot(title: String = "model") throws -> String {
        try requireLayers()
        return try ModelGraph(model: storage, capacity: 1, purpose: .inference).graph.dot(title: title)
    }
}
