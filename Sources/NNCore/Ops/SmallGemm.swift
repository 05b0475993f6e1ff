// nncore's own loops for small matrix products.
//
// The spiral net's products (300×2 by 2×100, 300×100 by 100×3 and their backward products) take
// OpenBLAS longer to pack and dispatch than to multiply: with them in `sgemm`, two thirds of a
// training step was OpenBLAS. These loops read the operands where they are, hold a block of C in
// registers across the whole inner dimension, and need no packing except a transposed copy of a
// small op(B) in the scratch the graph node provides. They use SIMD8 (two SSE registers on the
// baseline x86-64 target) along whichever side of the product is contiguous.
//
// Every element of C is computed in a fixed order that depends only on the product's shape, so
// results do not depend on threads (small products are not split, see `Gemm.perform`) or on
// timing.

/// A register-block size known at compile time, which selects a specialisation of the kernels.
struct Block<let count: Int> {}

extension Gemm {
    /// Products of at least two rows with fewer multiply-adds than this run in nncore's loops
    /// (at 2¹⁷, the spiral net's 300 × 100 × 3 products take OpenBLAS longer to dispatch than to
    /// compute; M's 128 × 256 × 128 do not).
    static let smallProductLimit = 1 << 17
    /// The largest op(B), in floats, that the loops copy transposed into the node's scratch.
    static let packLimit = 1 << 14

    /// The loop a small product runs in.
    enum SmallKernel: Equatable {
        /// Each row of C is the sum of the rows of op(B) scaled by that row of op(A), in tiles of
        /// four rows by eight columns (the last one to three rows by 8 to 32) held in registers
        /// across k (n ≥ 8). A transposed B is first copied untransposed into scratch.
        case rowSums
        /// Each element of C is the dot product of a row of op(A) with a column of op(B), eight
        /// inner indices at a time, up to four columns at once (k ≥ 8, A untransposed). An
        /// untransposed B is first copied transposed into scratch.
        case dotProducts
        /// Each column of C is the sum of the rows of A (stored transposed, so op(A)'s columns
        /// are A's rows) scaled by that column of op(B), eight rows at a time, up to four columns
        /// at once (m ≥ 8, no bias): the `rowSums` of Cᵀ = op(B)ᵀ·op(A)ᵀ, stored into C's columns.
        case columnSums
        /// Plain loops, for the tiniest products (n·k ≤ 64) that no other loop takes.
        case scalar
    }

    /// The loop that computes this product, or nil when it goes to OpenBLAS. Depends on the
    /// shape, the transposes, the bias and the scratch size only.
    var smallKernel: SmallKernel? {
        guard m >= 2, n >= 1, k >= 1,
              Double(m) * Double(n) * Double(k) < Double(Gemm.smallProductLimit) else { return nil }
        // k·n < smallProductLimit / 2 here, so it cannot overflow.
        let packable = k &* n <= Gemm.packLimit && hasScratch(k &* n)
        if n >= 8 && (!transB || packable) { return .rowSums }
        if k >= 8 && !transA && (transB || packable) { return .dotProducts }
        if m >= 8 && transA && bias == nil { return .columnSums }
        if n &* k <= 64 { return .scalar }
        return nil
    }

    /// Computes all of C with `kernel` on the calling thread, and applies the epilogue:
    /// `rowSums` to each group of rows as it finishes them, the others to all of C at the end.
    func computeSmall(_ kernel: SmallKernel) {
        switch kernel {
        case .rowSums:
            // Needs op(B)'s rows contiguous: B untransposed.
            (transB ? withTransposedCopyOfB() : self).rowSums(rows: 0 ..< m)
            return
        case .dotProducts:
            // Needs op(B)'s columns contiguous: B stored transposed.
            (transB ? self : withTransposedCopyOfB()).dotProducts(rows: 0 ..< m)
        case .columnSums:
            columnSums(rows: 0 ..< m)
        case .scalar:
            scalarProduct(rows: 0 ..< m)
        }
        finishBlock(rows: 0 ..< m, cols: 0 ..< n)
    }

    /// The same product with B stored the other way round: a transposed copy in scratch (k × n
    /// floats), and `transB` flipped, so op(B) is unchanged.
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

    /// What C[i, j] starts from: the bias, or β·C (0 for β = 0, without reading C).
    @inline(__always) private func start(_ row: UnsafeMutablePointer<Float>, _ j: Int) -> Float {
        if let bias { return bias[j] }
        return beta == 0 ? 0 : beta * row[j]
    }

