// Shared helpers of the training-behaviour, error-handling and inference tests: an independent
// Double-precision forward pass written from the layer definitions (it reads only the model's
// public description and parameters), the losses from their textbook formulas, and small data
// generators. Nothing here calls the engine's kernels.

import Glibc
import NNCore
import Testing

/// A model's network re-implemented in Double: standardisation, then each layer's
/// x·W + b and activation (dropout is the identity at inference).
struct DoubleMLP {
    struct DenseLayer {
        var inputs: Int
        var columns: Int
        /// inputs × columns, row-major (the engine's layout: W[i][j] joins input i to unit j).
        var weights: [Double]
        var biases: [Double]
        var activation: Activation
        /// 0 for dense; the number of pieces for maxout.
        var pieces: Int
    }

    var mean: [Double]?
    var scale: [Double]?
    var layers: [DenseLayer] = []
    var inputWidth: Int

    init(_ model: Model) throws {
        inputWidth = model.inputWidth
        if let s = model.standardization {
            mean = s.mean.map(Double.init)
            scale = s.scale.map(Double.init)
        }
        var width = model.inputWidth
        for (index, layer) in model.layers.enumerated() {
            switch layer {
            case .dense(let units, let activation):
                let w = try model.weights(ofLayer: index)
                layers.append(DenseLayer(inputs: width, columns: units, weights: w.values.map(Double.init),
                                         biases: try model.biases(ofLayer: index).map(Double.init),
                                         activation: activation, pieces: 0))
                width = units
            case .maxout(let units, let pieces):
                let w = try model.weights(ofLayer: index)
                layers.append(DenseLayer(inputs: width, columns: units * pieces, weights: w.values.map(Double.init),
                                         biases: try model.biases(ofLayer: index).map(Double.init),
                                         activation: .identity, pieces: pieces))
                width = units
            case .dropout:
                break
            }
        }
    }

    /// The last layer's outputs for one input row.
    func callAsFunction(_ row: [Float]) -> [Double] {
        var h = row.map(Double.init)
        if let mean, let scale {
            for j in h.indices { h[j] = (h[j] - mean[j]) / scale[j] }
        }
        for layer in layers {
            var z = layer.biases
            for i in 0 ..< layer.inputs where h[i] != 0 {
                let hi = h[i], base = i * layer.columns
                for j in 0 ..< layer.columns { z[j] += hi * layer.weights[base + j] }
            }
            if layer.pieces > 0 {
                h = stride(from: 0, to: z.count, by: layer.pieces).map { z[$0 ..< $0 + layer.pieces].max()! }
            } else {
                h = z.map { DoubleMLP.activate(layer.activation, $0) }
            }
        }
        return h
    }

    /// Outputs for every row of `inputs`.
    func outputs(_ inputs: Matrix) -> [[Double]] {
        (0 ..< inputs.rows).map { self(inputs.row($0)) }
    }

    static func activate(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .identity: return x
        case .relu: return max(0, x)
        case .leakyReLU(let alpha): return x > 0 ? x : Double(alpha) * x
        case .sigmoid: return 1 / (1 + exp(-x))
        case .tanh: return tanh(x)
        case .elu(let alpha): return x > 0 ? x : Double(alpha) * (exp(x) - 1)
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .softplus: return x > 30 ? x : log1p(exp(x))
        }
    }
}

