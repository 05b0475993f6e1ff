// One-row inference over packed weights (`SingleRowPass`): a row predicted alone gives a Double
// forward pass's outputs and the bits of the same row in a batch run in bands, on 1, 2 and 3
// threads; the parts give those bits whichever order they run in, on one thread or several, and
// wherever the split between the threads' units moves; the weights changed after a one-row
// prediction are packed again; a model with a layer too large to
// keep packed twice predicts single rows layer by layer; a NaN is named and nothing is written;
// and many threads predicting single rows at once get the serial results.

import Dispatch
@testable import NNCore
import Synchronization
import Testing

/// Changes the process-wide thread count: serialised.
@Suite(.serialized) struct SingleRowTests {
    static let inputWidth = 300

    /// 300 inputs through ReLU, maxout, tanh, sigmoid and linear layers. The ReLU layer (13
    /// panels), the maxout layer (12 panels) and the sigmoid layer (188 panels) have at least 2¹⁵
    /// multiply-adds, so they are cut into units, ending in partial groups of four panels and a
    /// partial panel; the tanh and last layers are one unit each; the maxout is a stage of its
    /// own and the tanh and sigmoid are applied after the product.
    static func model(seed: UInt64 = 41, standardized: Bool = true) throws -> Model {
        var model = try Model(inputs: inputWidth,
                              layers: [.dense(units: 200, activation: .relu), .maxout(units: 90, pieces: 2),
                                       .dense(units: 150, activation: .tanh), .dense(units: 3000, activation: .sigmoid),
                                       .dense(units: 37)],
                              seed: seed)
        guard standardized else { return model }
        try model.setStandardization(Standardization(mean: (0 ..< inputWidth).map { Float($0 % 11) * 0.02 - 0.1 },
                                                     scale: (0 ..< inputWidth).map { 0.6 + Float($0 % 5) * 0.1 }))
        return model
    }

    static func inputs(rows: Int, seed: UInt64) throws -> Matrix {
        try TestData.uniformInputs(rows: rows, cols: inputWidth, limit: 2, seed: seed)
    }

    static func row(_ m: Matrix, _ r: Int) throws -> Matrix {
        try Matrix(rows: 1, cols: m.cols, values: Array(m.values[r * m.cols ..< (r + 1) * m.cols]))
    }

    static func bits(_ m: Matrix) -> [UInt32] { m.values.map(\.bitPattern) }

    @Test func aRowAloneMatchesADoublePassAndItsRowInABatch() throws {
        let model = try Self.model()
        // 120 rows: every product of the batch has at least 2¹⁷ multiply-adds, so it runs in bands.
        let batch = try Self.inputs(rows: 120, seed: 42)
        let sampled = Array(stride(from: 0, to: 120, by: 7))
        let expected = try DoubleMLP(model).outputs(Matrix(rows: sampled.count, cols: Self.inputWidth,
                                                           values: sampled.flatMap { try Self.row(batch, $0).values }))
        let graph = try ModelGraph(model: model.storage, capacity: 1, purpose: .inference)
        #expect((graph.packedForward?.applies(rows: 1) ?? false) == Gemm.kernelsUseAVX2)
        for threads in [1, 2, 3] {
            try withThreadCount(threads) {
                #expect(try RowBandTests.runsInBands(model, rows: 120) == Gemm.kernelsUseAVX2)
                let all = try model.predict(batch)
                for (index, r) in sampled.enumerated() {
                    let alone = try model.predict(Self.row(batch, r))
                    var far = 0
                    for j in 0 ..< 37 where !isClose(alone[0, j], expected[index][j], atol: 1e-5, rtol: 1e-4) { far += 1 }
                    #expect(far == 0, "\(threads) threads, row \(r): \(far) outputs far from the Double pass")
                    if Gemm.kernelsUseAVX2 {
                        #expect(Self.bits(alone) == Self.bits(try Self.row(all, r)), "\(threads) threads, row \(r)")
                    }
                    #expect(try model.classify(Self.row(batch, r)) == [(0 ..< 37).max { alone[0, $0] < alone[0, $1] }!])
                }
            }
        }
    }

