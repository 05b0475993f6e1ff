/// A model's layers compiled into a computational graph bound to the model's parameter memory.
///
/// dense = affine(x, W, b) → activation; maxout = affine → maxout(pieces); dropout = dropout.
/// Training graphs add the targets, the data loss, the L2/L1 penalties and their sum.
/// Not thread-safe: one thread uses a graph at a time (the inference pool hands them out).
final class ModelGraph: @unchecked Sendable {
    enum Purpose: Equatable {
        /// Outputs only, no gradients.
        case inference
        /// Outputs and the data loss, no gradients.
        case evaluation(weighted: Bool)
        /// Everything, with gradients flowing into the model's gradient block.
        case training(l2: Float, l1: Float, weighted: Bool)
    }

    let purpose: Purpose
    let graph: Graph
    /// (batch, inputs)
    let input: Node
    /// (batch, outputs): the last layer's output (logits for the classification losses).
    let output: Node
    /// (batch, 1) class indices, or (batch, outputs) targets.
    let targets: Node?
    /// (batch, 1) sample weights.
    let weights: Node?
    /// 1×1 mean data loss.
    let dataLoss: Node?
    /// 1×1 regularisation loss (nil without penalties).
    let regularization: Node?
    /// 1×1 full loss, where backward starts.
    let total: Node?
    /// 0, 1, 2, … for `loadAll` (grown once, then reused).
    private var identityRows: [Int32] = []
    /// An inference graph's forward pass over packed weights, in bands of rows or for one row
    /// by columns (nil for the other purposes, and for graphs without room for packed weights).
    let packedForward: PackedForward?

    init(model storage: Model.Storage, capacity: Int, purpose: Purpose) throws {
        self.purpose = purpose
        let g = Graph(batchCapacity: capacity)
        g.fusesActivations = true
        graph = g
        let training: Bool
        if case .training = purpose { training = true } else { training = false }
        if training { storage.ensureGradients() }
        input = try g.batchInput("x", cols: storage.inputWidth)
        var h = input
        var penalties: [Node] = []
        for (index, layer) in storage.layers.enumerated() {
            switch layer {
            case .dense, .maxout:
                guard let w = storage.layout.first(where: { $0.layer == index && $0.kind == .weight }),
                      let b = storage.layout.first(where: { $0.layer == index && $0.kind == .bias }) else {
                    throw NNError(.internalError, "layer \(index) has no parameter layout")
                }
                let base = storage.parameters.baseAddress!, gradients = storage.gradients.baseAddress!
                let wNode = g.externalParameter("W\(index)", rows: w.rows, cols: w.cols, value: base + w.offset,
                                                gradient: training ? gradients + w.offset : nil)
                let bNode = g.externalParameter("b\(index)", rows: 1, cols: b.cols, value: base + b.offset,
                                                gradient: training ? gradients + b.offset : nil)
                h = try g.affine(h, wNode, bNode)
                if case .dense(_, let activation) = layer, activation != .identity {
                    h = try g.activation(h, activation)
                } else if case .maxout(_, let pieces) = layer {
                    h = try g.maxout(h, pieces: pieces)
                }
                if case .training(let l2, let l1, _) = purpose {
                    if l2 > 0 { penalties.append(try g.l2Penalty(wNode, lambda: l2)) }
                    if l1 > 0 { penalties.append(try g.l1Penalty(wNode, lambda: l1)) }
                }
            case .dropout(let rate):
                // Dropout is the identity outside training: inference and evaluation graphs leave
                // it out instead of copying the activations through it.
                if training { h = try g.dropout(h, rate: rate) }
            }
        }
        output = h

        let weighted: Bool
        switch purpose {
        case .inference:
            targets = nil; weights = nil; dataLoss = nil; regularization = nil; total = nil
            try g.compile()
            packedForward = PackedForward(graph: g, input: input)
            return
        case .evaluation(let w): weighted = w
        case .training(_, _, let w): weighted = w
        }
        let classLabels = storage.loss == .softmaxCrossEntropy || storage.loss == .multiclassHinge
        let t = try g.batchInput("targets", cols: classLabels ? 1 : g.shape(h).cols)
        let w = weighted ? try g.batchInput("weights", cols: 1) : nil
        let loss: Node
        switch storage.loss {
        case .softmaxCrossEntropy: loss = try g.softmaxCrossEntropy(h, labels: t, weights: w)
        case .multiclassHinge: loss = try g.multiclassHinge(h, labels: t, weights: w)
        case .meanSquaredError: loss = try g.meanSquaredError(h, targets: t, weights: w)
        case .binaryCrossEntropy: loss = try g.binaryCrossEntropyWithLogits(h, targets: t, weights: w)
        }
        var reg: Node? = nil
        for p in penalties { reg = try reg.map { try g.add($0, p) } ?? p }
        targets = t
        weights = w
        dataLoss = loss
        regularization = reg
        total = try reg.map { try g.add(loss, $0) } ?? loss
        packedForward = nil
        try g.compile()
    }

