// The lecture's learning results, reproduced end to end through the public API: the spiral
// (linear classifier ≈ 50 %, 2- and 3-layer ReLU nets ≥ 98 %, hinge loss ≥ 95 %), XOR and a
// 1-D sine regression. Every accuracy is read with `model.evaluate` and checked against an
// independent Double forward pass over the trained weights.
//
// On the regularisation strength: the engine's penalty is λ₂·ΣW² (gradient 2λ₂W), as the lecture
// notes write R(W). The lecture's *code* (CS231n's spiral case study) uses 0.5·reg·ΣW² (gradient
// reg·W), so its `reg = 1e-3` is the engine's `l2 = 5e-4`. With the engine's `l2 = 1e-3` the
// penalty is twice the lecture's and the 2-layer net lands at 96.7–98.3 % depending on the seed
// (a NumPy run of the lecture's code with the doubled penalty gives the same 96–97.7 %). So the
// issue's literal setup (`l2 = 1e-3`, rate 1, full batch, 10,000 steps) is asserted at ≥ 98 % on
// the default spiral (seed 0: 98.0 %), and the ≥ 98 % claim is also asserted across seeds with the
// lecture's actual penalty.

import Glibc
import NNCore
import Testing

@Suite struct SpiralTrainingTests {
    /// The lecture's full-batch gradient descent: learning rate 1, 10,000 steps.
    static func lectureOptions(l2: Float, learningRate: Float = 1.0, epochs: Int = 10_000) -> TrainingOptions {
        trainingOptions {
            $0.epochs = epochs
            $0.batchSize = 0
            $0.learningRate = learningRate
            $0.l2 = l2
        }
    }

    /// Trains on the spiral and returns the training accuracy from `evaluate`, after checking
    /// it against the accuracy of an independent Double forward pass over the trained weights.
    static func trainedAccuracy(_ layers: [Layer], loss: Loss = .softmaxCrossEntropy, options: TrainingOptions,
                                seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
        let data = try SyntheticData.spiral(seed: seed)
        var model = try Model(inputs: 2, layers: layers, loss: loss, seed: seed)
        let summary = try model.fit(data, options: options)
        #expect(summary.stopReason == .completed, sourceLocation: sourceLocation)
        #expect(summary.epochs.count == options.epochs, sourceLocation: sourceLocation)
        #expect(model.trainingState.step == options.epochs, "full batch: one step per epoch", sourceLocation: sourceLocation)

        let evaluation = try model.evaluate(data)
        let accuracy = try #require(evaluation.accuracy, sourceLocation: sourceLocation)
        let oracle = try TrainOracle.evaluate(model, data)
        #expect(evaluation.count == 300, sourceLocation: sourceLocation)
        // The Double pass may disagree with float32 only on a point that sits on a decision boundary.
        #expect(abs(Double(accuracy) - oracle.accuracy!) <= 1.0 / 300 + 1e-9, sourceLocation: sourceLocation)
        #expect(isClose(evaluation.loss, oracle.loss, atol: 1e-4, rtol: 1e-3), sourceLocation: sourceLocation)
        // The last epoch's statistics describe the weights before its step: still close to the end.
        let last = try #require(summary.epochs.last, sourceLocation: sourceLocation)
        #expect(last.dataLoss.isFinite && last.regularizationLoss > 0, sourceLocation: sourceLocation)
        return Double(accuracy)
    }

    @Test func theSpiralGeneratorFollowsTheLectureRecipe() throws {
        let data = try SyntheticData.spiral(seed: 0)
        #expect(data.count == 300)
        #expect(data.inputs.cols == 2)
        guard case .labels(let labels) = data.targets else {
            Issue.record("the spiral has class labels")
            return
        }
        #expect(labels == (0 ..< 3).flatMap { k in Array(repeating: k, count: 100) })
        // Point i of arm k lies at radius i/99 and angle 4k + 4i/99 + 𝒩(0, 0.2²).
        var residuals: [Double] = []
        for row in 0 ..< 300 {
            let k = row / 100, i = row % 100
            let x = Double(data.inputs[row, 0]), y = Double(data.inputs[row, 1])
            #expect(isClose((x * x + y * y).squareRoot(), Double(i) / 99, atol: 1e-6, rtol: 1e-6))
            guard i > 0 else { continue }
            let expected = Double(4 * k) + 4 * Double(i) / 99
            // (r·sin t, r·cos t): the angle measured from the y axis.
            var d = atan2(x, y) - expected
            d -= 2 * Double.pi * (d / (2 * Double.pi)).rounded()
            residuals.append(d)
        }
        let mean = residuals.reduce(0, +) / Double(residuals.count)
        let sd = (residuals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(residuals.count)).squareRoot()
        #expect(abs(mean) < 0.05, "noise mean \(mean)")
        #expect(sd > 0.15 && sd < 0.25, "noise standard deviation \(sd), expected about 0.2")
        // The same seed gives the same points; another seed other noise.
        #expect(try SyntheticData.spiral(seed: 0) == data)
        #expect(try SyntheticData.spiral(seed: 1) != data)
    }

    @Test(arguments: [0, 1] as [UInt64])
    func aLinearSoftmaxClassifierReachesAboutFiftyPercentOnTheSpiral(seed: UInt64) throws {
        let accuracy = try Self.trainedAccuracy([.dense(units: 3)],
                                                options: Self.lectureOptions(l2: 1e-3, epochs: 1_000), seed: seed)
        #expect((0.40 ... 0.65).contains(accuracy), "linear classifier: \(accuracy)")
    }