    @Test(.enabled(if: Gemm.kernelsUseAVX2), arguments: [2, 3])
    func partsGiveTheSameBitsInAnyOrderAndOnAnyThreads(threads: Int) throws {
        let model = try Self.model(seed: 43)
        let x = try Self.inputs(rows: 1, seed: 44)
        try withThreadCount(threads) {
            let mg = try ModelGraph(model: model.storage, capacity: 1, purpose: .inference)
            let pass = try #require(mg.packedForward?.singleRow)
            let width = 37
            func output() -> [UInt32] {
                let y = mg.graph.valuePointer(mg.output.id)
                return (0 ..< width).map { y[$0].bitPattern }
            }
            // Packs the weights and runs the parts on the pool.
            try x.values.withUnsafeBufferPointer { row in
                try mg.forward(inputs: row.baseAddress!, first: 0, count: 1, cols: Self.inputWidth,
                               standardization: nil, revision: model.storage.revision, inputsChecked: false)
            }
            let pooled = output()
            #expect(pooled.contains { $0 != 0 })
            var orders = [Array(0 ..< threads), Array((0 ..< threads).reversed())]
            if threads == 3 { orders.append([1, 0, 2]) }
            for order in orders {
                try x.values.withUnsafeBufferPointer { row in
                    try mg.graph.withInput(mg.input, boundTo: row.baseAddress!, rows: 1) {
                        mg.graph.valuePointer(mg.output.id).update(repeating: .nan, count: width)
                        #expect(pass.prepare() == threads)
                        // One thread, parts in this order: the first part takes every unit.
                        for part in order { pass.run(part: part) }
                        #expect(output() == pooled, "parts in the order \(order)")
                        // Each part on a thread of its own, all at once.
                        mg.graph.valuePointer(mg.output.id).update(repeating: .nan, count: width)
                        _ = pass.prepare()
                        DispatchQueue.concurrentPerform(iterations: threads) { pass.run(part: order[$0]) }
                        #expect(output() == pooled, "parts at once, started in the order \(order)")
                    }
                }
            }
        }
    }

    @Test func theSplitMovesByAPanelOnlyWhenTheLagExceedsThreeQuartersOfOne() {
        let shift = SingleRowPass.panelShift
        #expect(shift(800, 1000, 8, 8) == 1)
        #expect(shift(-800, 1000, 8, 8) == -1)
        #expect(shift(700, 1000, 8, 8) == 0)
        #expect(shift(-700, 1000, 8, 8) == 0)
        // The giving unit keeps three panels at least.
        #expect(shift(5000, 1000, 8, 3) == 0)
        #expect(shift(5000, 1000, 8, 4) == 1)
        #expect(shift(-5000, 1000, 3, 8) == 0)
        #expect(shift(-5000, 1000, 4, 8) == -1)
        #expect(shift(5000, 0, 8, 8) == 0)
    }

    @Test(.enabled(if: Gemm.kernelsUseAVX2))
    func movedSplitsGiveTheSameBits() throws {
        let model = try Self.model(seed: 54)
        let x = try Self.inputs(rows: 1, seed: 55)
        try withThreadCount(2) {
            let mg = try ModelGraph(model: model.storage, capacity: 1, purpose: .inference)
            let pass = try #require(mg.packedForward?.singleRow)
            func output() -> [UInt32] {
                let y = mg.graph.valuePointer(mg.output.id)
                return (0 ..< 37).map { y[$0].bitPattern }
            }
            try x.values.withUnsafeBufferPointer { row in
                try mg.forward(inputs: row.baseAddress!, first: 0, count: 1, cols: Self.inputWidth,
                               standardization: nil, revision: model.storage.revision, inputsChecked: false)
                let pooled = output()
                let split = (0 ..< pass.stageCount).filter { pass.units(stage: $0) > 1 }
                #expect(split.count == 3, "the ReLU, maxout and sigmoid layers")
                for stage in split {
                    for shift in [1, 2, -1, -3, 50, -50, 7] {
                        let before = pass.panels(stage: stage, unit: 0), rest = pass.panels(stage: stage, unit: 1)
                        pass.moveBoundary(stage: stage, after: 0, by: shift)
                        let first = pass.panels(stage: stage, unit: 0), second = pass.panels(stage: stage, unit: 1)
                        #expect(first.lowerBound == before.lowerBound && second.upperBound == rest.upperBound)
                        #expect(first.upperBound == second.lowerBound && !first.isEmpty && !second.isEmpty)
                        #expect(first.count == min(max(before.count + shift, 1), before.count + rest.count - 1))
                        try mg.graph.withInput(mg.input, boundTo: row.baseAddress!, rows: 1) {
                            mg.graph.valuePointer(mg.output.id).update(repeating: .nan, count: 37)
                            _ = pass.prepare()
                            DispatchQueue.concurrentPerform(iterations: 2) { pass.run(part: $0) }
                            #expect(output() == pooled, "stage \(stage), panels \(first) and \(second)")
                        }
                    }
                }
            }
        }
    }

