// The public op builders: each checks its inputs' shapes and hyper-parameters and appends a node.

extension Graph {
    /// A·B: (m, k)·(k, n) → (m, n). A may be batched; B may not.
    public func matmul(_ a: Node, _ b: Node) throws -> Node { try addOp(.matmul, [a, b]) }
    /// X·W + b: (m, k)·(k, n) + (1, n) → (m, n), one fused op.
    public func affine(_ x: Node, _ w: Node, _ b: Node) throws -> Node { try addOp(.affine, [x, w, b]) }
    /// X + b with the row vector b (1, n) added to every row of X (m, n).
    public func biasAdd(_ x: Node, _ b: Node) throws -> Node { try addOp(.biasAdd, [x, b]) }
    /// a + b element-wise; a dimension of size 1 broadcasts.
    public func add(_ a: Node, _ b: Node) throws -> Node { try addOp(.add, [a, b]) }
    /// a − b element-wise; a dimension of size 1 broadcasts.
    public func sub(_ a: Node, _ b: Node) throws -> Node { try addOp(.sub, [a, b]) }
    /// a · b element-wise; a dimension of size 1 broadcasts.
    public func mul(_ a: Node, _ b: Node) throws -> Node { try addOp(.mul, [a, b]) }
    /// s · x. - Throws: `.badHyperparameter` for a non-finite s.
    public func scale(_ x: Node, by s: Float) throws -> Node { try addOp(.scale(s), [x]) }
    /// The sum of all elements (1×1).
    public func sum(_ x: Node) throws -> Node { try addOp(.sum, [x]) }
    /// The mean of all elements (1×1).
    public func mean(_ x: Node) throws -> Node { try addOp(.mean, [x]) }
    /// eˣ element-wise.
    public func exp(_ x: Node) throws -> Node { try addOp(.exp, [x]) }
    /// ln x element-wise.
    public func log(_ x: Node) throws -> Node { try addOp(.log, [x]) }
    /// An activation function element-wise.
    public func activation(_ x: Node, _ f: Activation) throws -> Node { try addOp(.activation(f), [x]) }
    /// max(0, x).
    public func relu(_ x: Node) throws -> Node { try activation(x, .relu) }
    /// x for x > 0, αx otherwise.
    public func leakyReLU(_ x: Node, alpha: Float = 0.01) throws -> Node { try activation(x, .leakyReLU(alpha: alpha)) }
    /// 1 / (1 + e^−x).
    public func sigmoid(_ x: Node) throws -> Node { try activation(x, .sigmoid) }
    /// tanh x.
    public func tanh(_ x: Node) throws -> Node { try activation(x, .tanh) }
    /// x for x > 0, α(eˣ − 1) otherwise.
    public func elu(_ x: Node, alpha: Float = 1) throws -> Node { try activation(x, .elu(alpha: alpha)) }
    /// x·Φ(x).
    public func gelu(_ x: Node) throws -> Node { try activation(x, .gelu) }
    /// ln(1 + eˣ).
    public func softplus(_ x: Node) throws -> Node { try activation(x, .softplus) }
    /// Maxout over groups of `pieces` consecutive columns: (m, n·pieces) → (m, n).
    public func maxout(_ x: Node, pieces: Int) throws -> Node { try addOp(.maxout(pieces: pieces), [x]) }
    /// Inverted dropout: while `isTraining`, each element is zeroed with probability `rate` and
    /// the survivors are scaled by 1/(1 − rate); otherwise the identity.
    public func dropout(_ x: Node, rate: Float) throws -> Node { try addOp(.dropout(rate: rate), [x]) }
    /// Row-wise softmax.
    public func softmax(_ x: Node) throws -> Node { try addOp(.softmax, [x]) }