    @Test(arguments: [0, 1] as [UInt64])
    func twoLayerReLUNetReachesNinetyEightPercentOnTheSpiral(seed: UInt64) throws {
        // l2 = 5e-4 here is the lecture code's reg = 1e-3 (see the file comment).
        let accuracy = try Self.trainedAccuracy([.dense(units: 100, activation: .relu), .dense(units: 3)],
                                                options: Self.lectureOptions(l2: 5e-4), seed: seed)
        #expect(accuracy >= 0.98, "2-layer net, seed \(seed): \(accuracy)")
    }

    @Test func twoLayerReLUNetWithTheIssuesSetupReachesNinetyEightPercentOnTheDefaultSpiral() throws {
        let accuracy = try Self.trainedAccuracy([.dense(units: 100, activation: .relu), .dense(units: 3)],
                                                options: Self.lectureOptions(l2: 1e-3), seed: 0)
        #expect(accuracy >= 0.98, "2-layer net with l2 = 1e-3: \(accuracy)")
    }

    @Test func twoLayerReLUNetWithTheMulticlassHingeLossReachesNinetyFivePercent() throws {
        // Learning rate 0.1: the hinge gradient does not shrink as the margins are met, and at
        // rate 1 full-batch descent oscillates (86 % on seed 0, as NumPy does with the lecture's code).
        let accuracy = try Self.trainedAccuracy([.dense(units: 100, activation: .relu), .dense(units: 3)],
                                                loss: .multiclassHinge,
                                                options: Self.lectureOptions(l2: 1e-3, learningRate: 0.1), seed: 0)
        #expect(accuracy >= 0.95, "2-layer hinge net: \(accuracy)")
    }

    @Test func threeLayerReLUNetReachesNinetyEightPercentOnTheSpiral() throws {
        // 2-100-100-3, learning rate 0.2 (rate 0.5 also passes but wobbles between 97.7 and 99 %).
        let accuracy = try Self.trainedAccuracy(
            [.dense(units: 100, activation: .relu), .dense(units: 100, activation: .relu), .dense(units: 3)],
            options: Self.lectureOptions(l2: 1e-3, learningRate: 0.2, epochs: 2_000), seed: 0)
        #expect(accuracy >= 0.98, "3-layer net: \(accuracy)")
    }
}

/// The two other classic small problems: XOR (not linearly separable) and a 1-D regression.
@Suite struct XORAndSineTrainingTests {
    @Test(arguments: [0, 1, 2] as [UInt64])
    func aTwoLayerNetLearnsXORExactly(seed: UInt64) throws {
        let data = SyntheticData.xor()
        #expect(data.inputs.values == [0, 0, 0, 1, 1, 0, 1, 1])
        #expect(data.targets == .labels([0, 1, 1, 0]))
        var model = try Model(inputs: 2, layers: [.dense(units: 8, activation: .tanh), .dense(units: 2)], seed: seed)
        try model.fit(data, options: trainingOptions {
            $0.epochs = 1_000
            $0.batchSize = 0
            $0.learningRate = 0.5
        })
        let evaluation = try model.evaluate(data)
        #expect(evaluation.accuracy == 1)
        #expect(try model.classify(data.inputs) == [0, 1, 1, 0])
        let net = try DoubleMLP(model)
        #expect((0 ..< 4).map { TrainOracle.argmax(net(data.inputs.row($0))) } == [0, 1, 1, 0])
        #expect(try TrainOracle.evaluate(model, data).loss < 0.1)
    }

    @Test func aLinearModelCannotLearnXOR() throws {
        var model = try Model(inputs: 2, layers: [.dense(units: 2)], seed: 0)
        try model.fit(SyntheticData.xor(), options: trainingOptions {
            $0.epochs = 1_000
            $0.batchSize = 0
            $0.learningRate = 0.5
        })
        #expect(try model.evaluate(SyntheticData.xor()).accuracy! <= 0.75)
    }

    @Test(arguments: [Activation.tanh, .relu])
    func aOneHiddenLayerNetFitsSineWithASmallError(activation: Activation) throws {
        let data = try TestData.sine(count: 64)
        var model = try Model(inputs: 1, layers: [.dense(units: 32, activation: activation), .dense(units: 1)],
                              loss: .meanSquaredError, seed: 3)
        try model.fit(data, options: trainingOptions {
            $0.epochs = 2_000
            $0.batchSize = 16
            $0.optimizer = .adam()
            $0.learningRate = 0.01
            // At a constant 0.01, Adam's loss here swings between 1e-4 and 2e-2 from one 200-epoch
            // stretch to the next, so the last epoch's value hung on float rounding (the AVX2 and
            // baseline builds of the product loops gave 0.018 and 1.8e-4). Decayed, it settles at
            // 3e-5–8e-5 on seeds 1–4 with either build.
            $0.schedule = .stepDecay(milestones: [1_000, 1_500], factor: 0.1)
        })
        // Judge on a finer grid than the training points, with the Double forward pass.
        let net = try DoubleMLP(model)
        let grid = (0 ... 200).map { -Double.pi + 2 * Double.pi * Double($0) / 200 }
        let targets = grid.map { sin($0) }
        let meanTarget = targets.reduce(0, +) / Double(targets.count)
        let variance = targets.map { ($0 - meanTarget) * ($0 - meanTarget) }.reduce(0, +) / Double(targets.count)
        let mse = zip(grid, targets).map { x, t in
            let e = net([Float(x)])[0] - t
            return e * e
        }.reduce(0, +) / Double(grid.count)
        #expect(mse < 0.01 * variance, "\(activation): MSE \(mse) against a target variance of \(variance)")
        let evaluation = try model.evaluate(data)
        #expect(evaluation.accuracy == nil)
        #expect(isClose(evaluation.loss, try TrainOracle.evaluate(model, data).loss, atol: 1e-6, rtol: 1e-3))
        #expect(evaluation.loss < 0.01 * Float(variance))
    }
}
