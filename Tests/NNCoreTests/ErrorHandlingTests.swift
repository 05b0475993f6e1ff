// Every way training and inference can be misused is refused with a specific `NNError`
// code, before the model changes; divergence stops with finite weights and the completed
// epochs kept.

import NNCore
import Testing

@Suite struct ErrorHandlingTests {
    static func classifier(seed: UInt64 = 1) throws -> Model {
        try Model(inputs: 2, layers: [.dense(units: 8, activation: .relu), .dense(units: 3)], seed: seed)
    }

    /// A model that has trained a little (so it has history, optimiser slots and a standardisation).
    static func trainedClassifier() throws -> (Model, Dataset) {
        let data = try TestData.blobs(perClass: 10, seed: 1)
        var model = try classifier()
        try model.fit(data, options: trainingOptions {
            $0.epochs = 2; $0.batchSize = 8; $0.optimizer = .adam(); $0.learningRate = 0.01; $0.standardize = true
        })
        return (model, data)
    }

    /// Everything a failed call must leave alone.
    static func expectUnchanged(_ model: Model, _ before: Model, _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(bits(model) == bits(before), "\(what): parameters changed", sourceLocation: sourceLocation)
        #expect(model.history == before.history, "\(what): history changed", sourceLocation: sourceLocation)
        #expect(model.trainingState == before.trainingState, "\(what): training state changed", sourceLocation: sourceLocation)
        #expect(model.random == before.random, "\(what): generator changed", sourceLocation: sourceLocation)
        #expect(model.standardization == before.standardization, "\(what): standardisation changed", sourceLocation: sourceLocation)
    }

    // MARK: Bad data

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func aNonFiniteInputIsRefusedAndTheModelIsUnchanged(bad: Float) throws {
        let (trained, data) = try Self.trainedClassifier()
        var model = trained
        var poisoned = data
        poisoned.inputs[7, 1] = bad
        let options = trainingOptions { $0.epochs = 3; $0.optimizer = .adam() }
        expectNNError(.nonFiniteValue) { try model.fit(poisoned, options: options) }
        Self.expectUnchanged(model, trained, "fit")
        expectNNError(.nonFiniteValue) { try model.fit(data, validation: poisoned, options: options) }
        Self.expectUnchanged(model, trained, "fit with poisoned validation")
        expectNNError(.nonFiniteValue) { try model.trainStep(poisoned, options: options) }
        Self.expectUnchanged(model, trained, "trainStep")
        expectNNError(.nonFiniteValue) { try model.evaluate(poisoned) }
        expectNNError(.nonFiniteValue) { try model.predict(poisoned.inputs) }
        expectNNError(.nonFiniteValue) { try model.classify(poisoned.inputs) }
        expectNNError(.nonFiniteValue) { try model.probabilities(Matrix([[0, bad]])) }

        // A fresh model (no standardisation yet) too: nothing is fitted from bad data.
        var fresh = try Self.classifier()
        let before = fresh
        expectNNError(.nonFiniteValue) {
            try fresh.fit(poisoned, options: trainingOptions { $0.standardize = true })
        }
        Self.expectUnchanged(fresh, before, "fresh fit")
        #expect(fresh.history.isEmpty)

        // Regression targets.
        var sine = try TestData.sine(count: 10)
        var regression = try Model(inputs: 1, layers: [.dense(units: 4, activation: .tanh), .dense(units: 1)],
                                   loss: .meanSquaredError, seed: 2)
        let original = regression
        guard case .values(var targets) = sine.targets else { return }
        targets[4, 0] = bad
        sine.targets = .values(targets)
        expectNNError(.nonFiniteValue) { try regression.fit(sine) }
        expectNNError(.nonFiniteValue) { try regression.evaluate(sine) }
        Self.expectUnchanged(regression, original, "regression fit")
    }

