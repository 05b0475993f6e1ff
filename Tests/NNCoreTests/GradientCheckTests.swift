import Glibc
import NNCore
import Testing

// Numerical gradient checks of every op, activation and loss of the graph API.
//
// Each check builds a graph from seeded random leaves, forms the scalar f = Σ op(inputs) ⊙ R for
// a random constant R (f = op itself for 1×1 ops), runs forward and backward in float32, and
// compares (1) the op's value with the Double reference of Support/ReferenceMath.swift and
// (2) every leaf's gradient with central differences of that reference in Double.

/// Tolerances, |engine − reference| ≤ atol + rtol·|reference|. The test data keep values and
/// gradients of order 1, where float32 kernels err by about 1e-7. Worst errors observed: 2e-6 on
/// a forward value of about 20 (0.04 of its tolerance) and 8e-7 on a gradient of about 2.4
/// (0.05 of its tolerance; the largest share of a tolerance used is σ′ at x = 12, whose float32
/// y(1 − y) form errs by 5e-8 on 5.6e-6).
enum GradientTolerance {
    /// Forward values: float32 kernels against Double formulas.
    static let value = CheckTolerance(atol: 1e-6, rtol: 1e-5)
    /// Gradients: float32 backward against Double central differences (h = 1e-6).
    static let gradient = CheckTolerance(atol: 1e-6, rtol: 1e-5)
}

/// Set NNCORE_GRADCHECK_REPORT=1 to print the worst error of every comparison.
let gradientCheckReport = getenv("NNCORE_GRADCHECK_REPORT") != nil

/// One op under test: a graph, its leaves with their Double values, and the checker.
final class OpCheck {
    let g: Graph
    var rng: RandomGenerator
    private(set) var values: [Node: RMat] = [:]
    private(set) var differentiable: [Node] = []

    /// - Parameters:
    ///   - capacity, active: the graph's batch capacity and active batch size.
    init(seed: UInt64, capacity: Int = 1, active: Int? = nil) throws {
        g = Graph(batchCapacity: capacity, seed: seed)
        rng = RandomGenerator(seed: seed &* 0x9E37_79B9 &+ 17)
        if let active { try g.setBatchSize(active) }
    }

    private func register(_ node: Node, _ value: RMat, gradient: Bool) -> Node {
        values[node] = value
        if gradient { differentiable.append(node) }
        return node
    }

    /// A fixed-shape input.
    func input(_ name: String, _ rows: Int, _ cols: Int, _ v: [Double], gradient: Bool = true) throws -> Node {
        let node = try g.input(name, rows: rows, cols: cols, requiresGradient: gradient)
        try g.setValue(v.map(Float.init), for: node)
        return register(node, RMat(rows, cols, v), gradient: gradient)
    }

    /// A trainable parameter.
    func parameter(_ name: String, _ rows: Int, _ cols: Int, _ v: [Double]) throws -> Node {
        let node = try g.parameter(name, rows: rows, cols: cols, values: v.map(Float.init))
        return register(node, RMat(rows, cols, v), gradient: true)
    }

    /// A batched input holding `v` in its active rows. Its inactive rows are first filled with
    /// NaN, so any op that reads past the active rows poisons the result.
    func batch(_ name: String, cols: Int, _ v: [Double], gradient: Bool = false) throws -> Node {
        let node = try g.batchInput(name, cols: cols, requiresGradient: gradient)
        let active = g.batchSize
        try g.setBatchSize(g.batchCapacity)
        try g.setValue([Float](repeating: .nan, count: g.batchCapacity * cols), for: node)
        try g.setBatchSize(active)
        try g.setValue(v.map(Float.init), for: node)
        return register(node, RMat(active, cols, v), gradient: gradient)
    }

    /// Checks `output`'s value against `reference` and every differentiable leaf's gradient of
    /// f = Σ output ⊙ R (or f = output for a 1×1 output) against central differences.
    func check(_ label: String, _ output: Node,
               value valueTolerance: CheckTolerance = GradientTolerance.value,
               gradient gradientTolerance: CheckTolerance = GradientTolerance.gradient,
               sourceLocation: SourceLocation = #_sourceLocation,
               _ reference: @escaping ([Node: RMat]) -> RMat) throws {
        let expected = reference(values)
        let cols = g.shape(output).cols
        let activeRows = g.value(output).count / cols
        let batched = activeRows != g.shape(output).rows
        try #require(expected.rows == activeRows && expected.cols == cols,
                     "\(label): reference shape \(expected.rows)×\(expected.cols), graph \(activeRows)×\(cols)",
                     sourceLocation: sourceLocation)

        let f: Node
        var weights: RMat? = nil
        if !batched && activeRows == 1 && cols == 1 {
            f = output
        } else {
            let r = RMat(activeRows, cols, rng.uniformValues(activeRows * cols, -1, 1))
            let rNode: Node
            if batched {
                rNode = try g.batchInput("R", cols: cols)
                try g.setValue(r.floats, for: rNode)
            } else {
                rNode = try g.constant("R", rows: activeRows, cols: cols, values: r.floats)
            }
            f = try g.sum(try g.mul(output, rNode))
            weights = r
        }
        try g.forward()
        try g.backward(from: f)

        let objective: ([Node: RMat]) -> Double = { current in
            let y = reference(current)
            guard let w = weights else { return y.v[0] }
            var total = 0.0
            for i in y.v.indices { total += y.v[i] * w.v[i] }
            return total
        }

        let forward = Discrepancy.compare(g.value(output), expected.v, valueTolerance)
        #expect(forward.passes, "\(label): forward value \(forward)", sourceLocation: sourceLocation)
        let scalar = Discrepancy.compare(g.value(f), [objective(values)], valueTolerance)
        #expect(scalar.passes, "\(label): f = Σ op ⊙ R \(scalar)", sourceLocation: sourceLocation)
        if gradientCheckReport { print("[gradcheck] \(label) forward: \(forward)") }

        for leaf in differentiable {
            let base = values[leaf]!
            let numeric = Ref.numericalGradient(of: { x in
                var current = self.values
                current[leaf] = RMat(base.rows, base.cols, x)
                return objective(current)
            }, at: base.v)
            let d = Discrepancy.compare(g.gradient(leaf), numeric, gradientTolerance)
            #expect(d.passes, "\(label): ∂f/∂\(g.name(leaf)) \(d)", sourceLocation: sourceLocation)
            if gradientCheckReport { print("[gradcheck] \(label) ∂f/∂\(g.name(leaf)): \(d)") }
        }
    }
}

// MARK: - Test data away from kinks

extension RandomGenerator {
    /// Values for a maxout input of width units·pieces: within each group the values are at
    /// least 0.2 apart, so there is never a tie for the maximum.
    mutating func maxoutValues(rows: Int, units: Int, pieces: Int) -> [Double] {
        var v: [Double] = []
        for _ in 0 ..< rows * units {
            let centre = uniformDouble(-1.5, 1.5)
            let order = permutation(pieces)
            for p in 0 ..< pieces { v.append(Double(Float(centre + 0.3 * Double(order[p]) + 0.1 * nextUnitDouble()))) }
        }
        return v
    }

