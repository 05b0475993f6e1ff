// The optimiser's step in parts (`ParameterStep`): on a model with several parts, whose weight
// matrices straddle the parts' edges, every optimiser's update is its formula applied in Double
// to the engine's gradient; the reported norm is the gradient's in Double; clipping scales every
// part alike; and steps give the same bits on 1, 2 and 3 threads.

@testable import NNCore
import Testing

/// Changes the process-wide thread count: serialised.
@Suite(.serialized) struct ParameterStepTests {
    /// 60 inputs, 400 ReLU units, 10 outputs: 28,410 parameters, 4 parts; the first weight matrix
    /// (24,000) spans parts 0 to 2, and the first bias and the second weights start inside parts.
    static func model(seed: UInt64 = 11) throws -> Model {
        try Model(inputs: 60, layers: [.dense(units: 400, activation: .relu), .dense(units: 10)], seed: seed)
    }

    static func batch(rows: Int = 32, seed: UInt64 = 4) throws -> Dataset {
        let x = try TestData.uniformInputs(rows: rows, cols: 60, limit: 1, seed: seed)
        let labels = (0 ..< rows).map { (Int(x.values[$0 * 60].bitPattern) >> 3) % 10 }
        return try Dataset(inputs: x, labels: labels)
    }

    static let optimizers: [Optimizer] = [.sgd, .momentum(0.9), .nesterov(0.9), .adagrad(), .rmsprop(), .adam(),
                                          .adamW(weightDecay: 0.1)]

    @Test func theModelHasSeveralPartsAndTensorsThatStraddleThem() throws {
        let model = try Self.model()
        let part = ParameterStep.partFloats
        #expect(model.parameterCount > 3 * part)
        let straddling = model.parameterTensors.filter { $0.offset / part != ($0.offset + $0.count - 1) / part }
        #expect(straddling.contains { $0.kind == .weight })
    }

    @Test(arguments: optimizers)
    func everyPartFollowsTheOptimisersFormula(_ optimizer: Optimizer) throws {
        var model = try Self.model()
        let data = try Self.batch()
        let tensors = model.parameterTensors
        var isWeight = [Bool](repeating: false, count: model.parameterCount)
        for t in tensors where t.kind == .weight { for i in t.offset ..< t.offset + t.count { isWeight[i] = true } }
        var reference = ReferenceOptimizer(optimizer, count: model.parameterCount, isWeight: { isWeight[$0] })
        var options = TrainingOptions()
        options.optimizer = optimizer
        options.learningRate = 0.05
        try withThreadCount(2) {
            for step in 1 ... 2 {
                let before = model.parameters
                let stats = try model.trainStep(data, options: options)
                let g = Array(model.storage.gradients).map(Double.init)
                let expected = reference.update(before.map(Double.init), g, learningRate: 0.05)
                let d = Discrepancy.compare(model.parameters, expected, NetworkTolerance.parameters)
                #expect(d.passes, "\(optimizer) step \(step): parameters \(d)")
                let moved = zip(model.parameters, before).filter { $0 != $1 }.count
                #expect(moved * 10 >= model.parameterCount * 9, "\(optimizer) step \(step) left parameters unchanged")
                let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(abs(Double(stats.gradientNorm) - norm) <= 1e-5 * norm, "\(optimizer) step \(step): norm")
            }
        }
    }

    @Test(arguments: [0.1 as Float, 0.5, 2])
    func clippingScalesEveryPartAlike(fractionOfNorm: Float) throws {
        var model = try Self.model()
        let data = try Self.batch()
        var probe = model
        let norm = try probe.trainStep(data, options: TrainingOptions()).gradientNorm
        var options = TrainingOptions()
        options.optimizer = .sgd
        options.learningRate = 0.1
        options.gradientClipNorm = norm * fractionOfNorm
        let before = model.parameters
        let stats = try withThreadCount(2) { try model.trainStep(data, options: options) }
        #expect(stats.gradientNorm == norm)
        // The gradient left in the model is the scaled one: p − p′ = η·g′, with ‖g′‖ = min(clip, ‖g‖).
        let g = Array(model.storage.gradients).map(Double.init)
        let scaled = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expectedNorm = Double(norm) * Double(min(1, fractionOfNorm))
        #expect(abs(scaled - expectedNorm) <= 1e-5 * expectedNorm, "‖g′‖ = \(scaled), expected \(expectedNorm)")
        let step = zip(before, model.parameters).map { Double($0) - Double($1) }
        let d = Discrepancy.compare(step, g.map { 0.1 * $0 }, CheckTolerance(atol: 1e-7, rtol: 1e-4))
        #expect(d.passes, "step \(d)")
    }

    @Test func stepsGiveTheSameBitsOnAnyThreadCount() throws {
        let data = try Self.batch(rows: 64)
        var options = TrainingOptions()
        options.optimizer = .adamW(weightDecay: 0.05)
        options.learningRate = 0.01
        options.gradientClipNorm = 0.5
        var runs: [([UInt32], [UInt32])] = []
        for threads in [1, 2, 3] {
            var model = try Self.model()
            var norms: [UInt32] = []
            try withThreadCount(threads) {
                for _ in 0 ..< 3 { norms.append(try model.trainStep(data, options: options).gradientNorm.bitPattern) }
            }
            runs.append((model.parameters.map(\.bitPattern), norms))
        }
        for (threads, run) in zip([2, 3], runs.dropFirst()) {
            let differing = zip(run.0, runs[0].0).filter { $0 != $1 }.count
            #expect(differing == 0, "\(threads) threads: \(differing) parameters differ from one thread's")
            #expect(run.1 == runs[0].1, "\(threads) threads: gradient norms")
        }
    }
}