    @Test func labelsOutsideTheClassesAreRefused() throws {
        let (trained, data) = try Self.trainedClassifier()
        var model = trained
        guard case .labels(let labels) = data.targets else { return }
        for bad in [3, -1, 1_000, Int.max, Int.min] {
            var wrong = labels
            wrong[4] = bad
            let broken = try Dataset(inputs: data.inputs, labels: wrong)
            expectNNError(.labelOutOfRange, "label \(bad)") { try model.fit(broken) }
            expectNNError(.labelOutOfRange, "label \(bad)") { try model.fit(data, validation: broken) }
            expectNNError(.labelOutOfRange, "label \(bad)") { try model.trainStep(broken) }
            expectNNError(.labelOutOfRange, "label \(bad)") { try model.evaluate(broken) }
            Self.expectUnchanged(model, trained, "label \(bad)")
        }
        // A one-output binary model has the classes 0 and 1.
        var binary = try Model(inputs: 2, layers: [.dense(units: 1)], loss: .binaryCrossEntropy)
        expectNNError(.labelOutOfRange) { try binary.fit(Dataset(inputs: data.inputs, labels: labels)) }
    }

    @Test func aWrongInputWidthIsAShapeMismatch() throws {
        let (trained, data) = try Self.trainedClassifier()
        var model = trained
        guard case .labels(let labels) = data.targets else { return }
        let wide = try Dataset(inputs: Matrix(rows: data.count, cols: 3, repeating: 0.5), labels: labels)
        expectNNError(.shapeMismatch) { try model.fit(wide) }
        expectNNError(.shapeMismatch) { try model.fit(data, validation: wide) }
        expectNNError(.shapeMismatch) { try model.trainStep(wide) }
        expectNNError(.shapeMismatch) { try model.evaluate(wide) }
        expectNNError(.shapeMismatch) { try model.predict(wide.inputs) }
        expectNNError(.shapeMismatch) { try model.probabilities(Matrix(rows: 2, cols: 1, repeating: 0)) }
        expectNNError(.shapeMismatch) { try model.classify(Matrix(rows: 2, cols: 1, repeating: 0)) }
        Self.expectUnchanged(model, trained, "wrong width")
        // Mismatched counts are caught when the data set is built.
        expectNNError(.shapeMismatch) { try Dataset(inputs: data.inputs, labels: [0, 1]) }
        expectNNError(.shapeMismatch) { try Dataset(inputs: data.inputs, labels: labels, sampleWeights: [1]) }
        expectNNError(.shapeMismatch) { try Matrix(rows: 2, cols: 2, values: [1, 2, 3]) }
        // Regression targets of the wrong width.
        var regression = try Model(inputs: 1, layers: [.dense(units: 2)], loss: .meanSquaredError)
        let twoTargets = try Dataset(inputs: Matrix(rows: 3, cols: 1, repeating: 0), targets: Matrix(rows: 3, cols: 3, repeating: 0))
        expectNNError(.shapeMismatch) { try regression.fit(twoTargets) }
    }

    @Test func emptyDataIsRefused() throws {
        let (trained, _) = try Self.trainedClassifier()
        var model = trained
        let empty = try Dataset(inputs: Matrix(rows: 0, cols: 2, values: []), labels: [])
        expectNNError(.emptyData) { try model.fit(empty) }
        expectNNError(.emptyData) { try model.fit(TestData.blobs(perClass: 3, seed: 1), validation: empty) }
        expectNNError(.emptyData) { try model.trainStep(empty) }
        expectNNError(.emptyData) { try model.evaluate(empty) }
        Self.expectUnchanged(model, trained, "empty data")
        // A validation split needs at least two samples.
        let one = try Dataset(inputs: Matrix([[0.5, 0.5]]), labels: [1])
        expectNNError(.emptyData) { try model.fit(one, options: trainingOptions { $0.validationFraction = 0.5 }) }
        Self.expectUnchanged(model, trained, "split of one sample")
        // Prediction on no rows is not an error: it has no rows of output.
        let none = try model.predict(Matrix(rows: 0, cols: 2, values: []))
        #expect(none.rows == 0 && none.cols == 3)
    }

