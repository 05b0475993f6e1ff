import CBLAS
import NNKernels

/// C = op(A)·op(B) + β·C, row-major (op = transpose or not), described by plain values so
/// that it can be cut into blocks and handed to other threads without allocating. With `bias`,
/// every row of C is first set to the bias row and the product is added on top (β is ignored).
///
/// Products of at least two rows and fewer than `smallProductLimit` multiply-adds run in
/// nncore's own loops (NNKernels' `SmallProduct`, chosen in `SmallGemm.swift`), where OpenBLAS's
/// per-call packing costs more than the arithmetic; larger ones with at least 16 rows (β = 0 or
/// 1) run in nncore's panel loops on AVX2 machines (`PanelGemm.swift`); the others go to OpenBLAS (`sgemm`, `sgemv` for one row, `sger` for an
/// accumulated outer product), on the worker pool when large enough (`WorkerPool.plan`).
struct Gemm {
    var transA = false, transB = false
    /// op(A) is (m, k), op(B) is (k, n), C is (m, n).
    var m: Int, n: Int, k: Int
    /// 0 or 1 in practice; 0 overwrites C without reading it (NaN in C never leaks into the result).
    var beta: Float = 0
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var bias: UnsafePointer<Float>? = nil
    /// Working memory the graph node provides (`scratchCount`): partial sums of a one-row product
    /// cut along its inner dimension ((maxInnerBlocks − 1) × n floats; without them it is cut by
    /// columns), a transposed copy of op(B) for the small-product loops (k × n floats), or op(B)
    /// packed for the panel loops, shared by a panel product's bands of rows (`panelPackCount`).
    var scratch: UnsafeMutableBufferPointer<Float>? = nil
    /// Whether `scratch` holds op(B) packed (`packPanels`), which the panel loops then read.
    var panelsPacked = false
    /// An activation applied to each finished block of C, in place, while it is in cache.
    var epilogue: Activation? = nil
    /// An activation's derivative that each finished block of C is multiplied by (β = 0 and no
    /// bias only): C = (op(A)·op(B)) ⊙ f′, the gradient of a ReLU-family layer's input
    /// (see `Graph.planActivationFusion`).
    var derivative: SmallProduct.Derivative? = nil
    /// Set on a small product handed to the pool (`perform`): the loop its blocks run, B already
    /// stored the way that loop reads it.
    var smallLoop: SmallProduct.Loop? = nil
    /// Also the column sums of op(B) over the inner dimension (a bias gradient, B being dY): added
    /// to these n floats, or written over them when `accumulateColumnSums` is false. Only on
    /// products with B untransposed (k × n, ldb = n), as a weight gradient's product is, whose
    /// small loops read B as stored.
    var columnSumsOfB: UnsafeMutablePointer<Float>? = nil
    var accumulateColumnSums = true

    /// The most inner blocks a one-row product is cut into (the scratch a node provides).
    static let maxInnerBlocks = 8
    /// One-row products with more columns than this are cut by columns, not along k.
    static let innerCutMaxColumns = 4096
    /// Scratch floats a graph node provides for its products with `k` inputs and `n` outputs (a
    /// backward product with k and n swapped needs the same) on batches of up to `rows` rows:
    /// room for a one-row product's inner blocks (none for very wide outputs, which are cut by
    /// columns), for a transposed copy of a small weight matrix, and for op(B) packed once for
    /// the bands of a large panel product (`panelScratchCount`; the input and weight gradients'
    /// products only when they are computed).
    static func scratchCount(inner k: Int, columns n: Int, rows: Int, inputGradient: Bool, weightGradient: Bool) -> Int {
        let innerBlocks = n <= innerCutMaxColumns ? (maxInnerBlocks - 1) * n : 0
        let (weights, overflow) = k.multipliedReportingOverflow(by: n)
        let panels = panelScratchCount(rows: rows, inner: k, columns: n, inputGradient: inputGradient,
                                       weightGradient: weightGradient)
        // A small weight gradient cut into blocks of the batch's rows: up to three blocks' parts
        // of the k × n gradient and the n bias sums (4 threads; more threads cut it otherwise).
        let smallGradientParts = weightGradient && !overflow && rows >= 2 * WorkerPool.chunkAlignment
            && Double(rows) * Double(weights) < Double(smallProductLimit) ? 3 * (weights + n) : 0
        return max(innerBlocks, !overflow && weights <= packLimit ? weights : 0, panels, smallGradientParts)
    }

