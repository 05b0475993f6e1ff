// How `fit` and `trainStep` behave over time: learning-rate schedules, early stopping,
// determinism and resumption, per-epoch statistics and history, input standardisation,
// cancellation, streamed steps and sample weights. Expected values come from the formulas
// (schedules), from independent Double computations over the model's weights (losses,
// gradients, standardisation), or from a second, identically seeded run that reaches the
// same state by another path (early stopping, resumption, cancellation, streaming).

import Glibc
import NNCore
import Testing

@Suite struct TrainingBehaviourTests {
    // MARK: Learning-rate schedules

    @Test func stepDecayFactorsMatchTheLecturesRule() {
        let schedule = Schedule.stepDecay(milestones: [30, 60, 90], factor: 0.1)
        for epoch in 0 ..< 130 {
            let passed = [30, 60, 90].filter { epoch >= $0 }.count
            let expected = pow(0.1, Double(passed))
            #expect(isClose(schedule.factor(epoch: epoch), expected, atol: 0, rtol: 1e-6), "epoch \(epoch)")
        }
        #expect(Schedule.constant.factor(epoch: 0) == 1)
        #expect(Schedule.constant.factor(epoch: 12_345) == 1)
    }

    @Test func exponentialCosineAndWarmUpFactorsMatchTheirFormulas() {
        let exponential = Schedule.exponential(gamma: 0.95)
        for epoch in 0 ..< 200 {
            #expect(isClose(exponential.factor(epoch: epoch), pow(0.95, Double(epoch)), atol: 0, rtol: 1e-5), "epoch \(epoch)")
        }
        for (period, minimum) in [(50, 0.1), (7, 0.0)] {
            let cosine = Schedule.cosine(period: period, minimumFactor: Float(minimum))
            for epoch in 0 ... 2 * period {
                let progress = Double(min(epoch, period)) / Double(period)
                let expected = minimum + (1 - minimum) * 0.5 * (1 + cos(Double.pi * progress))
                #expect(isClose(cosine.factor(epoch: epoch), expected, atol: 1e-6, rtol: 1e-6), "cosine(\(period)) epoch \(epoch)")
            }
            #expect(cosine.factor(epoch: 0) == 1)
        }
        // Warm-up: linear from 1/n of the rate to the full rate over n epochs, multiplying the
        // schedule that follows, which keeps its absolute epoch numbers.
        let inner = Schedule.stepDecay(milestones: [3, 10], factor: 0.5)
        let warmup = Schedule.warmup(epochs: 5, then: inner)
        for epoch in 0 ..< 20 {
            let decay = pow(0.5, Double([3, 10].filter { epoch >= $0 }.count))
            let ramp = epoch < 5 ? Double(epoch + 1) / 5 : 1
            #expect(isClose(warmup.factor(epoch: epoch), decay * ramp, atol: 0, rtol: 1e-6), "warm-up epoch \(epoch)")
        }
    }

    /// A tiny full-batch problem whose epochs cost nothing, for schedule bookkeeping.
    static func xorModel(seed: UInt64 = 0) throws -> Model {
        try Model(inputs: 2, layers: [.dense(units: 4, activation: .tanh), .dense(units: 2)], seed: seed)
    }

