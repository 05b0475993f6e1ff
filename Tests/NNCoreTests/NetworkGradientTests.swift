@testable import NNCore
import Testing

// Whole networks: the gradient of the full loss (mean data loss + λ₂ΣW² + λ₁Σ|W| over weights,
// not biases) that `Model.trainStep` computes, checked against central differences of a Double
// reference MLP; then every optimiser's first updates checked against a Double implementation
// of its formula, and gradient clipping by global norm.

/// Tolerances for whole networks (float32 through several layers). Worst errors observed: 2e-7
/// on a gradient (0.02 of its tolerance) and 7e-8 on an updated parameter (0.02).
enum NetworkTolerance {
    /// Engine gradient against central differences of the Double reference.
    static let gradient = CheckTolerance(atol: 1e-6, rtol: 1e-5)
    /// Losses reported by the step against the reference.
    static let loss = CheckTolerance(atol: 1e-6, rtol: 1e-5)
    /// Parameters after an update against the Double optimiser applied to the same gradient.
    static let parameters = CheckTolerance(atol: 1e-6, rtol: 1e-5)
}

// MARK: - The Double reference MLP

/// The targets of a batch, as the reference sees them.
enum ReferenceTargets {
    case labels([Int])
    case values(RMat)
}

/// An MLP in Double: dense = f(x·W + b), maxout = max over groups of x·W + b, dropout(0) = identity.
/// Parameters are laid out per trainable layer as W (inputs × columns, row-major), then b.
struct ReferenceNet {
    struct Slot {
        let layer: Int
        let weightOffset: Int
        let rows: Int
        let cols: Int
        var biasOffset: Int { weightOffset + rows * cols }
    }

    let inputs: Int
    let layers: [Layer]
    let loss: Loss
    let slots: [Slot]
    let parameterCount: Int
    let outputWidth: Int

    init(inputs: Int, layers: [Layer], loss: Loss) {
        self.inputs = inputs
        self.layers = layers
        self.loss = loss
        var slots: [Slot] = []
        var offset = 0, width = inputs
        for (index, layer) in layers.enumerated() {
            let columns: Int, units: Int
            switch layer {
            case .dense(let n, _): columns = n; units = n
            case .maxout(let n, let pieces): columns = n * pieces; units = n
            case .dropout: continue
            }
            slots.append(Slot(layer: index, weightOffset: offset, rows: width, cols: columns))
            offset += width * columns + columns
            width = units
        }
        self.slots = slots
        self.parameterCount = offset
        self.outputWidth = width
    }

    /// Whether parameter `i` is a weight (penalised, decayed by AdamW) rather than a bias.
    func isWeight(_ i: Int) -> Bool {
        slots.contains { i >= $0.weightOffset && i < $0.biasOffset }
    }

    /// The output scores, and the smallest distance of any pre-activation from a kink of its
    /// activation (ReLU family at 0, maxout ties).
    func forward(_ p: [Double], _ x: RMat) -> (output: RMat, kink: Double) {
        var h = x
        var kink = Double.infinity
        for (index, layer) in layers.enumerated() {
            if case .dropout(let rate) = layer {
                precondition(rate == 0, "the reference only knows dropout(0)")
                continue
            }
            let s = slots.first { $0.layer == index }!
            let w = RMat(s.rows, s.cols, Array(p[s.weightOffset ..< s.biasOffset]))
            let b = RMat(1, s.cols, Array(p[s.biasOffset ..< s.biasOffset + s.cols]))
            let z = Ref.affine(h, w, b)
            switch layer {
            case .dense(_, let f):
                for value in z.v { kink = min(kink, Ref.kinkDistance(f, value)) }
                h = Ref.activation(f, z)
            case .maxout(_, let pieces):
                kink = min(kink, Ref.maxoutTieDistance(z, pieces: pieces))
                h = Ref.maxout(z, pieces: pieces)
            case .dropout:
                break
            }
        }
        return (h, kink)
    }