    /// Whether `scratch` holds at least `count` floats.
    func hasScratch(_ count: Int) -> Bool { (scratch?.count ?? 0) >= count }

    /// Computes the block `rows × cols` of C over the inner indices `inner` on the calling
    /// thread with OpenBLAS: one-row blocks through `sgemv`, rank-1 products (k = 1,
    /// accumulating) through `sger`, the others through `sgemm`.
    func compute(rows: Range<Int>, cols: Range<Int>, inner: Range<Int>) {
        let mm = rows.count, nn = cols.count, kk = inner.count
        guard mm > 0, nn > 0 else { return }
        if nncore_openblas_warm_flag().pointee == 0 { Gemm.warmUpOpenBLAS() }
        let aBlock = transA ? a + (inner.lowerBound &* lda &+ rows.lowerBound) : a + (rows.lowerBound &* lda &+ inner.lowerBound)
        let bBlock = transB ? b + (cols.lowerBound &* ldb &+ inner.lowerBound) : b + (inner.lowerBound &* ldb &+ cols.lowerBound)
        let cBlock = c + (rows.lowerBound &* ldc &+ cols.lowerBound)
        var beta = self.beta
        if let bias {
            broadcastRow(bias + cols.lowerBound, into: cBlock, rows: mm, cols: nn, stride: ldc)
            beta = 1
        }
        if mm == 1 {
            // One row of C: a matrix-vector product over op(B). β = 0 is applied as zeros and
            // β = 1, so that whatever C held (even NaN) never leaks into the result.
            if beta == 0 {
                cBlock.update(repeating: 0, count: nn)
                beta = 1
            }
            let incA = Int32(transA ? lda : 1)
            if transB {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(nn), Int32(kk), 1, bBlock, Int32(ldb),
                            aBlock, incA, beta, cBlock, 1)
            } else {
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(kk), Int32(nn), 1, bBlock, Int32(ldb),
                            aBlock, incA, beta, cBlock, 1)
            }
        } else if kk == 1 && beta == 1 {
            // An outer product added to C.
            cblas_sger(CblasRowMajor, Int32(mm), Int32(nn), 1, aBlock, Int32(transA ? 1 : lda),
                       bBlock, Int32(transB ? ldb : 1), cBlock, Int32(ldc))
        } else {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(mm), Int32(nn), Int32(kk), 1, aBlock, Int32(lda), bBlock, Int32(ldb),
                        beta, cBlock, Int32(ldc))
        }
    }

    /// Computes the block `rows × cols` of C over all of k, then applies the epilogue to it: in
    /// the panel loops when the product `usesPanels`, with OpenBLAS otherwise.
    func computeBlock(rows: Range<Int>, cols: Range<Int>) {
        if let smallLoop {
            computeSmallBlock(smallLoop, rows: rows, cols: cols)
            return
        }
        if usesPanels, computePanels(rows: rows, cols: cols) { return }
        compute(rows: rows, cols: cols, inner: 0 ..< k)
        finishBlock(rows: rows, cols: cols)
    }

    /// Applies `epilogue` and `derivative` (if any) to the finished block `rows × cols` of C.
    func finishBlock(rows: Range<Int>, cols: Range<Int>) {
        guard !cols.isEmpty else { return }
        if let epilogue {
            var row = c + (rows.lowerBound &* ldc &+ cols.lowerBound)
            for _ in rows {
                ActivationKernel.forward(epilogue, x: row, y: row, count: cols.count)
                row += ldc
            }
        }
        if let derivative { SmallProduct.applyDerivative(derivative, to: c, ldc: ldc, rows: rows, cols: cols) }
    }

    /// Floats of scratch one inner block beyond the first needs (`WorkerPool.Job.Cut.inner`): its
    /// part of C, then its part of the column sums of B.
    var innerPartCount: Int { m &* n &+ (columnSumsOfB == nil ? 0 : n) }

    /// op(A)[:, inner]·op(B)[inner, :]: added to C (β as given) when `out` is nil, else written
    /// to `out` (m × n, row stride n, then the n column sums of B's rows `inner`). The bias,
    /// epilogue and derivative are left to `finishBlock`. For one-row products with B
    /// untransposed, and small products (`smallLoop`).
    func computeInner(_ inner: Range<Int>, into out: UnsafeMutablePointer<Float>?) {
        var part = self
        if let out {
            part.c = out
            part.ldc = n
            part.beta = 0
            part.bias = nil
            part.columnSumsOfB = columnSumsOfB == nil ? nil : out + m &* n
            part.accumulateColumnSums = false
        }
        part.epilogue = nil
        part.derivative = nil
        guard let smallLoop else {
            part.compute(rows: 0 ..< m, cols: 0 ..< n, inner: inner)
            part.sumColumnsOfB(inner: inner)
            return
        }
        part.k = inner.count
        part.a = transA ? a + inner.lowerBound &* lda : a + inner.lowerBound
        part.b = transB ? b + inner.lowerBound : b + inner.lowerBound &* ldb
        part.computeSmallBlock(smallLoop, rows: 0 ..< m, cols: 0 ..< n, sumsColumnsOfB: true)
    }

    /// Computes all of C and its epilogue on the calling thread, and `columnSumsOfB`: a small
    /// product's `rowSums` loop sums B's columns in its own pass over B.
    func computeWhole() {
        if let smallLoop {
            computeSmallBlock(smallLoop, rows: 0 ..< m, cols: 0 ..< n, sumsColumnsOfB: true)
            return
        }
        computeBlock(rows: 0 ..< m, cols: 0 ..< n)
        sumColumnsOfB()
    }

    /// Sums the rows `inner` of B into `columnSumsOfB` (as `accumulateColumnSums` says); nothing
    /// when there is no `columnSumsOfB`.
    func sumColumnsOfB(inner: Range<Int>? = nil) {
        guard let sums = columnSumsOfB else { return }
        let rows = inner ?? 0 ..< k
        ColumnSum.accumulate(b + rows.lowerBound &* ldb, into: sums, rows: rows.count, cols: n,
                             accumulate: accumulateColumnSums)
    }

    /// One product of 1024 × 8 by 8 × 512 (a 2 MB result) on the calling thread, the first time
    /// the thread calls OpenBLAS. On a 2-core Zen VM with OpenBLAS 0.3.21 (its Zen kernels), a
    /// thread's single-threaded `sgemm` ran net M's 128 × 784 by 784 × 256 product at 9–11
    /// GFLOP/s until that thread had made one product with a result of about 2 MB or more, and
    /// at 30–35 GFLOP/s from then on (measured in C, outside nncore; 128 × 1024 results also
    /// trigger it, 1024 × 256 do not). The cause inside OpenBLAS is not known — its per-thread
    /// buffers are a guess — and OPENBLAS_L2_SIZE does not change it. One allocation of 2.1 MB
    /// and about a millisecond per thread, once.
    static func warmUpOpenBLAS() {
        nncore_openblas_warm_flag().pointee = 1
        let m = 1024, n = 512, k = 8, count = m * k + k * n + m * n
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: count)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, buffer, Int32(k),
                    buffer + m * k, Int32(n), 0, buffer + m * k + k * n, Int32(n))
    }

    /// Computes all of C and its epilogue: a small product in nncore's loops, a larger one with
    /// OpenBLAS, each on the worker pool when it is large enough (`WorkerPool.plan`).
    ///
    /// A small product's B is oriented for its loop once, on the calling thread, before its
    /// blocks are handed out. The pool cuts the products of a training step by the batch's rows
    /// (weight gradients included, `WorkerPool.plan`), so that each thread reads the rows it
    /// wrote. On a 2-core Zen 1 VM, where a cache line took about 0.35 µs to reach the other
    /// core, splitting the spiral net's products (60k–90k multiply-adds) with the weight
    /// gradients cut by columns made its step slower, so they ran whole; on a 2-core Zen 4 VM
    /// (about 40 ns), split this way, the step ran at 40–43k steps/s against 35–38k whole.
    func perform() {
        WorkerPool.shared.perform(pooled)
    }

    /// This product as `perform` hands it to the pool: a small one with its loop chosen and B
    /// stored the way the loop reads it.
    var pooled: Gemm {
        guard let kernel = smallKernel else { return self }
        var product = oriented(for: kernel)
        product.smallLoop = kernel
        return product
    }
}