    /// Mean softmax cross-entropy of `logits` (m, K) against `labels` (m, 1) holding class
    /// indices 0..<K as floats; with `weights` (m, 1) the mean is Σ wᵢℓᵢ / Σ wᵢ.
    public func softmaxCrossEntropy(_ logits: Node, labels: Node, weights: Node? = nil) throws -> Node {
        try addOp(.softmaxCrossEntropy, [logits, labels] + (weights.map { [$0] } ?? []))
    }
    /// Mean Weston–Watkins multiclass hinge loss (margin 1); arguments as `softmaxCrossEntropy`.
    public func multiclassHinge(_ scores: Node, labels: Node, weights: Node? = nil) throws -> Node {
        try addOp(.multiclassHinge, [scores, labels] + (weights.map { [$0] } ?? []))
    }
    /// Mean squared error between `predictions` and `targets` of the same shape.
    public func meanSquaredError(_ predictions: Node, targets: Node, weights: Node? = nil) throws -> Node {
        try addOp(.meanSquaredError, [predictions, targets] + (weights.map { [$0] } ?? []))
    }
    /// Mean binary cross-entropy of `logits` against `targets` in [0, 1] of the same shape.
    public func binaryCrossEntropyWithLogits(_ logits: Node, targets: Node, weights: Node? = nil) throws -> Node {
        try addOp(.binaryCrossEntropyWithLogits, [logits, targets] + (weights.map { [$0] } ?? []))
    }
    /// λ · Σ x² (1×1).
    public func l2Penalty(_ x: Node, lambda: Float) throws -> Node { try addOp(.l2Penalty(lambda: lambda), [x]) }
    /// λ · Σ |x| (1×1).
    public func l1Penalty(_ x: Node, lambda: Float) throws -> Node { try addOp(.l1Penalty(lambda: lambda), [x]) }

    // MARK: Shape inference

    typealias Shape = (rows: Int, cols: Int, batched: Bool)

