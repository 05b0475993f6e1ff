// nncore's own loops for the larger untransposed products, C = A·B + bias, with a ReLU-family
// activation applied in registers.
//
// OpenBLAS packs both operands of every `sgemm` call and applies neither the bias nor the
// activation: they are passes of their own over C. These loops read A where it is, copy B
// (the weights) into panels of 16 columns (`pack`), and hold a tile of 6 rows × 16 columns of C
// in twelve 8-float registers across a block of the inner dimension. On a Zen 1 core, compiled
// for AVX2 and FMA (NNKernelsAVX2), they ran net M's 1,020 × 784 by 784 × 256 product at 34–36
// GFLOP/s against OpenBLAS 0.3.21's 30–32 (its Zen kernels); compiled for baseline x86-64, the
// twelve accumulators do not fit in SSE's sixteen registers, so the engine uses them only in the
// AVX2 build (`Gemm.usesPanels`).
//
// Every element of C is the bias (or 0) plus its products summed in the order of the inner
// index, so a block of columns or rows gives the same bits as the whole product: results do not
// depend on how the product is split over threads.

/// C[:, columns] = A·B[:, columns] + bias, then the activation, for A (m × k) and B (k × n)
/// row-major and untransposed. C is only written (β = 0: whatever it held never leaks in). The
/// caller owns all the memory and keeps it alive during `compute`.
@frozen
public struct PanelProduct {
    /// Columns of B in one packed panel, and of C in one register tile.
    public static let panelWidth = 16
    /// Rows of C in one register tile.
    public static let tileRows = 6
    /// Inner indices packed and summed per pass over C (a panel is 16 KB, held in L1).
    public static let innerBlock = 256
    /// Columns of B packed at once (16 panels, 256 KB).
    public static let columnBlock = 256
    /// The floats of packing memory `compute` needs.
    public static let packFloats = innerBlock * columnBlock

    /// C is (m, n), A (m, k), B (k, n).
    public var m: Int, n: Int, k: Int
    public var a: UnsafePointer<Float>, lda: Int
    public var b: UnsafePointer<Float>, ldb: Int
    public var c: UnsafeMutablePointer<Float>, ldc: Int
    /// n values added to every row of C, or nil for none.
    public var bias: UnsafePointer<Float>?
    /// Applied to C in registers before it is stored, or nil for none.
    public var activation: SmallProduct.RegisterActivation?

    @inlinable
    public init(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                activation: SmallProduct.RegisterActivation?) {
        self.m = m; self.n = n; self.k = k
        self.a = a; self.lda = lda
        self.b = b; self.ldb = ldb
        self.c = c; self.ldc = ldc
        self.bias = bias
        self.activation = activation
    }

    /// Computes the columns `columns` of C (a range within 0 ..< n; its start a multiple of 16 for
    /// the panels to line up with other blocks' — any start gives the same values), using `pack`
    /// (`packFloats` floats, owned by the caller and used by one thread at a time) for B's panels.
    @inlinable @inline(__always)
    public func compute<F: MultiplyAdd>(_: F.Type, columns: Range<Int>, pack: UnsafeMutablePointer<Float>) {
        guard m > 0, k > 0 else { return }
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
            let width = min(PanelProduct.columnBlock, columns.upperBound &- j0)
            let panels = (width &+ 15) >> 4
            var p0 = 0
            while p0 < k {
                let depth = min(PanelProduct.innerBlock, k &- p0)
                packPanels(inner: p0, depth: depth, column: j0, width: width, into: pack)
                let first = p0 == 0, last = p0 &+ depth == k
                var i = 0
                while i < m {
                    let rows = min(PanelProduct.tileRows, m &- i)
                    for panel in 0 ..< panels {
                        let j = j0 &+ panel &* 16
                        tile(F.self, row: i, rows: rows, column: j, width: min(16, j0 &+ width &- j), inner: p0,
                             depth: depth, panel: pack + panel &* depth &* 16, first: first, last: last)
                    }
                    i &+= PanelProduct.tileRows
                }
                p0 &+= depth
            }
            j0 &+= width
        }
    }

    /// Copies B[inner ..< inner + depth, column ..< column + width] into panels of 16 columns,
    /// each depth × 16 contiguous floats, the last one padded with zeros.
    @inlinable @inline(__always)
    func packPanels(inner: Int, depth: Int, column: Int, width: Int, into pack: UnsafeMutablePointer<Float>) {
        var dst = pack
        var j = column
        while j < column &+ width {
            let w = min(16, column &+ width &- j)
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

    /// One register tile: C[row ..< row + rows, column ..< column + width] over the inner indices
    /// inner ..< inner + depth, starting from the bias (`first`) or from C, activated when `last`.
    /// Rows past `rows` read the last valid row (so every read stays in A) and are not stored.
    @inlinable @inline(__always)
    func tile<F: MultiplyAdd>(_: F.Type, row: Int, rows: Int, column: Int, width: Int, inner: Int, depth: Int,
                              panel: UnsafeMutablePointer<Float>, first: Bool, last: Bool) {
        let last1 = rows &- 1
        let o1 = min(1, last1) &* lda, o2 = min(2, last1) &* lda, o3 = min(3, last1) &* lda
        let o4 = min(4, last1) &* lda, o5 = min(5, last1) &* lda
        let cRow = c + (row &* ldc &+ column)
        var c00: Float8, c01: Float8, c10: Float8, c11: Float8, c20: Float8, c21: Float8
        var c30: Float8, c31: Float8, c40: Float8, c41: Float8, c50: Float8, c51: Float8
        if first {
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
        var ap = a + (row &* lda &+ inner)
        var bp = UnsafePointer(panel)
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
            ap += 1
            bp += 16
        }
        if last, let f = activation {
            c00 = SmallProduct.activate(f, c00); c01 = SmallProduct.activate(f, c01)
            c10 = SmallProduct.activate(f, c10); c11 = SmallProduct.activate(f, c11)
            c20 = SmallProduct.activate(f, c20); c21 = SmallProduct.activate(f, c21)
            c30 = SmallProduct.activate(f, c30); c31 = SmallProduct.activate(f, c31)
            c40 = SmallProduct.activate(f, c40); c41 = SmallProduct.activate(f, c41)
            c50 = SmallProduct.activate(f, c50); c51 = SmallProduct.activate(f, c51)
        }
        PanelProduct.store16(c00, c01, cRow, width: width)
        if rows > 1 { PanelProduct.store16(c10, c11, cRow + ldc, width: width) }
        if rows > 2 { PanelProduct.store16(c20, c21, cRow + 2 &* ldc, width: width) }
        if rows > 3 { PanelProduct.store16(c30, c31, cRow + 3 &* ldc, width: width) }
        if rows > 4 { PanelProduct.store16(c40, c41, cRow + 4 &* ldc, width: width) }
        if rows > 5 { PanelProduct.store16(c50, c51, cRow + 5 &* ldc, width: width) }
    }
}
