// Small matrix products, which nncore computes in its own loops (NNKernels' SmallProduct) instead
// of OpenBLAS: every loop, every transpose combination, tile remainders in every direction, the
// tiny-inner-dimension tiles (k = 1…4), a bias, β = 0 over a NaN-filled C (which must not leak),
// β = 1 and β = 0.5, activations applied in registers — each checked against a Double product
// straight from the definition, in both builds of the loops (baseline x86-64, and AVX2 with fused
// multiply-adds where the CPU runs it), and each case checked to take the loop it names.

import CPUFeatures
@testable import NNCore
import NNKernels
import Testing

struct SmallProductTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var base: ActivatedProductCase
        var kernel: SmallProduct.Loop?
        var testDescription: String { "\(base.testDescription) → \(kernel.map { "\($0)" } ?? "no small-product loop")" }

        init(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, beta: Float = 0, bias: Bool = false,
             _ kernel: SmallProduct.Loop?, activation: Activation? = nil, derivative: Activation? = nil) {
            base = .init(transA, transB, m: m, n: n, k: k, beta: beta, bias: bias, activation: activation, derivative: derivative)
            self.kernel = kernel
        }
    }

    static let cases: [Case] = [
        // The spiral net's products (2-100-3, 300 rows).
        Case(false, false, m: 300, n: 100, k: 2, bias: true, .rowSums, activation: .relu), // hidden layer forward
        Case(false, false, m: 300, n: 3, k: 100, bias: true, .dotProducts),    // output layer forward (B copied)
        Case(false, true, m: 300, n: 100, k: 3, .rowSums),                     // hidden gradient (B copied)
        Case(true, false, m: 100, n: 3, k: 300, beta: 1, .columnSums),         // output weight gradient
        Case(true, false, m: 2, n: 100, k: 300, .rowSums),                     // hidden weight gradient: one-row tiles
        // k = 1…4: broadcasts held across a row group's tiles; rows left over for the general tiles.
        Case(false, false, m: 9, n: 13, k: 1, bias: true, .rowSums, activation: .leakyReLU(alpha: 0.1)),
        Case(true, false, m: 6, n: 20, k: 2, beta: 0.5, .rowSums),
        Case(false, true, m: 11, n: 8, k: 3, beta: 1, .rowSums, activation: .relu),
        Case(true, true, m: 7, n: 33, k: 4, .rowSums),
        // Remainders: rows not a multiple of 4, columns not a multiple of 8 or 32, k not a multiple of 8.
        Case(false, false, m: 7, n: 8, k: 5, beta: 1, .rowSums),
        Case(true, true, m: 9, n: 41, k: 13, beta: 0.5, .rowSums, activation: .relu),
        Case(false, false, m: 5, n: 90, k: 6, bias: true, .rowSums),                   // last row: 64, 16, 8 + 2 columns
        Case(true, false, m: 6, n: 70, k: 7, beta: 1, .rowSums, activation: .relu),    // last two rows: 32 + 32, 6 columns
        Case(false, true, m: 5, n: 7, k: 37, beta: 1, .dotProducts),           // odd rows; 4 + 3 columns
        Case(false, false, m: 6, n: 2, k: 9, bias: true, .dotProducts, activation: .leakyReLU(alpha: 0.2)),
        Case(false, true, m: 3, n: 5, k: 8, .dotProducts, activation: .relu),              // 4 + 1 columns
        Case(true, true, m: 13, n: 6, k: 20, beta: 1, .columnSums),            // last row block overlaps
        Case(true, false, m: 8, n: 1, k: 11, .columnSums),
        Case(true, false, m: 37, n: 7, k: 19, beta: 0.5, .columnSums, activation: .relu),  // two 16-row blocks, then 8 overlapping
        Case(true, true, m: 48, n: 4, k: 10, .columnSums),                     // 16-row blocks only
        // A layer's input gradient times its ReLU-family derivative: in the row-sum tiles'
        // registers, as a pass after the other loops and after OpenBLAS.
        Case(false, true, m: 300, n: 100, k: 3, .rowSums, derivative: .relu),          // the spiral's hidden gradient
        Case(false, true, m: 10, n: 21, k: 2, .rowSums, derivative: .leakyReLU(alpha: 0.1)),
        Case(false, true, m: 7, n: 19, k: 9, .rowSums, derivative: .relu),             // general tiles, 3 rows left
        Case(false, true, m: 9, n: 5, k: 12, .dotProducts, derivative: .relu),
        Case(false, true, m: 7, n: 6, k: 5, .scalar, derivative: .leakyReLU(alpha: 0.3)),
        Case(false, true, m: 64, n: 64, k: 64, nil, derivative: .relu),
        // Tiny: plain loops.
        Case(false, false, m: 4, n: 1, k: 2, bias: true, .scalar, activation: .sigmoid),   // XOR's output layer
        Case(true, true, m: 3, n: 2, k: 5, beta: 1, .scalar, activation: .relu),
        // Not small, or no loop fits: OpenBLAS.
        Case(false, false, m: 1, n: 100, k: 2, bias: true, nil),               // one row: sgemv
        Case(true, false, m: 3, n: 7, k: 5000, nil),                           // narrow, A transposed, few rows
        Case(false, false, m: 64, n: 64, k: 64, nil),                          // 262,144 multiply-adds
    ]

    /// The builds of the loops this machine can run: baseline always, AVX2 where the CPU has it.
    static let instructionSets: [Bool] = nncore_cpu_has_avx2_kernels_features() != 0 ? [false, true] : [false]

    @Test(arguments: cases, instructionSets) func smallProductMatchesTheDefinition(_ test: Case, avx2: Bool) throws {
        let check = ActivatedProductCheck(test.base, seed: 11)
        var chosen: SmallProduct.Loop?
        let out = check.run { product in
            chosen = product.smallKernel
            if let chosen {
                product.computeSmall(chosen, avx2: avx2)
            } else {
                product.perform()
            }
        }
        #expect(chosen == test.kernel)
        let worst = check.worstRelativeError(out)
        // float32 sums of at most 5,000 products of values below 1.
        #expect(worst < 1e-4, "largest relative error \(worst)")
    }

    /// A weight gradient (op(A) = Aᵀ) whose product also sums op(B)'s rows, the bias gradient.
    struct ColumnSumCase: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, accumulate: Bool
        var testDescription: String { "m\(m) n\(n) k\(k) \(accumulate ? "+=" : "=") column sums" }
    }

    static let columnSumCases: [ColumnSumCase] = [
        ColumnSumCase(m: 2, n: 100, k: 300, accumulate: false),  // the spiral's hidden layer: 2 rows, 64 + 32 + 8 columns
        ColumnSumCase(m: 6, n: 21, k: 50, accumulate: true),     // 4 rows with the sums, then 2; 16 + 8 overlapping
        ColumnSumCase(m: 3, n: 8, k: 9, accumulate: true),
        ColumnSumCase(m: 9, n: 13, k: 3, accumulate: false),     // k ≤ 4: the sums in a pass of their own
    ]

    /// The `rowSums` loop sums op(B)'s rows in its own pass over B when asked: C stays the Double
    /// product's, and the sums equal the Double sums and, bit for bit, `ColumnSum`'s, which
    /// adds the rows one by one in the same order.
    @Test(arguments: columnSumCases, instructionSets) func rowSumsLoopSumsTheColumnsOfB(_ test: ColumnSumCase, avx2: Bool) {
        let c = ParallelProductTests.Case(transA: true, transB: false, m: test.m, n: test.n, k: test.k, beta: 1, bias: false)
        let a = ParallelProductTests.random(c.m * c.k, seed: 21), b = ParallelProductTests.random(c.k * c.n, seed: 22)
        let c0 = ParallelProductTests.random(c.m * c.n, seed: 23), start = ParallelProductTests.random(c.n, seed: 24)
        let expected = ParallelProductTests.reference(c, a: a, b: b, c0: c0, bias: [])
        var sums = test.accumulate ? start : [Float](repeating: .nan, count: c.n)
        var oneByOne = sums
        let out = sums.withUnsafeMutableBufferPointer { sp in
            ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: [], weightGradient: true) { whole in
                var product = whole
                product.columnSumsOfB = sp.baseAddress!
                product.accumulateColumnSums = test.accumulate
                #expect(product.smallKernel == .rowSums)
                product.computeSmallBlock(.rowSums, rows: 0 ..< c.m, cols: 0 ..< c.n, avx2: avx2, sumsColumnsOfB: true)
            }
        }
        b.withUnsafeBufferPointer { bp in
            oneByOne.withUnsafeMutableBufferPointer { op in
                ColumnSum.accumulate(bp.baseAddress!, into: op.baseAddress!, rows: c.k, cols: c.n, accumulate: test.accumulate)
            }
        }
        var worst = 0.0
        for i in expected.indices { worst = max(worst, abs(Double(out[i]) - expected[i]) / (1 + abs(expected[i]))) }
        for j in 0 ..< c.n {
            var sum = test.accumulate ? Double(start[j]) : 0
            for p in 0 ..< c.k { sum += Double(b[p * c.n + j]) }
            worst = max(worst, abs(Double(sums[j]) - sum) / (1 + abs(sum)))
        }
        #expect(worst < 1e-5, "largest relative error \(worst)")
        #expect(sums.map(\.bitPattern) == oneByOne.map(\.bitPattern), "the loop's sums differ from ColumnSum's")
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
