// Inference on a trained model: raw outputs, probabilities, classes and evaluation agree with
// each other on every batch size and with an independent Double forward pass over the model's
// weights, and many threads predicting at once get exactly the serial results.

import Dispatch
import NNCore
import Synchronization
import Testing

@Suite struct InferenceTests {
    /// A spiral classifier trained briefly (enough for confident, non-trivial outputs), with a
    /// standardisation and a dropout layer that inference must skip.
    static func trainedSpiralModel() throws -> (Model, Dataset) {
        let data = try SyntheticData.spiral(seed: 2)
        var model = try Model(inputs: 2, layers: [.dense(units: 32, activation: .relu), .dropout(rate: 0.2),
                                                  .dense(units: 16, activation: .tanh), .dense(units: 3)], seed: 4)
        try model.fit(data, options: trainingOptions {
            $0.epochs = 60; $0.batchSize = 32; $0.optimizer = .adam(); $0.learningRate = 0.01; $0.standardize = true
        })
        return (model, data)
    }

    /// 1000 points around the spiral's square (outside it too).
    static func queryPoints() throws -> Matrix {
        try TestData.uniformInputs(rows: 1000, cols: 2, limit: 1.3, seed: 99)
    }

    static func slice(_ m: Matrix, rows: Range<Int>) throws -> Matrix {
        try Matrix(rows: rows.count, cols: m.cols, values: Array(m.values[rows.lowerBound * m.cols ..< rows.upperBound * m.cols]))
    }