    /// Scores and labels for the hinge loss with every margin s_j − s_y + 1 at least 0.05 from 0.
    mutating func hingeData(rows: Int, classes: Int) -> (scores: [Double], labels: [Int]) {
        var scores: [Double] = [], labels: [Int] = []
        for _ in 0 ..< rows {
            while true {
                let s = uniformValues(classes, -1.5, 1.5)
                let y = drawIndex(below: classes)
                if Ref.hingeKinkDistance(RMat(1, classes, s), labels: [y]) >= 0.05 {
                    scores += s; labels.append(y)
                    break
                }
            }
        }
        return (scores, labels)
    }

    mutating func labels(_ rows: Int, classes: Int) -> [Int] { (0 ..< rows).map { _ in drawIndex(below: classes) } }
}

/// Argument types of the parameterised tests.
struct BroadcastShapes: Sendable, CustomTestStringConvertible {
    let aRows: Int, aCols: Int, bRows: Int, bCols: Int
    init(_ aRows: Int, _ aCols: Int, _ bRows: Int, _ bCols: Int) {
        self.aRows = aRows; self.aCols = aCols; self.bRows = bRows; self.bCols = bCols
    }
    var testDescription: String { "(\(aRows)×\(aCols)) ∘ (\(bRows)×\(bCols))" }
}

/// A broadcasting operand next to a batched one: batched (batch × cols) or fixed (rows × cols).
enum BroadcastOperand: Sendable, CustomTestStringConvertible {
    case batched(cols: Int)
    case fixed(rows: Int, cols: Int)
    var testDescription: String {
        switch self {
        case .batched(let c): return "batch×\(c)"
        case .fixed(let r, let c): return "\(r)×\(c)"
        }
    }
}

struct BatchedBroadcast: Sendable, CustomTestStringConvertible {
    let a: BroadcastOperand, b: BroadcastOperand
    var testDescription: String { "\(a.testDescription) ∘ \(b.testDescription)" }
}

extension Ref.Binary: CaseIterable, CustomTestStringConvertible {
    static var allCases: [Ref.Binary] { [.add, .sub, .mul] }
    var testDescription: String {
        switch self {
        case .add: return "add"
        case .sub: return "sub"
        case .mul: return "mul"
        }
    }
    func apply(_ g: Graph, _ a: Node, _ b: Node) throws -> Node {
        switch self {
        case .add: return try g.add(a, b)
        case .sub: return try g.sub(a, b)
        case .mul: return try g.mul(a, b)
        }
    }
}

@Suite("Gradient checks of every op against a Double reference")
struct GradientCheckTests {
    // MARK: Linear ops

    @Test func matmulWithSeveralRowsMatchesTheReference() throws {
        let c = try OpCheck(seed: 1)
        let a = try c.input("A", 4, 3, c.rng.uniformValues(12, -1, 1))
        let b = try c.parameter("B", 3, 5, c.rng.uniformValues(15, -1, 1))
        try c.check("matmul 4×3·3×5", try c.g.matmul(a, b)) { Ref.matmul($0[a]!, $0[b]!) }
    }

    @Test func matmulWithOneRowTakesTheVectorPathAndMatchesTheReference() throws {
        let c = try OpCheck(seed: 2)
        let a = try c.input("a", 1, 6, c.rng.uniformValues(6, -1, 1))
        let b = try c.parameter("B", 6, 4, c.rng.uniformValues(24, -1, 1))
        try c.check("matmul 1×6·6×4", try c.g.matmul(a, b)) { Ref.matmul($0[a]!, $0[b]!) }
    }

    @Test(arguments: [1, 3])
    func matmulOnABatchUsesOnlyTheActiveRows(active: Int) throws {
        let c = try OpCheck(seed: 3, capacity: 5, active: active)
        let x = try c.batch("x", cols: 4, c.rng.uniformValues(active * 4, -1, 1), gradient: true)
        let w = try c.parameter("W", 4, 3, c.rng.uniformValues(12, -1, 1))
        try c.check("matmul batch \(active) of 5", try c.g.matmul(x, w)) { Ref.matmul($0[x]!, $0[w]!) }
    }

    @Test(arguments: [1, 3])
    func operandsSharedByTwoMatmulsAccumulateBothGradients(rows: Int) throws {
        // (a·B1) ⊙ (a·B2) and (a·B1) ⊙ (c·B1): the BLAS calls must add into da and dB, not overwrite.
        let c = try OpCheck(seed: 60)
        let a = try c.input("a", rows, 3, c.rng.uniformValues(rows * 3, -1, 1))
        let d = try c.input("c", rows, 3, c.rng.uniformValues(rows * 3, -1, 1))
        let b1 = try c.parameter("B1", 3, 2, c.rng.uniformValues(6, -1, 1))
        let b2 = try c.parameter("B2", 3, 2, c.rng.uniformValues(6, -1, 1))
        let g = c.g
        let out = try g.add(try g.mul(try g.matmul(a, b1), try g.matmul(a, b2)),
                            try g.mul(try g.matmul(a, b1), try g.matmul(d, b1)))
        try c.check("shared matmul operands, \(rows) rows", out) { v in
            let ab1 = Ref.matmul(v[a]!, v[b1]!)
            return Ref.broadcast(.add, Ref.broadcast(.mul, ab1, Ref.matmul(v[a]!, v[b2]!)),
                                 Ref.broadcast(.mul, ab1, Ref.matmul(v[d]!, v[b1]!)))
        }
    }

    @Test(arguments: [1, 4])
    func affineMatchesTheReference(rows: Int) throws {
        let c = try OpCheck(seed: 4)
        let x = try c.input("x", rows, 3, c.rng.uniformValues(rows * 3, -1, 1))
        let w = try c.parameter("W", 3, 5, c.rng.uniformValues(15, -1, 1))
        let b = try c.parameter("b", 1, 5, c.rng.uniformValues(5, -1, 1))
        try c.check("affine \(rows) rows", try c.g.affine(x, w, b)) { Ref.affine($0[x]!, $0[w]!, $0[b]!) }
    }

    @Test(arguments: [1, 2])
    func affineOnABatchUsesOnlyTheActiveRows(active: Int) throws {
        let c = try OpCheck(seed: 5, capacity: 4, active: active)
        let x = try c.batch("x", cols: 3, c.rng.uniformValues(active * 3, -1, 1), gradient: true)
        let w = try c.parameter("W", 3, 2, c.rng.uniformValues(6, -1, 1))
        let b = try c.parameter("b", 1, 2, c.rng.uniformValues(2, -1, 1))
        try c.check("affine batch \(active) of 4", try c.g.affine(x, w, b)) { Ref.affine($0[x]!, $0[w]!, $0[b]!) }
    }

