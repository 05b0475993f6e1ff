// Batch inference in bands of rows (`PackedForward`): on a model whose every layer runs in the panel
// loops, batches give a Double forward pass's outputs on any thread count, the same bits as the
// graph computed layer by layer, and the same bits on 1, 2 and 3 threads; weights changed after
// a prediction (by any mutating call) are packed again; batches that run layer by layer in between
// leave no stale panels; a NaN in a later band is named and leaves the output untouched; and many
// threads predicting at once get the serial results.

import Dispatch
@testable import NNCore
import Synchronization
import Testing

/// Changes the process-wide thread count: serialised.
@Suite(.serialized) struct RowBandTests {
    /// 40 inputs through ReLU, maxout, tanh and linear layers: over 1,000 rows every layer's
    /// product has more than 2¹⁷ multiply-adds, so on an AVX2 machine batches run in bands.
    static func model(seed: UInt64 = 3, standardized: Bool = true) throws -> Model {
        var model = try Model(inputs: 40, layers: [.dense(units: 48, activation: .relu), .maxout(units: 24, pieces: 2),
                                                  .dense(units: 32, activation: .tanh), .dense(units: 10)],
                              seed: seed)
        if standardized {
            try model.setStandardization(Standardization(mean: (0 ..< 40).map { Float($0) * 0.01 - 0.2 },
                                                         scale: (0 ..< 40).map { 0.5 + Float($0 % 7) * 0.1 }))
        }
        return model
    }

    static func inputs(rows: Int, seed: UInt64 = 5) throws -> Matrix {
        try TestData.uniformInputs(rows: rows, cols: 40, limit: 2, seed: seed)
    }

    static func bits(_ m: Matrix) -> [UInt32] { m.values.map(\.bitPattern) }

    /// Whether `rows` rows of `model` run in bands (false on machines without the panel loops).
    static func runsInBands(_ model: Model, rows: Int) throws -> Bool {
        let graph = try ModelGraph(model: model.storage, capacity: Model.inferenceBatch, purpose: .inference)
        return graph.packedForward?.applies(rows: rows) ?? false
    }

    @Test func bandsMatchADoublePassAndAgreeAcrossThreadCounts() throws {
        let model = try Self.model()
        #expect(try Self.runsInBands(model, rows: 1000) == Gemm.kernelsUseAVX2)
        #expect(try !Self.runsInBands(model, rows: 20))
        // 1,000 rows: 8 bands, the last one partial; 2,500: three batches (1,024, 1,024, 452).
        for rows in [1000, 2500] {
            let inputs = try Self.inputs(rows: rows)
            let expected = try DoubleMLP(model).outputs(inputs)
            var results: [[UInt32]] = []
            for threads in [1, 2, 3] {
                let y = try withThreadCount(threads) { try model.predict(inputs) }
                #expect(y.rows == rows && y.cols == 10)
                var far = 0
                for r in 0 ..< rows {
                    for j in 0 ..< 10 where !isClose(y[r, j], expected[r][j], atol: 1e-5, rtol: 1e-4) { far += 1 }
                }
                #expect(far == 0, "\(threads) threads, \(rows) rows: \(far) outputs far from the Double pass")
                results.append(Self.bits(y))
                // classify reads the same outputs.
                let classes = try withThreadCount(threads) { try model.classify(inputs) }
                #expect(classes == (0 ..< rows).map { r in (0 ..< 10).max { y[r, $0] < y[r, $1] }! })
            }
            #expect(results[1] == results[0] && results[2] == results[0], "\(rows) rows")
        }
    }

    @Test func bandsGiveTheBitsOfTheGraphRunLayerByLayer() throws {
        let model = try Self.model(standardized: false)
        let rows = 1000
        let inputs = try Self.inputs(rows: rows, seed: 8)
        try withThreadCount(2) {
            let mg = try ModelGraph(model: model.storage, capacity: Model.inferenceBatch, purpose: .inference)
            #expect((mg.packedForward?.applies(rows: rows) ?? false) == Gemm.kernelsUseAVX2)
            let width = model.outputWidth
            func output() -> [UInt32] {
                let y = mg.graph.valuePointer(mg.output.id)
                return (0 ..< rows * width).map { y[$0].bitPattern }
            }
            try inputs.values.withUnsafeBufferPointer { x in
                try mg.forward(inputs: x.baseAddress!, first: 0, count: rows, cols: 40, standardization: nil,
                               revision: model.storage.revision, inputsChecked: false)
                let banded = output()
                try mg.graph.withInput(mg.input, boundTo: x.baseAddress!, rows: rows) { try mg.graph.forward() }
                let layerByLayer = output()
                #expect(banded == layerByLayer)
                #expect(banded.contains { $0 != 0 })
            }
        }
    }

