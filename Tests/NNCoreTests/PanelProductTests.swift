// Panel products: the larger untransposed products (a dense layer's forward product) that nncore
// computes in its own AVX2 loops (NNKernels' PanelProduct) on machines that run them. Tile
// remainders in every direction (rows past a multiple of 6, columns past a multiple of 16 and of
// the 256-column packing block, inner dimensions past the 256-index block), a bias or none, C
// NaN-filled (never read), activations in registers and as a pass — each checked against a
// Double product straight from the definition. Then: the same bits for any thread count and any
// block, since each element is summed in one order.

@testable import NNCore
import NNKernels
import Testing

/// Changes the process-wide thread count: serialised.
@Suite(.serialized, .enabled(if: Gemm.kernelsUseAVX2, "panel products run only where the AVX2 loops do"))
struct PanelProductTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, bias: Bool
        var activation: Activation?
        var testDescription: String {
            "m\(m) n\(n) k\(k)\(bias ? " bias" : "")\(activation.map { " \($0)" } ?? "")"
        }
    }

    static let cases: [Case] = [
        Case(m: 128, n: 256, k: 784, bias: true, activation: .relu),       // net M's first layer, training batch
        Case(m: 16, n: 1, k: 1, bias: false, activation: nil),             // the fewest rows; one column, one index
        Case(m: 17, n: 17, k: 7, bias: true, activation: .leakyReLU(alpha: 0.1)), // 6 + 6 + 5 rows; 16 + 1 columns
        Case(m: 23, n: 10, k: 257, bias: true, activation: .tanh),         // a partial panel; 256 + 1 inner; tanh as a pass
        Case(m: 100, n: 300, k: 600, bias: false, activation: .relu),      // 256 + 44 columns; 256 + 256 + 88 inner
        Case(m: 96, n: 31, k: 256, bias: true, activation: .identity),     // rows a multiple of 6; one full inner block
        Case(m: 300, n: 129, k: 33, bias: true, activation: .sigmoid),     // bands of rows on the pool
    ]

    @Test(arguments: cases) func panelProductMatchesTheDefinition(_ test: Case) throws {
        let c = ParallelProductTests.Case(transA: false, transB: false, m: test.m, n: test.n, k: test.k, beta: 0, bias: test.bias)
        let a = ParallelProductTests.random(c.m * c.k, seed: 21), b = ParallelProductTests.random(c.k * c.n, seed: 22)
        let bias = ParallelProductTests.random(c.n, seed: 24)
        let expected = ParallelProductTests.reference(c, a: a, b: b, c0: [Float](repeating: 0, count: c.m * c.n), bias: bias)
            .map { x in test.activation.map { Ref.activation($0, x) } ?? x }
        var usedPanels = false
        // C starts as NaN: a loop that read it before writing it would spread NaN.
        let out = ParallelProductTests.withProduct(c, a: a, b: b, c0: [Float](repeating: .nan, count: c.m * c.n), bias: bias) {
            var product = $0
            product.epilogue = test.activation
            usedPanels = product.usesPanels
            product.perform()
        }
        #expect(usedPanels)
        var worst = 0.0
        for i in expected.indices {
            #expect(out[i].isFinite, "element \(i) is \(out[i])")
            worst = max(worst, abs(Double(out[i]) - expected[i]) / (1 + abs(expected[i])))
        }
        // float32 sums of at most 784 products of values below 1.
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    /// Whatever the thread count, and whichever block of rows and columns a thread computes,
    /// every element comes out with the same bits as the whole product on one thread.
    @Test func resultsAreTheSameForAnyThreadCountAndBlock() throws {
        let c = ParallelProductTests.Case(transA: false, transB: false, m: 1000, n: 270, k: 300, beta: 0, bias: true)
        let a = ParallelProductTests.random(c.m * c.k, seed: 31), b = ParallelProductTests.random(c.k * c.n, seed: 32)
        let bias = ParallelProductTests.random(c.n, seed: 33), c0 = [Float](repeating: .nan, count: c.m * c.n)
        let whole = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) {
            #expect($0.computePanels(rows: 0 ..< c.m, cols: 0 ..< c.n))
        }
        // Two blocks that do not fall on the tiles' or the pool's edges.
        let blocks = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) {
            #expect($0.computePanels(rows: 0 ..< 401, cols: 0 ..< 270))
            #expect($0.computePanels(rows: 401 ..< 1000, cols: 0 ..< 100))
            #expect($0.computePanels(rows: 401 ..< 1000, cols: 100 ..< 270))
        }
        /// Elements whose bits differ (a count, so that a failure does not print a million values).
        func differing(_ x: [Float]) -> Int { zip(x, whole).count { $0.bitPattern != $1.bitPattern } }
        #expect(differing(blocks) == 0)
        for threads in [1, 2, 3, 8] {
            let pooled = ParallelProductTests.run(c, a: a, b: b, c0: c0, bias: bias, threads: threads)
            #expect(differing(pooled) == 0, "\(threads) threads differ from one")
        }
    }

    /// The pool cuts a panel product into bands of rows by blocks of columns, so that a slow
    /// thread holds up a smaller share; untransposed products with fewer rows stay with OpenBLAS,
    /// and transposed ones are never panel products.
    @Test func poolCutsPanelProductsIntoBandsAndColumnBlocks() throws {
        let a = [Float](repeating: 1, count: 1024 * 784), b = [Float](repeating: 1, count: 784 * 256)
        var out = [Float](repeating: 0, count: 1024 * 256)
        try a.withUnsafeBufferPointer { ap in
            try b.withUnsafeBufferPointer { bp in
                try out.withUnsafeMutableBufferPointer { cp in
                    var product = Gemm(m: 1024, n: 256, k: 784, a: ap.baseAddress!, lda: 784, b: bp.baseAddress!, ldb: 256,
                                       c: cp.baseAddress!, ldc: 256)
                    #expect(product.usesPanels)
                    let job = try #require(WorkerPool.shared.plan(product, threads: 2))
                    guard case .tiles(let rows, let columnBlocks) = job.cut else {
                        Issue.record("a panel product was cut as \(job.cut)")
                        return
                    }
                    #expect(rows == 256 && columnBlocks == 2 && job.chunkSize == 128 && job.chunks == 8)
                    product.m = Gemm.panelMinimumRows - 1
                    #expect(!product.usesPanels)
                    product.m = 1024
                    product.transB = true
                    #expect(!product.usesPanels)
                }
            }
        }
    }
}