    @Test func biasAddMatchesTheReference() throws {
        let c = try OpCheck(seed: 6)
        let x = try c.input("x", 3, 4, c.rng.uniformValues(12, -1, 1))
        let b = try c.parameter("b", 1, 4, c.rng.uniformValues(4, -1, 1))
        try c.check("biasAdd", try c.g.biasAdd(x, b)) { Ref.biasAdd($0[x]!, $0[b]!) }
    }

    @Test func biasAddOnABatchUsesOnlyTheActiveRows() throws {
        let c = try OpCheck(seed: 7, capacity: 6, active: 4)
        let x = try c.batch("x", cols: 3, c.rng.uniformValues(12, -1, 1), gradient: true)
        let b = try c.parameter("b", 1, 3, c.rng.uniformValues(3, -1, 1))
        try c.check("biasAdd batch", try c.g.biasAdd(x, b)) { Ref.biasAdd($0[x]!, $0[b]!) }
    }

    // MARK: Element-wise arithmetic

    static let broadcastShapes: [BroadcastShapes] = [
        .init(3, 4, 3, 4), .init(3, 4, 1, 4), .init(1, 4, 3, 4), .init(3, 4, 3, 1), .init(3, 1, 3, 4),
        .init(3, 1, 1, 4), .init(1, 4, 3, 1), .init(1, 1, 3, 4), .init(3, 4, 1, 1), .init(1, 1, 1, 1),
    ]

    @Test(arguments: Ref.Binary.allCases, broadcastShapes)
    func elementwiseArithmeticBroadcastsInEachDirection(op: Ref.Binary, shapes s: BroadcastShapes) throws {
        let c = try OpCheck(seed: 8)
        let a = try c.input("a", s.aRows, s.aCols, c.rng.uniformValues(s.aRows * s.aCols, -2, 2))
        let b = try c.input("b", s.bRows, s.bCols, c.rng.uniformValues(s.bRows * s.bCols, -2, 2))
        try c.check("\(op.testDescription) \(s.testDescription)", try op.apply(c.g, a, b)) {
            Ref.broadcast(op, $0[a]!, $0[b]!)
        }
    }

    static let batchedBroadcasts: [BatchedBroadcast] = [
        .init(a: .batched(cols: 3), b: .fixed(rows: 1, cols: 3)),
        .init(a: .fixed(rows: 1, cols: 3), b: .batched(cols: 3)),
        .init(a: .batched(cols: 3), b: .fixed(rows: 1, cols: 1)),
        .init(a: .fixed(rows: 1, cols: 1), b: .batched(cols: 3)),
        .init(a: .batched(cols: 3), b: .batched(cols: 3)),
        .init(a: .batched(cols: 3), b: .batched(cols: 1)),
        .init(a: .batched(cols: 1), b: .batched(cols: 3)),
        .init(a: .batched(cols: 1), b: .fixed(rows: 1, cols: 3)),
    ]

    @Test(arguments: Ref.Binary.allCases, batchedBroadcasts)
    func elementwiseArithmeticOnABatchBroadcastsAndUsesOnlyTheActiveRows(op: Ref.Binary, operands: BatchedBroadcast) throws {
        let active = 4
        let c = try OpCheck(seed: 9, capacity: 6, active: active)
        func make(_ name: String, _ operand: BroadcastOperand) throws -> Node {
            switch operand {
            case .batched(let cols): return try c.batch(name, cols: cols, c.rng.uniformValues(active * cols, -2, 2), gradient: true)
            case .fixed(let rows, let cols): return try c.input(name, rows, cols, c.rng.uniformValues(rows * cols, -2, 2))
            }
        }
        let a = try make("a", operands.a), b = try make("b", operands.b)
        try c.check("\(op.testDescription) \(operands.testDescription)", try op.apply(c.g, a, b)) {
            Ref.broadcast(op, $0[a]!, $0[b]!)
        }
    }

    @Test func multiplyingANodeByItselfAccumulatesBothGradients() throws {
        let c = try OpCheck(seed: 10)
        let x = try c.input("x", 2, 3, c.rng.uniformValues(6, -2, 2))
        try c.check("x ⊙ x", try c.g.mul(x, x)) { Ref.broadcast(.mul, $0[x]!, $0[x]!) }
    }

    @Test func theArithmeticOperatorsBuildTheSameOps() throws {
        let c = try OpCheck(seed: 11)
        let x = try c.input("x", 2, 3, c.rng.uniformValues(6, -2, 2))
        let y = try c.input("y", 1, 3, c.rng.uniformValues(3, -2, 2))
        let z = try c.input("z", 2, 1, c.rng.uniformValues(2, -2, 2))
        // ((x + y) · z − x) scaled by 0.5 with the operator forms.
        let out = try 0.5 * (((x + y) * z) - x)
        try c.check("0.5·((x + y)·z − x)", out) { v in
            Ref.scale(Ref.broadcast(.sub, Ref.broadcast(.mul, Ref.broadcast(.add, v[x]!, v[y]!), v[z]!), v[x]!), 0.5)
        }
    }

    @Test(arguments: [-1.75 as Float, 0.5, 3])
    func scaleMatchesTheReference(factor: Float) throws {
        let c = try OpCheck(seed: 12)
        let x = try c.input("x", 3, 2, c.rng.uniformValues(6, -2, 2))
        try c.check("scale(\(factor))", try c.g.scale(x, by: factor)) { Ref.scale($0[x]!, Double(factor)) }
    }

    @Test func sumAndMeanMatchTheReference() throws {
        let c = try OpCheck(seed: 13)
        let x = try c.input("x", 3, 4, c.rng.uniformValues(12, -2, 2))
        try c.check("sum", try c.g.sum(x)) { Ref.sum($0[x]!) }
        let d = try OpCheck(seed: 14)
        let y = try d.input("y", 3, 4, d.rng.uniformValues(12, -2, 2))
        try d.check("mean", try d.g.mean(y)) { Ref.mean($0[y]!) }
    }

    @Test func sumAndMeanOfABatchCountOnlyTheActiveRows() throws {
        let c = try OpCheck(seed: 15, capacity: 7, active: 3)
        let x = try c.batch("x", cols: 2, c.rng.uniformValues(6, -2, 2), gradient: true)
        try c.check("sum of batch", try c.g.sum(x)) { Ref.sum($0[x]!) }
        let d = try OpCheck(seed: 16, capacity: 7, active: 3)
        let y = try d.batch("y", cols: 2, d.rng.uniformValues(6, -2, 2), gradient: true)
        try d.check("mean of batch", try d.g.mean(y)) { Ref.mean($0[y]!) }
    }

    @Test func expMatchesTheReference() throws {
        let c = try OpCheck(seed: 17)
        let x = try c.input("x", 3, 4, c.rng.uniformValues(12, -3, 3))
        try c.check("exp", try c.g.exp(x)) { Ref.exp($0[x]!) }
    }