/// Losses, probabilities and metrics from their definitions, in Double.
enum TrainOracle {
    static func softmax(_ z: [Double]) -> [Double] {
        let peak = z.max()!
        let e = z.map { exp($0 - peak) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    static func argmax(_ z: [Double]) -> Int {
        var best = 0
        for j in z.indices where z[j] > z[best] { best = j }
        return best
    }

    /// The gap between the largest and the second largest score (small gaps make the argmax fragile).
    static func topMargin(_ z: [Double]) -> Double {
        let sorted = z.sorted(by: >)
        return sorted.count > 1 ? sorted[0] - sorted[1] : .infinity
    }

    /// ℓ = log Σ exp(z) − z_y.
    static func crossEntropy(_ z: [Double], label: Int) -> Double {
        let peak = z.max()!
        return log(z.reduce(0) { $0 + exp($1 - peak) }) + peak - z[label]
    }

    /// ℓ = Σ_{j≠y} max(0, z_j − z_y + 1).
    static func hinge(_ z: [Double], label: Int) -> Double {
        var total = 0.0
        for j in z.indices where j != label { total += max(0, z[j] - z[label] + 1) }
        return total
    }

    /// ℓ = mean_j (z_j − t_j)².
    static func squaredError(_ z: [Double], target: [Float]) -> Double {
        var total = 0.0
        for j in z.indices { let e = z[j] - Double(target[j]); total += e * e }
        return total / Double(z.count)
    }

    /// The weighted mean data loss and (for classifiers) accuracy of `model` on `data`.
    static func evaluate(_ model: Model, _ data: Dataset) throws -> (loss: Double, accuracy: Double?) {
        let net = try DoubleMLP(model)
        var lossSum = 0.0, weightSum = 0.0, correct = 0.0
        for r in 0 ..< data.count {
            let z = net(data.inputs.row(r))
            let w = Double(data.sampleWeights?[r] ?? 1)
            switch data.targets {
            case .labels(let labels):
                let y = labels[r]
                switch model.loss {
                case .multiclassHinge: lossSum += w * hinge(z, label: y)
                default: lossSum += w * crossEntropy(z, label: y)
                }
                if argmax(z) == y { correct += w }
            case .values(let targets):
                lossSum += w * squaredError(z, target: targets.row(r))
            }
            weightSum += w
        }
        let isClassifier: Bool
        if case .labels = data.targets { isClassifier = true } else { isClassifier = false }
        return (lossSum / weightSum, isClassifier ? correct / weightSum : nil)
    }

    /// Σ W² over the weights of every trainable layer (no biases).
    static func sumOfSquaredWeights(_ model: Model) throws -> Double {
        var total = 0.0
        for (index, layer) in model.layers.enumerated() where layer.isTrainable {
            for w in try model.weights(ofLayer: index).values { total += Double(w) * Double(w) }
        }
        return total
    }

    /// Σ |W| over the weights of every trainable layer (no biases).
    static func sumOfAbsoluteWeights(_ model: Model) throws -> Double {
        var total = 0.0
        for (index, layer) in model.layers.enumerated() where layer.isTrainable {
            for w in try model.weights(ofLayer: index).values { total += abs(Double(w)) }
        }
        return total
    }
}

// MARK: - Comparisons

/// Whether |a − b| ≤ atol + rtol·|b|.
func isClose(_ a: Double, _ b: Double, atol: Double = 1e-6, rtol: Double = 1e-5) -> Bool {
    abs(a - b) <= atol + rtol * abs(b)
}

func isClose(_ a: Float, _ b: Double, atol: Double = 1e-6, rtol: Double = 1e-5) -> Bool {
    isClose(Double(a), b, atol: atol, rtol: rtol)
}

/// The parameters' bit patterns, for bitwise comparisons (so −0 ≠ +0 and NaNs compare too).
func bits(_ model: Model) -> [UInt32] { model.parameters.map(\.bitPattern) }

/// An epoch's statistics without its wall-clock time, for comparing runs.
func timeless(_ stats: EpochStats) -> EpochStats {
    var copy = stats
    copy.seconds = 0
    return copy
}

/// Expects `body` to throw an `NNError` with `code`.
func expectNNError<R>(_ code: NNError.Code, _ comment: Comment? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) {
    let error = #expect(throws: NNError.self, comment, sourceLocation: sourceLocation) { _ = try body() }
    if let error {
        #expect(error.code == code, "expected \(code), got \(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    }
}

/// Training options built in one expression.
func trainingOptions(_ configure: (inout TrainingOptions) -> Void) -> TrainingOptions {
    var options = TrainingOptions()
    configure(&options)
    return options
}

// MARK: - Data

enum TestData {
    /// `rows` points uniform in [−limit, limit)^cols.
    static func uniformInputs(rows: Int, cols: Int, limit: Double = 1, seed: UInt64) throws -> Matrix {
        var random = RandomGenerator(seed: seed)
        let values = (0 ..< rows * cols).map { _ in Float((random.nextUnitDouble() * 2 - 1) * limit) }
        return try Matrix(rows: rows, cols: cols, values: values)
    }

    /// A three-class problem of Gaussian blobs in 2-D (centres on a circle), `perClass` points each.
    static func blobs(perClass: Int, spread: Double = 0.4, seed: UInt64) throws -> Dataset {
        var random = RandomGenerator(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        let centres: [(Double, Double)] = [(1, 0), (-0.5, 0.866), (-0.5, -0.866)]
        for r in 0 ..< perClass * 3 {
            let k = r % 3
            values.append(Float(centres[k].0 + spread * random.nextGaussian()))
            values.append(Float(centres[k].1 + spread * random.nextGaussian()))
            labels.append(k)
        }
        return try Dataset(inputs: Matrix(rows: labels.count, cols: 2, values: values), labels: labels)
    }

    /// y = sin(x) at `count` evenly spaced points of [−π, π].
    static func sine(count: Int) throws -> Dataset {
        let xs = (0 ..< count).map { Float(-Double.pi + 2 * Double.pi * Double($0) / Double(count - 1)) }
        return try Dataset(inputs: Matrix(rows: count, cols: 1, values: xs),
                           targets: Matrix(rows: count, cols: 1, values: xs.map { Float(sin(Double($0))) }))
    }

    /// A linear regression problem y = x·a + b + noise with `cols` inputs and one target.
    static func linearRegression(rows: Int, cols: Int, scale: Double = 1, seed: UInt64) throws -> Dataset {
        var random = RandomGenerator(seed: seed)
        let a = (0 ..< cols).map { _ in random.nextGaussian() }
        var x: [Float] = [], y: [Float] = []
        for _ in 0 ..< rows {
            var t = 0.5
            for j in 0 ..< cols {
                let v = scale * (random.nextUnitDouble() * 2 - 1)
                x.append(Float(v))
                t += a[j] * v
            }
            y.append(Float(t + 0.01 * random.nextGaussian()))
        }
        return try Dataset(inputs: Matrix(rows: rows, cols: cols, values: x), targets: Matrix(rows: rows, cols: 1, values: y))
    }
}

/// Whether every value is finite.
func allFinite(_ values: [Float]) -> Bool { values.allSatisfy { $0.isFinite } }