    /// `start` for C[i, j ..< j + 8].
    @inline(__always) private func start8(_ row: UnsafeMutablePointer<Float>, _ j: Int) -> Float8 {
        if let bias { return load8(bias, j) }
        return beta == 0 ? Float8() : beta * load8(row, j)
    }

    /// Stores `v` to row[block ..< block + 8], skipping the first `skip` lanes (those of a last
    /// block that overlaps the one before it, which are already stored).
    @inline(__always) private static func store(_ v: Float8, _ row: UnsafeMutablePointer<Float>, _ block: Int, skip: Int) {
        if skip == 0 {
            store8(v, row, block)
        } else {
            for lane in skip ..< 8 { row[block &+ lane] = v[lane] }
        }
    }

    /// C[i, j] = start + Σ_p op(A)[i, p]·op(B)[p, j] in increasing p, for op(B) (k, n) stored
    /// untransposed in B. Four rows at a time in 8-column tiles, then the last one to three rows
    /// in tiles of 8 to 32 columns. Needs n ≥ 8: a last tile of fewer than eight columns is computed
    /// as the eight ending at column n, of which only the new ones are stored.
    private func rowSums(rows: Range<Int>) {
        var i = rows.lowerBound
        while i &+ 4 <= rows.upperBound {
            rowSums(rows: i, Block<4>(), Block<1>())
            i &+= 4
        }
        // The last one to three rows together, reading op(B) once.
        switch rows.upperBound &- i {
        case 3: rowSums(rows: i, Block<3>(), Block<1>())
        case 2: rowSums(rows: i, Block<2>(), Block<2>())
        case 1: rowSums(rows: i, Block<1>(), Block<4>())
        default: break
        }
    }

    /// Rows i ..< i + R of C: tiles of V SIMD8 vectors of columns, then single vectors. The
    /// epilogue is applied in registers when it is a select, else to these rows once they are
    /// done, while they are in cache.
    @inline(__always)
    private func rowSums<let R: Int, let V: Int>(rows i: Int, _ rows: Block<R>, _ vectors: Block<V>) {
        var j = 0
        while j &+ 8 &* V <= n {
            rowSumsTile(rows: i, columns: j, skip: 0, rows, vectors)
            j &+= 8 &* V
        }
        while j < n {
            let block = min(j, n &- 8)
            rowSumsTile(rows: i, columns: block, skip: j &- block, rows, Block<1>())
            j &+= 8
        }
        if let epilogue, !ActivationKernel.appliesInRegisters(epilogue) {
            finishBlock(rows: i ..< i &+ R, cols: 0 ..< n)
        }
    }

    /// The R × 8V tile of C at (i, j), held in registers over all of k.
    @inline(__always)
    private func rowSumsTile<let R: Int, let V: Int>(rows i: Int, columns j: Int, skip: Int, _: Block<R>, _: Block<V>) {
        // op(A)[i, p] = A[i·lda + p], or A[p·lda + i] when A is stored transposed.
        let rowStep = transA ? 1 : lda, innerStep = transA ? lda : 1
        var s = InlineArray<R, InlineArray<V, Float8>>(repeating: InlineArray(repeating: Float8()))
        for r in 0 ..< R {
            let cr = c + (i &+ r) &* ldc
            for v in 0 ..< V { s[r][v] = start8(cr, j &+ 8 &* v) }
        }
        var bp = b + j, ap = a + i &* rowStep
        for _ in 0 ..< k {
            var bv = InlineArray<V, Float8>(repeating: Float8())
            for v in 0 ..< V { bv[v] = load8(bp, 8 &* v) }
            for r in 0 ..< R {
                let x = Float8(repeating: ap[r &* rowStep])
                for v in 0 ..< V { s[r][v] += x * bv[v] }
            }
            bp += ldb
            ap += innerStep
        }
        if let epilogue, ActivationKernel.appliesInRegisters(epilogue) {
            for r in 0 ..< R {
                for v in 0 ..< V { s[r][v] = ActivationKernel.inRegisters(epilogue, s[r][v]) }
            }
        }
        for r in 0 ..< R {
            let cr = c + (i &+ r) &* ldc
            for v in 0 ..< V { Gemm.store(s[r][v], cr, j &+ 8 &* v, skip: skip) }
        }
    }