    @Test func logOfPositiveValuesMatchesTheReference() throws {
        let c = try OpCheck(seed: 18)
        let x = try c.input("x", 3, 4, c.rng.uniformValues(12, 0.3, 4))
        try c.check("log", try c.g.log(x)) { Ref.log($0[x]!) }
    }

    // MARK: Activations

    static let activations: [Activation] = [
        .identity, .relu, .leakyReLU(), .leakyReLU(alpha: 0.2), .sigmoid, .tanh, .elu(), .elu(alpha: 0.5),
        .gelu, .softplus,
    ]

    @Test(arguments: activations)
    func activationMatchesTheReferenceAwayFromItsKink(f: Activation) throws {
        let c = try OpCheck(seed: 19)
        // |x| in [0.1, 4): no input within 0.1 of the kink at 0.
        let x = try c.input("x", 4, 5, c.rng.awayFromZero(20, margin: 0.1, limit: 4))
        try c.check("\(f)", try c.g.activation(x, f)) { Ref.activation(f, $0[x]!) }
    }

    @Test(arguments: activations)
    func activationOnABatchUsesOnlyTheActiveRows(f: Activation) throws {
        let c = try OpCheck(seed: 20, capacity: 5, active: 2)
        let x = try c.batch("x", cols: 3, c.rng.awayFromZero(6, margin: 0.1, limit: 3), gradient: true)
        try c.check("\(f) batch", try c.g.activation(x, f)) { Ref.activation(f, $0[x]!) }
    }

    @Test func namedActivationBuildersMatchTheReference() throws {
        let builders: [(String, Activation, (Graph, Node) throws -> Node)] = [
            ("relu", .relu, { try $0.relu($1) }),
            ("leakyReLU(0.3)", .leakyReLU(alpha: 0.3), { try $0.leakyReLU($1, alpha: 0.3) }),
            ("sigmoid", .sigmoid, { try $0.sigmoid($1) }),
            ("tanh", .tanh, { try $0.tanh($1) }),
            ("elu(0.7)", .elu(alpha: 0.7), { try $0.elu($1, alpha: 0.7) }),
            ("gelu", .gelu, { try $0.gelu($1) }),
            ("softplus", .softplus, { try $0.softplus($1) }),
        ]
        for (index, (name, f, build)) in builders.enumerated() {
            let c = try OpCheck(seed: 21 + UInt64(index))
            let x = try c.input("x", 2, 3, c.rng.awayFromZero(6, margin: 0.1, limit: 3))
            try c.check(name, try build(c.g, x)) { Ref.activation(f, $0[x]!) }
        }
    }

    @Test func softplusAndSigmoidStayAccurateForLargeInputs() throws {
        let c = try OpCheck(seed: 30)
        let v: [Double] = [-30, -12, -6, 6, 12, 30]
        let x = try c.input("x", 1, 6, v)
        try c.check("softplus large", try c.g.softplus(x)) { Ref.activation(.softplus, $0[x]!) }
        let d = try OpCheck(seed: 31)
        let y = try d.input("y", 1, 6, v)
        try d.check("sigmoid large", try d.g.sigmoid(y)) { Ref.activation(.sigmoid, $0[y]!) }
    }

    @Test(arguments: [1, 2, 3])
    func maxoutMatchesTheReferenceWithoutTies(pieces: Int) throws {
        let c = try OpCheck(seed: 32)
        let units = 3
        let x = try c.input("x", 4, units * pieces, c.rng.maxoutValues(rows: 4, units: units, pieces: pieces))
        try #require(Ref.maxoutTieDistance(c.values[x]!, pieces: pieces) > 0.1)
        try c.check("maxout(\(pieces))", try c.g.maxout(x, pieces: pieces)) { Ref.maxout($0[x]!, pieces: pieces) }
    }

    @Test func maxoutOnABatchUsesOnlyTheActiveRows() throws {
        let c = try OpCheck(seed: 33, capacity: 5, active: 3)
        let x = try c.batch("x", cols: 8, c.rng.maxoutValues(rows: 3, units: 2, pieces: 4), gradient: true)
        try c.check("maxout(4) batch", try c.g.maxout(x, pieces: 4)) { Ref.maxout($0[x]!, pieces: 4) }
    }

    @Test func softmaxMatchesTheReferenceRowByRow() throws {
        let c = try OpCheck(seed: 34)
        let x = try c.input("x", 3, 5, c.rng.uniformValues(15, -3, 3))
        try c.check("softmax", try c.g.softmax(x)) { Ref.softmax($0[x]!) }
    }

    @Test func softmaxOnABatchUsesOnlyTheActiveRows() throws {
        let c = try OpCheck(seed: 35, capacity: 6, active: 2)
        let x = try c.batch("x", cols: 4, c.rng.uniformValues(8, -3, 3), gradient: true)
        try c.check("softmax batch", try c.g.softmax(x)) { Ref.softmax($0[x]!) }
    }

    @Test func softmaxIsStableForLargeLogits() throws {
        let c = try OpCheck(seed: 36)
        let x = try c.input("x", 2, 3, [1000, 1001, 999, -1000, -1002, -999])
        try c.check("softmax large", try c.g.softmax(x)) { Ref.softmax($0[x]!) }
    }

    // MARK: Losses

