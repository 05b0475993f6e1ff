// An independent Double-precision reference for every op, activation and loss of the engine,
// written from the textbook formulas (not from the engine's float32 kernels), plus central
// differences for numerical gradients. The gradient-check tests compare the engine against it.

import Glibc
import NNCore

/// A dense row-major matrix of Doubles.
struct RMat: Equatable, CustomStringConvertible {
    var rows: Int
    var cols: Int
    var v: [Double]

    init(_ rows: Int, _ cols: Int, _ v: [Double]) {
        precondition(v.count == rows * cols, "RMat: \(rows) × \(cols) needs \(rows * cols) values, got \(v.count)")
        self.rows = rows
        self.cols = cols
        self.v = v
    }

    init(_ rows: Int, _ cols: Int, floats: [Float]) {
        self.init(rows, cols, floats.map(Double.init))
    }

    init(_ rows: Int, _ cols: Int, repeating value: Double) {
        self.init(rows, cols, Array(repeating: value, count: rows * cols))
    }

    subscript(r: Int, c: Int) -> Double {
        get { v[r * cols + c] }
        set { v[r * cols + c] = newValue }
    }

    var count: Int { rows * cols }
    var floats: [Float] { v.map(Float.init) }
    var description: String { "RMat(\(rows)×\(cols): \(v))" }
}

/// The reference implementation. Every function follows the definition of the op directly.
enum Ref {
    // MARK: Linear algebra

    /// C = A·B, C[i][j] = Σ_k A[i][k]·B[k][j].
    static func matmul(_ a: RMat, _ b: RMat) -> RMat {
        precondition(a.cols == b.rows)
        var c = RMat(a.rows, b.cols, repeating: 0)
        for i in 0 ..< a.rows {
            for j in 0 ..< b.cols {
                var s = 0.0
                for k in 0 ..< a.cols { s += a[i, k] * b[k, j] }
                c[i, j] = s
            }
        }
        return c
    }

    /// X·W + b with the row vector b added to every row.
    static func affine(_ x: RMat, _ w: RMat, _ b: RMat) -> RMat {
        biasAdd(matmul(x, w), b)
    }

    /// X + b for a (1, cols) row vector b.
    static func biasAdd(_ x: RMat, _ b: RMat) -> RMat {
        precondition(b.rows == 1 && b.cols == x.cols)
        var y = x
        for i in 0 ..< x.rows { for j in 0 ..< x.cols { y[i, j] += b[0, j] } }
        return y
    }

    // MARK: Element-wise with broadcasting

    enum Binary { case add, sub, mul }

    /// a ∘ b where a dimension of size 1 on either side is repeated to the other's size.
    static func broadcast(_ op: Binary, _ a: RMat, _ b: RMat) -> RMat {
        let rows = max(a.rows, b.rows), cols = max(a.cols, b.cols)
        precondition((a.rows == rows || a.rows == 1) && (b.rows == rows || b.rows == 1))
        precondition((a.cols == cols || a.cols == 1) && (b.cols == cols || b.cols == 1))
        var y = RMat(rows, cols, repeating: 0)
        for i in 0 ..< rows {
            for j in 0 ..< cols {
                let u = a[a.rows == 1 ? 0 : i, a.cols == 1 ? 0 : j]
                let w = b[b.rows == 1 ? 0 : i, b.cols == 1 ? 0 : j]
                switch op {
                case .add: y[i, j] = u + w
                case .sub: y[i, j] = u - w
                case .mul: y[i, j] = u * w
                }
            }
        }
        return y
    }

    static func map(_ x: RMat, _ f: (Double) -> Double) -> RMat { RMat(x.rows, x.cols, x.v.map(f)) }

    static func scale(_ x: RMat, _ s: Double) -> RMat { map(x) { s * $0 } }
    static func sum(_ x: RMat) -> RMat { RMat(1, 1, [x.v.reduce(0, +)]) }
    static func mean(_ x: RMat) -> RMat { RMat(1, 1, [x.v.reduce(0, +) / Double(x.count)]) }
    static func exp(_ x: RMat) -> RMat { map(x) { Glibc.exp($0) } }
    static func log(_ x: RMat) -> RMat { map(x) { Glibc.log($0) } }

    // MARK: Activations

    /// Standard normal CDF Φ(x) = ½(1 + erf(x/√2)).
    static func normalCDF(_ x: Double) -> Double { 0.5 * (1 + Glibc.erf(x / 2.0.squareRoot())) }

