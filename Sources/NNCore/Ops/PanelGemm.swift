// Products of 16 rows or more — a dense layer's forward product, its input gradient and its
// weight gradient — go to nncore's panel loops (NNKernels' `PanelProduct`, compiled for AVX2 and
// FMA) instead of OpenBLAS on machines that run the AVX2 build: they reach a higher rate than
// OpenBLAS's kernels on a Zen core, and apply the bias, a ReLU-family activation or its
// derivative in registers instead of in passes of their own over C. On other machines these
// products stay with OpenBLAS: compiled for baseline x86-64, the loops' register tile does not
// fit.
//
// The pool cuts such a product into blocks of columns and bands of rows (`WorkerPool.plan`). With
// one band, each thread packs op(B)'s columns of its block into a buffer of its own
// (`PanelBuffer`); with several, the threads first pack all of op(B) into the graph node's scratch,
// block of columns by block, and every band reads those panels (`WorkerPool.perform`), instead of
// each band packing its columns again. Every element of C is summed in the same order whichever
// block computes it, so results do not depend on the number of threads.

import CPUFeatures
import NNKernels
import NNKernelsAVX2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Gemm {
    /// Products with fewer rows than this stay with OpenBLAS (or the small-product loops): the
    /// panels are packed for every product, which costs about as much as a row of C per panel.
    static let panelMinimumRows = 16

    /// Whether this product runs in the panel loops: an AVX2 machine, at least
    /// `panelMinimumRows` rows, and C overwritten (β = 0, or a bias) or accumulated (β = 1).
    var usesPanels: Bool {
        Gemm.kernelsUseAVX2 && m >= Gemm.panelMinimumRows && n >= 1 && k >= 1
            && (beta == 0 || beta == 1 || bias != nil)
    }

    /// Computes the block `rows × cols` of C with the panel loops, activation and derivative
    /// included; false (and nothing written) when this thread has no packing buffer (its
    /// allocation failed), so that the caller computes the block with OpenBLAS instead.
    func computePanels(rows: Range<Int>, cols: Range<Int>) -> Bool {
        guard let pack = PanelBuffer.forCurrentThread() else { return false }
        let inRegisters = epilogue.flatMap(ActivationKernel.registerActivation)
        var block = panelProduct(rows: rows, activation: inRegisters)
        if panelsPacked { block.packed = UnsafePointer(scratch!.baseAddress!) }
        AVX2Kernels.compute(block, columns: cols, pack: pack)
        // An activation that is not applied in registers is a pass over the block.
        var rest = self
        if inRegisters != nil || epilogue == .identity { rest.epilogue = nil }
        rest.derivative = nil
        rest.finishBlock(rows: rows, cols: cols)
        return true
    }

    /// Computes row 0 of C over the panels `panels` (16 columns each) from op(B) packed whole
    /// in `scratch` (`packPanels`), activation and derivative included: the same bits as
    /// `computePanels` gives that row. A one-row product (m = 1) only; call only on AVX2 machines
    /// (`Gemm.kernelsUseAVX2`).
    func computeRow(panels: Range<Int>) {
        let inRegisters = epilogue.flatMap(ActivationKernel.registerActivation)
        AVX2Kernels.computeRow(panelProduct(rows: 0 ..< 1, activation: inRegisters), panels: panels,
                               packed: UnsafePointer(scratch!.baseAddress!))
        var rest = self
        if inRegisters != nil || epilogue == .identity { rest.epilogue = nil }
        rest.derivative = nil
        rest.finishBlock(rows: 0 ..< 1, cols: panels.lowerBound &* 16 ..< min(panels.upperBound &* 16, n))
    }

    /// Panels of 16 columns that op(B) is packed into.
    var panelCount: Int { (n &+ 15) >> 4 }

    /// Floats of scratch that op(B) packed whole takes (`packPanels`).
    var panelPackCount: Int { panelProduct(rows: 0 ..< m, activation: nil).packedFloats }

    /// Packs op(B)'s columns `cols` (starting at a multiple of 16) into `scratch`, where
    /// `computePanels` reads them once `panelsPacked` is set. `scratch` must hold
    /// `panelPackCount` floats.
    func packPanels(cols: Range<Int>) {
        panelProduct(rows: 0 ..< m, activation: nil).packAllPanels(columns: cols, into: scratch!.baseAddress!)
    }

    /// The rows `rows` of this product as a `PanelProduct`.
    private func panelProduct(rows: Range<Int>, activation: SmallProduct.RegisterActivation?) -> PanelProduct {
        let first = rows.lowerBound
        var derivativeOfBlock = derivative
        derivativeOfBlock?.output += first &* (derivative?.ld ?? 0)
        return PanelProduct(transA: transA, transB: transB, m: rows.count, n: n, k: k,
                            a: a + (transA ? first : first &* lda), lda: lda, b: b, ldb: ldb,
                            c: c + first &* ldc, ldc: ldc, bias: bias, accumulate: beta == 1,
                            activation: activation, derivative: derivativeOfBlock)
    }

    /// The most floats of packed weights a one-row inference graph keeps per layer (64 MiB): a
    /// model with a larger layer predicts single rows layer by layer with OpenBLAS instead, so
    /// that one-row predictions never double the memory of a very large model.
    static let oneRowPackLimit = 1 << 24

    /// Scratch floats for op(B) packed whole: for a one-row product without gradients (a one-row
    /// inference graph's, which `SingleRowPass` reads packed; up to `oneRowPackLimit`), and for
    /// panel products that `WorkerPool.plan` cuts into several bands of rows
    /// (`WorkerPool.sharesPanels`), where the bands share one packing of op(B). Counted for a graph node's forward product (`rows` ×
    /// `inner` by `inner` × `columns`), its input gradient (`rows` × `columns` by `columns` ×
    /// `inner`, when `inputGradient`) and its weight gradient (`inner` × `rows` by `rows` ×
    /// `columns`, when `weightGradient`); 0 on machines without the panel loops or when the
    /// count overflows.
    static func panelScratchCount(rows: Int, inner: Int, columns: Int, inputGradient: Bool, weightGradient: Bool) -> Int {
        guard kernelsUseAVX2 else { return 0 }
        func padded(_ k: Int, _ n: Int) -> Int {
            let (count, overflow) = k.multipliedReportingOverflow(by: (n &+ 15) & ~15)
            return overflow || n > Int.max - 15 ? 0 : count
        }
        var count = 0
        if rows == 1 && !inputGradient && !weightGradient && padded(inner, columns) <= oneRowPackLimit {
            count = padded(inner, columns)
        }
        if WorkerPool.sharesPanels(rows: rows) {
            count = padded(inner, columns)
            if inputGradient { count = max(count, padded(columns, inner)) }
        }
        if weightGradient && WorkerPool.sharesPanels(rows: inner) { count = max(count, padded(rows, columns)) }
        return count
    }
}

/// Each thread's packing memory for the panel loops: `PanelProduct.packFloats` floats (262 KiB),
/// allocated the first time the thread computes a panel product and freed when the thread ends.
/// The pool's workers and a caller that predicts in a loop therefore allocate it once.
enum PanelBuffer {
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, { free($0) }) == 0 ? key : nil
    }()

    /// The calling thread's buffer, or nil when it cannot be allocated.
    static func forCurrentThread() -> UnsafeMutablePointer<Float>? {
        guard let key else { return nil }
        if let buffer = pthread_getspecific(key) { return buffer.assumingMemoryBound(to: Float.self) }
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, PanelProduct.packFloats * MemoryLayout<Float>.size) == 0, let raw else { return nil }
        guard pthread_setspecific(key, raw) == 0 else {
            free(raw)
            return nil
        }
        return raw.bindMemory(to: Float.self, capacity: PanelProduct.packFloats)
    }
}