    @Test func stepDecayChangesTheLearningRateAtExactlyTheMilestoneEpochs() throws {
        let base: Float = 0.5
        let options = trainingOptions {
            $0.epochs = 100
            $0.batchSize = 0
            $0.learningRate = base
            $0.schedule = .stepDecay(milestones: [30, 60, 90], factor: 0.1)
        }
        func expectedRate(_ epoch: Int) -> Double {  // 1-based, as EpochStats counts
            switch epoch {
            case 1 ... 30: return Double(base)
            case 31 ... 60: return Double(base) * 0.1
            case 61 ... 90: return Double(base) * 0.01
            default: return Double(base) * 0.001
            }
        }
        var model = try Self.xorModel()
        let summary = try model.fit(SyntheticData.xor(), options: options)
        #expect(summary.epochs.map(\.epoch) == Array(1 ... 100))
        #expect(model.history == summary.epochs)
        for stats in model.history {
            #expect(isClose(stats.learningRate, expectedRate(stats.epoch), atol: 0, rtol: 1e-6),
                    "epoch \(stats.epoch): \(stats.learningRate)")
        }
        // The schedule runs over the model's life: 45 + 55 epochs in two calls give the same rates.
        var split = try Self.xorModel()
        var first = options
        first.epochs = 45
        var second = options
        second.epochs = 55
        try split.fit(SyntheticData.xor(), options: first)
        let rest = try split.fit(SyntheticData.xor(), options: second)
        #expect(rest.epochs.first?.epoch == 46)
        #expect(split.history.map(\.learningRate) == model.history.map(\.learningRate))
        #expect(bits(split) == bits(model))
    }

    @Test func warmUpRampsTheRateInFitThenHandsOverToItsSchedule() throws {
        var model = try Self.xorModel()
        try model.fit(SyntheticData.xor(), options: trainingOptions {
            $0.epochs = 8
            $0.batchSize = 0
            $0.learningRate = 0.2
            $0.schedule = .warmup(epochs: 4, then: .exponential(gamma: 0.5))
        })
        for stats in model.history {
            let k = stats.epoch
            let expected = 0.2 * (k <= 4 ? Double(k) / 4 : 1) * pow(0.5, Double(k - 1))
            #expect(isClose(stats.learningRate, expected, atol: 0, rtol: 1e-6), "epoch \(k)")
        }
    }

    // MARK: Early stopping

    /// Few, heavily overlapping points for a wide net: the validation loss falls, then rises.
    static func overfittingProblem() throws -> (train: Dataset, validation: Dataset, model: Model) {
        let model = try Model(inputs: 2, layers: [.dense(units: 64, activation: .relu), .dropout(rate: 0.1),
                                                  .dense(units: 64, activation: .relu), .dense(units: 3)], seed: 11)
        return (try TestData.blobs(perClass: 15, spread: 0.9, seed: 21),
                try TestData.blobs(perClass: 100, spread: 0.9, seed: 22), model)
    }

    static func earlyStoppingOptions() -> TrainingOptions {
        trainingOptions {
            $0.epochs = 400
            $0.batchSize = 10
            $0.optimizer = .momentum(0.9)
            $0.learningRate = 0.05
            $0.earlyStoppingPatience = 5
        }
    }

    @Test func earlyStoppingRestoresTheBestEpochsWeights() throws {
        let (train, validation, initial) = try Self.overfittingProblem()
        let options = Self.earlyStoppingOptions()
        var model = initial
        let summary = try model.fit(train, validation: validation, options: options)
        #expect(summary.stopReason == .earlyStopped)
        let best = try #require(summary.bestEpoch)
        // The best epoch is the first minimum of the validation loss, and training went on for
        // exactly `patience` epochs without beating it.
        let losses = summary.epochs.map { $0.validationLoss! }
        let minimum = losses.min()!
        #expect(best == losses.firstIndex(of: minimum)! + 1)
        #expect(summary.epochs.count == best + 5)
        #expect(best >= 2, "a best epoch after the first makes the restore observable (got \(best))")
        #expect(model.history.count == summary.epochs.count, "every epoch run stays in the history")

        // The model holds exactly the weights that `best` epochs of the same run produce.
        var reference = initial
        var plain = options
        plain.earlyStoppingPatience = nil
        plain.epochs = best
        try reference.fit(train, validation: validation, options: plain)
        #expect(bits(model) == bits(reference))
        #expect(bits(model) != bits(initial))
        let held = try model.evaluate(validation)
        #expect(isClose(held.loss, Double(minimum), atol: 1e-6, rtol: 1e-5))
    }

    @Test func earlyStoppingWithAValidationFractionRestoresTheBestEpochToo() throws {
        let (train, validation, initial) = try Self.overfittingProblem()
        var merged = train
        merged.inputs = try Matrix(rows: train.count + validation.count, cols: 2,
                                   values: train.inputs.values + validation.inputs.values)
        guard case .labels(let a) = train.targets, case .labels(let b) = validation.targets else { return }
        merged.targets = .labels(a + b)
        var options = Self.earlyStoppingOptions()
        options.validationFraction = 0.75
        var model = initial
        let summary = try model.fit(merged, options: options)
        #expect(summary.stopReason == .earlyStopped)
        let best = try #require(summary.bestEpoch)
        #expect(summary.epochs.allSatisfy { $0.validationLoss != nil && $0.validationAccuracy != nil })
        var reference = initial
        options.earlyStoppingPatience = nil
        options.epochs = best
        try reference.fit(merged, options: options)
        #expect(bits(model) == bits(reference))
    }

    // MARK: Determinism and resumption

    static func determinismOptions(optimizer: Optimizer, epochs: Int) -> TrainingOptions {
        trainingOptions {
            $0.epochs = epochs
            $0.batchSize = 16
            $0.optimizer = optimizer
            $0.learningRate = optimizer == .sgd ? 0.1 : 0.01
            $0.l2 = 1e-3
            $0.schedule = .stepDecay(milestones: [15], factor: 0.5)
            $0.validationFraction = 0.2
            $0.standardize = true
        }
    }

    static func dropoutNet(seed: UInt64) throws -> Model {
        try Model(inputs: 2, layers: [.dense(units: 24, activation: .relu), .dropout(rate: 0.3),
                                      .dense(units: 24, activation: .tanh), .dense(units: 3)], seed: seed)
    }

    @Test func theSameSeedGivesBitwiseIdenticalWeightsAndADifferentSeedDifferentOnes() throws {
        let data = try TestData.blobs(perClass: 40, seed: 5)
        let options = Self.determinismOptions(optimizer: .adam(), epochs: 12)
        var a = try Self.dropoutNet(seed: 7), b = try Self.dropoutNet(seed: 7), c = try Self.dropoutNet(seed: 8)
        #expect(bits(a) == bits(b))
        #expect(bits(a) != bits(c))
        try a.fit(data, options: options)
        try b.fit(data, options: options)
        try c.fit(data, options: options)
        #expect(bits(a) == bits(b))
        #expect(a.history.map(timeless) == b.history.map(timeless))
        #expect(a.trainingState == b.trainingState)
        #expect(a.random == b.random)
        #expect(bits(a) != bits(c))
        #expect(a.history.map(timeless) != c.history.map(timeless))
    }

    @Test(arguments: [Optimizer.momentum(0.9), .adam(), .nesterov(0.9), .rmsprop()])
    func tenEpochsThenTenMoreEqualTwentyEpochsBitForBit(optimizer: Optimizer) throws {
        let data = try TestData.blobs(perClass: 40, seed: 6)
        var once = try Self.dropoutNet(seed: 3), twice = try Self.dropoutNet(seed: 3)
        try once.fit(data, options: Self.determinismOptions(optimizer: optimizer, epochs: 20))
        try twice.fit(data, options: Self.determinismOptions(optimizer: optimizer, epochs: 10))
        #expect(bits(once) != bits(twice))
        try twice.fit(data, options: Self.determinismOptions(optimizer: optimizer, epochs: 10))
        #expect(bits(once) == bits(twice))
        #expect(once.trainingState == twice.trainingState)
        #expect(once.random == twice.random)
        #expect(once.standardization == twice.standardization)
        #expect(once.history.map(timeless) == twice.history.map(timeless))
        #expect(once.history.map(\.epoch) == Array(1 ... 20))
    }

    // MARK: Per-epoch statistics and history

    @Test(arguments: [(Float(0.01), Float(0)), (0, 0.003), (0.01, 0.003), (0, 0)])
    func dataAndRegularisationLossesAreReportedSeparately(l2: Float, l1: Float) throws {
        let data = try TestData.blobs(perClass: 20, seed: 9)
        var model = try Model(inputs: 2, layers: [.dense(units: 16, activation: .relu), .dense(units: 3)], seed: 4)
        // Non-zero biases: a penalty that wrongly included them would show.
        try model.setBiases([Float](repeating: 0.5, count: 16), ofLayer: 0)
        try model.setBiases([0.7, -0.9, 1.1], ofLayer: 1)
        let options = trainingOptions {
            $0.epochs = 1
            $0.batchSize = 0
            $0.learningRate = 0.3
            $0.l2 = l2
            $0.l1 = l1
        }
        // With one full batch, an epoch's statistics are those of the weights it starts from.
        for _ in 0 ..< 3 {
            let expectedPenalty = Double(l2) * (try TrainOracle.sumOfSquaredWeights(model))
                + Double(l1) * (try TrainOracle.sumOfAbsoluteWeights(model))
            let expected = try TrainOracle.evaluate(model, data)
            let stats = try #require(try model.fit(data, options: options).epochs.first)
            #expect(isClose(stats.regularizationLoss, expectedPenalty, atol: 1e-7, rtol: 1e-5),
                    "penalty \(stats.regularizationLoss), expected \(expectedPenalty)")
            #expect(isClose(stats.dataLoss, expected.loss, atol: 1e-6, rtol: 1e-5))
            #expect(stats.loss == stats.dataLoss + stats.regularizationLoss)
            #expect(abs(Double(stats.accuracy!) - expected.accuracy!) <= 1.0 / 60 + 1e-9)
            #expect(stats.validationLoss == nil && stats.validationAccuracy == nil)
            #expect(stats.seconds >= 0)
        }
        if l2 == 0 && l1 == 0 { #expect(model.history.allSatisfy { $0.regularizationLoss == 0 }) }
        #expect(model.history.map(\.epoch) == [1, 2, 3])
    }

    @Test func historyAccumulatesAcrossFitCalls() throws {
        let data = try TestData.blobs(perClass: 10, seed: 2)
        var model = try Model(inputs: 2, layers: [.dense(units: 3)], seed: 1)
        #expect(model.history.isEmpty)
        let first = try model.fit(data, options: trainingOptions { $0.epochs = 3; $0.batchSize = 8 })
        let second = try model.fit(data, options: trainingOptions { $0.epochs = 4; $0.batchSize = 0 })
        #expect(first.epochs.map(\.epoch) == [1, 2, 3])
        #expect(second.epochs.map(\.epoch) == [4, 5, 6, 7])
        #expect(model.history == first.epochs + second.epochs)
        #expect(model.trainingState.epoch == 7)
        #expect(model.trainingState.step == 3 * 4 + 4, "30 rows in batches of 8 is 4 steps an epoch")
        // Resetting the optimiser state keeps the history.
        model.resetTrainingState()
        #expect(model.history.count == 7)
    }

    @Test func validationMetricsAppearWhenValidationIsGiven() throws {
        let train = try TestData.blobs(perClass: 20, seed: 12), validation = try TestData.blobs(perClass: 15, seed: 13)
        var model = try Model(inputs: 2, layers: [.dense(units: 8, activation: .tanh), .dense(units: 3)], seed: 2)
        let options = trainingOptions { $0.epochs = 5; $0.batchSize = 0; $0.learningRate = 0.5 }
        let without = try model.fit(train, options: options)
        #expect(without.epochs.allSatisfy { $0.validationLoss == nil && $0.validationAccuracy == nil })
        let with = try model.fit(train, validation: validation, options: options)
        #expect(with.epochs.allSatisfy { $0.validationLoss != nil && $0.validationAccuracy != nil })
        // The last epoch's validation metrics are those of the final weights.
        let expected = try TrainOracle.evaluate(model, validation)
        let last = try #require(with.epochs.last)
        #expect(isClose(last.validationLoss!, expected.loss, atol: 1e-6, rtol: 1e-5))
        #expect(abs(Double(last.validationAccuracy!) - expected.accuracy!) <= 1.0 / 45 + 1e-9)
        var fraction = options
        fraction.validationFraction = 0.25
        let split = try model.fit(train, options: fraction)
        #expect(split.epochs.allSatisfy { $0.validationLoss != nil && $0.validationAccuracy != nil })
        #expect(model.history.count == 15)

        // Regression: a validation loss, no accuracies.
        let sine = try TestData.sine(count: 20)
        var regression = try Model(inputs: 1, layers: [.dense(units: 8, activation: .tanh), .dense(units: 1)],
                                   loss: .meanSquaredError, seed: 1)
        let fitted = try regression.fit(sine, validation: try TestData.sine(count: 7), options: options)
        #expect(fitted.epochs.allSatisfy { $0.validationLoss != nil && $0.validationAccuracy == nil && $0.accuracy == nil })
        #expect(isClose(fitted.epochs.last!.validationLoss!, try TrainOracle.evaluate(regression, TestData.sine(count: 7)).loss,
                        atol: 1e-6, rtol: 1e-5))
    }

    // MARK: Input standardisation

    @Test func standardisationIsFittedFromTheTrainingDataAndAppliedInPredict() throws {
        // Three features on very different scales, the third constant.
        let blobs = try TestData.blobs(perClass: 30, spread: 0.3, seed: 17)
        var raw: [Float] = []
        for r in 0 ..< blobs.count {
            raw += [100 + 40 * blobs.inputs[r, 0], -5 + 0.01 * blobs.inputs[r, 1], 7]
        }
        let train = try Dataset(inputs: Matrix(rows: blobs.count, cols: 3, values: raw), labels: {
            if case .labels(let l) = blobs.targets { return l } else { return [] }
        }())
        // Validation rows far from the training distribution must not leak into the statistics.
        var validation = train
        validation.inputs = try Matrix(rows: train.count, cols: 3, values: raw.map { $0 * 3 + 50 })

        var expectedMean = [Double](repeating: 0, count: 3), expectedScale = [Double](repeating: 0, count: 3)
        for j in 0 ..< 3 {
            let column = (0 ..< train.count).map { Double(train.inputs[$0, j]) }
            let mean = column.reduce(0, +) / Double(column.count)
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(column.count)
            expectedMean[j] = mean
            expectedScale[j] = variance > 0 ? variance.squareRoot() : 1
        }

        var model = try Model(inputs: 3, layers: [.dense(units: 16, activation: .relu), .dense(units: 3)], seed: 5)
        #expect(model.standardization == nil)
        let options = trainingOptions { $0.epochs = 60; $0.batchSize = 0; $0.learningRate = 0.5; $0.standardize = true }
        try model.fit(train, validation: validation, options: options)
        let fitted = try #require(model.standardization)
        for j in 0 ..< 3 {
            #expect(isClose(fitted.mean[j], expectedMean[j], atol: 1e-6, rtol: 1e-6), "mean \(j)")
            #expect(isClose(fitted.scale[j], expectedScale[j], atol: 1e-7, rtol: 1e-5), "scale \(j)")
        }
        #expect(fitted.scale[2] == 1, "a constant feature keeps scale 1")
        // Standardised, the badly scaled blobs are easy.
        #expect(try model.evaluate(train).accuracy! >= 0.95)

        // predict on raw inputs = standardise by hand, then the layers by hand.
        var bare = model
        try bare.setStandardization(nil)
        let net = try DoubleMLP(bare)
        let predicted = try model.predict(validation.inputs)
        for r in 0 ..< validation.count {
            let x = validation.inputs.row(r)
            let standardized = (0 ..< 3).map { Float((Double(x[$0]) - expectedMean[$0]) / expectedScale[$0]) }
            let expected = net(standardized)
            for k in 0 ..< 3 {
                #expect(isClose(predicted[r, k], expected[k], atol: 1e-4, rtol: 1e-4), "row \(r) output \(k)")
            }
        }
        // A later fit keeps the standardisation (it is part of the model).
        try model.fit(validation, options: options)
        #expect(model.standardization == fitted)
    }

    // MARK: Cancellation

    @Test func theProgressClosureCanStopTrainingAfterAnEpoch() throws {
        let data = try TestData.blobs(perClass: 20, seed: 3)
        let options = trainingOptions { $0.epochs = 50; $0.batchSize = 12; $0.optimizer = .adam(); $0.learningRate = 0.01 }
        var model = try Self.dropoutNet(seed: 9)
        let initial = model
        var seen: [Int] = []
        let summary = try model.fit(data, options: options) { stats in
            seen.append(stats.epoch)
            return stats.epoch == 3 ? .stop : .continue
        }
        #expect(summary.stopReason == .cancelled)
        #expect(seen == [1, 2, 3])
        #expect(summary.epochs.map(\.epoch) == [1, 2, 3])
        #expect(model.history == summary.epochs)
        #expect(model.trainingState.epoch == 3)
        var reference = initial
        var three = options
        three.epochs = 3
        try reference.fit(data, options: three)
        #expect(bits(model) == bits(reference), "the weights of the epoch just finished")
        #expect(bits(initial) != bits(model))
    }

    // MARK: Streamed steps

    @Test func trainStepDescendsTheGradientOfTheFullLoss() throws {
        // A linear softmax classifier, whose gradient has a closed form:
        // dW = Xᵀ(P − Y)/N + 2λW, db = Σ(P − Y)/N.
        let data = try TestData.blobs(perClass: 10, seed: 14)
        guard case .labels(let labels) = data.targets else { return }
        var model = try Model(inputs: 2, layers: [.dense(units: 3)], seed: 6)
        try model.setBiases([0.1, -0.2, 0.3], ofLayer: 0)
        let lambda = 0.02, rate: Float = 0.1
        let w = try model.weights(ofLayer: 0).values.map(Double.init)
        let b = try model.biases(ofLayer: 0).map(Double.init)
        let n = data.count
        var dW = [Double](repeating: 0, count: 6), db = [Double](repeating: 0, count: 3)
        var loss = 0.0, correct = 0.0
        for r in 0 ..< n {
            let x = data.inputs.row(r).map(Double.init)
            let z = (0 ..< 3).map { k in b[k] + x[0] * w[k] + x[1] * w[3 + k] }
            loss += TrainOracle.crossEntropy(z, label: labels[r]) / Double(n)
            if TrainOracle.argmax(z) == labels[r] { correct += 1 }
            let p = TrainOracle.softmax(z)
            for k in 0 ..< 3 {
                let g = (p[k] - (k == labels[r] ? 1 : 0)) / Double(n)
                dW[k] += x[0] * g
                dW[3 + k] += x[1] * g
                db[k] += g
            }
        }
        for i in 0 ..< 6 { dW[i] += 2 * lambda * w[i] }
        let norm = (dW + db).map { $0 * $0 }.reduce(0, +).squareRoot()

        let stats = try model.trainStep(data, options: trainingOptions { $0.learningRate = rate; $0.l2 = Float(lambda) })
        #expect(isClose(stats.dataLoss, loss, atol: 1e-6, rtol: 1e-5))
        #expect(isClose(stats.regularizationLoss, lambda * w.map { $0 * $0 }.reduce(0, +), atol: 1e-7, rtol: 1e-5))
        #expect(isClose(stats.gradientNorm, norm, atol: 1e-6, rtol: 1e-4))
        #expect(stats.learningRate == rate)
        #expect(isClose(stats.accuracy!, correct / Double(n), atol: 1e-6, rtol: 0))
        let w1 = try model.weights(ofLayer: 0).values, b1 = try model.biases(ofLayer: 0)
        for i in 0 ..< 6 { #expect(isClose(w1[i], w[i] - Double(rate) * dW[i], atol: 1e-6, rtol: 1e-5), "W[\(i)]") }
        for k in 0 ..< 3 { #expect(isClose(b1[k], b[k] - Double(rate) * db[k], atol: 1e-6, rtol: 1e-5), "b[\(k)]") }
        #expect(model.trainingState.step == 1)
        #expect(model.trainingState.epoch == 0)
    }

    @Test func streamedTrainStepsWithAdvanceEpochMatchFit() throws {
        let data = try TestData.blobs(perClass: 30, seed: 15)
        guard case .labels(let labels) = data.targets else { return }
        let options = trainingOptions {
            $0.epochs = 4
            $0.batchSize = 30
            $0.shuffle = false
            $0.optimizer = .momentum(0.9)
            $0.learningRate = 0.1
            $0.l2 = 1e-3
            $0.schedule = .stepDecay(milestones: [2], factor: 0.1)
        }
        var fitted = try Self.dropoutNet(seed: 4)
        var streamed = fitted
        try fitted.fit(data, options: options)

        let batches = try (0 ..< 3).map { k in
            try Dataset(inputs: Matrix(rows: 30, cols: 2, values: Array(data.inputs.values[60 * k ..< 60 * (k + 1)])),
                        labels: Array(labels[30 * k ..< 30 * (k + 1)]))
        }
        for epoch in 0 ..< 4 {
            for batch in batches {
                let stats = try streamed.trainStep(batch, options: options)
                #expect(isClose(stats.learningRate, epoch < 2 ? 0.1 : 0.01, atol: 0, rtol: 1e-6), "epoch \(epoch)")
                #expect(stats.dataLoss.isFinite && stats.gradientNorm > 0)
            }
            streamed.advanceEpoch()
        }
        #expect(streamed.trainingState.epoch == 4)
        #expect(streamed.trainingState.step == 12)
        #expect(streamed.trainingState == fitted.trainingState)
        #expect(bits(streamed) == bits(fitted))
    }

    // MARK: Sample weights

    @Test func aSampleWeightOfTwoEqualsDuplicatingTheRow() throws {
        let base = try TestData.blobs(perClass: 4, spread: 0.8, seed: 16)
        guard case .labels(let labels) = base.targets else { return }
        var weights = [Float](repeating: 1, count: base.count)
        weights[5] = 2
        weights[8] = 0  // a weight of 0 removes the row
        let weighted = try Dataset(inputs: base.inputs, labels: labels, sampleWeights: weights)
        var rows = (0 ..< base.count).filter { $0 != 8 }
        rows.append(5)
        let duplicated = try Dataset(inputs: Matrix(rows.map { base.inputs.row($0) }), labels: rows.map { labels[$0] })

        for loss in [Loss.softmaxCrossEntropy, .multiclassHinge] {
            var model = try Model(inputs: 2, layers: [.dense(units: 6, activation: .tanh), .dense(units: 3)], loss: loss, seed: 8)
            let a = try model.evaluate(weighted), b = try model.evaluate(duplicated)
            #expect(isClose(a.loss, Double(b.loss), atol: 1e-6, rtol: 1e-6), "\(loss)")
            #expect(isClose(a.accuracy!, Double(b.accuracy!), atol: 1e-6, rtol: 0), "\(loss)")
            #expect(isClose(a.loss, try TrainOracle.evaluate(model, weighted).loss, atol: 1e-6, rtol: 1e-5), "\(loss)")
            #expect(a.count == base.count)

            // One training step on either gives the same loss and the same update.
            var other = model
            let options = trainingOptions { $0.learningRate = 0.3; $0.l2 = 1e-3 }
            let sa = try model.trainStep(weighted, options: options)
            let sb = try other.trainStep(duplicated, options: options)
            #expect(isClose(sa.dataLoss, Double(sb.dataLoss), atol: 1e-6, rtol: 1e-6), "\(loss)")
            #expect(isClose(sa.gradientNorm, Double(sb.gradientNorm), atol: 1e-6, rtol: 1e-5), "\(loss)")
            for (p, q) in zip(model.parameters, other.parameters) {
                #expect(isClose(p, Double(q), atol: 1e-6, rtol: 1e-5), "\(loss)")
            }
        }

        // Regression, through fit's epoch statistics.
        let sine = try TestData.sine(count: 9)
        guard case .values(let targets) = sine.targets else { return }
        var sineWeights = [Float](repeating: 1, count: 9)
        sineWeights[3] = 2
        let weightedSine = try Dataset(inputs: sine.inputs, targets: targets, sampleWeights: sineWeights)
        let duplicatedSine = try Dataset(inputs: Matrix((Array(0 ..< 9) + [3]).map { sine.inputs.row($0) }),
                                         targets: Matrix((Array(0 ..< 9) + [3]).map { targets.row($0) }))
        var m1 = try Model(inputs: 1, layers: [.dense(units: 5, activation: .tanh), .dense(units: 1)],
                           loss: .meanSquaredError, seed: 2)
        var m2 = m1
        let options = trainingOptions { $0.epochs = 3; $0.batchSize = 0; $0.learningRate = 0.1 }
        let s1 = try m1.fit(weightedSine, options: options), s2 = try m2.fit(duplicatedSine, options: options)
        for (x, y) in zip(s1.epochs, s2.epochs) {
            #expect(isClose(x.dataLoss, Double(y.dataLoss), atol: 1e-6, rtol: 1e-5))
        }
        #expect(isClose(try m1.evaluate(weightedSine).loss, try TrainOracle.evaluate(m1, weightedSine).loss, atol: 1e-6, rtol: 1e-5))
    }
}

/// The per-step interrupt (the CLI's Ctrl-C): training stops after the very step it fires on.
@Suite struct InterruptTests {
    @Test func anInterruptStopsAfterTheCurrentStepWithoutRecordingThePartialEpoch() throws {
        let data = try SyntheticData.spiral(pointsPerClass: 50, classes: 3, seed: 4)
        var model = try Model(inputs: 2, layers: [.dense(units: 16, activation: .relu), .dense(units: 3)], seed: 4)
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 10                      // 15 steps per epoch
        options.learningRate = 0.1
        try model.fit(data, options: options)       // 2 whole epochs, 30 steps
        let before = model.parameters
        var steps = 0
        options.epochs = 5
        let summary = try model.fit(data, options: options, interrupt: {
            steps += 1
            return steps == 20                       // the 5th step of the second epoch of this call
        })
        #expect(summary.stopReason == .cancelled)
        #expect(summary.epochs.count == 1)
        #expect(model.history.count == 3)
        #expect(model.trainingState.epoch == 3)
        #expect(model.trainingState.step == 30 + 20)
        let after = model.parameters
        #expect(after != before)
        #expect(after.allSatisfy { $0.isFinite })
    }
}