    @Test func weightsChangedAfterAPredictionArePackedAgain() throws {
        let inputs = try Self.inputs(rows: 1000, seed: 11)
        var model = try Self.model()
        let before = Self.bits(try model.predict(inputs))

        // A copy shares the storage and its packed weights until one of them changes.
        var copy = model
        var changed = model.parameters
        for i in changed.indices { changed[i] = changed[i] * -0.75 + 0.01 }
        try copy.setParameters(changed)
        var fresh = try Self.model()
        try fresh.setParameters(changed)
        #expect(Self.bits(try copy.predict(inputs)) == Self.bits(try fresh.predict(inputs)))
        #expect(Self.bits(try model.predict(inputs)) == before)

        // The model itself, changed in place after it packed its weights: setParameters,
        // setWeights, setBiases and a training step.
        try model.setParameters(changed)
        #expect(Self.bits(try model.predict(inputs)) == Self.bits(try fresh.predict(inputs)))

        let w = try model.weights(ofLayer: 2)
        let scaled = try Matrix(rows: w.rows, cols: w.cols, values: w.values.map { $0 * 1.5 })
        try model.setWeights(scaled, ofLayer: 2)
        try fresh.setWeights(scaled, ofLayer: 2)
        #expect(Self.bits(try model.predict(inputs)) == Self.bits(try Self.rebuilt(fresh).predict(inputs)))

        try model.setBiases([Float](repeating: 0.25, count: 10), ofLayer: 3)
        try fresh.setBiases([Float](repeating: 0.25, count: 10), ofLayer: 3)
        #expect(Self.bits(try model.predict(inputs)) == Self.bits(try Self.rebuilt(fresh).predict(inputs)))

        let labels = (0 ..< 64).map { $0 % 10 }
        _ = try model.trainStep(Dataset(inputs: try Self.inputs(rows: 64, seed: 12), labels: labels),
                                options: trainingOptions { $0.learningRate = 0.1 })
        #expect(Self.bits(try model.predict(inputs)) == Self.bits(try Self.rebuilt(model).predict(inputs)))
        #expect(Self.bits(try model.predict(inputs)) != Self.bits(try fresh.predict(inputs)))
    }

    /// A new model with `model`'s architecture, standardisation and parameters: no graph of
    /// `model`'s storage, so nothing it packed.
    static func rebuilt(_ model: Model) throws -> Model {
        var other = try Model(inputs: model.inputWidth, layers: model.layers, loss: model.loss)
        try other.setStandardization(model.standardization)
        try other.setParameters(model.parameters)
        return other
    }

    @Test func batchesRunLayerByLayerInBetweenLeaveNoStalePanels() throws {
        // 256 inputs to 128 units to 10: batches of 20 and 2 rows run layer by layer (their last
        // products are small products) and may use the nodes' scratch, which holds the packed
        // weights; the last batch of 1,025 rows is one row over the packed weights.
        let model = try Model(inputs: 256, layers: [.dense(units: 128, activation: .relu), .dense(units: 10)], seed: 6)
        let big = try TestData.uniformInputs(rows: 1025, cols: 256, limit: 1, seed: 13)
        let first = try Self.slice(big, rows: 1000)
        try withThreadCount(2) {
            #expect(try Self.runsInBands(model, rows: 1000) == Gemm.kernelsUseAVX2)
            let expected = Self.bits(try model.predict(first))
            for rows in [1025, 20, 2, 100] {
                let other = try Self.slice(big, rows: rows)
                let reference = try DoubleMLP(model).outputs(other)
                let y = try model.predict(other)
                var far = 0
                for r in 0 ..< rows { for j in 0 ..< 10 where !isClose(y[r, j], reference[r][j], atol: 1e-5, rtol: 1e-4) { far += 1 } }
                #expect(far == 0, "\(rows) rows")
                #expect(Self.bits(try model.predict(first)) == expected, "after a batch of \(rows)")
            }
        }
    }

    /// The first `rows` rows of `m`.
    static func slice(_ m: Matrix, rows: Int) throws -> Matrix {
        try Matrix(rows: rows, cols: m.cols, values: Array(m.values[0 ..< rows * m.cols]))
    }

    @Test func aNonFiniteInputInALaterBandIsNamedAndNothingIsWritten() throws {
        let model = try Self.model()
        for (rows, badRow, value) in [(1000, 877, Float.nan), (1000, 3, Float.infinity), (1500, 1400, -Float.infinity)] {
            var values = try Self.inputs(rows: rows, seed: 21).values
            values[badRow * 40 + 7] = value
            var output = [Float](repeating: 42, count: rows * 10)
            let error = #expect(throws: NNError.self) {
                try values.withUnsafeBufferPointer { x in
                    try output.withUnsafeMutableBufferPointer { y in
                        try withThreadCount(2) { try model.predict(inputs: x, rows: rows, into: y, kind: .raw) }
                    }
                }
            }
            #expect(error?.code == .nonFiniteValue)
            #expect(error?.message.contains("row \(badRow), column 7") == true, "\(error?.message ?? "")")
            #expect(output.allSatisfy { $0 == 42 })
        }
        // The same model still predicts after the errors.
        let inputs = try Self.inputs(rows: 1000, seed: 22)
        let expected = try DoubleMLP(model).outputs(inputs)
        let y = try model.predict(inputs)
        #expect(isClose(y[999, 9], expected[999][9], atol: 1e-5, rtol: 1e-4))
    }

    @Test func manyThreadsPredictingInBandsAtOnceGetTheSerialResults() throws {
        let model = try Self.model()
        let inputs = try Self.inputs(rows: 1000, seed: 31)
        try withThreadCount(2) {
            let serial = Self.bits(try model.predict(inputs))
            let mismatches = Atomic<Int>(0), failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                for _ in 0 ..< 5 {
                    do {
                        if Self.bits(try model.predict(inputs)) != serial { mismatches.add(1, ordering: .relaxed) }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
            #expect(mismatches.load(ordering: .relaxed) == 0)
            #expect(failures.load(ordering: .relaxed) == 0)
        }
    }
}