    func dataLoss(_ output: RMat, _ targets: ReferenceTargets, weights: [Double]?) -> Double {
        switch (loss, targets) {
        case (.softmaxCrossEntropy, .labels(let y)): return Ref.softmaxCrossEntropy(output, labels: y, weights: weights)
        case (.multiclassHinge, .labels(let y)): return Ref.multiclassHinge(output, labels: y, weights: weights)
        case (.meanSquaredError, .values(let t)): return Ref.meanSquaredError(output, t, weights: weights)
        case (.binaryCrossEntropy, .values(let t)): return Ref.binaryCrossEntropyWithLogits(output, t, weights: weights)
        case (.binaryCrossEntropy, .labels(let y)):
            return Ref.binaryCrossEntropyWithLogits(output, RMat(y.count, 1, y.map(Double.init)), weights: weights)
        default: preconditionFailure("targets do not suit \(loss)")
        }
    }

    /// λ₂ΣW² + λ₁Σ|W| over every weight matrix (biases excluded).
    func regularization(_ p: [Double], l2: Double, l1: Double) -> Double {
        var total = 0.0
        for s in slots {
            let w = RMat(s.rows, s.cols, Array(p[s.weightOffset ..< s.biasOffset]))
            total += Ref.l2Penalty(w, lambda: l2) + Ref.l1Penalty(w, lambda: l1)
        }
        return total
    }

    func fullLoss(_ p: [Double], _ batch: ReferenceBatch, l2: Double, l1: Double) -> Double {
        dataLoss(forward(p, batch.x).output, batch.targets, weights: batch.weights) + regularization(p, l2: l2, l1: l1)
    }

    /// The smallest distance from any kink of the full loss at p: activations, maxout ties,
    /// hinge margins, and |W| for the L1 penalty.
    func kinkDistance(_ p: [Double], _ batch: ReferenceBatch, l1: Double) -> Double {
        let (output, kink) = forward(p, batch.x)
        var distance = kink
        if loss == .multiclassHinge, case .labels(let y) = batch.targets {
            distance = min(distance, Ref.hingeKinkDistance(output, labels: y))
        }
        if l1 > 0 {
            for i in 0 ..< parameterCount where isWeight(i) { distance = min(distance, abs(p[i])) }
        }
        return distance
    }
}

/// One batch in both worlds: the engine's `Dataset` and the reference's Double view of it.
struct ReferenceBatch {
    var x: RMat
    var targets: ReferenceTargets
    var weights: [Double]?
    var dataset: Dataset
}

// MARK: - Network cases

/// How a case's targets are drawn.
enum NetworkTargetKind: Sendable {
    /// Class labels 0..<outputs (softmax, hinge) or 0/1 (one-output binary cross-entropy).
    case labels
    /// Real targets in [−1, 1] (MSE) or probabilities in [0, 1] (binary cross-entropy).
    case values
}

struct NetworkCase: Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: Int
    let layers: [Layer]
    let loss: Loss
    var targets: NetworkTargetKind = .labels
    var rows = 6
    var weighted = false
    var l2: Float = 0.01
    var l1: Float = 0.005
    var seed: UInt64 = 1

    var testDescription: String { name }
    var reference: ReferenceNet { ReferenceNet(inputs: inputs, layers: layers, loss: loss) }

    /// A model holding the case's random parameters, and a batch of random data.
    func make() throws -> (model: Model, parameters: [Float], batch: ReferenceBatch) {
        var rng = RandomGenerator(seed: seed &+ 1000)
        let net = reference
        var parameters = [Float](repeating: 0, count: net.parameterCount)
        for s in net.slots {
            let limit = 1.7 / Double(s.rows).squareRoot()
            for i in s.weightOffset ..< s.biasOffset { parameters[i] = Float(rng.uniformDouble(-limit, limit)) }
            for i in s.biasOffset ..< s.biasOffset + s.cols { parameters[i] = Float(rng.uniformDouble(-0.4, 0.4)) }
        }
        var model = try Model(inputs: inputs, layers: layers, loss: loss, seed: seed)
        try model.setParameters(parameters)

        let x = RMat(rows, inputs, rng.uniformValues(rows * inputs, -1.5, 1.5))
        let inputMatrix = try Matrix(rows: rows, cols: inputs, values: x.floats)
        let weights = weighted ? rng.uniformValues(rows, 0.2, 2) : nil
        let sampleWeights = weights.map { $0.map(Float.init) }
        let width = net.outputWidth
        let batch: ReferenceBatch
        switch targets {
        case .labels:
            let classes = loss == .binaryCrossEntropy ? 2 : width
            let y = (0 ..< rows).map { _ in rng.drawIndex(below: classes) }
            batch = ReferenceBatch(x: x, targets: .labels(y), weights: weights,
                                   dataset: try Dataset(inputs: inputMatrix, labels: y, sampleWeights: sampleWeights))
        case .values:
            let t = loss == .binaryCrossEntropy ? rng.uniformValues(rows * width, 0, 1) : rng.uniformValues(rows * width, -1, 1)
            batch = ReferenceBatch(x: x, targets: .values(RMat(rows, width, t)), weights: weights,
                                   dataset: try Dataset(inputs: inputMatrix, targets: try Matrix(rows: rows, cols: width, values: t.map(Float.init)),
                                                        sampleWeights: sampleWeights))
        }
        return (model, parameters, batch)
    }
}