    @Test(arguments: [false, true])
    func softmaxCrossEntropyMatchesTheReference(weighted: Bool) throws {
        let c = try OpCheck(seed: 40)
        let rows = 5, classes = 4
        let z = try c.input("z", rows, classes, c.rng.uniformValues(rows * classes, -3, 3))
        let labels = c.rng.labels(rows, classes: classes)
        let y = try c.input("y", rows, 1, labels.map(Double.init), gradient: false)
        let weights = [0.5, 2, 0, 1.25, 0.75]
        let w = weighted ? try c.input("w", rows, 1, weights, gradient: false) : nil
        try c.check("softmax CE weighted=\(weighted)", try c.g.softmaxCrossEntropy(z, labels: y, weights: w)) {
            RMat(1, 1, [Ref.softmaxCrossEntropy($0[z]!, labels: labels, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func softmaxCrossEntropyOnABatchUsesOnlyTheActiveRows(weighted: Bool) throws {
        let c = try OpCheck(seed: 41, capacity: 8, active: 5)
        let classes = 3
        let z = try c.batch("z", cols: classes, c.rng.uniformValues(5 * classes, -3, 3), gradient: true)
        let labels = c.rng.labels(5, classes: classes)
        let y = try c.batch("y", cols: 1, labels.map(Double.init))
        let weights = c.rng.uniformValues(5, 0.2, 2)
        let w = weighted ? try c.batch("w", cols: 1, weights) : nil
        try c.check("softmax CE batch weighted=\(weighted)", try c.g.softmaxCrossEntropy(z, labels: y, weights: w)) {
            RMat(1, 1, [Ref.softmaxCrossEntropy($0[z]!, labels: labels, weights: weighted ? weights : nil)])
        }
    }

    @Test func softmaxCrossEntropyOverManyRowsMatchesTheReference() throws {
        // Unweighted, the loss takes ln Π Sᵢ of the rows' sums Sᵢ ∈ [1, classes] as one product,
        // rescaled by 2⁻⁵¹²: 600 near-uniform rows of 10 classes make Π Sᵢ ≈ 2¹⁶⁰⁰. (The value
        // only: the gradient does not use that product, and a finite-difference check over 6,000
        // logits would take a minute.)
        let c = try OpCheck(seed: 44)
        let rows = 600, classes = 10
        let z = try c.input("z", rows, classes, c.rng.uniformValues(rows * classes, -0.5, 0.5))
        let labels = c.rng.labels(rows, classes: classes)
        let y = try c.input("y", rows, 1, labels.map(Double.init), gradient: false)
        let loss = try c.g.softmaxCrossEntropy(z, labels: y)
        try c.g.forward()
        let expected = Ref.softmaxCrossEntropy(c.values[z]!, labels: labels)
        let got = Double(c.g.value(loss)[0])
        #expect(abs(got - expected) <= 1e-6 * expected, "loss \(got), reference \(expected)")
    }

    @Test func softmaxCrossEntropyWithOneRowAndLargeLogitsIsStable() throws {
        let c = try OpCheck(seed: 42)
        let z = try c.input("z", 1, 3, [500, 498, -200])
        let y = try c.input("y", 1, 1, [1], gradient: false)
        try c.check("softmax CE large", try c.g.softmaxCrossEntropy(z, labels: y)) {
            RMat(1, 1, [Ref.softmaxCrossEntropy($0[z]!, labels: [1])])
        }
    }

    @Test func softmaxCrossEntropyKeepsItsPrecisionWhenOneLogitDominates() throws {
        // Each row's loss is about 4.5e-5 while its logits are in the hundreds: the loss must
        // not be formed as (ln Σ + max) − z_y, where float32 spacing at 500 (3e-5) swamps it.
        let c = try OpCheck(seed: 39)
        let z = try c.input("z", 2, 3, [500, 490, 480, -300, -290, -310])
        let y = try c.input("y", 2, 1, [0, 1], gradient: false)
        try c.check("softmax CE dominant logit", try c.g.softmaxCrossEntropy(z, labels: y)) {
            RMat(1, 1, [Ref.softmaxCrossEntropy($0[z]!, labels: [0, 1])])
        }
    }

    @Test(arguments: [false, true])
    func multiclassHingeMatchesTheReferenceAwayFromItsMargins(weighted: Bool) throws {
        let c = try OpCheck(seed: 43)
        let rows = 6, classes = 4
        let data = c.rng.hingeData(rows: rows, classes: classes)
        let s = try c.input("s", rows, classes, data.scores)
        let y = try c.input("y", rows, 1, data.labels.map(Double.init), gradient: false)
        let weights = [1.5, 0.25, 1, 0, 2, 0.5]
        let w = weighted ? try c.input("w", rows, 1, weights, gradient: false) : nil
        // The data must exercise both sides of the hinge.
        var margins: [Double] = []
        for r in 0 ..< rows {
            let correct = data.scores[r * classes + data.labels[r]]
            for j in 0 ..< classes where j != data.labels[r] { margins.append(data.scores[r * classes + j] - correct + 1) }
        }
        try #require(margins.contains { $0 > 0 } && margins.contains { $0 < 0 })
        try c.check("hinge weighted=\(weighted)", try c.g.multiclassHinge(s, labels: y, weights: w)) {
            RMat(1, 1, [Ref.multiclassHinge($0[s]!, labels: data.labels, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func multiclassHingeOnABatchUsesOnlyTheActiveRows(weighted: Bool) throws {
        let c = try OpCheck(seed: 44, capacity: 7, active: 4)
        let data = c.rng.hingeData(rows: 4, classes: 3)
        let s = try c.batch("s", cols: 3, data.scores, gradient: true)
        let y = try c.batch("y", cols: 1, data.labels.map(Double.init))
        let weights = c.rng.uniformValues(4, 0.2, 2)
        let w = weighted ? try c.batch("w", cols: 1, weights) : nil
        try c.check("hinge batch weighted=\(weighted)", try c.g.multiclassHinge(s, labels: y, weights: w)) {
            RMat(1, 1, [Ref.multiclassHinge($0[s]!, labels: data.labels, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func meanSquaredErrorMatchesTheReferenceAndReachesTheTargets(weighted: Bool) throws {
        let c = try OpCheck(seed: 45)
        let rows = 4, cols = 3
        let p = try c.input("p", rows, cols, c.rng.uniformValues(rows * cols, -2, 2))
        let t = try c.input("t", rows, cols, c.rng.uniformValues(rows * cols, -2, 2))  // gradient checked too
        let weights = [0.5, 1.5, 0, 3]
        let w = weighted ? try c.input("w", rows, 1, weights, gradient: false) : nil
        try c.check("MSE weighted=\(weighted)", try c.g.meanSquaredError(p, targets: t, weights: w)) {
            RMat(1, 1, [Ref.meanSquaredError($0[p]!, $0[t]!, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func meanSquaredErrorOnABatchUsesOnlyTheActiveRows(weighted: Bool) throws {
        let c = try OpCheck(seed: 46, capacity: 6, active: 3)
        let p = try c.batch("p", cols: 2, c.rng.uniformValues(6, -2, 2), gradient: true)
        let t = try c.batch("t", cols: 2, c.rng.uniformValues(6, -2, 2), gradient: true)
        let weights = c.rng.uniformValues(3, 0.2, 2)
        let w = weighted ? try c.batch("w", cols: 1, weights) : nil
        try c.check("MSE batch weighted=\(weighted)", try c.g.meanSquaredError(p, targets: t, weights: w)) {
            RMat(1, 1, [Ref.meanSquaredError($0[p]!, $0[t]!, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func binaryCrossEntropyWithLogitsMatchesTheReferenceAndReachesTheTargets(weighted: Bool) throws {
        let c = try OpCheck(seed: 47)
        let rows = 4, cols = 3
        let z = try c.input("z", rows, cols, c.rng.uniformValues(rows * cols, -5, 5))
        var targets = c.rng.uniformValues(rows * cols, 0, 1)
        targets[0] = 0; targets[1] = 1; targets[5] = 1; targets[7] = 0  // hard targets as well as soft ones
        let t = try c.input("t", rows, cols, targets)  // ∂ℓ/∂t = −z·share/cols, checked too
        let weights = [2, 0.5, 1, 0]
        let w = weighted ? try c.input("w", rows, 1, weights, gradient: false) : nil
        try c.check("BCE weighted=\(weighted)", try c.g.binaryCrossEntropyWithLogits(z, targets: t, weights: w)) {
            RMat(1, 1, [Ref.binaryCrossEntropyWithLogits($0[z]!, $0[t]!, weights: weighted ? weights : nil)])
        }
    }

    @Test(arguments: [false, true])
    func binaryCrossEntropyOnABatchUsesOnlyTheActiveRows(weighted: Bool) throws {
        let c = try OpCheck(seed: 48, capacity: 5, active: 2)
        let z = try c.batch("z", cols: 2, c.rng.uniformValues(4, -4, 4), gradient: true)
        let t = try c.batch("t", cols: 2, c.rng.uniformValues(4, 0, 1), gradient: true)
        let weights = c.rng.uniformValues(2, 0.2, 2)
        let w = weighted ? try c.batch("w", cols: 1, weights) : nil
        try c.check("BCE batch weighted=\(weighted)", try c.g.binaryCrossEntropyWithLogits(z, targets: t, weights: w)) {
            RMat(1, 1, [Ref.binaryCrossEntropyWithLogits($0[z]!, $0[t]!, weights: weighted ? weights : nil)])
        }
    }

    @Test func binaryCrossEntropyIsStableForLargeLogits() throws {
        let c = try OpCheck(seed: 49)
        let z = try c.input("z", 1, 4, [-40, -15, 15, 40])
        let t = try c.input("t", 1, 4, [0.25, 1, 0, 0.5], gradient: false)
        try c.check("BCE large", try c.g.binaryCrossEntropyWithLogits(z, targets: t)) {
            RMat(1, 1, [Ref.binaryCrossEntropyWithLogits($0[z]!, $0[t]!)])
        }
    }

    @Test(arguments: [0.0 as Float, 0.05, 1.5])
    func l2PenaltyMatchesTheReference(lambda: Float) throws {
        let c = try OpCheck(seed: 50)
        let x = try c.parameter("W", 3, 4, c.rng.uniformValues(12, -2, 2))
        try c.check("l2(\(lambda))", try c.g.l2Penalty(x, lambda: lambda)) {
            RMat(1, 1, [Ref.l2Penalty($0[x]!, lambda: Double(lambda))])
        }
    }

    @Test(arguments: [0.0 as Float, 0.05, 1.5])
    func l1PenaltyMatchesTheReferenceAwayFromZero(lambda: Float) throws {
        let c = try OpCheck(seed: 51)
        let x = try c.parameter("W", 3, 4, c.rng.awayFromZero(12, margin: 0.05, limit: 2))
        try c.check("l1(\(lambda))", try c.g.l1Penalty(x, lambda: lambda)) {
            RMat(1, 1, [Ref.l1Penalty($0[x]!, lambda: Double(lambda))])
        }
    }

    @Test func l1PenaltyHasAZeroSubgradientAtZero() throws {
        let g = Graph()
        let x = try g.parameter("W", rows: 1, cols: 3, values: [0, 2, -3])
        let f = try g.l1Penalty(x, lambda: 0.5)
        try g.forward()
        try g.backward(from: f)
        #expect(g.value(f) == [2.5])
        #expect(g.gradient(x) == [0, 0.5, -0.5])
    }

    @Test func penaltiesOnABatchCountOnlyTheActiveRows() throws {
        let c = try OpCheck(seed: 52, capacity: 5, active: 2)
        let x = try c.batch("x", cols: 3, c.rng.awayFromZero(6, margin: 0.05, limit: 2), gradient: true)
        try c.check("l2 batch", try c.g.l2Penalty(x, lambda: 0.3)) { RMat(1, 1, [Ref.l2Penalty($0[x]!, lambda: 0.3)]) }
        let d = try OpCheck(seed: 53, capacity: 5, active: 2)
        let y = try d.batch("y", cols: 3, d.rng.awayFromZero(6, margin: 0.05, limit: 2), gradient: true)
        try d.check("l1 batch", try d.g.l1Penalty(y, lambda: 0.3)) { RMat(1, 1, [Ref.l1Penalty($0[y]!, lambda: 0.3)]) }
    }

    // MARK: A whole expression

    @Test func aChainOfOpsBackpropagatesThroughEveryLink() throws {
        // loss = CE(softmax-logits of tanh(x·W1 + b1) maxed in pairs, then ·W2 + b2)
        //        + mean(exp(0.5·h)) + 0.01·ΣW1², over a batch of 3 out of 4.
        let c = try OpCheck(seed: 54, capacity: 4, active: 3)
        let x = try c.batch("x", cols: 3, c.rng.uniformValues(9, -1, 1), gradient: true)
        let w1 = try c.parameter("W1", 3, 4, c.rng.uniformValues(12, -1, 1))
        let b1 = try c.parameter("b1", 1, 4, c.rng.uniformValues(4, -0.5, 0.5))
        let w2 = try c.parameter("W2", 2, 3, c.rng.uniformValues(6, -1, 1))
        let b2 = try c.parameter("b2", 1, 3, c.rng.uniformValues(3, -0.5, 0.5))
        let labels = c.rng.labels(3, classes: 3)
        let y = try c.batch("y", cols: 1, labels.map(Double.init))
        let g = c.g
        let h = try g.tanh(try g.affine(x, w1, b1))
        let m = try g.maxout(h, pieces: 2)
        let logits = try g.biasAdd(try g.matmul(m, w2), b2)
        let loss = try g.add(try g.add(try g.softmaxCrossEntropy(logits, labels: y),
                                       try g.mean(try g.exp(try g.scale(h, by: 0.5)))),
                             try g.l2Penalty(w1, lambda: 0.01))
        func reference(_ v: [Node: RMat]) -> RMat {
            let h = Ref.activation(.tanh, Ref.affine(v[x]!, v[w1]!, v[b1]!))
            let logits = Ref.biasAdd(Ref.matmul(Ref.maxout(h, pieces: 2), v[w2]!), v[b2]!)
            let total = Ref.softmaxCrossEntropy(logits, labels: labels) + Ref.mean(Ref.exp(Ref.scale(h, 0.5))).v[0]
                + Ref.l2Penalty(v[w1]!, lambda: 0.01)
            return RMat(1, 1, [total])
        }
        let hValue = Ref.activation(.tanh, Ref.affine(c.values[x]!, c.values[w1]!, c.values[b1]!))
        try #require(Ref.maxoutTieDistance(hValue, pieces: 2) > 1e-3)
        try c.check("chain", loss, reference)
    }

    // MARK: Dropout

    @Test(arguments: [0.1 as Float, 0.3, 0.5])
    func dropoutInTrainingKeepsAboutOneMinusRateAndScalesTheSurvivors(rate: Float) throws {
        let g = Graph(seed: 99)
        g.isTraining = true
        var rng = RandomGenerator(seed: 7)
        let rows = 40, cols = 500
        let xValues = rng.awayFromZero(rows * cols, margin: 0.5, limit: 2).map(Float.init)
        let rValues = rng.uniformValues(rows * cols, -1, 1).map(Float.init)
        let x = try g.input("x", rows: rows, cols: cols)
        try g.setValue(xValues, for: x)
        let y = try g.dropout(x, rate: rate)
        let r = try g.constant("R", rows: rows, cols: cols, values: rValues)
        let f = try g.sum(try g.mul(y, r))
        try g.forward()
        try g.backward(from: f)

        let keep = 1 / (1 - Double(rate))
        let out = g.value(y), dx = g.gradient(x)
        var kept = 0, badMask = 0, badGradient = 0
        for i in 0 ..< rows * cols {
            let mask = Double(out[i]) / Double(xValues[i])
            if mask == 0 {
                if dx[i] != 0 { badGradient += 1 }
            } else {
                kept += 1
                if abs(mask - keep) > 1e-6 * keep { badMask += 1 }
                // dx = dy ⊙ mask with dy = R.
                if abs(Double(dx[i]) - Double(rValues[i]) * keep) > 1e-6 * keep { badGradient += 1 }
            }
        }
        let share = Double(kept) / Double(rows * cols)
        #expect(badMask == 0, "\(badMask) mask values are neither 0 nor 1/(1 − rate) = \(keep)")
        #expect(badGradient == 0, "\(badGradient) gradients differ from dy ⊙ mask")
        // 20 000 draws: the kept share's standard deviation is at most 0.0036; allow about 4σ.
        #expect(abs(share - (1 - Double(rate))) < 0.015, "kept share \(share), expected \(1 - rate)")
    }

    @Test func dropoutDrawsAFreshMaskOnEveryTrainingPassAndRepeatsWithTheSameSeed() throws {
        func masks(seed: UInt64) throws -> ([Float], [Float]) {
            let g = Graph(seed: seed)
            g.isTraining = true
            let x = try g.input("x", rows: 1, cols: 256)
            try g.setValue([Float](repeating: 1, count: 256), for: x)
            let y = try g.dropout(x, rate: 0.5)
            try g.forward()
            let first = g.value(y)
            try g.forward()
            return (first, g.value(y))
        }
        let (a1, a2) = try masks(seed: 5)
        let (b1, _) = try masks(seed: 5)
        let (c1, _) = try masks(seed: 6)
        #expect(a1 != a2)
        #expect(a1 == b1)
        #expect(a1 != c1)
    }

    @Test(arguments: [false, true])
    func dropoutIsTheIdentityOutsideTrainingOrAtRateZero(training: Bool) throws {
        let g = Graph(seed: 3)
        g.isTraining = training
        var rng = RandomGenerator(seed: 8)
        let xValues = rng.uniformValues(60, -2, 2).map(Float.init)
        let rValues = rng.uniformValues(60, -1, 1).map(Float.init)
        let x = try g.input("x", rows: 6, cols: 10)
        try g.setValue(xValues, for: x)
        // Outside training any rate is the identity; in training only rate 0 is.
        let y = try g.dropout(x, rate: training ? 0 : 0.9)
        let f = try g.sum(try g.mul(y, try g.constant("R", rows: 6, cols: 10, values: rValues)))
        try g.forward()
        try g.backward(from: f)
        #expect(g.value(y) == xValues)
        #expect(g.gradient(x) == rValues)
    }

    @Test func dropoutOnABatchMasksOnlyTheActiveRows() throws {
        let g = Graph(batchCapacity: 8, seed: 4)
        g.isTraining = true
        try g.setBatchSize(3)
        let x = try g.batchInput("x", cols: 100, requiresGradient: true)
        try g.setValue([Float](repeating: 2, count: 300), for: x)
        let y = try g.dropout(x, rate: 0.25)
        let f = try g.sum(y)
        try g.forward()
        try g.backward(from: f)
        let out = g.value(y), dx = g.gradient(x)
        #expect(out.count == 300)
        #expect(out.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
        for i in 0 ..< 300 { #expect(dx[i] * 2 == out[i]) }  // dx = mask, y = 2·mask
        // sum(y) = Σ over the active rows only.
        #expect(abs(Double(g.value(f)[0]) - out.reduce(0) { $0 + Double($1) }) < 1e-3)
    }

    // MARK: Error paths

    @Test func shapeMismatchesThrowShapeMismatch() throws {
        let g = Graph(batchCapacity: 4)
        let a = try g.input("a", rows: 3, cols: 4)
        let b = try g.input("b", rows: 3, cols: 4)
        let c = try g.input("c", rows: 2, cols: 4)
        let d = try g.input("d", rows: 3, cols: 2)
        let row5 = try g.input("row5", rows: 1, cols: 5)
        let w = try g.parameter("W", rows: 4, cols: 5, values: [Float](repeating: 0.1, count: 20))
        let x = try g.batchInput("x", cols: 4)
        let labels = try g.batchInput("labels", cols: 1)
        let wide = try g.batchInput("wide", cols: 2)
        let fixedLabels = try g.input("fixedLabels", rows: 4, cols: 1)

        let attempts: [(String, () throws -> Node)] = [
            ("matmul inner dimensions", { try g.matmul(a, b) }),
            ("matmul with a batched right operand", { try g.matmul(a, x) }),
            ("affine bias width", { try g.affine(a, w, try g.input("b4", rows: 1, cols: 4)) }),
            ("affine bias rows", { try g.affine(a, w, try g.input("b25", rows: 2, cols: 5)) }),
            ("biasAdd bias width", { try g.biasAdd(a, row5) }),
            ("add rows", { try g.add(a, c) }),
            ("sub cols", { try g.sub(a, d) }),
            ("mul rows and cols", { try g.mul(c, d) }),
            ("batched with a multi-row fixed operand", { try g.add(x, a) }),
            ("maxout width", { try g.maxout(a, pieces: 3) }),
            ("softmax CE labels width", { try g.softmaxCrossEntropy(x, labels: wide) }),
            ("softmax CE fixed labels for a batch", { try g.softmaxCrossEntropy(x, labels: fixedLabels) }),
            ("hinge weights width", { try g.multiclassHinge(x, labels: labels, weights: wide) }),
            ("MSE shapes", { try g.meanSquaredError(a, targets: d) }),
            ("MSE batched against fixed", { try g.meanSquaredError(x, targets: try g.input("t", rows: 4, cols: 4)) }),
            ("BCE shapes", { try g.binaryCrossEntropyWithLogits(a, targets: c) }),
        ]
        for (what, build) in attempts {
            let error = #expect(throws: NNError.self, "\(what)") { _ = try build() }
            #expect(error?.code == .shapeMismatch, "\(what): \(String(describing: error))")
        }
        let wrongCount = #expect(throws: NNError.self) { try g.setValue([1, 2, 3], for: a) }
        #expect(wrongCount?.code == .shapeMismatch)
        let wrongValues = #expect(throws: NNError.self) { _ = try g.parameter("p", rows: 2, cols: 2, values: [1, 2, 3]) }
        #expect(wrongValues?.code == .shapeMismatch)
        // setValue on a batch takes exactly the active rows.
        try g.setBatchSize(2)
        let wrongBatch = #expect(throws: NNError.self) { try g.setValue([Float](repeating: 0, count: 16), for: x) }
        #expect(wrongBatch?.code == .shapeMismatch)
        try g.setValue([Float](repeating: 0, count: 8), for: x)
    }

    @Test(arguments: [3 as Float, -1, 1.5, .nan])
    func aLabelOutOfRangeThrowsAtForward(bad: Float) throws {
        for hinge in [false, true] {
            let g = Graph()
            let z = try g.input("z", rows: 2, cols: 3)
            let y = try g.input("y", rows: 2, cols: 1, requiresGradient: false)
            try g.setValue([0, bad], for: y)
            // Building succeeds: the labels are data, checked when the loss runs.
            let loss = hinge ? try g.multiclassHinge(z, labels: y) : try g.softmaxCrossEntropy(z, labels: y)
            let error = #expect(throws: NNError.self) { try g.forward() }
            #expect(error?.code == .labelOutOfRange, "label \(bad), hinge \(hinge): \(String(describing: error))")
            try g.setValue([0, 2], for: y)
            try g.forward()
            #expect(g.value(loss)[0].isFinite)
        }
    }

    @Test func negativeSampleWeightsAreRefusedAtForward() throws {
        let g = Graph()
        let p = try g.input("p", rows: 2, cols: 1)
        let t = try g.input("t", rows: 2, cols: 1)
        let w = try g.input("w", rows: 2, cols: 1, requiresGradient: false)
        try g.setValue([1, -1], for: w)
        _ = try g.meanSquaredError(p, targets: t, weights: w)
        let error = #expect(throws: NNError.self) { try g.forward() }
        #expect(error?.code == .invalidArgument)
    }

    @Test func badHyperparametersAreRefused() throws {
        let g = Graph()
        let x = try g.input("x", rows: 2, cols: 4)
        let attempts: [(String, NNError.Code, () throws -> Node)] = [
            ("dropout rate 1", .badHyperparameter, { try g.dropout(x, rate: 1) }),
            ("dropout rate −0.1", .badHyperparameter, { try g.dropout(x, rate: -0.1) }),
            ("dropout rate NaN", .badHyperparameter, { try g.dropout(x, rate: .nan) }),
            ("l2 λ < 0", .badHyperparameter, { try g.l2Penalty(x, lambda: -1) }),
            ("l1 λ < 0", .badHyperparameter, { try g.l1Penalty(x, lambda: -0.5) }),
            ("l2 λ = ∞", .badHyperparameter, { try g.l2Penalty(x, lambda: .infinity) }),
            ("maxout pieces 0", .badHyperparameter, { try g.maxout(x, pieces: 0) }),
            ("maxout pieces not dividing the width", .shapeMismatch, { try g.maxout(x, pieces: 3) }),
            ("scale by ∞", .badHyperparameter, { try g.scale(x, by: .infinity) }),
            ("elu α < 0", .badHyperparameter, { try g.elu(x, alpha: -1) }),
            ("leaky ReLU α NaN", .badHyperparameter, { try g.leakyReLU(x, alpha: .nan) }),
        ]
        for (what, code, build) in attempts {
            let error = #expect(throws: NNError.self, "\(what)") { _ = try build() }
            #expect(error?.code == code, "\(what): \(String(describing: error))")
        }
        #expect(g.nodeCount == 1, "a refused op must not add a node")
    }

    @Test func aNodeFromAnotherGraphIsRefused() throws {
        let g = Graph(), other = Graph()
        let a = try g.input("a", rows: 1, cols: 2)
        let b = try other.input("b", rows: 1, cols: 2)
        let attempts: [(String, () throws -> Void)] = [
            ("add", { _ = try g.add(a, b) }),
            ("operator +", { _ = try a + b }),
            ("matmul", { _ = try g.matmul(a, try other.input("B", rows: 2, cols: 2)) }),
            ("unary op", { _ = try g.relu(b) }),
            ("loss", { _ = try g.meanSquaredError(a, targets: b) }),
            ("setValue", { try g.setValue([1, 2], for: b) }),
            ("backward", { try g.forward(); try g.backward(from: try other.sum(b)) }),
        ]
        for (what, attempt) in attempts {
            let error = #expect(throws: NNError.self, "\(what)") { try attempt() }
            #expect(error?.code == .invalidArgument, "\(what): \(String(describing: error))")
        }
    }

    @Test func backwardBeforeForwardOrFromAConstantIsRefused() throws {
        let g = Graph()
        let x = try g.input("x", rows: 1, cols: 2)
        let c = try g.constant("c", rows: 1, cols: 2, values: [1, 2])
        let f = try g.sum(x)
        let early = #expect(throws: NNError.self) { try g.backward(from: f) }
        #expect(early?.code == .invalidState)
        let k = try g.sum(c)
        try g.forward()
        let constant = #expect(throws: NNError.self) { try g.backward(from: k) }
        #expect(constant?.code == .invalidArgument)
    }

    @Test func dotNamesEveryNodeAndDrawsEveryEdge() throws {
        let g = Graph(batchCapacity: 8)
        let x = try g.batchInput("features", cols: 3)
        let w = try g.parameter("weights", rows: 3, cols: 2, values: [Float](repeating: 0, count: 6))
        let b = try g.parameter("bias", rows: 1, cols: 2, values: [0, 0])
        let y = try g.batchInput("labels", cols: 1)
        let quoted = try g.constant("say \"hi\"", rows: 1, cols: 1, values: [1])
        let h = try g.relu(try g.affine(x, w, b))
        let loss = try g.add(try g.softmaxCrossEntropy(h, labels: y), quoted)
        let text = g.dot(title: "net")
        #expect(text.hasPrefix("digraph \"net\" {"))
        #expect(text.hasSuffix("}\n"))
        // Every node, found by walking back from the loss.
        var nodes: [Node] = [], pending = [loss]
        while let node = pending.popLast() {
            if nodes.contains(node) { continue }
            nodes.append(node)
            pending += g.inputs(node)
        }
        #expect(nodes.count == g.nodeCount)
        for node in nodes {
            let id = node.id
            #expect(text.contains("n\(id) [label=\""), "node \(id) is missing")
            #expect(text.contains(escapingQuotes(g.name(node))), "node \(id) '\(g.name(node))' is not named")
            for input in g.inputs(node) { #expect(text.contains("n\(input.id) -> n\(id);"), "edge \(input.id) → \(id)") }
        }
        for name in ["features", "weights", "bias", "labels", "affine", "relu", "softmax_cross_entropy", "add"] {
            #expect(text.contains(name), "\(name) is not in the DOT output")
        }
        #expect(text.contains("say \\\"hi\\\""))
        #expect(text.contains("batch×3"))
        #expect(g.inputs(loss).count == 2)
    }
}

/// `s` with every `"` escaped as `\"`, as the DOT output writes names.
private func escapingQuotes(_ s: String) -> String {
    var out = ""
    for ch in s { if ch == "\"" { out += "\\\"" } else { out.append(ch) } }
    return out
}