    @Test func predictionsAgreeOnEveryBatchSizeAndWithADoubleForwardPass() throws {
        let (model, _) = try Self.trainedSpiralModel()
        let points = try Self.queryPoints()
        let net = try DoubleMLP(model)
        let expected = net.outputs(points)
        let all = try model.predict(points)
        #expect(all.rows == 1000 && all.cols == 3)
        for size in [1, 7, 300, 1000] {
            // Batches of `size` rows at several offsets, compared with the whole run and the Double pass.
            for start in stride(from: 0, to: 1000, by: size == 1 ? 97 : size) where start + size <= 1000 {
                let batch = try Self.slice(points, rows: start ..< start + size)
                let raw = try model.predict(batch)
                let probabilities = try model.probabilities(batch)
                let classes = try model.classify(batch)
                #expect(raw.rows == size && probabilities.rows == size && classes.count == size)
                for r in 0 ..< size {
                    let z = expected[start + r]
                    let p = TrainOracle.softmax(z)
                    var total = 0.0
                    for k in 0 ..< 3 {
                        #expect(isClose(raw[r, k], z[k], atol: 1e-5, rtol: 1e-5), "size \(size) row \(start + r)")
                        // Batch sizes take different product code (sgemv, nncore's loops with or
                        // without fused multiply-adds, sgemm), so they agree to the rounding of
                        // sums of 100 terms, not bit for bit.
                        #expect(isClose(raw[r, k], Double(all[start + r, k]), atol: 1e-5, rtol: 1e-5))
                        #expect(isClose(probabilities[r, k], p[k], atol: 1e-6, rtol: 1e-5))
                        #expect(probabilities[r, k] >= 0 && probabilities[r, k] <= 1)
                        total += Double(probabilities[r, k])
                    }
                    #expect(abs(total - 1) < 1e-5, "probabilities of row \(start + r) sum to \(total)")
                    // The class is the argmax of the scores (where the Double pass is not on a tie).
                    let engineArgmax = TrainOracle.argmax((0 ..< 3).map { Double(raw[r, $0]) })
                    #expect(classes[r] == engineArgmax)
                    if TrainOracle.topMargin(z) > 1e-4 { #expect(classes[r] == TrainOracle.argmax(z)) }
                }
            }
        }
        // One row at a time gives the batched results.
        for r in stride(from: 0, to: 1000, by: 50) {
            let one = try model.predict(Self.slice(points, rows: r ..< r + 1))
            for k in 0 ..< 3 { #expect(isClose(one[0, k], Double(all[r, k]), atol: 1e-6, rtol: 1e-6)) }
        }
        // Predicting twice (dropout off at inference) gives the same bits.
        #expect(try model.predict(points).values.map(\.bitPattern) == all.values.map(\.bitPattern))
    }

    @Test func manyThreadsPredictingAtOnceGetTheSerialResults() throws {
        let (model, _) = try Self.trainedSpiralModel()
        let points = try Self.queryPoints()
        let sizes = [1, 7, 300, 1000]
        let batches = try sizes.map { try Self.slice(points, rows: 0 ..< $0) }
        let serialRaw = try batches.map { try model.predict($0).values.map(\.bitPattern) }
        let serialProbabilities = try batches.map { try model.probabilities($0).values.map(\.bitPattern) }
        let serialClasses = try batches.map { try model.classify($0) }

        let mismatches = Atomic<Int>(0), failures = Atomic<Int>(0), calls = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0 ..< 25 {
                let i = (thread + round) % sizes.count
                do {
                    let raw = try model.predict(batches[i]).values.map(\.bitPattern)
                    let probabilities = try model.probabilities(batches[i]).values.map(\.bitPattern)
                    let classes = try model.classify(batches[i])
                    if raw != serialRaw[i] || probabilities != serialProbabilities[i] || classes != serialClasses[i] {
                        mismatches.add(1, ordering: .relaxed)
                    }
                    _ = try model.evaluate(Dataset(inputs: batches[i], labels: serialClasses[i]))
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
                calls.add(1, ordering: .relaxed)
            }
        }
        #expect(calls.load(ordering: .relaxed) == 200)
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(failures.load(ordering: .relaxed) == 0)
        // And nothing the threads did changed the model.
        #expect(try model.predict(batches[3]).values.map(\.bitPattern) == serialRaw[3])
    }

    @Test func evaluateMatchesAnIndependentLossAndAccuracy() throws {
        let (model, data) = try Self.trainedSpiralModel()
        let evaluation = try model.evaluate(data)
        let expected = try TrainOracle.evaluate(model, data)
        #expect(evaluation.count == 300)
        #expect(isClose(evaluation.loss, expected.loss, atol: 1e-6, rtol: 1e-5))
        #expect(abs(Double(evaluation.accuracy!) - expected.accuracy!) <= 1.0 / 300 + 1e-9)
        // The accuracy is the share of `classify` that matches the labels.
        guard case .labels(let labels) = data.targets else { return }
        let hits = zip(try model.classify(data.inputs), labels).filter { $0 == $1 }.count
        #expect(evaluation.accuracy == Float(Double(hits) / 300))
        // With sample weights.
        var random = RandomGenerator(seed: 5)
        let weights = (0 ..< 300).map { _ in Float(random.nextUnitDouble() * 3) }
        let weighted = try Dataset(inputs: data.inputs, labels: labels, sampleWeights: weights)
        let weightedEvaluation = try model.evaluate(weighted)
        let weightedExpected = try TrainOracle.evaluate(model, weighted)
        #expect(isClose(weightedEvaluation.loss, weightedExpected.loss, atol: 1e-6, rtol: 1e-5))
        #expect(isClose(weightedEvaluation.accuracy!, weightedExpected.accuracy!, atol: 1e-3, rtol: 0))
        // Evaluation over more rows than one internal batch (1024).
        let many = try TestData.uniformInputs(rows: 2500, cols: 2, seed: 3)
        let manyLabels = (0 ..< 2500).map { $0 % 3 }
        let big = try Dataset(inputs: many, labels: manyLabels)
        #expect(isClose(try model.evaluate(big).loss, try TrainOracle.evaluate(model, big).loss, atol: 1e-6, rtol: 1e-5))
    }

    @Test func hingeAndRegressionModelsPredictRawOutputs() throws {
        let points = try Self.slice(Self.queryPoints(), rows: 0 ..< 40)
        var hinge = try Model(inputs: 2, layers: [.dense(units: 10, activation: .leakyReLU()), .dense(units: 4)],
                              loss: .multiclassHinge, seed: 2)
        try hinge.fit(TestData.blobs(perClass: 10, seed: 2), options: trainingOptions { $0.epochs = 1 })
        let regression = try Model(inputs: 2, layers: [.maxout(units: 5, pieces: 3), .dense(units: 2, activation: .elu())],
                                   loss: .meanSquaredError, seed: 3)
        for model in [hinge, regression] {
            let net = try DoubleMLP(model)
            let raw = try model.predict(points)
            for r in 0 ..< points.rows {
                let z = net(points.row(r))
                for k in z.indices { #expect(isClose(raw[r, k], z[k], atol: 1e-5, rtol: 1e-5), "\(model.loss) row \(r)") }
            }
        }
        let classes = try hinge.classify(points)
        let raw = try hinge.predict(points)
        for r in 0 ..< points.rows {
            #expect(classes[r] == TrainOracle.argmax((0 ..< 4).map { Double(raw[r, $0]) }))
        }
        expectNNError(.invalidState) { try hinge.probabilities(points) }
        expectNNError(.invalidState) { try regression.probabilities(points) }
    }

    @Test func binaryCrossEntropyProbabilitiesAreSigmoids() throws {
        let points = try Self.slice(Self.queryPoints(), rows: 0 ..< 30)
        let model = try Model(inputs: 2, layers: [.dense(units: 6, activation: .sigmoid), .dense(units: 1)],
                              loss: .binaryCrossEntropy, seed: 5)
        let net = try DoubleMLP(model)
        let p = try model.probabilities(points)
        let classes = try model.classify(points)
        for r in 0 ..< points.rows {
            let z = net(points.row(r))[0]
            #expect(isClose(p[r, 0], DoubleMLP.activate(.sigmoid, z), atol: 1e-6, rtol: 1e-5))
            if abs(z) > 1e-5 { #expect(classes[r] == (z > 0 ? 1 : 0)) }
        }
    }
}
