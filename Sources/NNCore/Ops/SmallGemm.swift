// Small matrix products go to nncore's own loops (NNKernels' `SmallProduct`) instead of OpenBLAS,
// whose packing and dispatch cost more than their arithmetic. This file chooses the loop,
// prepares B the way the loop reads it, and picks the loops' instruction set: NNKernelsAVX2 where
// the CPU runs AVX2 and FMA (`nncore_cpu_runs_avx2_kernels`), the baseline x86-64 build otherwise.
//
// Every element of C is computed in a fixed order that depends only on the product's shape and
// the instruction set. The pool splits a small product (`Gemm.perform`, `WorkerPool.plan`) into
// blocks of rows or columns, which give every element the same bits, or, for a weight gradient,
// into blocks of the inner dimension (the batch's rows), whose partial sums are added in block
// order: results depend on the thread count, never on timing. The two instruction sets round
// differently (a fused multiply-add rounds once), so results agree across machines to float
// rounding, not bit for bit.

import CPUFeatures
import NNKernels
import NNKernelsAVX2

extension Gemm {
    /// Products of at least two rows with fewer multiply-adds than this run in nncore's loops
    /// (at 2¹⁷, the spiral net's 300 × 100 × 3 products take OpenBLAS longer to dispatch than to
    /// compute; M's 128 × 256 × 128 do not).
    static let smallProductLimit = 1 << 17
    /// The largest op(B), in floats, that is copied the other way round into the node's scratch.
    static let packLimit = 1 << 14

    /// Whether nncore's loops run in their AVX2 build on this machine (read once): the small
    /// products' loops choose between the builds by it, and panel products run only with it.
    static let kernelsUseAVX2 = nncore_cpu_runs_avx2_kernels() != 0

    /// The loop that computes this product, or nil when it goes to OpenBLAS. Depends on the
    /// shape, the transposes, the bias and the scratch size only.
    var smallKernel: SmallProduct.Loop? {
        guard m >= 2, n >= 1, k >= 1,
              Double(m) * Double(n) * Double(k) < Double(Gemm.smallProductLimit) else { return nil }
        // k·n < smallProductLimit / 2 here, so it cannot overflow.
        let copyable = k &* n <= Gemm.packLimit && hasScratch(k &* n)
        return SmallProduct.loop(m: m, n: n, k: k, transA: transA, transB: transB, hasBias: bias != nil,
                                 bCopyable: copyable)
    }

    /// Computes all of C and its epilogue with `kernel` on the calling thread: with the AVX2
    /// loops when `avx2` (only where the CPU runs them), the baseline ones otherwise.
    func computeSmall(_ kernel: SmallProduct.Loop, avx2: Bool = Gemm.kernelsUseAVX2) {
        oriented(for: kernel).computeSmallBlock(kernel, rows: 0 ..< m, cols: 0 ..< n, avx2: avx2)
    }

    /// This product with B stored the way `kernel` reads it: rowSums reads op(B)'s rows,
    /// dotProducts its columns, contiguously (a copy in scratch when B is stored the other way).
    func oriented(for kernel: SmallProduct.Loop) -> Gemm {
        (kernel == .rowSums && transB) || (kernel == .dotProducts && !transB) ? withTransposedCopyOfB() : self
    }

    /// Computes the block `rows × cols` of C (over all of the inner dimension) and its epilogue
    /// with `kernel`, B already `oriented` for it. Blocks write disjoint parts of C and read B
    /// only, so threads may compute different blocks at once (`WorkerPool.perform`). With
    /// `sumsColumnsOfB` (for a block of all n columns), also `columnSumsOfB`: in the loop's own
    /// pass over B where it can (`SmallProduct.sumsColumnsOfBInLoop`), in a pass of their own
    /// (`ColumnSum`) otherwise.
    func computeSmallBlock(_ kernel: SmallProduct.Loop, rows: Range<Int>, cols: Range<Int>,
                           avx2: Bool = Gemm.kernelsUseAVX2, sumsColumnsOfB: Bool = false) {
        guard !rows.isEmpty, !cols.isEmpty else { return }
        let inRegisters = epilogue.flatMap(ActivationKernel.registerActivation)
        // rowSums applies the derivative in its registers; after the other loops it is a pass.
        var derivativeInRegisters = kernel == .rowSums ? derivative : nil
        if let whole = derivativeInRegisters {
            derivativeInRegisters!.output = whole.output + (rows.lowerBound &* whole.ld &+ cols.lowerBound)
        }
        let (row, column) = (rows.lowerBound, cols.lowerBound)
        var small = SmallProduct(kernel, transA: transA, transB: transB, m: rows.count, n: cols.count, k: k,
                                 a: transA ? a + row : a + row &* lda, lda: lda,
                                 b: transB ? b + column &* ldb : b + column, ldb: ldb,
                                 c: c + (row &* ldc &+ column), ldc: ldc, bias: bias.map { $0 + column }, beta: beta,
                                 activation: inRegisters, derivative: derivativeInRegisters)
        let sumsInLoop = sumsColumnsOfB && small.sumsColumnsOfBInLoop
        if sumsInLoop {
            small.columnSumsOfB = columnSumsOfB
            small.accumulateColumnSums = accumulateColumnSums
        }
        if avx2 {
            AVX2Kernels.compute(small)
        } else {
            small.compute()
        }
        // What the loop did not apply in registers.
        var rest = self
        if inRegisters != nil || epilogue == .identity { rest.epilogue = nil }
        if derivativeInRegisters != nil { rest.derivative = nil }
        rest.finishBlock(rows: rows, cols: cols)
        if sumsColumnsOfB && !sumsInLoop { sumColumnsOfB() }
    }

    /// The same product with B stored the other way round: a copy in scratch (k × n floats), and
    /// `transB` flipped, so op(B) is unchanged.
    private func withTransposedCopyOfB() -> Gemm {
        let copy = scratch!.baseAddress!
        var product = self
        // B is stored (n, k) when transposed, (k, n) otherwise.
        Gemm.transpose(b, rows: transB ? n : k, cols: transB ? k : n, stride: ldb, into: copy)
        product.b = UnsafePointer(copy)
        product.ldb = transB ? n : k
        product.transB.toggle()
        return product
    }

    /// dst (cols, rows) = srcᵀ, for src (rows, cols) with row stride `stride`.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, stride: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0 ..< rows {
            let s = src + i &* stride
            var d = dst + i
            for j in 0 ..< cols {
                d.pointee = s[j]
                d += rows
            }
        }
    }
}