    func inferShape(_ op: Op, _ ids: [Int]) throws -> Shape {
        func describe(_ id: Int) -> String {
            let r = records[id]
            return "'\(names[id])' (\(r.batched ? "batch" : String(r.rows)) × \(r.cols))"
        }
        func arity(_ allowed: ClosedRange<Int>) throws {
            guard allowed.contains(ids.count) else {
                throw NNError.invalidArgument("\(op.name) takes \(allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound)–\(allowed.upperBound)") inputs, got \(ids.count)")
            }
        }
        func rowVector(_ id: Int, cols: Int, role: String) throws {
            let r = records[id]
            guard r.rows == 1, !r.batched, r.cols == cols else {
                throw NNError.shapeMismatch("\(op.name): \(role) \(describe(id)) must be 1 × \(cols)")
            }
        }
        func finite(_ value: Float, _ what: String, _ valid: Bool = true) throws {
            guard value.isFinite, valid else { throw NNError.badHyperparameter("\(op.name): \(what) = \(value) is out of range") }
        }
        func perRowColumn(_ id: Int, like first: Int, role: String) throws {
            let r = records[id], f = records[first]
            guard r.cols == 1, r.batched == f.batched, r.rows == f.rows else {
                throw NNError.shapeMismatch("\(op.name): \(role) \(describe(id)) must be one column with the rows of \(describe(first))")
            }
        }

        switch op {
        case .input, .parameter, .constant:
            throw NNError.invalidArgument("leaves are added with input/parameter/constant")
        case .matmul, .affine:
            try arity(op == .matmul ? 2...2 : 3...3)
            let a = records[ids[0]], b = records[ids[1]]
            guard !b.batched else { throw NNError.shapeMismatch("\(op.name): the right operand \(describe(ids[1])) must not be batched") }
            guard a.cols == b.rows else {
                throw NNError.shapeMismatch("\(op.name): \(describe(ids[0])) · \(describe(ids[1])): inner dimensions \(a.cols) and \(b.rows) differ")
            }
            if op == .affine { try rowVector(ids[2], cols: b.cols, role: "bias") }
            return (a.rows, b.cols, a.batched)
        case .biasAdd:
            try arity(2...2)
            let x = records[ids[0]]
            try rowVector(ids[1], cols: x.cols, role: "bias")
            return (x.rows, x.cols, x.batched)
        case .add, .sub, .mul:
            try arity(2...2)
            let a = records[ids[0]], b = records[ids[1]]
            let rowsAgree: Bool
            if a.batched && b.batched { rowsAgree = true }
            else if a.batched { rowsAgree = b.rows == 1 }
            else if b.batched { rowsAgree = a.rows == 1 }
            else { rowsAgree = a.rows == b.rows || a.rows == 1 || b.rows == 1 }
            guard rowsAgree, a.cols == b.cols || a.cols == 1 || b.cols == 1 else {
                throw NNError.shapeMismatch("\(op.name): shapes \(describe(ids[0])) and \(describe(ids[1])) do not broadcast")
            }
            return (max(a.rows, b.rows), max(a.cols, b.cols), a.batched || b.batched)
        case .scale(let s):
            try arity(1...1); try finite(s, "factor")
            let x = records[ids[0]]; return (x.rows, x.cols, x.batched)
        case .exp, .log, .softmax:
            try arity(1...1)
            let x = records[ids[0]]; return (x.rows, x.cols, x.batched)
        case .activation(let f):
            try arity(1...1)
            switch f {
            case .leakyReLU(let alpha): try finite(alpha, "α")
            case .elu(let alpha): try finite(alpha, "α", alpha >= 0)
            default: break
            }
            let x = records[ids[0]]; return (x.rows, x.cols, x.batched)
        case .dropout(let rate):
            try arity(1...1); try finite(rate, "rate", rate >= 0 && rate < 1)
            let x = records[ids[0]]; return (x.rows, x.cols, x.batched)
        case .maxout(let pieces):
            try arity(1...1)
            let x = records[ids[0]]
            guard pieces >= 1 else { throw NNError.badHyperparameter("maxout: pieces = \(pieces) must be at least 1") }
            guard x.cols % pieces == 0 else {
                throw NNError.shapeMismatch("maxout(\(pieces)): \(describe(ids[0])) has \(x.cols) columns, not a multiple of \(pieces)")
            }
            return (x.rows, x.cols / pieces, x.batched)
        case .sum, .mean:
            try arity(1...1); return (1, 1, false)
        case .l2Penalty(let lambda), .l1Penalty(let lambda):
            try arity(1...1); try finite(lambda, "λ", lambda >= 0); return (1, 1, false)
        case .softmaxCrossEntropy, .multiclassHinge:
            try arity(2...3)
            try perRowColumn(ids[1], like: ids[0], role: "labels")
            if ids.count == 3 { try perRowColumn(ids[2], like: ids[0], role: "weights") }
            return (1, 1, false)
        case .meanSquaredError, .binaryCrossEntropyWithLogits:
            try arity(2...3)
            let p = records[ids[0]], t = records[ids[1]]
            guard p.rows == t.rows, p.cols == t.cols, p.batched == t.batched else {
                throw NNError.shapeMismatch("\(op.name): predictions \(describe(ids[0])) and targets \(describe(ids[1])) differ in shape")
            }
            if ids.count == 3 { try perRowColumn(ids[2], like: ids[0], role: "weights") }
            return (1, 1, false)
        }
    }

    // MARK: Graphviz

    /// The graph in Graphviz DOT: one box per node with its op, name and shape, an edge per input.
    public func dot(title: String = "nncore") -> String {
        func escape(_ s: String) -> String {
            var out = ""
            for ch in s {
                switch ch {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.append(ch)
                }
            }
            return out
        }
        var text = "digraph \"\(escape(title))\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        for (id, r) in records.enumerated() {
            let rows = r.batched ? "batch" : String(r.rows)
            let shape = "\(r.op.name) \(rows)×\(r.cols)"
            let label = r.op.isLeaf ? escape(names[id]) + "\\n" + escape(shape) : escape(shape)
            let style: String
            switch r.op {
            case .parameter: style = ", style=filled, fillcolor=\"#fde8c8\""
            case .input, .constant: style = ", style=filled, fillcolor=\"#dbe9f6\""
            default: style = ""
            }
            text += "  n\(id) [label=\"\(label)\"\(style)];\n"
            for input in [r.a, r.b, r.c] where input >= 0 { text += "  n\(input) -> n\(id);\n" }
        }
        return text + "}\n"
    }
}
