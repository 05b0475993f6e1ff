// Small matrix products, which nncore computes in its own loops (Ops/SmallGemm.swift) instead of
// OpenBLAS: every loop, every transpose combination, tile remainders in every direction, a bias,
// β = 0 over a NaN-filled C (which must not leak), β = 1 and β = 0.5 — each checked against a
// Double product straight from the definition, and each case checked to take the loop it names.

@testable import NNCore
import Testing

struct SmallProductTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var product: ParallelProductTests.Case
        var kernel: Gemm.SmallKernel?
        var testDescription: String { "\(product.testDescription) → \(kernel.map { "\($0)" } ?? "OpenBLAS")" }

        init(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, beta: Float = 0, bias: Bool = false,
             _ kernel: Gemm.SmallKernel?) {
            product = .init(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta, bias: bias)
            self.kernel = kernel
        }
    }

    static let cases: [Case] = [
        // The spiral net's products (2-100-3, 300 rows).
        Case(false, false, m: 300, n: 100, k: 2, bias: true, .rowSums),        // hidden layer forward
        Case(false, false, m: 300, n: 3, k: 100, bias: true, .dotProducts),    // output layer forward (B copied)
        Case(false, true, m: 300, n: 100, k: 3, .rowSums),                     // hidden gradient (B copied)
        Case(true, false, m: 100, n: 3, k: 300, beta: 1, .columnSums),         // output weight gradient
        Case(true, false, m: 2, n: 100, k: 300, .rowSums),                     // hidden weight gradient: one-row tiles
        // Remainders: rows not a multiple of 4, columns not a multiple of 8 or 32, k not a multiple of 8.
        Case(false, false, m: 7, n: 8, k: 5, beta: 1, .rowSums),
        Case(true, true, m: 9, n: 41, k: 13, beta: 0.5, .rowSums),
        Case(false, true, m: 5, n: 7, k: 37, beta: 1, .dotProducts),           // one 4-column tile and one of 3
        Case(false, false, m: 6, n: 2, k: 9, bias: true, .dotProducts),
        Case(false, true, m: 3, n: 5, k: 8, .dotProducts),                     // 4 + 1 columns
        Case(true, true, m: 13, n: 6, k: 20, beta: 1, .columnSums),            // last row block overlaps
        Case(true, false, m: 8, n: 1, k: 11, .columnSums),
        // Tiny: plain loops.
        Case(false, false, m: 4, n: 1, k: 2, bias: true, .scalar),             // XOR's output layer
        Case(true, true, m: 3, n: 2, k: 5, beta: 1, .scalar),
        // Not small, or no loop fits: OpenBLAS.
        Case(false, false, m: 1, n: 100, k: 2, bias: true, nil),               // one row: sgemv
        Case(true, false, m: 3, n: 7, k: 5000, nil),                           // narrow, A transposed, few rows
        Case(false, false, m: 64, n: 64, k: 64, nil),                          // 262,144 multiply-adds
    ]

    @Test(arguments: cases) func smallProductMatchesTheDefinition(_ test: Case) throws {
        let c = test.product
        let a = ParallelProductTests.random(c.m * c.k, seed: 11), b = ParallelProductTests.random(c.k * c.n, seed: 12)
        let bias = ParallelProductTests.random(c.n, seed: 14)
        // With β = 0 and no bias, C starts as NaN: a loop that read it would spread NaN.
        let overwrites = c.beta == 0 || c.bias
        let c0 = overwrites ? [Float](repeating: .nan, count: c.m * c.n) : ParallelProductTests.random(c.m * c.n, seed: 13)
        let expected = ParallelProductTests.reference(c, a: a, b: b, c0: overwrites ? [Float](repeating: 0, count: c0.count) : c0,
                                                      bias: bias)
        var chosen: Gemm.SmallKernel?
        let out = ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) { product in
            chosen = product.smallKernel
            product.perform()
        }
        #expect(chosen == test.kernel)
        var worst = 0.0
        for i in expected.indices {
            #expect(out[i].isFinite, "element \(i) is \(out[i])")
            worst = max(worst, abs(Double(out[i]) - expected[i]) / (1 + abs(expected[i])))
        }
        // float32 sums of at most 5,000 products of values below 1.
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    /// Without scratch, a product that needs a transposed copy of B goes to OpenBLAS.
    @Test func productsThatNeedACopyOfBWithoutScratchGoToOpenBLAS() {
        let a = [Float](repeating: 1, count: 300 * 100), b = [Float](repeating: 1, count: 300)
        var out = [Float](repeating: 0, count: 300 * 3)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    var product = Gemm(m: 300, n: 3, k: 100, a: ap.baseAddress!, lda: 100, b: bp.baseAddress!, ldb: 3,
                                       c: cp.baseAddress!, ldc: 3)
                    #expect(product.smallKernel == nil)
                    product.transB = true
                    product.ldb = 100
                    #expect(product.smallKernel == .dotProducts)
                }
            }
        }
    }
}