let networkCases: [NetworkCase] = [
    NetworkCase(name: "softmax CE: relu → tanh → linear", inputs: 4,
                layers: [.dense(units: 6, activation: .relu), .dense(units: 5, activation: .tanh), .dense(units: 3)],
                loss: .softmaxCrossEntropy, rows: 7, seed: 1),
    NetworkCase(name: "softmax CE weighted: sigmoid → maxout → linear", inputs: 3,
                layers: [.dense(units: 5, activation: .sigmoid), .maxout(units: 4, pieces: 2), .dense(units: 3)],
                loss: .softmaxCrossEntropy, weighted: true, l2: 0.02, l1: 0.01, seed: 2),
    NetworkCase(name: "softmax CE: the lecture's linear model", inputs: 2, layers: [.dense(units: 3)],
                loss: .softmaxCrossEntropy, rows: 5, l2: 0.1, l1: 0, seed: 3),
    NetworkCase(name: "hinge: maxout → elu → linear", inputs: 3,
                layers: [.maxout(units: 4, pieces: 3), .dense(units: 5, activation: .elu()), .dense(units: 4)],
                loss: .multiclassHinge, rows: 8, l2: 0.02, l1: 0.01, seed: 14),
    NetworkCase(name: "hinge weighted: gelu → linear", inputs: 5,
                layers: [.dense(units: 6, activation: .gelu), .dense(units: 3)],
                loss: .multiclassHinge, weighted: true, seed: 5),
    NetworkCase(name: "MSE: elu(0.5) → dropout(0) → gelu → linear", inputs: 5,
                layers: [.dense(units: 6, activation: .elu(alpha: 0.5)), .dropout(rate: 0), .dense(units: 4, activation: .gelu),
                         .dense(units: 2)],
                loss: .meanSquaredError, targets: .values, l2: 0.01, l1: 0.01, seed: 6),
    NetworkCase(name: "MSE weighted: softplus → leaky ReLU → sigmoid output", inputs: 2,
                layers: [.dense(units: 8, activation: .softplus), .dense(units: 5, activation: .leakyReLU()),
                         .dense(units: 3, activation: .sigmoid)],
                loss: .meanSquaredError, targets: .values, weighted: true, seed: 7),
    NetworkCase(name: "BCE: softplus → leaky ReLU(0.1) → linear", inputs: 3,
                layers: [.dense(units: 5, activation: .softplus), .dense(units: 4, activation: .leakyReLU(alpha: 0.1)),
                         .dense(units: 3)],
                loss: .binaryCrossEntropy, targets: .values, l2: 0.015, l1: 0.002, seed: 8),
    NetworkCase(name: "BCE one output with 0/1 labels, weighted: tanh → relu → linear", inputs: 4,
                layers: [.dense(units: 6, activation: .tanh), .dense(units: 4, activation: .relu), .dense(units: 1)],
                loss: .binaryCrossEntropy, targets: .labels, rows: 9, weighted: true, seed: 9),
]

/// The engine's gradient block after a step, in the layout of `parameterTensors`.
private func engineGradient(_ model: Model) -> [Float] { Array(model.storage.gradients) }

/// Central differences of the reference's full loss at `parameters`.
private func referenceGradient(_ c: NetworkCase, _ parameters: [Float], _ batch: ReferenceBatch) -> [Double] {
    let net = c.reference
    return Ref.numericalGradient(of: { net.fullLoss($0, batch, l2: Double(c.l2), l1: Double(c.l1)) },
                                 at: parameters.map(Double.init))
}

