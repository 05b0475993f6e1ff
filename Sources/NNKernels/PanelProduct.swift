// nncore's own loops for the larger matrix products of a dense layer: C = op(A)·op(B) + bias
// (forward, a ReLU-family activation applied in registers), op(A)·op(B) ⊙ f′ (a layer's input
// gradient) and op(A)·op(B) + C (accumulated weight gradients).
//
// OpenBLAS packs both operands of every `sgemm` call and applies neither the bias nor the
// activation: they are passes of their own over C. These loops read op(A) where it is (a
// transposed A's tile rows are copied first), copy op(B) into panels of 16 columns (`pack`), and
// hold a tile of 6 rows × 16 columns of C in twelve 8-float registers across a block of the inner
// dimension. On a Zen 1 core, compiled for AVX2 and FMA (NNKernelsAVX2), they ran net M's and L's
// products at 1.00–1.07× the rate of OpenBLAS 0.3.21's Zen kernels, packing included (M's
// 1,020 × 784 by 784 × 256 inference product: 34–36 GFLOP/s against 30–32). Compiled for baseline
// x86-64, the twelve accumulators do not fit in SSE's sixteen registers, so the engine uses these
// loops only in the AVX2 build (`Gemm.usesPanels`).
//
// Every element of C is its start (the bias, 0 or C) plus its products summed in the order of the
// inner index, so a block of columns or rows gives the same bits as the whole product: results do
// not depend on how the product is split over threads.

/// C[:, columns] = op(A)·op(B)[:, columns] + start, then the activation or the derivative, for
/// op(A) (m × k) and op(B) (k × n), row-major (op = transpose or not). The start is the bias, or C
/// itself (β = 1), or 0 (β = 0: whatever C held is never read). The caller owns all the memory
/// and keeps it alive during `compute`.
@frozen
public struct PanelProduct {
    /// Rows of C in one register tile (of 16 columns: one panel of op(B)).
    public static let tileRows = 6
    /// Inner indices packed and summed per pass over C (a panel is 16 KB, held in L1).
    public static let innerBlock = 256
    /// Columns of op(B) packed at once (16 panels, 256 KiB).
    public static let columnBlock = 256
    /// The floats of packing memory `compute` needs: op(B)'s panels, then a transposed A's rows
    /// for one tile (6 × 256).
    public static let packFloats = innerBlock * columnBlock + tileRows * innerBlock

    /// A is stored (k, m) when transposed, (m, k) otherwise; B (n, k) when transposed, (k, n).
    public var transA: Bool, transB: Bool
    /// C is (m, n), op(A) (m, k), op(B) (k, n).
    public var m: Int, n: Int, k: Int
    public var a: UnsafePointer<Float>, lda: Int
    public var b: UnsafePointer<Float>, ldb: Int
    public var c: UnsafeMutablePointer<Float>, ldc: Int
    /// n values every row of C starts from, or nil (then `accumulate` decides).
    public var bias: UnsafePointer<Float>?
    /// Without a bias: whether C starts from its own values (β = 1) or from 0 (β = 0).
    public var accumulate: Bool
    /// Applied to C in registers before it is stored, or nil for none.
    public var activation: SmallProduct.RegisterActivation?
    /// A derivative C is multiplied by in registers before it is stored, or nil for none.
    public var derivative: SmallProduct.Derivative?
    /// op(B) packed already by `packAllPanels` (every column `compute` is given, all k inner
    /// indices), or nil: `compute` then packs each block of op(B) itself.
    public var packed: UnsafePointer<Float>? = nil