    @Test func weightsChangedAfterAOneRowPredictionArePackedAgain() throws {
        var model = try Self.model(seed: 45)
        let x = try Self.inputs(rows: 1, seed: 46)
        let before = Self.bits(try model.predict(x))
        var changed = model.parameters
        for i in changed.indices { changed[i] = changed[i] * -0.5 + 0.02 }
        try model.setParameters(changed)
        let after = try model.predict(x)
        #expect(Self.bits(after) != before)
        #expect(Self.bits(after) == Self.bits(try RowBandTests.rebuilt(model).predict(x)))
        let expected = try DoubleMLP(model).outputs(x)
        for j in 0 ..< 37 { #expect(isClose(after[0, j], expected[0][j], atol: 1e-5, rtol: 1e-4), "output \(j)") }

        let labels = (0 ..< 32).map { $0 % 37 }
        _ = try model.trainStep(Dataset(inputs: try Self.inputs(rows: 32, seed: 47), labels: labels),
                                options: trainingOptions { $0.learningRate = 0.1 })
        #expect(Self.bits(try model.predict(x)) == Self.bits(try RowBandTests.rebuilt(model).predict(x)))
        #expect(Self.bits(try model.predict(x)) != Self.bits(after))
    }

    @Test func aLayerBeyondThePackingLimitPredictsSingleRowsLayerByLayer() throws {
        // 4,100 × 4,100 weights, 4,100 × 4,112 packed: just over `Gemm.oneRowPackLimit`.
        let model = try Model(inputs: 4100, layers: [.dense(units: 4100, activation: .relu), .dense(units: 3)], seed: 52)
        let oneRow = try ModelGraph(model: model.storage, capacity: 1, purpose: .inference)
        #expect(oneRow.packedForward == nil)
        let x = try TestData.uniformInputs(rows: 1, cols: 4100, limit: 1, seed: 53)
        let expected = try DoubleMLP(model).outputs(x)
        let y = try withThreadCount(2) { try model.predict(x) }
        for j in 0 ..< 3 { #expect(isClose(y[0, j], expected[0][j], atol: 1e-5, rtol: 1e-4), "output \(j)") }
    }

    /// With and without standardization (the input is standardized into the graph, or the
    /// graph reads the caller's row), on one thread and on two (where part 0 checks the row while
    /// the worker runs).
    @Test(arguments: [true, false])
    func aNonFiniteInputIsNamedAndNothingIsWritten(standardized: Bool) throws {
        let model = try Self.model(seed: 48, standardized: standardized)
        for threads in [1, 2] {
            for (column, value) in [(0, Float.nan), (299, Float.infinity), (150, -Float.infinity)] {
                var values = try Self.inputs(rows: 1, seed: 49).values
                values[column] = value
                var output = [Float](repeating: 42, count: 37)
                let error = #expect(throws: NNError.self) {
                    try values.withUnsafeBufferPointer { x in
                        try output.withUnsafeMutableBufferPointer { y in
                            try withThreadCount(threads) { try model.predict(inputs: x, rows: 1, into: y, kind: .raw) }
                        }
                    }
                }
                #expect(error?.code == .nonFiniteValue, "\(threads) threads")
                #expect(error?.message.contains("row 0, column \(column)") == true, "\(error?.message ?? "")")
                #expect(output.allSatisfy { $0 == 42 })
                // The next finite row predicts normally.
                values[column] = 0.5
                let y = try withThreadCount(threads) { try model.predict(Matrix(rows: 1, cols: Self.inputWidth, values: values)) }
                #expect(y.values.allSatisfy { $0.isFinite })
            }
        }
    }

    @Test func manyThreadsPredictingSingleRowsAtOnceGetTheSerialResults() throws {
        let model = try Self.model(seed: 50)
        let batch = try Self.inputs(rows: 12, seed: 51)
        let rows = try (0 ..< 12).map { try Self.row(batch, $0) }
        try withThreadCount(2) {
            let serial = try rows.map { Self.bits(try model.predict($0)) }
            let mismatches = Atomic<Int>(0), failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 6) { t in
                for i in 0 ..< 40 {
                    let r = (t * 5 + i) % 12
                    do {
                        if Self.bits(try model.predict(rows[r])) != serial[r] { mismatches.add(1, ordering: .relaxed) }
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