    @Test func badHyperparametersAreRefusedBeforeTraining() throws {
        let (trained, data) = try Self.trainedClassifier()
        var model = trained
        let bad: [(String, (inout TrainingOptions) -> Void)] = [
            ("learning rate 0", { $0.learningRate = 0 }),
            ("negative learning rate", { $0.learningRate = -0.1 }),
            ("NaN learning rate", { $0.learningRate = .nan }),
            ("infinite learning rate", { $0.learningRate = .infinity }),
            ("0 epochs", { $0.epochs = 0 }),
            ("negative epochs", { $0.epochs = -3 }),
            ("negative batch size", { $0.batchSize = -1 }),
            ("momentum 1", { $0.optimizer = .momentum(1) }),
            ("Nesterov momentum 1.5", { $0.optimizer = .nesterov(1.5) }),
            ("Adam β₁ = 1", { $0.optimizer = .adam(beta1: 1) }),
            ("RMSProp decay −0.1", { $0.optimizer = .rmsprop(decay: -0.1) }),
            ("validation fraction 1", { $0.validationFraction = 1 }),
            ("negative validation fraction", { $0.validationFraction = -0.2 }),
            ("negative l2", { $0.l2 = -1e-3 }),
            ("NaN l1", { $0.l1 = .nan }),
            ("gradient clip 0", { $0.gradientClipNorm = 0 }),
            ("patience 0", { $0.earlyStoppingPatience = 0 }),
            ("step decay factor 0", { $0.schedule = .stepDecay(milestones: [3], factor: 0) }),
            ("negative milestone", { $0.schedule = .stepDecay(milestones: [-1], factor: 0.1) }),
            ("exponential γ 0", { $0.schedule = .exponential(gamma: 0) }),
            ("cosine period 0", { $0.schedule = .cosine(period: 0) }),
            ("warm-up of 0 epochs", { $0.schedule = .warmup(epochs: 0, then: .constant) }),
        ]
        for (what, configure) in bad {
            let options = trainingOptions(configure)
            expectNNError(.badHyperparameter, "\(what)") { try options.validate() }
            expectNNError(.badHyperparameter, "\(what)") { try model.fit(data, options: options) }
            expectNNError(.badHyperparameter, "\(what)") { try model.trainStep(data, options: options) }
            Self.expectUnchanged(model, trained, what)
        }
        #expect(throws: Never.self) { try TrainingOptions().validate() }

        // Dropout rate 1 (and beyond [0, 1)) is refused when the layer is made.
        for rate: Float in [1, 1.5, -0.1, .nan] {
            expectNNError(.badHyperparameter, "dropout \(rate)") {
                try Model(inputs: 2, layers: [.dense(units: 4), .dropout(rate: rate), .dense(units: 2)])
            }
            var growing = try Model(inputs: 2, layers: [.dense(units: 4)])
            expectNNError(.badHyperparameter, "dropout \(rate)") { try growing.append(.dropout(rate: rate)) }
            #expect(growing.layers.count == 1)
        }
        #expect(throws: Never.self) { try Model(inputs: 2, layers: [.dropout(rate: 0), .dense(units: 2)]) }
    }

    @Test func givingBothValidationDataAndAFractionIsAnInvalidArgument() throws {
        let (trained, data) = try Self.trainedClassifier()
        var model = trained
        expectNNError(.invalidArgument) {
            try model.fit(data, validation: data, options: trainingOptions { $0.validationFraction = 0.2 })
        }
        Self.expectUnchanged(model, trained, "validation twice")
    }

    @Test func aModelWithoutTrainableLayersCannotTrainOrPredict() throws {
        let data = try TestData.blobs(perClass: 5, seed: 1)
        var empty = try Model(inputs: 2)
        expectNNError(.invalidState) { try empty.fit(data) }
        expectNNError(.invalidState) { try empty.trainStep(data) }
        expectNNError(.invalidState) { try empty.predict(data.inputs) }
        expectNNError(.invalidState) { try empty.classify(data.inputs) }
        expectNNError(.invalidState) { try empty.evaluate(data) }
        #expect(empty.history.isEmpty && empty.trainingState.step == 0)

        var dropoutOnly = try Model(inputs: 2, layers: [.dropout(rate: 0.5)])
        expectNNError(.invalidState) {
            try dropoutOnly.fit(Dataset(inputs: data.inputs, targets: data.inputs), options: TrainingOptions())
        }
        // Growing the model makes it trainable.
        try empty.append(.dense(units: 3))
        #expect(throws: Never.self) { try empty.fit(data, options: trainingOptions { $0.epochs = 1 }) }
    }

    @Test func hingeAndRegressionModelsHaveNoProbabilities() throws {
        let x = try TestData.uniformInputs(rows: 5, cols: 2, seed: 1)
        let hinge = try Model(inputs: 2, layers: [.dense(units: 3)], loss: .multiclassHinge)
        let regression = try Model(inputs: 2, layers: [.dense(units: 1)], loss: .meanSquaredError)
        expectNNError(.invalidState) { try hinge.probabilities(x) }
        expectNNError(.invalidState) { try regression.probabilities(x) }
        expectNNError(.invalidState) { try regression.classify(x) }
        expectNNError(.invalidArgument) {
            try regression.evaluate(Dataset(inputs: x, labels: [0, 0, 0, 0, 0]))
        }
        // Raw outputs and (for hinge) classes remain available.
        #expect(throws: Never.self) { try hinge.predict(x) }
        #expect(throws: Never.self) { try hinge.classify(x) }
        #expect(throws: Never.self) { try regression.predict(x) }
    }