    @inlinable
    public init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                bias: UnsafePointer<Float>?, accumulate: Bool, activation: SmallProduct.RegisterActivation?,
                derivative: SmallProduct.Derivative?) {
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k
        self.a = a; self.lda = lda
        self.b = b; self.ldb = ldb
        self.c = c; self.ldc = ldc
        self.bias = bias
        self.accumulate = accumulate
        self.activation = activation
        self.derivative = derivative
    }

    /// Computes the columns `columns` of C (a range within 0 ..< n; its start a multiple of 16 for
    /// the panels to line up with other blocks' — any start gives the same values), using `pack`
    /// (`packFloats` floats, owned by the caller and used by one thread at a time) for op(B)'s
    /// panels and a transposed A's tile rows. With `packed` set (and `columns` starting at a
    /// multiple of 16), the panels are read from there instead of packed.
    @inlinable @inline(__always)
    public func compute<F: MultiplyAdd>(_: F.Type, columns: Range<Int>, pack: UnsafeMutablePointer<Float>) {
        guard m > 0, k > 0 else { return }
        let shared = columns.lowerBound & 15 == 0 ? packed : nil, paddedColumns = (n &+ 15) & ~15
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
            let width = min(PanelProduct.columnBlock, columns.upperBound &- j0)
            let panels = (width &+ 15) >> 4
            var p0 = 0
            while p0 < k {
                let depth = min(PanelProduct.innerBlock, k &- p0)
                if shared == nil { packPanels(inner: p0, depth: depth, column: j0, width: width, into: pack) }
                let first = p0 == 0, last = p0 &+ depth == k
                var i = 0
                while i < m {
                    let rows = min(PanelProduct.tileRows, m &- i)
                    // The tile's rows of op(A): read where they are, or, when A is transposed, copied
                    // next to each other first. In place, they are six values of A's row p for each
                    // inner index p, lda apart; with lda a multiple of 1,024 floats every one of
                    // them falls in the same L1 set, and L's weight gradients ran at two thirds of
                    // OpenBLAS's rate until the copy.
                    let tileA: UnsafePointer<Float>, rowStride: Int, innerStride: Int
                    if transA {
                        let sliver = pack + PanelProduct.innerBlock &* PanelProduct.columnBlock
                        packTransposedRows(row: i, rows: rows, inner: p0, depth: depth, into: sliver)
                        (tileA, rowStride, innerStride) = (UnsafePointer(sliver), 1, PanelProduct.tileRows)
                    } else {
                        (tileA, rowStride, innerStride) = (a + (i &* lda &+ p0), lda, 1)
                    }
                    for panel in 0 ..< panels {
                        let j = j0 &+ panel &* 16
                        let panelStart = shared.map { $0 + (p0 &* paddedColumns &+ (j >> 4) &* depth &* 16) }
                            ?? UnsafePointer(pack + panel &* depth &* 16)
                        tile(F.self, a: tileA, rowStride: rowStride, innerStride: innerStride, row: i, rows: rows,
                             column: j, width: min(16, j0 &+ width &- j), depth: depth,
                             panel: panelStart, first: first, last: last)
                    }
                    i &+= PanelProduct.tileRows
                }
                p0 &+= depth
            }
            j0 &+= width
        }
    }

    /// Floats `packAllPanels` writes for the whole of op(B): k × n rounded up to 16 columns.
    @inlinable
    public var packedFloats: Int { k &* ((n &+ 15) & ~15) }

    /// Copies op(B)'s columns `columns` (starting at a multiple of 16), all k inner indices, into
    /// `packed` (`packedFloats` floats for the whole of op(B)) for `packed`-reading `compute`
    /// calls, in the order `compute` reads them: block of `innerBlock` inner indices by block,
    /// and within one, the panels of 16 columns (zeros past n) one after the other, each inner
    /// index by inner index — as `compute` packs a block itself, so that the panels a tile
    /// sweeps are contiguous. (Panels k × 16 long, one after the other, put a block's panels
    /// 16·k floats apart, in the same cache sets for k a multiple of 1,024: L trained 13 %
    /// slower.) Separate column ranges write separate parts, so threads may pack their own.
    @inlinable
    public func packAllPanels(columns: Range<Int>, into packed: UnsafeMutablePointer<Float>) {
        guard !columns.isEmpty else { return }
        let paddedColumns = (n &+ 15) & ~15
        var p0 = 0
        while p0 < k {
            let depth = min(PanelProduct.innerBlock, k &- p0)
            packPanels(inner: p0, depth: depth, column: columns.lowerBound, width: columns.count,
                       into: packed + (p0 &* paddedColumns &+ (columns.lowerBound >> 4) &* depth &* 16))
            p0 &+= depth
        }
    }

    /// Copies op(B)[inner ..< inner + depth, column ..< column + width] into panels of 16 columns,
    /// each depth × 16 contiguous floats, the last one padded with zeros.
    @inlinable @inline(__always)
    func packPanels(inner: Int, depth: Int, column: Int, width: Int, into pack: UnsafeMutablePointer<Float>) {
        var dst = pack
        var j = column
        while j < column &+ width {
            let w = min(16, column &+ width &- j)
            if transB {
                // op(B)'s column j + t is B's row j + t: read rows, write the panel's columns.
                for t in 0 ..< 16 {
                    if t < w {
                        let src = b + ((j &+ t) &* ldb &+ inner)
                        for p in 0 ..< depth { dst[p &* 16 &+ t] = src[p] }
                    } else {
                        for p in 0 ..< depth { dst[p &* 16 &+ t] = 0 }
                    }
                }
                dst += depth &* 16
                j &+= 16
                continue
            }
            var src = b + (inner &* ldb &+ j)
            if w == 16 {
                for _ in 0 ..< depth {
                    store8(load8(src, 0), dst, 0)
                    store8(load8(src, 8), dst, 8)
                    src += ldb
                    dst += 16
                }
            } else {
                for _ in 0 ..< depth {
                    for t in 0 ..< 16 { dst[t] = t < w ? src[t] : 0 }
                    src += ldb
                    dst += 16
                }
            }
            j &+= 16
        }
    }

    /// Copies op(A)[row ..< row + rows, inner ..< inner + depth] of a transposed A into `sliver`,
    /// the six values of each inner index next to each other (rows past `rows` repeat the last).
    @inlinable @inline(__always)
    func packTransposedRows(row: Int, rows: Int, inner: Int, depth: Int, into sliver: UnsafeMutablePointer<Float>) {
        var src = a + (inner &* lda &+ row)
        var dst = sliver
        if rows == PanelProduct.tileRows {
            // A whole tile: each inner index's six values are contiguous in A, copied as 4 + 2
            // (one value at a time, this copy was about a third of the packing time of net M's
            // weight gradients).
            for _ in 0 ..< depth {
                let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
                to.storeBytes(of: from.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: 16,
                              as: SIMD2<Float>.self)
                src += lda
                dst += PanelProduct.tileRows
            }
            return
        }
        let last1 = rows &- 1
        for _ in 0 ..< depth {
            for r in 0 ..< PanelProduct.tileRows { dst[r] = src[min(r, last1)] }
            src += lda
            dst += PanelProduct.tileRows
        }
    }

    /// Up to 16 floats from p (the rest zero).
    @inlinable @inline(__always)
    static func load16(_ p: UnsafePointer<Float>, width: Int) -> (Float8, Float8) {
        if width == 16 { return (load8(p, 0), load8(p, 8)) }
        var v0 = Float8(), v1 = Float8()
        for t in 0 ..< min(width, 8) { v0[t] = p[t] }
        if width > 8 { for t in 8 ..< width { v1[t &- 8] = p[t] } }
        return (v0, v1)
    }

    /// Stores the first `width` of the 16 floats (v0, v1) at p.
    @inlinable @inline(__always)
    static func store16(_ v0: Float8, _ v1: Float8, _ p: UnsafeMutablePointer<Float>, width: Int) {
        if width == 16 {
            store8(v0, p, 0)
            store8(v1, p, 8)
            return
        }
        for t in 0 ..< min(width, 8) { p[t] = v0[t] }
        if width > 8 { for t in 8 ..< width { p[t] = v1[t &- 8] } }
    }

    /// One register tile: C[row ..< row + rows, column ..< column + width] over `depth` inner
    /// indices, starting from the start (`first`) or from C, activated or multiplied by the
    /// derivative when `last`. op(A)'s element (row + r, p) is `a[r·rowStride + p·innerStride]`;
    /// rows past `rows` read the last valid row (so every read stays in A) and are not stored.
    @inlinable @inline(__always)
    func tile<F: MultiplyAdd>(_: F.Type, a: UnsafePointer<Float>, rowStride: Int, innerStride: Int, row: Int, rows: Int,
                              column: Int, width: Int, depth: Int, panel: UnsafePointer<Float>,
                              first: Bool, last: Bool) {
        let last1 = rows &- 1
        let o1 = min(1, last1) &* rowStride, o2 = min(2, last1) &* rowStride, o3 = min(3, last1) &* rowStride
        let o4 = min(4, last1) &* rowStride, o5 = min(5, last1) &* rowStride
        let cRow = c + (row &* ldc &+ column)
        var c00: Float8, c01: Float8, c10: Float8, c11: Float8, c20: Float8, c21: Float8
        var c30: Float8, c31: Float8, c40: Float8, c41: Float8, c50: Float8, c51: Float8
        if first && (bias != nil || !accumulate) {
            let (s0, s1) = bias.map { PanelProduct.load16($0 + column, width: width) } ?? (Float8(), Float8())
            (c00, c01, c10, c11, c20, c21) = (s0, s1, s0, s1, s0, s1)
            (c30, c31, c40, c41, c50, c51) = (s0, s1, s0, s1, s0, s1)
        } else {
            // Rows past `rows` start from row 0's values; they are never stored.
            (c00, c01) = PanelProduct.load16(cRow, width: width)
            (c10, c11) = rows > 1 ? PanelProduct.load16(cRow + ldc, width: width) : (c00, c01)
            (c20, c21) = rows > 2 ? PanelProduct.load16(cRow + 2 &* ldc, width: width) : (c00, c01)
            (c30, c31) = rows > 3 ? PanelProduct.load16(cRow + 3 &* ldc, width: width) : (c00, c01)
            (c40, c41) = rows > 4 ? PanelProduct.load16(cRow + 4 &* ldc, width: width) : (c00, c01)
            (c50, c51) = rows > 5 ? PanelProduct.load16(cRow + 5 &* ldc, width: width) : (c00, c01)
        }
        var ap = a
        var bp = panel
        for _ in 0 ..< depth {
            let b0 = load8(bp, 0), b1 = load8(bp, 8)
            var x = Float8(repeating: ap[0])
            c00 = F.multiplyAdd(c00, x, b0); c01 = F.multiplyAdd(c01, x, b1)
            x = Float8(repeating: ap[o1])
            c10 = F.multiplyAdd(c10, x, b0); c11 = F.multiplyAdd(c11, x, b1)
            x = Float8(repeating: ap[o2])
            c20 = F.multiplyAdd(c20, x, b0); c21 = F.multiplyAdd(c21, x, b1)
            x = Float8(repeating: ap[o3])
            c30 = F.multiplyAdd(c30, x, b0); c31 = F.multiplyAdd(c31, x, b1)
            x = Float8(repeating: ap[o4])
            c40 = F.multiplyAdd(c40, x, b0); c41 = F.multiplyAdd(c41, x, b1)
            x = Float8(repeating: ap[o5])
            c50 = F.multiplyAdd(c50, x, b0); c51 = F.multiplyAdd(c51, x, b1)
            ap += innerStride
            bp += 16
        }
        finishRow(F.self, c00, c01, 0, of: row, rows: rows, column: column, width: width, last: last)
        finishRow(F.self, c10, c11, 1, of: row, rows: rows, column: column, width: width, last: last)
        finishRow(F.self, c20, c21, 2, of: row, rows: rows, column: column, width: width, last: last)
        finishRow(F.self, c30, c31, 3, of: row, rows: rows, column: column, width: width, last: last)
        finishRow(F.self, c40, c41, 4, of: row, rows: rows, column: column, width: width, last: last)
        finishRow(F.self, c50, c51, 5, of: row, rows: rows, column: column, width: width, last: last)
    }

    /// Stores row `r` of a tile (v0, v1) into C when it is one of the tile's `rows`: after the
    /// last inner block (`last`), multiplied by the derivative and activated first. Generic over
    /// `F` only so that it is compiled with the tile's instruction set, and transparent so that
    /// it is inlined: as a plain `@inline(__always)` function, the AVX2 tile called NNKernels'
    /// baseline copy (5 % of batch inference), and its AVX2 copy when generic (3 %).
    @_transparent @usableFromInline
    func finishRow<F: MultiplyAdd>(_: F.Type, _ v0: Float8, _ v1: Float8, _ r: Int, of row: Int, rows: Int, column: Int, width: Int, last: Bool) {
        guard r < rows else { return }
        var (v0, v1) = (v0, v1)
        if last, let d = derivative {
            let (y0, y1) = PanelProduct.load16(d.output + ((row &+ r) &* d.ld &+ column), width: width)
            v0 = SmallProduct.derivative(d.activation, output: y0, times: v0)
            v1 = SmallProduct.derivative(d.activation, output: y1, times: v1)
        }
        if last, let f = activation {
            v0 = SmallProduct.activate(f, v0)
            v1 = SmallProduct.activate(f, v1)
        }
        PanelProduct.store16(v0, v1, c + ((row &+ r) &* ldc &+ column), width: width)
    }
}