    /// C[i, j] = start + Σ_p A[i·lda + p]·B[j·ldb + p], for A untransposed and B stored
    /// transposed (op(B)'s columns are its rows). The sum runs in eight interleaved partial sums over the first
    /// k − k mod 8 indices, added up in a fixed order, then the last few in increasing p.
    /// Four columns at a time, then the last one to three.
    private func dotProducts(rows: Range<Int>) {
        for i in rows {
            var j = 0
            while j &+ 4 <= n {
                dotTile(row: i, columns: j, Block<4>())
                j &+= 4
            }
            switch n &- j {
            case 3: dotTile(row: i, columns: j, Block<3>())
            case 2: dotTile(row: i, columns: j, Block<2>())
            case 1: dotTile(row: i, columns: j, Block<1>())
            default: break
            }
        }
    }

    /// C[i, j ..< j + W] by dot products.
    @inline(__always)
    private func dotTile<let W: Int>(row i: Int, columns j: Int, _: Block<W>) {
        let ar = a + i &* lda, cr = c + i &* ldc, first = b + j &* ldb
        var s = InlineArray<W, Float8>(repeating: Float8())
        var p = 0
        while p &+ 8 <= k {
            let av = load8(ar, p)
            for w in 0 ..< W { s[w] += av * load8(first + w &* ldb, p) }
            p &+= 8
        }
        var t = InlineArray<W, Float>(repeating: 0)
        for w in 0 ..< W { t[w] = s[w].sum() }
        while p < k {
            let x = ar[p]
            for w in 0 ..< W { t[w] += x * first[w &* ldb &+ p] }
            p &+= 1
        }
        for w in 0 ..< W { cr[j &+ w] = start(cr, j &+ w) + t[w] }
    }

    /// C[i, j] = β·C[i, j] + Σ_p op(B)[p, j]·A[p·lda + i] in increasing p, for A stored transposed
    /// and no bias. Eight rows of C at a time (a last block of fewer rows is computed as the eight
    /// ending at the range's end, of which only the new ones are stored), four columns at once,
    /// then the last one to three. Needs at least eight rows.
    private func columnSums(rows: Range<Int>) {
        var j = 0
        while j &+ 4 <= n {
            columnSums(rows: rows, columns: j, Block<4>())
            j &+= 4
        }
        switch n &- j {
        case 3: columnSums(rows: rows, columns: j, Block<3>())
        case 2: columnSums(rows: rows, columns: j, Block<2>())
        case 1: columnSums(rows: rows, columns: j, Block<1>())
        default: break
        }
    }

    /// Columns j ..< j + W of C in `rows`, eight rows at a time.
    @inline(__always)
    private func columnSums<let W: Int>(rows: Range<Int>, columns j: Int, _: Block<W>) {
        // op(B)[p, j] = B[p·ldb + j], or B[j·ldb + p] when B is stored transposed.
        let bInner = transB ? 1 : ldb, bColumn = transB ? ldb : 1
        var i = rows.lowerBound
        while i < rows.upperBound {
            let block = min(i, rows.upperBound &- 8), skip = i &- block
            var s = InlineArray<W, Float8>(repeating: Float8())
            if beta != 0 {
                for w in 0 ..< W {
                    var v = Float8()
                    var cp = c + (block &* ldc &+ j &+ w)
                    for lane in 0 ..< 8 {
                        v[lane] = cp.pointee
                        cp += ldc
                    }
                    s[w] = beta * v
                }
            }
            var ap = a + block, bp = b + j &* bColumn
            for _ in 0 ..< k {
                let av = load8(ap, 0)
                for w in 0 ..< W { s[w] += Float8(repeating: bp[w &* bColumn]) * av }
                ap += lda
                bp += bInner
            }
            for w in 0 ..< W {
                var cp = c + ((block &+ skip) &* ldc &+ j &+ w)
                for lane in skip ..< 8 {
                    cp.pointee = s[w][lane]
                    cp += ldc
                }
            }
            i &+= 8
        }
    }

    /// C[i, j] = start + Σ_p op(A)[i, p]·op(B)[p, j] in increasing p, element by element.
    private func scalarProduct(rows: Range<Int>) {
        let aRow = transA ? 1 : lda, aInner = transA ? lda : 1
        let bInner = transB ? 1 : ldb, bColumn = transB ? ldb : 1
        for i in rows {
            let cr = c + i &* ldc
            for j in 0 ..< n {
                var s = start(cr, j)
                var ap = a + i &* aRow, bp = b + j &* bColumn
                for _ in 0 ..< k {
                    s += ap.pointee * bp.pointee
                    ap += aInner
                    bp += bInner
                }
                cr[j] = s
            }
        }
    }
}