    static func activation(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .identity: return x
        case .relu: return x > 0 ? x : 0
        case .leakyReLU(let alpha): return x > 0 ? x : Double(alpha) * x
        case .sigmoid: return 1 / (1 + Glibc.exp(-x))
        case .tanh: return Glibc.tanh(x)
        case .elu(let alpha): return x > 0 ? x : Double(alpha) * (Glibc.exp(x) - 1)
        case .gelu: return x * normalCDF(x)
        case .softplus: return Glibc.log1p(Glibc.exp(x))
        }
    }

    static func activation(_ f: Activation, _ x: RMat) -> RMat { map(x) { activation(f, $0) } }

    /// The distance of x from the activation's non-differentiable point (∞ for smooth ones).
    static func kinkDistance(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .relu, .leakyReLU, .elu: return abs(x)
        default: return .infinity
        }
    }

    /// Maxout: y[r][u] = max_p x[r][u·pieces + p].
    static func maxout(_ x: RMat, pieces: Int) -> RMat {
        precondition(x.cols % pieces == 0)
        let units = x.cols / pieces
        var y = RMat(x.rows, units, repeating: 0)
        for r in 0 ..< x.rows {
            for u in 0 ..< units {
                var best = -Double.infinity
                for p in 0 ..< pieces { best = max(best, x[r, u * pieces + p]) }
                y[r, u] = best
            }
        }
        return y
    }

    /// The smallest gap between the largest and the second largest value of a maxout group.
    static func maxoutTieDistance(_ x: RMat, pieces: Int) -> Double {
        guard pieces > 1 else { return .infinity }
        var smallest = Double.infinity
        for r in 0 ..< x.rows {
            for u in 0 ..< x.cols / pieces {
                let group = (0 ..< pieces).map { x[r, u * pieces + $0] }.sorted(by: >)
                smallest = min(smallest, group[0] - group[1])
            }
        }
        return smallest
    }

    /// Row-wise softmax: e^{x_j} / Σ_k e^{x_k} (shifted by the row maximum, which cancels).
    static func softmax(_ x: RMat) -> RMat {
        var y = x
        for r in 0 ..< x.rows {
            let peak = (0 ..< x.cols).map { x[r, $0] }.max()!
            var total = 0.0
            for j in 0 ..< x.cols { total += Glibc.exp(x[r, j] - peak) }
            for j in 0 ..< x.cols { y[r, j] = Glibc.exp(x[r, j] - peak) / total }
        }
        return y
    }

    // MARK: Losses

    /// Σ wᵢℓᵢ / Σ wᵢ, or the plain mean without weights.
    static func weightedMean(_ rowLosses: [Double], weights: [Double]?) -> Double {
        guard let weights else { return rowLosses.reduce(0, +) / Double(rowLosses.count) }
        precondition(weights.count == rowLosses.count)
        var num = 0.0, den = 0.0
        for i in rowLosses.indices { num += weights[i] * rowLosses[i]; den += weights[i] }
        return num / den
    }

    /// ℓᵢ = −ln softmax(zᵢ)[yᵢ].
    static func softmaxCrossEntropy(_ logits: RMat, labels: [Int], weights: [Double]? = nil) -> Double {
        precondition(labels.count == logits.rows)
        let p = softmax(logits)
        let rows = (0 ..< logits.rows).map { -Glibc.log(p[$0, labels[$0]]) }
        return weightedMean(rows, weights: weights)
    }

    /// ℓᵢ = Σ_{j≠yᵢ} max(0, s_j − s_yᵢ + 1).
    static func multiclassHinge(_ scores: RMat, labels: [Int], weights: [Double]? = nil) -> Double {
        precondition(labels.count == scores.rows)
        var rows: [Double] = []
        for r in 0 ..< scores.rows {
            var l = 0.0
            for j in 0 ..< scores.cols where j != labels[r] { l += max(0, scores[r, j] - scores[r, labels[r]] + 1) }
            rows.append(l)
        }
        return weightedMean(rows, weights: weights)
    }

    /// The smallest |s_j − s_y + 1| over j ≠ y: how far the scores are from a hinge kink.
    static func hingeKinkDistance(_ scores: RMat, labels: [Int]) -> Double {
        var smallest = Double.infinity
        for r in 0 ..< scores.rows {
            for j in 0 ..< scores.cols where j != labels[r] {
                smallest = min(smallest, abs(scores[r, j] - scores[r, labels[r]] + 1))
            }
        }
        return smallest
    }

    /// ℓᵢ = (1/cols) Σ_j (p_ij − t_ij)².
    static func meanSquaredError(_ p: RMat, _ t: RMat, weights: [Double]? = nil) -> Double {
        precondition(p.rows == t.rows && p.cols == t.cols)
        var rows: [Double] = []
        for r in 0 ..< p.rows {
            var s = 0.0
            for j in 0 ..< p.cols { let e = p[r, j] - t[r, j]; s += e * e }
            rows.append(s / Double(p.cols))
        }
        return weightedMean(rows, weights: weights)
    }

    /// ln σ(z) = −ln(1 + e^−z) (accurate in Double for any moderate z, unlike ln of a rounded σ).
    static func logSigmoid(_ z: Double) -> Double { -Glibc.log1p(Glibc.exp(-z)) }

    /// ℓᵢ = (1/cols) Σ_j −t·ln σ(z) − (1 − t)·ln(1 − σ(z)), with 1 − σ(z) = σ(−z).
    static func binaryCrossEntropyWithLogits(_ z: RMat, _ t: RMat, weights: [Double]? = nil) -> Double {
        precondition(z.rows == t.rows && z.cols == t.cols)
        var rows: [Double] = []
        for r in 0 ..< z.rows {
            var s = 0.0
            for j in 0 ..< z.cols {
                s += -t[r, j] * logSigmoid(z[r, j]) - (1 - t[r, j]) * logSigmoid(-z[r, j])
            }
            rows.append(s / Double(z.cols))
        }
        return weightedMean(rows, weights: weights)
    }

    /// λ Σ x².
    static func l2Penalty(_ x: RMat, lambda: Double) -> Double { lambda * x.v.reduce(0) { $0 + $1 * $1 } }
    /// λ Σ |x|.
    static func l1Penalty(_ x: RMat, lambda: Double) -> Double { lambda * x.v.reduce(0) { $0 + abs($1) } }

    // MARK: Numerical differentiation

    /// ∂f/∂xᵢ by central differences, (f(x + hᵢ) − f(x − hᵢ)) / (2hᵢ), with hᵢ = h·max(1, |xᵢ|).
    /// The divisor is the actual distance between the two points, so rounding of x ± h cancels.
    static func numericalGradient(of f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-6) -> [Double] {
        var point = x
        var gradient = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            let hi = h * max(1, abs(x[i]))
            let plus = x[i] + hi, minus = x[i] - hi
            point[i] = plus
            let fPlus = f(point)
            point[i] = minus
            let fMinus = f(point)
            point[i] = x[i]
            gradient[i] = (fPlus - fMinus) / (plus - minus)
        }
        return gradient
    }
}