// MARK: One row

/// How many panels a one-row sweep reads at once: a type, so that each count gets a copy of
/// `PanelProduct.rowPanels` of its own, with no test of the count inside its loop.
public protocol RowPanelCount {
    static var count: Int { get }
}

public enum OneRowPanel: RowPanelCount { @inlinable public static var count: Int { 1 } }
public enum TwoRowPanels: RowPanelCount { @inlinable public static var count: Int { 2 } }
public enum ThreeRowPanels: RowPanelCount { @inlinable public static var count: Int { 3 } }
public enum FourRowPanels: RowPanelCount { @inlinable public static var count: Int { 4 } }
public enum FiveRowPanels: RowPanelCount { @inlinable public static var count: Int { 5 } }
public enum SixRowPanels: RowPanelCount { @inlinable public static var count: Int { 6 } }

extension PanelProduct {
    /// Row 0 of C over the panels `panels` (columns 16·lowerBound ..< min(16·upperBound, n)),
    /// reading op(B) packed whole by `packAllPanels` at `packed`: the start (bias, C or 0), then
    /// op(A)'s row times each column summed in the order of the inner index, then the derivative
    /// and activation — the same bits `compute` gives that row, so a one-row product equals the
    /// corresponding row of a batch.
    ///
    /// A one-row product reads each packed weight once for one multiply-add, so it is bound by
    /// how fast the panels stream in. Three to six panels (48–96 columns, 6–12 accumulators) are
    /// swept at once: each of their inner indices is one broadcast and one load and multiply-add
    /// per 8 columns, and six or more independent sums keep a Zen core's two multiply-add pipes
    /// busy despite their latency. Ranges of three panels or more go in groups of four, with one
    /// group of three, five or six for the rest; a range of one or two panels is one sweep
    /// (two or four sums, each waiting on the multiply-add before).
    @inlinable @inline(__always)
    public func computeRow<F: MultiplyAdd>(_: F.Type, panels: Range<Int>, packed: UnsafePointer<Float>) {
        guard k > 0, !panels.isEmpty else { return }
        let count = panels.count
        var q = panels.lowerBound
        if count < 3 {
            if count == 1 {
                rowPanels(F.self, OneRowPanel.self, first: q, packed: packed)
            } else {
                rowPanels(F.self, TwoRowPanels.self, first: q, packed: packed)
            }
            return
        }
        // count = 4·fours + last, last in 3 ... 6.
        let remainder = count & 3
        let fours = remainder == 3 ? count >> 2 : (count >> 2) &- (remainder == 0 ? 0 : 1)
        for _ in 0 ..< fours {
            rowPanels(F.self, FourRowPanels.self, first: q, packed: packed)
            q &+= 4
        }
        switch panels.upperBound &- q {
        case 3: rowPanels(F.self, ThreeRowPanels.self, first: q, packed: packed)
        case 5: rowPanels(F.self, FiveRowPanels.self, first: q, packed: packed)
        case 6: rowPanels(F.self, SixRowPanels.self, first: q, packed: packed)
        default: break
        }
    }