private let networkReport = gradientCheckReport

// MARK: - Tests

@Suite("Whole-network gradients and optimiser updates against a Double reference")
struct NetworkGradientTests {
    @Test(arguments: networkCases)
    func trainStepComputesTheGradientOfTheFullLoss(_ c: NetworkCase) throws {
        let made = try c.make()
        var model = made.model
        let p0 = made.parameters, batch = made.batch
        let net = c.reference
        let p0d = p0.map(Double.init)

        // The engine's layout is the one the reference assumes.
        let tensors = model.parameterTensors
        try #require(tensors.count == 2 * net.slots.count)
        for (i, s) in net.slots.enumerated() {
            #expect(tensors[2 * i] == ParameterTensor(layer: s.layer, kind: .weight, offset: s.weightOffset, rows: s.rows, cols: s.cols))
            #expect(tensors[2 * i + 1] == ParameterTensor(layer: s.layer, kind: .bias, offset: s.biasOffset, rows: 1, cols: s.cols))
        }
        #expect(model.parameterCount == net.parameterCount)
        try #require(net.kinkDistance(p0d, batch, l1: Double(c.l1)) > 1e-3, "the seed puts a value next to a kink")

        var options = TrainingOptions()
        options.optimizer = .sgd
        options.learningRate = 0.01
        options.l2 = c.l2
        options.l1 = c.l1
        let stats = try model.trainStep(batch.dataset, options: options)

        let numeric = referenceGradient(c, p0, batch)
        let g = engineGradient(model)
        let d = Discrepancy.compare(g, numeric, NetworkTolerance.gradient)
        #expect(d.passes, "\(c.name): gradient \(d)")
        if networkReport { print("[gradcheck] network \(c.name) gradient: \(d)") }

        let expectedData = net.dataLoss(net.forward(p0d, batch.x).output, batch.targets, weights: batch.weights)
        let expectedRegularization = net.regularization(p0d, l2: Double(c.l2), l1: Double(c.l1))
        let losses = Discrepancy.compare([stats.dataLoss, stats.regularizationLoss], [expectedData, expectedRegularization],
                                         NetworkTolerance.loss)
        #expect(losses.passes, "\(c.name): data and regularisation loss \(losses)")
        let norm = numeric.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let normCheck = Discrepancy.compare([stats.gradientNorm], [norm], NetworkTolerance.gradient)
        #expect(normCheck.passes, "\(c.name): gradient norm \(normCheck)")
        // Every parameter takes part: no gradient is silently dropped (a dead ReLU unit could
        // zero a column, so only require most entries to be non-zero).
        #expect(g.filter { $0 != 0 }.count * 10 >= g.count * 8, "\(c.name): too many zero gradients")
    }

    @Test func theFullLossGradientIncludesThePenaltiesOnWeightsButNotOnBiases() throws {
        // The same net and batch with and without penalties: the gradients differ by exactly
        // 2λ₂W + λ₁·sign(W) on weights, and not at all on biases.
        let base = networkCases[0]
        var plain = base
        plain.l2 = 0; plain.l1 = 0
        let made = try plain.make()
        var a = made.model, b = try base.make().model
        let p0 = made.parameters, batch = made.batch
        var options = TrainingOptions()
        options.learningRate = 0.01
        _ = try a.trainStep(batch.dataset, options: options)
        options.l2 = base.l2
        options.l1 = base.l1
        _ = try b.trainStep(batch.dataset, options: options)
        let ga = engineGradient(a), gb = engineGradient(b)
        let net = base.reference
        var expected: [Double] = [], actual: [Double] = []
        for i in 0 ..< net.parameterCount {
            let w = Double(p0[i])
            let penalty = net.isWeight(i) ? 2 * Double(base.l2) * w + Double(base.l1) * (w > 0 ? 1 : -1) : 0
            expected.append(penalty)
            actual.append(Double(gb[i]) - Double(ga[i]))
        }
        let d = Discrepancy.compare(actual, expected, CheckTolerance(atol: 1e-6, rtol: 1e-4))
        #expect(d.passes, "penalty gradient \(d)")
    }