    // MARK: Divergence

    @Test func aHugeLearningRateStopsWithDivergedFiniteWeightsAndTheCompletedEpochs() throws {
        // Linear regression with rate 10: each full-batch step multiplies the error by about −6,
        // so the loss overflows after a few dozen epochs.
        let data = try TestData.linearRegression(rows: 40, cols: 3, seed: 4)
        let initial = try Model(inputs: 3, layers: [.dense(units: 1)], loss: .meanSquaredError, seed: 5)
        let options = trainingOptions { $0.epochs = 1_000; $0.batchSize = 0; $0.learningRate = 10 }
        var model = initial
        var reported: [Int] = []
        let error = #expect(throws: NNError.self) {
            try model.fit(data, options: options) { stats in
                reported.append(stats.epoch)
                return .continue
            }
        }
        #expect(error?.code == .diverged)
        #expect(error?.message.isEmpty == false)
        let completed = reported.count
        #expect(completed >= 2 && completed < 1_000, "diverged after \(completed) epochs")
        #expect(model.history.map(\.epoch) == Array(1 ... max(completed, 1)))
        #expect(model.history.allSatisfy { $0.loss.isFinite })
        #expect(model.history.last!.loss > model.history.first!.loss * 1e6, "the loss blew up")
        #expect(allFinite(model.parameters))
        #expect(model.trainingState.epoch == completed)
        // With one step an epoch, the weights are those of the last completed epoch.
        var reference = initial
        var exact = options
        exact.epochs = completed
        try reference.fit(data, options: exact)
        #expect(bits(model) == bits(reference))
        // The model still predicts.
        #expect(allFinite(try model.predict(data.inputs).values))
    }

    @Test(arguments: [Optimizer.sgd, .momentum(0.9), .adam()])
    func anOverflowingUpdateIsRefusedWithFiniteWeights(optimizer: Optimizer) throws {
        // A rate near Float.greatestFiniteMagnitude makes the very first update overflow.
        let data = try TestData.linearRegression(rows: 20, cols: 2, scale: 10, seed: 6)
        var options = trainingOptions { $0.epochs = 5; $0.batchSize = 0; $0.optimizer = optimizer; $0.learningRate = 1e38 }
        let initial = try Model(inputs: 2, layers: [.dense(units: 4, activation: .relu), .dense(units: 1)],
                                loss: .meanSquaredError, seed: 1)
        var model = initial
        expectNNError(.diverged) { try model.fit(data, options: options) }
        #expect(allFinite(model.parameters))
        #expect(bits(model) == bits(initial), "no epoch completed: the initial weights")
        #expect(model.history.isEmpty)

        var stepped = initial
        expectNNError(.diverged) { try stepped.trainStep(data, options: options) }
        #expect(allFinite(stepped.parameters), "trainStep keeps the weights of the last good step")
        #expect(bits(stepped) == bits(initial))

        // Training on with a sane rate works after the failure.
        options.learningRate = 1e-4
        options.epochs = 3
        #expect(throws: Never.self) { try model.fit(data, options: options) }
        #expect(allFinite(model.parameters))
        #expect(throws: Never.self) { try stepped.trainStep(data, options: options) }
        #expect(allFinite(stepped.parameters))
    }

    @Test func aDivergingMiniBatchRunKeepsFiniteWeights() throws {
        let data = try TestData.linearRegression(rows: 64, cols: 4, scale: 3, seed: 8)
        var model = try Model(inputs: 4, layers: [.dense(units: 16, activation: .relu), .dense(units: 1)],
                              loss: .meanSquaredError, seed: 3)
        var epochs = 0
        expectNNError(.diverged) {
            try model.fit(data, options: trainingOptions { $0.epochs = 500; $0.batchSize = 8; $0.learningRate = 5 }) { _ in
                epochs += 1
                return .continue
            }
        }
        #expect(model.history.count == epochs)
        #expect(model.trainingState.epoch == epochs)
        #expect(allFinite(model.parameters))
    }
}