    /// The start of row 0 in panel `q`: the bias, C or zeros.
    @inlinable @inline(__always)
    func rowStart(panel q: Int) -> (Float8, Float8) {
        let column = q &* 16, width = min(16, n &- column)
        if let bias { return PanelProduct.load16(bias + column, width: width) }
        return accumulate ? PanelProduct.load16(c + column, width: width) : (Float8(), Float8())
    }

    /// Row 0 of C over `C.count` panels from panel `q` on.
    @inlinable
    func rowPanels<F: MultiplyAdd, C: RowPanelCount>(_: F.Type, _: C.Type, first q: Int, packed: UnsafePointer<Float>) {
        let panels = C.count
        var (c00, c01) = rowStart(panel: q)
        var (c10, c11) = panels > 1 ? rowStart(panel: q &+ 1) : (Float8(), Float8())
        var (c20, c21) = panels > 2 ? rowStart(panel: q &+ 2) : (Float8(), Float8())
        var (c30, c31) = panels > 3 ? rowStart(panel: q &+ 3) : (Float8(), Float8())
        var (c40, c41) = panels > 4 ? rowStart(panel: q &+ 4) : (Float8(), Float8())
        var (c50, c51) = panels > 5 ? rowStart(panel: q &+ 5) : (Float8(), Float8())
        let innerStride = transA ? lda : 1, paddedColumns = (n &+ 15) & ~15
        var p0 = 0
        while p0 < k {
            let depth = min(PanelProduct.innerBlock, k &- p0)
            let panelLength = depth &* 16
            var b0 = packed + (p0 &* paddedColumns &+ q &* panelLength)
            var ap = a + p0 &* innerStride
            for _ in 0 ..< depth {
                let x = Float8(repeating: ap[0])
                c00 = F.multiplyAdd(c00, x, load8(b0, 0)); c01 = F.multiplyAdd(c01, x, load8(b0, 8))
                if panels > 1 {
                    let b1 = b0 + panelLength
                    c10 = F.multiplyAdd(c10, x, load8(b1, 0)); c11 = F.multiplyAdd(c11, x, load8(b1, 8))
                }
                if panels > 2 {
                    let b2 = b0 + 2 &* panelLength
                    c20 = F.multiplyAdd(c20, x, load8(b2, 0)); c21 = F.multiplyAdd(c21, x, load8(b2, 8))
                }
                if panels > 3 {
                    let b3 = b0 + 3 &* panelLength
                    c30 = F.multiplyAdd(c30, x, load8(b3, 0)); c31 = F.multiplyAdd(c31, x, load8(b3, 8))
                }
                if panels > 4 {
                    let b4 = b0 + 4 &* panelLength
                    c40 = F.multiplyAdd(c40, x, load8(b4, 0)); c41 = F.multiplyAdd(c41, x, load8(b4, 8))
                }
                if panels > 5 {
                    let b5 = b0 + 5 &* panelLength
                    c50 = F.multiplyAdd(c50, x, load8(b5, 0)); c51 = F.multiplyAdd(c51, x, load8(b5, 8))
                }
                ap += innerStride
                b0 += 16
            }
            p0 &+= depth
        }
        let column = q &* 16
        finishRow(F.self, c00, c01, 0, of: 0, rows: 1, column: column, width: min(16, n &- column), last: true)
        if panels > 1 {
            finishRow(F.self, c10, c11, 0, of: 0, rows: 1, column: column &+ 16, width: min(16, n &- column &- 16), last: true)
        }
        if panels > 2 {
            finishRow(F.self, c20, c21, 0, of: 0, rows: 1, column: column &+ 32, width: min(16, n &- column &- 32), last: true)
        }
        if panels > 3 {
            finishRow(F.self, c30, c31, 0, of: 0, rows: 1, column: column &+ 48, width: min(16, n &- column &- 48), last: true)
        }
        if panels > 4 {
            finishRow(F.self, c40, c41, 0, of: 0, rows: 1, column: column &+ 64, width: min(16, n &- column &- 64), last: true)
        }
        if panels > 5 {
            finishRow(F.self, c50, c51, 0, of: 0, rows: 1, column: column &+ 80, width: min(16, n &- column &- 80), last: true)
        }
    }
}