    // MARK: Optimisers

    static let optimizers: [Optimizer] = [
        .sgd, .momentum(0.9), .nesterov(0.9), .adagrad(), .rmsprop(), .adam(), .adamW(),
        .rmsprop(decay: 0.8, epsilon: 1e-6), .adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-7), .adamW(weightDecay: 0.1),
    ]

    @Test(arguments: optimizers, [networkCases[0], networkCases[5]])
    func theFirstUpdatesFollowTheOptimisersFormula(_ optimizer: Optimizer, _ c: NetworkCase) throws {
        let made = try c.make()
        var model = made.model
        let batch = made.batch
        let net = c.reference
        var options = TrainingOptions()
        options.optimizer = optimizer
        options.learningRate = 0.05
        options.l2 = c.l2
        options.l1 = c.l1
        var reference = ReferenceOptimizer(optimizer, count: net.parameterCount, isWeight: net.isWeight)
        // Two steps on the same batch: the first shows the update from empty slots, the second
        // that the slots (velocity, caches, moments, step count) carry over.
        for step in 1 ... 2 {
            let before = model.parameters
            _ = try model.trainStep(batch.dataset, options: options)
            let g = engineGradient(model)
            // The gradient the optimiser received is the true one …
            let numeric = referenceGradient(c, before, batch)
            let dg = Discrepancy.compare(g, numeric, NetworkTolerance.gradient)
            #expect(dg.passes, "\(optimizer) step \(step): gradient \(dg)")
            // … and the update is the optimiser's formula applied to it, computed in Double.
            let expected = reference.update(before.map(Double.init), g.map(Double.init), learningRate: Double(options.learningRate))
            let dp = Discrepancy.compare(model.parameters, expected, NetworkTolerance.parameters)
            #expect(dp.passes, "\(optimizer) step \(step): parameters \(dp)")
            #expect(model.trainingState.step == step)
            if networkReport { print("[gradcheck] optimizer \(optimizer) \(c.name) step \(step) parameters: \(dp)") }
            // The step changed the parameters by a visible amount (so the comparison is not vacuous).
            let moved = zip(model.parameters, before).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(moved > 1e-3, "\(optimizer) step \(step) barely moved the parameters")
        }
    }

    @Test func adamWDecaysWeightsButNotBiases() throws {
        // Same model, batch and gradient: AdamW differs from Adam only by the decay, applied to
        // weights before the Adam step, so p_adamw − p_adam = −η·λ·p₀ on weights and 0 on biases.
        let c = networkCases[0]
        let made = try c.make()
        var adam = made.model, adamW = try c.make().model
        let p0 = made.parameters, batch = made.batch
        var options = TrainingOptions()
        options.learningRate = 0.05
        options.optimizer = .adam()
        _ = try adam.trainStep(batch.dataset, options: options)
        options.optimizer = .adamW(weightDecay: 0.2)
        _ = try adamW.trainStep(batch.dataset, options: options)
        let net = c.reference
        let difference = zip(adamW.parameters, adam.parameters).map { Double($0) - Double($1) }
        let expected = (0 ..< net.parameterCount).map { net.isWeight($0) ? -0.05 * Double(Float(0.2)) * Double(p0[$0]) : 0 }
        let d = Discrepancy.compare(difference, expected, CheckTolerance(atol: 1e-6, rtol: 1e-4))
        #expect(d.passes, "AdamW − Adam \(d)")
    }

    // MARK: Gradient clipping

    @Test(arguments: [0.05 as Float, 0.3, 1e6])
    func gradientClippingRescalesTheStepToTheClipNorm(fractionOfNorm: Float) throws {
        let c = networkCases[3]
        let made = try c.make()
        var model = made.model
        let p0 = made.parameters, batch = made.batch
        let numeric = referenceGradient(c, p0, batch)
        let norm = numeric.reduce(0) { $0 + $1 * $1 }.squareRoot()
        try #require(norm > 0.1)
        let clip = Float(norm) * fractionOfNorm
        var options = TrainingOptions()
        options.optimizer = .sgd
        options.learningRate = 0.1
        options.l2 = c.l2
        options.l1 = c.l1
        options.gradientClipNorm = clip
        let stats = try model.trainStep(batch.dataset, options: options)

        // The reported norm is the one before clipping.
        let n = Discrepancy.compare([stats.gradientNorm], [norm], NetworkTolerance.gradient)
        #expect(n.passes, "gradient norm \(n)")
        let step = zip(p0, model.parameters).map { Double($0) - Double($1) }
        let stepNorm = step.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let factor = min(1, Double(clip) / norm)
        // ‖Δp‖ = η·min(clip, ‖g‖) …
        let expectedNorm = 0.1 * Double(Float(norm) * min(1, fractionOfNorm))
        #expect(abs(stepNorm - expectedNorm) <= 1e-4 * expectedNorm,
                "‖Δp‖ = \(stepNorm), expected η·clip = \(expectedNorm)")
        // … along the true gradient: Δp = η·g·min(1, clip/‖g‖).
        let d = Discrepancy.compare(step, numeric.map { 0.1 * factor * $0 }, CheckTolerance(atol: 2e-6, rtol: 1e-4))
        #expect(d.passes, "clipped step \(d)")
    }
}