// MARK: - Comparing float32 results with the reference

/// |actual − expected| ≤ atol + rtol·|expected|, element by element.
struct CheckTolerance: CustomStringConvertible {
    var atol: Double
    var rtol: Double
    var description: String { "atol \(atol), rtol \(rtol)" }
}

/// The worst element of a comparison.
struct Discrepancy: CustomStringConvertible {
    /// The largest |a − e| / (atol + rtol·|e|); the check passes when it is ≤ 1.
    var ratio: Double = 0
    var index: Int = -1
    var actual: Double = 0
    var expected: Double = 0
    /// The largest absolute and relative (|a − e| / max(1, |e|)) errors, for reporting.
    var maxAbsolute: Double = 0
    var maxRelative: Double = 0
    var countMismatch: (Int, Int)? = nil

    var passes: Bool { countMismatch == nil && ratio <= 1 }

    var description: String {
        if let (a, e) = countMismatch { return "count mismatch: got \(a) values, expected \(e)" }
        return "worst at [\(index)]: got \(actual), expected \(expected) (|Δ| = \(abs(actual - expected)), "
            + "\(ratio) × tolerance); max |Δ| \(maxAbsolute), max |Δ|/max(1,|e|) \(maxRelative)"
    }

    static func compare(_ actual: [Double], _ expected: [Double], _ tolerance: CheckTolerance) -> Discrepancy {
        var d = Discrepancy()
        guard actual.count == expected.count else {
            d.countMismatch = (actual.count, expected.count)
            return d
        }
        for i in actual.indices {
            let a = actual[i], e = expected[i]
            let err = abs(a - e)
            let ratio = a.isFinite && e.isFinite ? err / (tolerance.atol + tolerance.rtol * abs(e)) : .infinity
            d.maxAbsolute = max(d.maxAbsolute, err)
            d.maxRelative = max(d.maxRelative, err / max(1, abs(e)))
            if ratio > d.ratio || d.index < 0 {
                d.ratio = ratio; d.index = i; d.actual = a; d.expected = e
            }
        }
        return d
    }

    static func compare(_ actual: [Float], _ expected: [Double], _ tolerance: CheckTolerance) -> Discrepancy {
        compare(actual.map(Double.init), expected, tolerance)
    }
}

// MARK: - Random test data

extension RandomGenerator {
    /// A uniform Double in [lo, hi).
    mutating func uniformDouble(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * nextUnitDouble() }

    /// `count` uniform values in [lo, hi), rounded to Float (the engine's precision), as Doubles.
    mutating func uniformValues(_ count: Int, _ lo: Double, _ hi: Double) -> [Double] {
        (0 ..< count).map { _ in Double(Float(uniformDouble(lo, hi))) }
    }

    /// `count` values with |x| in [margin, limit) and a random sign: away from a kink at 0.
    mutating func awayFromZero(_ count: Int, margin: Double = 0.1, limit: Double = 2) -> [Double] {
        (0 ..< count).map { _ in
            let magnitude = uniformDouble(margin, limit)
            return Double(Float(next() & 1 == 0 ? magnitude : -magnitude))
        }
    }

    /// A uniform integer in 0..<bound.
    mutating func drawIndex(below bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }

    /// A random permutation of 0..<n.
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0 ..< n)
        var i = n - 1
        while i > 0 {
            let j = drawIndex(below: i + 1)
            p.swapAt(i, j)
            i -= 1
        }
        return p
    }
}