    /// Copies rows `rowIndices` of `data` into the graph's inputs (standardised) and targets,
    /// and sets the batch size to their count.
    func load(_ data: DataView, rows rowIndices: UnsafeBufferPointer<Int32>, standardization: Standardization?) throws {
        let n = rowIndices.count
        try graph.setBatchSize(n)
        let cols = data.cols
        let x = graph.valuePointer(input.id)
        let source = data.inputs.baseAddress!
        if let s = standardization {
            for r in 0 ..< n { s.apply(source + Int(rowIndices[r]) &* cols, to: x + r &* cols, rows: 1, cols: cols) }
        } else {
            for r in 0 ..< n { (x + r &* cols).update(from: source + Int(rowIndices[r]) &* cols, count: cols) }
        }
        if let targets {
            let t = graph.valuePointer(targets.id)
            if let labels = data.labels {
                for r in 0 ..< n { t[r] = Float(labels[Int(rowIndices[r])]) }
            } else if let values = data.targets {
                let width = data.targetWidth
                for r in 0 ..< n {
                    (t + r &* width).update(from: values.baseAddress! + Int(rowIndices[r]) &* width, count: width)
                }
            }
        }
        if let weights {
            let w = graph.valuePointer(weights.id)
            for r in 0 ..< n { w[r] = data.weights?[Int(rowIndices[r])] ?? 1 }
        }
    }

    /// Copies every row of `data` (at most the capacity) into the graph.
    func loadAll(_ data: DataView, standardization: Standardization?) throws {
        if identityRows.count < data.rows { identityRows = (0 ..< Int32(data.rows)).map { $0 } }
        try identityRows.withUnsafeBufferPointer {
            try load(data, rows: UnsafeBufferPointer(rebasing: $0[0 ..< data.rows]), standardization: standardization)
        }
    }

    /// Runs the forward pass on `count` consecutive rows starting at `first` (inference: no
    /// targets): over packed weights (`PackedForward`: one row, or a batch in bands of rows) when
    /// the graph has them and they apply, layer by layer otherwise. Without a standardisation the
    /// graph reads the rows where they are; with one it reads a standardised copy. `revision` is
    /// the model's (`Model.Storage.revision`): the weights are packed again when it changed.
    /// - Throws: `.nonFiniteValue` naming the first NaN or ±∞ unless `inputsChecked` (the caller
    ///   checked them already); the outputs are then not computed.
    func forward(inputs: UnsafePointer<Float>, first: Int, count: Int, cols: Int, standardization: Standardization?,
                 revision: UInt64, inputsChecked: Bool) throws {
        let source = inputs + first &* cols
        if let packedForward, packedForward.applies(rows: count) {
            try packedForward.forward(source: source, rows: count, cols: cols, firstRow: first,
                                      inputsChecked: inputsChecked, standardization: standardization, revision: revision)
            return
        }
        packedForward?.invalidate()
        let total = count &* cols
        if !inputsChecked {
            try Model.requireFinite(UnsafeBufferPointer(start: source, count: total), count: total, cols: cols, firstRow: first)
        }
        guard let s = standardization else {
            try graph.withInput(input, boundTo: source, rows: count) { try graph.forward() }
            return
        }
        try graph.setBatchSize(count)
        s.apply(source, to: graph.valuePointer(input.id), rows: count, cols: cols)
        try graph.forward()
    }

    /// Σ of the current batch's sample weights (the batch size when unweighted).
    var batchWeight: Double {
        guard let weights else { return Double(graph.batchSize) }
        let w = graph.valuePointer(weights.id)
        var total = 0.0
        for r in 0 ..< graph.batchSize { total += Double(w[r]) }
        return total
    }

    /// Σ wᵢ·scoreᵢ over the current batch, where a row's score is 1 when its output's argmax is
    /// its label (for one-output binary cross-entropy: when the logit's sign matches the 0/1
    /// target; for several outputs: the share of outputs whose sign matches). nil for regression.
    func weightedCorrect(loss: Loss) -> Double? {
        guard let targets, loss.isClassification else { return nil }
        let rows = graph.batchSize, width = graph.shape(output).cols
        let y = graph.valuePointer(output.id), t = graph.valuePointer(targets.id)
        let w = weights.map { graph.valuePointer($0.id) }
        if loss != .binaryCrossEntropy && w == nil {
            // The common case as a count: no Double arithmetic per row.
            var hits = 0
            for r in 0 ..< rows where Float(Self.argmax(y + r &* width, count: width)) == t[r] { hits &+= 1 }
            return Double(hits)
        }
        var total = 0.0
        for r in 0 ..< rows {
            let row = y + r &* width
            let score: Double
            if loss == .binaryCrossEntropy {
                var hits = 0
                for j in 0 ..< width where (row[j] > 0) == (t[r &* width &+ j] >= 0.5) { hits += 1 }
                score = Double(hits) / Double(width)
            } else {
                score = Float(Self.argmax(row, count: width)) == t[r] ? 1 : 0
            }
            total += Double(w?[r] ?? 1) * score
        }
        return total
    }

    /// The index of the first largest of `count` ≥ 1 values (a later NaN never replaces the best).
    @inline(__always)
    private static func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0, peak = row[0]
        for j in 1 ..< count where row[j] > peak {
            best = j
            peak = row[j]
        }
        return best
    }
}