// MARK: - The Double optimisers

/// Each optimiser's update written from its formula, in Double, with its own slots.
struct ReferenceOptimizer {
    let rule: Optimizer
    let isWeight: [Bool]
    var first: [Double]
    var second: [Double]
    var step = 0

    init(_ rule: Optimizer, count: Int, isWeight: (Int) -> Bool) {
        self.rule = rule
        self.isWeight = (0 ..< count).map(isWeight)
        first = [Double](repeating: 0, count: count)
        second = [Double](repeating: 0, count: count)
    }

    /// The parameters after one update from `p` with gradient `g`.
    mutating func update(_ p: [Double], _ g: [Double], learningRate eta: Double) -> [Double] {
        step += 1
        var p = p
        switch rule {
        case .sgd:
            for i in p.indices { p[i] -= eta * g[i] }
        case .momentum(let mu):
            // v ← μv − ηg; p ← p + v.
            for i in p.indices {
                first[i] = Double(mu) * first[i] - eta * g[i]
                p[i] += first[i]
            }
        case .nesterov(let mu):
            // v′ ← μv − ηg; p ← p − μv + (1 + μ)v′.
            let mu = Double(mu)
            for i in p.indices {
                let v = first[i]
                first[i] = mu * v - eta * g[i]
                p[i] += -mu * v + (1 + mu) * first[i]
            }
        case .adagrad(let eps):
            // c ← c + g²; p ← p − ηg / (√c + ε).
            for i in p.indices {
                first[i] += g[i] * g[i]
                p[i] -= eta * g[i] / (first[i].squareRoot() + Double(eps))
            }
        case .rmsprop(let rho, let eps):
            // c ← ρc + (1 − ρ)g²; p ← p − ηg / (√c + ε).
            let rho = Double(rho)
            for i in p.indices {
                first[i] = rho * first[i] + (1 - rho) * g[i] * g[i]
                p[i] -= eta * g[i] / (first[i].squareRoot() + Double(eps))
            }
        case .adam(let b1, let b2, let eps):
            p = adam(p, g, eta, Double(b1), Double(b2), Double(eps))
        case .adamW(let b1, let b2, let eps, let decay):
            // Decoupled decay on weights first: p ← p − ηλp; then the Adam step.
            for i in p.indices where isWeight[i] { p[i] -= eta * Double(decay) * p[i] }
            p = adam(p, g, eta, Double(b1), Double(b2), Double(eps))
        }
        return p
    }

    /// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ); p ← p − η·m̂/(√v̂ + ε).
    private mutating func adam(_ p: [Double], _ g: [Double], _ eta: Double, _ b1: Double, _ b2: Double, _ eps: Double) -> [Double] {
        var p = p
        var c1 = 1.0, c2 = 1.0
        for _ in 0 ..< step { c1 *= b1; c2 *= b2 }
        for i in p.indices {
            first[i] = b1 * first[i] + (1 - b1) * g[i]
            second[i] = b2 * second[i] + (1 - b2) * g[i] * g[i]
            let mHat = first[i] / (1 - c1), vHat = second[i] / (1 - c2)
            p[i] -= eta * mHat / (vHat.squareRoot() + eps)
        }
        return p
    }
}
