// Matrix products split over nncore's worker pool: every transpose combination, awkward sizes,
// one-row and rank-1 products, a broadcast bias, accumulation — checked against a Double
// reference, and bitwise against the same cut computed block by block on the caller (what the
// pool does when it is busy or backing off), so results never depend on timing. Training is
// bitwise repeatable for a thread count, and 1 and 2 threads agree to rounding (OpenBLAS's
// Haswell and Zen kernels round partial tiles differently, so blocks may change the last bits).

@testable import NNCore
import Testing

/// Changes the process-wide thread count: serialised, and other suites' results do not depend
/// on the count (which is what this suite checks).
@Suite(.serialized) struct ParallelProductTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int, beta: Float, bias: Bool
        var testDescription: String {
            "\(transA ? "T" : "N")\(transB ? "T" : "N") m\(m) n\(n) k\(k) β\(beta)\(bias ? " bias" : "")"
        }
    }

    static let cases: [Case] = [
        Case(transA: false, transB: false, m: 128, n: 256, k: 784, beta: 0, bias: true),    // forward, split by columns
        Case(transA: true, transB: false, m: 784, n: 256, k: 128, beta: 1, bias: false),    // weight gradient, by rows
        Case(transA: false, transB: true, m: 128, n: 784, k: 256, beta: 1, bias: false),    // input gradient
        Case(transA: true, transB: true, m: 333, n: 97, k: 130, beta: 0.5, bias: false),
        Case(transA: false, transB: false, m: 1, n: 1000, k: 700, beta: 0, bias: true),     // one row: sgemv, split along k
        Case(transA: false, transB: false, m: 1, n: 256, k: 784, beta: 1, bias: false),     // one row, accumulating
        Case(transA: true, transB: false, m: 1, n: 5000, k: 90, beta: 0, bias: false),      // one row, too wide for scratch
        Case(transA: true, transB: true, m: 1, n: 600, k: 500, beta: 1, bias: false),       // one row, strided A
        Case(transA: true, transB: false, m: 700, n: 300, k: 1, beta: 1, bias: false),      // rank 1: sger
        Case(transA: false, transB: false, m: 517, n: 3, k: 100, beta: 0, bias: true),      // narrow result
        Case(transA: false, transB: false, m: 17, n: 19, k: 23, beta: 0, bias: false),      // below the threshold
    ]
    // (Small products, which nncore's own loops compute, are checked in SmallProductTests.)

    /// Values drawn from the test generator, in [-1, 1).
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return (0 ..< count).map { _ in g.nextUnitFloat() * 2 - 1 }
    }

    /// C = op(A)·op(B) + β·C (+ bias) in Double, straight from the definition.
    static func reference(_ c: Case, a: [Float], b: [Float], c0: [Float], bias: [Float]) -> [Double] {
        let lda = c.transA ? c.m : c.k, ldb = c.transB ? c.k : c.n
        var out = [Double](repeating: 0, count: c.m * c.n)
        for i in 0 ..< c.m {
            for j in 0 ..< c.n {
                var sum = 0.0
                for p in 0 ..< c.k {
                    let av = c.transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = c.transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(av) * Double(bv)
                }
                out[i * c.n + j] = sum + (c.bias ? Double(bias[j]) : Double(c.beta) * Double(c0[i * c.n + j]))
            }
        }
        return out
    }

    /// Runs the case's product with `threads` threads; `alone` computes the pool's plan on the
    /// calling thread instead (the busy-pool path).
    static func run(_ c: Case, a: [Float], b: [Float], c0: [Float], bias: [Float], threads: Int, alone: Bool = false) -> [Float] {
        withThreadCount(threads) { withProduct(c, a: a, b: b, c0: c0, bias: bias) { product in
            if alone, let job = WorkerPool.shared.plan(product, threads: threads) {
                job.runAlone()
            } else {
                product.perform()
            }
        } }
    }

    /// Hands `body` the case's product over a, b, the bias and a copy of c0 (row-major, with the
    /// case's transposes), with the scratch a graph node provides, NaN-filled so that a part read
    /// before it is written shows; returns C afterwards.
    static func withProduct(_ c: Case, a: [Float], b: [Float], c0: [Float], bias: [Float], weightGradient: Bool = false,
                            _ body: (Gemm) -> Void) -> [Float] {
        var out = c0
        // A weight gradient's node: inputs m, outputs n, rows k.
        let scratchCount = weightGradient
            ? Gemm.scratchCount(inner: c.m, columns: c.n, rows: c.k, inputGradient: false, weightGradient: true)
            : Gemm.scratchCount(inner: c.k, columns: c.n, rows: c.m, inputGradient: false, weightGradient: false)
        var scratch = [Float](repeating: .nan, count: max(1, scratchCount))
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasp in
                    out.withUnsafeMutableBufferPointer { cp in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            body(Gemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, beta: c.beta,
                                      a: ap.baseAddress!, lda: c.transA ? c.m : c.k, b: bp.baseAddress!,
                                      ldb: c.transB ? c.k : c.n, c: cp.baseAddress!, ldc: c.n,
                                      bias: c.bias ? biasp.baseAddress! : nil,
                                      scratch: scratchCount > 0 ? UnsafeMutableBufferPointer(rebasing: sp[..<scratchCount]) : nil))
                        }
                    }
                }
            }
        }
        return out
    }

    /// One-row products with an untransposed B are cut along k (when the node has scratch).
    @Test func oneRowProductsAreCutAlongTheInnerDimension() throws {
        let x = Self.random(784, seed: 1), w = Self.random(784 * 256, seed: 2)
        let scratchCount = Gemm.scratchCount(inner: 784, columns: 256, rows: 1, inputGradient: false, weightGradient: false)
        var y = [Float](repeating: 0, count: 256), scratch = [Float](repeating: 0, count: scratchCount)
        try x.withUnsafeBufferPointer { xp in
            try w.withUnsafeBufferPointer { wp in
                try y.withUnsafeMutableBufferPointer { yp in
                    try scratch.withUnsafeMutableBufferPointer { sp in
                        var product = Gemm(m: 1, n: 256, k: 784, a: xp.baseAddress!, lda: 784, b: wp.baseAddress!, ldb: 256,
                                           c: yp.baseAddress!, ldc: 256, scratch: sp)
                        let job = try #require(WorkerPool.shared.plan(product, threads: 2))
                        #expect(job.cut == .inner && job.chunks == 2)
                        product.scratch = nil
                        #expect(WorkerPool.shared.plan(product, threads: 2)?.cut == .cols)
                    }
                }
            }
        }
    }

    @Test(arguments: cases) func splitProductMatchesReferenceAndUnsplitProduct(_ c: Case) throws {
        let a = Self.random(c.m * c.k, seed: 1), b = Self.random(c.k * c.n, seed: 2)
        let c0 = Self.random(c.m * c.n, seed: 3), bias = Self.random(c.n, seed: 4)
        let expected = Self.reference(c, a: a, b: b, c0: c0, bias: bias)
        for threads in [1, 2, 3, 8] {
            let parallel = Self.run(c, a: a, b: b, c0: c0, bias: bias, threads: threads)
            let alone = Self.run(c, a: a, b: b, c0: c0, bias: bias, threads: threads, alone: true)
            #expect(parallel.map(\.bitPattern) == alone.map(\.bitPattern), "\(threads) threads differ from the caller alone")
            var worst = 0.0
            for i in expected.indices {
                worst = max(worst, abs(Double(parallel[i]) - expected[i]) / (1 + abs(expected[i])))
            }
            // float32 sums of up to 784 products of values below 1: well within 1e-4 relative.
            #expect(worst < 1e-4, "largest relative error \(worst) with \(threads) threads")
        }
    }

    @Test func trainingIsRepeatableForAThreadCountAndAgreesAcrossCounts() throws {
        let rows = 600, width = 300
        let x = Self.random(rows * width, seed: 7)
        let labels = (0 ..< rows).map { (Int(x[$0 * width] * 1000) & 0xFFFF) % 5 }
        let data = try Dataset(inputs: Matrix(rows: rows, cols: width, values: x), labels: labels)
        func train(threads: Int) throws -> [Float] { try withThreadCount(threads) {
            var model = try Model(inputs: width, layers: [.dense(units: 256, activation: .relu),
                                                          .dense(units: 128, activation: .relu), .dense(units: 5)], seed: 3)
            try model.fit(data, options: trainingOptions {
                $0.epochs = 2; $0.batchSize = 128; $0.optimizer = .momentum(0.9); $0.learningRate = 0.01
            })
            return model.parameters
        } }
        let one = try train(threads: 1), two = try train(threads: 2), twoAgain = try train(threads: 2)
        #expect(one.count == 300 * 256 + 256 + 256 * 128 + 128 + 128 * 5 + 5)
        #expect(two.map(\.bitPattern) == twoAgain.map(\.bitPattern))
        let worst = zip(one, two).map { abs($0 - $1) }.max() ?? .infinity
        // Weights are of order 0.1; rounding differences after 10 steps stay far below that.
        #expect(worst < 1e-4, "largest weight difference between 1 and 2 threads: \(worst)")
    }

    /// Inference graphs apply each hidden activation inside its layer's product, per block and
    /// on the pool's threads; with pool-sized layers, every activation kind and an activated
    /// output layer, predictions match a Double forward pass, and one row at a time gives what
    /// the whole batch gives (to float rounding: one-row products sum in another order).
    @Test func fusedActivationsMatchADoubleForwardPass() throws { try withThreadCount(2) {
        let model = try Model(inputs: 300, layers: [.dense(units: 512, activation: .relu), .dense(units: 256, activation: .tanh),
                                                    .dense(units: 200, activation: .leakyReLU(alpha: 0.1)),
                                                    .dense(units: 300, activation: .gelu), .dense(units: 4, activation: .sigmoid)],
                              loss: .meanSquaredError, seed: 9)
        let inputs = try TestData.uniformInputs(rows: 700, cols: 300, seed: 5)
        let expected = try DoubleMLP(model).outputs(inputs)
        let all = try model.predict(inputs)
        var worst = 0.0
        for r in 0 ..< inputs.rows {
            for j in 0 ..< 4 { worst = max(worst, abs(Double(all.values[r * 4 + j]) - expected[r][j])) }
        }
        #expect(worst < 1e-5, "largest difference from the Double pass: \(worst)")
        for r in [0, 1, 350, 699] {
            let one = try model.predict(Matrix(rows: 1, cols: 300, values: inputs.row(r)))
            for j in 0 ..< 4 { #expect(abs(one.values[j] - all.values[r * 4 + j]) < 1e-5) }
        }
    } }

    /// A small product (nncore's own loops) as a training step makes them: the forward and
    /// input-gradient products, and the weight gradients with the bias gradient's column sums.
    struct SmallCase: CustomTestStringConvertible, Sendable {
        var product: Case
        /// The cut the pool makes with 2 threads.
        var cut: WorkerPool.Job.Cut
        /// Whether the product also sums op(B)'s columns (onto sums of 1s, or over them).
        var columnSums = false, accumulateColumnSums = true
        var testDescription: String {
            "\(product.testDescription), \(cut)\(columnSums ? accumulateColumnSums ? " + column sums" : " = column sums" : "")"
        }
    }

    static let smallCases: [SmallCase] = [
        // The spiral's step (300 rows, 2-100-3): forward products, input gradient, weight gradients.
        SmallCase(product: Case(transA: false, transB: false, m: 300, n: 100, k: 2, beta: 0, bias: true), cut: .rows),
        SmallCase(product: Case(transA: false, transB: false, m: 300, n: 3, k: 100, beta: 0, bias: true), cut: .rows),
        SmallCase(product: Case(transA: false, transB: true, m: 300, n: 100, k: 3, beta: 0, bias: false), cut: .rows),
        SmallCase(product: Case(transA: true, transB: false, m: 2, n: 100, k: 300, beta: 0, bias: false), cut: .inner,
                  columnSums: true, accumulateColumnSums: false),
        SmallCase(product: Case(transA: true, transB: false, m: 100, n: 3, k: 300, beta: 1, bias: false), cut: .inner,
                  columnSums: true),
        SmallCase(product: Case(transA: true, transB: false, m: 5, n: 40, k: 333, beta: 1, bias: false), cut: .inner),
        SmallCase(product: Case(transA: true, transB: false, m: 6, n: 21, k: 300, beta: 1, bias: false), cut: .inner,
                  columnSums: true),
        // Wider than tall: blocks of columns.
        SmallCase(product: Case(transA: false, transB: false, m: 40, n: 300, k: 8, beta: 0, bias: true), cut: .cols),
    ]

    /// Small products split over the pool give the Double reference's values, the bits of the
    /// same blocks computed on the caller alone, and with blocks of rows or columns the bits of
    /// the whole product on one thread (every element is summed the same way); the bias
    /// gradient's column sums come out of the weight gradient's blocks right.
    @Test(arguments: smallCases) func smallProductsSplitOverThePool(_ test: SmallCase) throws {
        let c = test.product
        let a = Self.random(c.m * c.k, seed: 11), b = Self.random(c.k * c.n, seed: 12)
        let c0 = Self.random(c.m * c.n, seed: 13), bias = Self.random(c.n, seed: 14)
        let expected = Self.reference(c, a: a, b: b, c0: c0, bias: bias)
        var expectedSums = [Double](repeating: test.accumulateColumnSums ? 1 : 0, count: c.n)
        for p in 0 ..< c.k { for j in 0 ..< c.n { expectedSums[j] += Double(b[p * c.n + j]) } }
        var results: [Int: ([Float], [Float])] = [:]
        for threads in [1, 2, 3] { withThreadCount(threads) {
            var runs: [([Float], [Float])] = []
            for alone in [false, true] {
                var sums = [Float](repeating: test.accumulateColumnSums ? 1 : .nan, count: c.n)
                let out = sums.withUnsafeMutableBufferPointer { sp in
                    Self.withProduct(c, a: a, b: b, c0: c0, bias: bias, weightGradient: test.columnSums) { whole in
                        var product = whole
                        if test.columnSums {
                            product.columnSumsOfB = sp.baseAddress!
                            product.accumulateColumnSums = test.accumulateColumnSums
                        }
                        let pooled = product.pooled
                        #expect(pooled.smallLoop != nil, "not a small product")
                        let job = WorkerPool.shared.plan(pooled, threads: threads)
                        if threads == 2 { #expect(job?.cut == test.cut && job?.chunks == 2) }
                        if threads == 1 { #expect(job == nil) }
                        if alone, let job { job.runAlone() } else { product.perform() }
                    }
                }
                runs.append((out, sums))
            }
            #expect(runs[0].0.map(\.bitPattern) == runs[1].0.map(\.bitPattern), "\(threads) threads differ from the caller alone")
            #expect(runs[0].1.map(\.bitPattern) == runs[1].1.map(\.bitPattern), "\(threads) threads' sums differ alone")
            var worst = 0.0
            for i in expected.indices {
                worst = max(worst, abs(Double(runs[0].0[i]) - expected[i]) / (1 + abs(expected[i])))
            }
            if test.columnSums {
                for j in 0 ..< c.n {
                    worst = max(worst, abs(Double(runs[0].1[j]) - expectedSums[j]) / (1 + abs(expectedSums[j])))
                }
            }
            #expect(worst < 1e-5, "largest relative error \(worst) with \(threads) threads")
            results[threads] = runs[0]
        } }
        if test.cut != .inner {
            #expect(results[2]!.0.map(\.bitPattern) == results[1]!.0.map(\.bitPattern), "blocks changed the bits")
        }
    }

    @Test func threadCountIsClampedAndRestored() { withThreadCount(2) {
        Runtime.threadCount = 0
        #expect(Runtime.threadCount == 1)
        Runtime.threadCount = 1000
        #expect(Runtime.threadCount == WorkerPool.maxThreads)
        Runtime.threadCount = 2
        #expect(Runtime.threadCount == 2)
    } }
}
