// Panel products: the products of 16 rows or more (a dense layer's forward product, input
// gradient and weight gradient) that nncore computes in its own AVX2 loops (NNKernels'
// PanelProduct) on machines that run them. Every transpose combination, tile remainders in every
// direction (rows past a multiple of 6, columns past a multiple of 16 and of the 256-column
// packing block, inner dimensions past the 256-index block), a bias, β = 0 over a NaN-filled C
// (never read) and β = 1, activations in registers and as a pass, a ReLU-family derivative —
// each checked against a Double product straight from the definition. Then: the same bits for
// any thread count and any block, since each element is summed in one order.

@testable import NNCore
import NNKernels
import Testing

/// Changes the process-wide thread count: serialised.
@Suite(.serialized, .enabled(if: Gemm.kernelsUseAVX2, "panel products run only where the AVX2 loops do"))
struct PanelProductTests {
    typealias Case = ActivatedProductCase

    static let cases: [Case] = [
        // Net M's products for a training batch of 128 rows.
        Case(false, false, m: 128, n: 256, k: 784, bias: true, activation: .relu),  // first layer forward
        Case(false, true, m: 128, n: 256, k: 128, derivative: .relu),             // second layer's input gradient
        Case(true, false, m: 784, n: 256, k: 128, beta: 1, bias: false),          // first layer's weight gradient, accumulated
        Case(true, false, m: 256, n: 128, k: 128),                                // second layer's weight gradient
        // Remainders in every direction, every transpose combination.
        Case(false, false, m: 16, n: 1, k: 1),                                    // the fewest rows; one column, one index
        Case(false, false, m: 17, n: 17, k: 7, bias: true, activation: .leakyReLU(alpha: 0.1)), // 6 + 6 + 5 rows; 16 + 1 columns
        Case(false, false, m: 23, n: 10, k: 257, bias: true, activation: .tanh),  // a partial panel; 256 + 1 inner; tanh as a pass
        Case(false, false, m: 100, n: 300, k: 600, activation: .relu),            // 256 + 44 columns; 256 + 256 + 88 inner
        Case(false, false, m: 96, n: 31, k: 256, bias: true, activation: .identity), // rows a multiple of 6; one inner block
        Case(false, false, m: 300, n: 129, k: 33, bias: true, activation: .sigmoid), // bands of rows on the pool
        Case(true, true, m: 19, n: 45, k: 300, beta: 1),                          // both transposed, accumulated
        Case(false, true, m: 41, n: 270, k: 259, derivative: .leakyReLU(alpha: 0.2)), // 4 + 5 rows left; 256 + 14 columns
        Case(true, false, m: 1030, n: 20, k: 1024, beta: 1),                      // A's rows 1,024 floats apart (one L1 set)
        Case(false, true, m: 64, n: 33, k: 17, beta: 1, activation: .relu),       // accumulated, then activated
    ]

    @Test(arguments: cases) func panelProductMatchesTheDefinition(_ test: Case) throws {
        let check = ActivatedProductCheck(test, seed: 21)
        var usedPanels = false
        let out = check.run { product in
            usedPanels = product.usesPanels
            product.perform()
        }
        #expect(usedPanels)
        let worst = check.worstRelativeError(out)
        // float32 sums of at most 1,024 products of values below 1.
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    /// Whatever the thread count, and whichever block of rows and columns a thread computes,
    /// every element comes out with the same bits as the whole product on one thread.
    @Test(arguments: [false, true]) func resultsAreTheSameForAnyThreadCountAndBlock(transposed: Bool) throws {
        let c = ParallelProductTests.Case(transA: transposed, transB: transposed, m: 1000, n: 270, k: 300, beta: 0, bias: !transposed)
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

    /// Bands of rows that read op(B) packed once (`Job.sharedPacking`, `Gemm.packPanels`) give the
    /// bits of bands that each pack their own columns: for B as stored and transposed, a partial
    /// last panel, inner dimensions past the 256-index block, and column blocks packed and read
    /// in pieces that start on 16-column edges other than the pool's.
    @Test(arguments: [false, true]) func bandsReadingOneSharedPackingGiveTheSameBits(transposed: Bool) throws {
        let c = ParallelProductTests.Case(transA: false, transB: transposed, m: 500, n: 270, k: 600, beta: 0, bias: true)
        let a = ParallelProductTests.random(c.m * c.k, seed: 41), b = ParallelProductTests.random(c.k * c.n, seed: 42)
        let bias = ParallelProductTests.random(c.n, seed: 43), c0 = [Float](repeating: .nan, count: c.m * c.n)
        let whole = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) {
            #expect($0.computePanels(rows: 0 ..< c.m, cols: 0 ..< c.n))
        }
        func differing(_ x: [Float]) -> Int { zip(x, whole).count { $0.bitPattern != $1.bitPattern } }
        let shared = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) { product in
            var product = product
            #expect(product.hasScratch(product.panelPackCount))
            for cols in [0 ..< 48, 48 ..< 160, 160 ..< 270] { product.packPanels(cols: cols) }
            product.panelsPacked = true
            #expect(product.computePanels(rows: 0 ..< 250, cols: 0 ..< 112))
            #expect(product.computePanels(rows: 0 ..< 250, cols: 112 ..< 270))
            #expect(product.computePanels(rows: 250 ..< 500, cols: 0 ..< 270))
        }
        #expect(differing(shared) == 0)
        // Through the pool: 4 bands of rows, packing shared.
        _ = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) { product in
            let job = WorkerPool.shared.plan(product, threads: 2)
            #expect(job?.sharedPacking()?.chunks == 2)
            var unpacked = product
            unpacked.scratch = nil
            #expect(WorkerPool.shared.plan(unpacked, threads: 2)?.sharedPacking() == nil)
        }
        for threads in [2, 3] {
            let pooled = ParallelProductTests.run(c, a: a, b: b, c0: c0, bias: bias, threads: threads)
            #expect(differing(pooled) == 0, "\(threads) threads differ from one")
        }
    }

    /// Graph nodes give room for op(B) packed once only where a product makes several bands, and
    /// for the gradients' products only when they are computed.
    @Test func nodesGiveRoomForSharedPackingOnlyWhereBandsShareIt() {
        // Net M's first layer predicting batches of 1,024 rows: the forward product's 784 × 256.
        #expect(Gemm.scratchCount(inner: 784, columns: 256, rows: 1024, inputGradient: false, weightGradient: false) == 784 * 256)
        // Training batches of 128 rows make one band forward; the weight gradient (784 rows of
        // C) makes four, packing the batch's 128 × 256 gradient.
        #expect(Gemm.scratchCount(inner: 784, columns: 256, rows: 128, inputGradient: false, weightGradient: true) == 128 * 256)
        #expect(Gemm.scratchCount(inner: 784, columns: 256, rows: 128, inputGradient: true, weightGradient: false)
                == Gemm.scratchCount(inner: 784, columns: 256, rows: 1, inputGradient: true, weightGradient: false))
        // An input gradient packs Wᵀ: columns × inputs, the inputs padded to 16.
        #expect(Gemm.scratchCount(inner: 10, columns: 300, rows: 256, inputGradient: true, weightGradient: false)
                == 300 * 16)
    }

    /// The pool cuts a panel product into bands of rows by blocks of columns, so that a slow
    /// thread holds up a smaller share; products with fewer rows, or another β, stay with OpenBLAS.
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
                    product.beta = 0.5
                    #expect(!product.usesPanels)
                }
            }
        }
    }
}
