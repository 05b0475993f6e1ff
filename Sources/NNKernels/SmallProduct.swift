// nncore's own loops for small matrix products.
//
// The spiral net's products (300×2 by 2×100, 300×100 by 100×3 and their backward products) take
// OpenBLAS longer to pack and dispatch than to multiply: with them in `sgemm`, two thirds of a
// training step was OpenBLAS. These loops read the operands where they are and hold a block of C
// in registers across the whole inner dimension. They use SIMD8 along whichever side of the
// product is contiguous.
//
// The loops are generic over `MultiplyAdd` and `@inlinable`: NNKernels compiles them for
// baseline x86-64 (`compute()`), NNKernelsAVX2 compiles the same source for AVX2 with fused
// multiply-adds. Every element of C is computed in a fixed order that depends only on the
// product's shape and that choice, so results do not depend on threads or timing.

/// A register-block size known at compile time, which selects a specialisation of the loops.
@frozen @usableFromInline
struct Block<let count: Int> {
    @inlinable init() {}
}

/// C = op(A)·op(B) + start, where start is the bias row, or β·C (nothing read for β = 0), for a
/// product small enough for `SmallProduct.loop(…)` to take it. Row-major; the caller owns all the
/// memory and keeps it alive during `compute`.
@frozen
public struct SmallProduct {
    /// The loop a small product runs in.
    public enum Loop: Equatable, Sendable {
        /// Each row of C is the sum of the rows of op(B) scaled by that row of op(A), in tiles of
        /// four rows by 16 columns (the last one to three rows by 16 to 64) held in registers
        /// across k. Needs n ≥ 8 and B untransposed.
        case rowSums
        /// Each element of C is the dot product of a row of op(A) with a column of op(B), eight
        /// inner indices at a time, up to four columns at once. Needs A untransposed and B
        /// stored transposed.
        case dotProducts
        /// Each column of C is the sum of the rows of A (stored transposed, so op(A)'s columns
        /// are A's rows) scaled by that column of op(B), eight rows at a time, up to four columns
        /// at once: the `rowSums` of Cᵀ = op(B)ᵀ·op(A)ᵀ, stored into C's columns. Needs m ≥ 8,
        /// A transposed and no bias.
        case columnSums
        /// Plain loops, for the tiniest products that no other loop takes.
        case scalar
    }

    /// An activation applied to C in registers, before it is stored.
    public enum RegisterActivation: Equatable, Sendable {
        /// x > 0 ? x : 0 (NaN and −0 give +0).
        case relu
        /// x > 0 ? x : α·x.
        case leakyReLU(Float)
    }

    /// An activation's derivative, read from that activation's output y (C's shape), that a
    /// product's result is multiplied by before it is stored: the gradient of a ReLU-family
    /// layer's input, dZ = (dY·Wᵀ) ⊙ f′, made in the product's registers instead of in a pass of
    /// its own. Only for products that overwrite C (β = 0, no bias).
    @frozen
    public struct Derivative {
        public var output: UnsafePointer<Float>, ld: Int
        public var activation: RegisterActivation

        @inlinable
        public init(output: UnsafePointer<Float>, ld: Int, activation: RegisterActivation) {
            self.output = output
            self.ld = ld
            self.activation = activation
        }
    }

    public var loop: Loop
    public var transA: Bool, transB: Bool
    /// op(A) is (m, k), op(B) is (k, n), C is (m, n).
    public var m: Int, n: Int, k: Int
    public var a: UnsafePointer<Float>, lda: Int
    public var b: UnsafePointer<Float>, ldb: Int
    public var c: UnsafeMutablePointer<Float>, ldc: Int
    /// C's starting rows when set (β is then ignored).
    public var bias: UnsafePointer<Float>?
    /// 0 overwrites C without reading it.
    public var beta: Float
    public var activation: RegisterActivation?
    /// Applied by `rowSums` only; the caller applies it after the other loops
    /// (`applyDerivative`).
    public var derivative: Derivative?
    /// Also the sums of op(B)'s k rows (a bias gradient, when B is a layer's output gradient):
    /// added onto these n floats, or written over them when `accumulateColumnSums` is false,
    /// each in the order of the rows, as a row-by-row loop would. Only where
    /// `sumsColumnsOfBInLoop`, which sums them in the same pass as its first rows of C, reading
    /// op(B) once for both; ignored otherwise (the caller sums them in a pass of their own).
    public var columnSumsOfB: UnsafeMutablePointer<Float>? = nil
    public var accumulateColumnSums = true

    /// Whether `compute` also sums op(B)'s rows into `columnSumsOfB`: the general `rowSums`
    /// tiles (k > 4) do; the k ≤ 4 tiles, whose op(B) is a few rows, do not.
    @inlinable
    public var sumsColumnsOfBInLoop: Bool { loop == .rowSums && k > 4 }

    @inlinable
    public init(_ loop: Loop, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, beta: Float,
                activation: RegisterActivation?, derivative: Derivative? = nil) {
        self.loop = loop
        self.transA = transA
        self.transB = transB
        self.m = m
        self.n = n
        self.k = k
        self.a = a
        self.lda = lda
        self.b = b
        self.ldb = ldb
        self.c = c
        self.ldc = ldc
        self.bias = bias
        self.beta = beta
        self.activation = activation
        self.derivative = derivative
    }

    /// The loop for a product of this shape, or nil when none fits, given whether op(B) may be
    /// copied the other way round first (`bCopyable`: the caller has room for k × n floats).
    /// A product whose B is stored the wrong way for the loop must be given that copy.
    public static func loop(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, hasBias: Bool,
                            bCopyable: Bool) -> Loop? {
        guard m >= 2, n >= 1, k >= 1 else { return nil }
        if n >= 8 && (!transB || bCopyable) { return .rowSums }
        if k >= 8 && !transA && (transB || bCopyable) { return .dotProducts }
        if m >= 8 && transA && !hasBias { return .columnSums }
        if n <= 64 / k { return .scalar }
        return nil
    }

    /// Computes C with the baseline x86-64 loops (a multiply and an add per multiply-add).
    public func compute() { compute(SeparateMultiplyAdd.self) }

    /// Computes C with `F`'s multiply-add, compiled for the calling module's instruction set.
    @inlinable @inline(__always)
    public func compute<F: MultiplyAdd>(_: F.Type) {
        switch loop {
        case .rowSums:
            rowSums(F.self)
        case .dotProducts:
            dotProducts(F.self)
        case .columnSums:
            columnSums(F.self)
        case .scalar:
            scalarProduct()
        }
    }

    /// An activation on eight values, as a lane-wise select rather than a branch.
    @inlinable @inline(__always)
    public static func activate(_ f: RegisterActivation, _ v: Float8) -> Float8 {
        switch f {
        case .relu: return Float8().replacing(with: v, where: v .> 0)
        case .leakyReLU(let alpha): return (alpha * v).replacing(with: v, where: v .> 0)
        }
    }

    /// g·f′ lane-wise, with f′ read from f's output y: y > 0 ? g : 0 (ReLU), or α·g (leaky
    /// ReLU, α ≥ 0). As a select rather than a branch.
    @inlinable @inline(__always)
    public static func derivative(_ f: RegisterActivation, output y: Float8, times g: Float8) -> Float8 {
        switch f {
        case .relu: return Float8().replacing(with: g, where: y .> 0)
        case .leakyReLU(let alpha): return (alpha * g).replacing(with: g, where: y .> 0)
        }
    }

    /// C ⊙= f′ over rows × cols of C, with f′ read from `d.output` (the pass `rowSums` makes in
    /// its registers, for the other loops and OpenBLAS's products).
    @inlinable
    public static func applyDerivative(_ d: Derivative, to c: UnsafeMutablePointer<Float>, ldc: Int,
                                       rows: Range<Int>, cols: Range<Int>) {
        for i in rows {
            let cr = c + i &* ldc, yr = d.output + i &* d.ld
            var j = cols.lowerBound
            while j &+ 8 <= cols.upperBound {
                store8(derivative(d.activation, output: load8(yr, j), times: load8(cr, j)), cr, j)
                j &+= 8
            }
            while j < cols.upperBound {
                cr[j] = derivative(d.activation, output: Float8(repeating: yr[j]), times: Float8(repeating: cr[j]))[0]
                j &+= 1
            }
        }
    }

    /// `activation` on one value.
    @inlinable @inline(__always)
    func activate(_ x: Float) -> Float {
        switch activation {
        case nil: return x
        case .relu: return x > 0 ? x : 0
        case .leakyReLU(let alpha): return x > 0 ? x : alpha * x
        }
    }

    /// What C[i, j] starts from: the bias, or β·C (0 for β = 0, without reading C).
    @inlinable @inline(__always)
    func start(_ row: UnsafeMutablePointer<Float>, _ j: Int) -> Float {
        if let bias { return bias[j] }
        return beta == 0 ? 0 : beta * row[j]
    }

    /// `start` for C[i, j ..< j + 8].
    @inlinable @inline(__always)
    func start8(_ row: UnsafeMutablePointer<Float>, _ j: Int) -> Float8 {
        if let bias { return load8(bias, j) }
        return beta == 0 ? Float8() : beta * load8(row, j)
    }

    /// Stores `v` to row[block ..< block + 8], skipping the first `skip` lanes (those of a last
    /// block that overlaps the one before it, which are already stored).
    @inlinable @inline(__always)
    static func store(_ v: Float8, _ row: UnsafeMutablePointer<Float>, _ block: Int, skip: Int) {
        if skip == 0 {
            store8(v, row, block)
        } else {
            for lane in skip ..< 8 { row[block &+ lane] = v[lane] }
        }
    }

    /// C[i, j] = start + Σ_p op(A)[i, p]·op(B)[p, j] in increasing p, for op(B) (k, n) stored
    /// untransposed in B. Four rows at a time in 16-column tiles, then the last one to three rows
    /// in tiles of 16 to 64 columns (narrower at the right edge). A last tile of fewer than eight
    /// columns is computed as the eight ending at column n, of which only the new ones are stored.
    @inlinable @inline(__always)
    func rowSums<F: MultiplyAdd>(_: F.Type) {
        if k <= 4 {
            switch k {
            case 1: rowSums(Block<1>(), F.self)
            case 2: rowSums(Block<2>(), F.self)
            case 3: rowSums(Block<3>(), F.self)
            default: rowSums(Block<4>(), F.self)
            }
            return
        }
        var i = 0
        if columnSumsOfB != nil {
            // The first rows' tiles also sum op(B)'s rows.
            guard m >= 4 else { return rowSums(lastRowsFrom: 0, Block<1>(), F.self) }
            rowSums(rows: 0, Block<4>(), Block<2>(), Block<1>(), F.self)
            i = 4
        }
        while i &+ 4 <= m {
            rowSums(rows: i, Block<4>(), Block<2>(), Block<0>(), F.self)
            i &+= 4
        }
        rowSums(lastRowsFrom: i, Block<0>(), F.self)
    }

    /// Rows i ..< m, fewer than four, together in the general tiles, reading op(B) once (S = 1:
    /// also summing op(B)'s rows into `columnSumsOfB`).
    @inlinable @inline(__always)
    func rowSums<let S: Int, F: MultiplyAdd>(lastRowsFrom i: Int, _ sums: Block<S>, _: F.Type) {
        switch m &- i {
        case 3: rowSums(rows: i, Block<3>(), Block<2>(), sums, F.self)
        case 2: rowSums(rows: i, Block<2>(), Block<4>(), sums, F.self)
        case 1: rowSums(rows: i, Block<1>(), Block<8>(), sums, F.self)
        default: break
        }
    }

    /// `rowSums` for an inner dimension of K ≤ 4 (a layer with few inputs, the gradient of one
    /// with few outputs), where a tile's own work is a few multiply-adds: four rows at a time
    /// with op(A)'s 4·K values broadcast once for all their column tiles. What C starts from and
    /// what is applied before it is stored (the activation or the derivative) are chosen here,
    /// once per product: each choice gets a tile loop of its own that tests nothing per tile (with
    /// the tests inside, the spiral's 300 × 100 products ran at 1.5 outputs per cycle). The last
    /// one to three rows go to the general tiles.
    @inlinable @inline(__always)
    func rowSums<let K: Int, F: MultiplyAdd>(_ inner: Block<K>, _: F.Type) {
        if let derivative {
            let y = derivative.output, ld = derivative.ld
            switch derivative.activation {
            case .relu:
                rowSums(inner, F.self) { v, row, j in
                    SmallProduct.derivative(.relu, output: load8(y + row &* ld, j), times: v)
                }
            case .leakyReLU(let alpha):
                rowSums(inner, F.self) { v, row, j in
                    SmallProduct.derivative(.leakyReLU(alpha), output: load8(y + row &* ld, j), times: v)
                }
            }
            return
        }
        switch activation {
        case nil: rowSums(inner, F.self) { v, _, _ in v }
        case .relu: rowSums(inner, F.self) { v, _, _ in SmallProduct.activate(.relu, v) }
        case .leakyReLU(let alpha): rowSums(inner, F.self) { v, _, _ in SmallProduct.activate(.leakyReLU(alpha), v) }
        }
    }

    /// `rowSums` for K ≤ 4 with `finish(sums, row, column)` applied to each 8 columns before they
    /// are stored; C's start chosen once.
    @inlinable @inline(__always)
    func rowSums<let K: Int, F: MultiplyAdd>(_ inner: Block<K>, _: F.Type,
                                             finish: (Float8, Int, Int) -> Float8) {
        var i = 0
        while i &+ 4 <= m {
            if let bias {
                rowSums(rows: i, inner, F.self, start: { _, j in load8(bias, j) }, finish: finish)
            } else if beta == 0 {
                rowSums(rows: i, inner, F.self, start: { _, _ in Float8() }, finish: finish)
            } else {
                rowSums(rows: i, inner, F.self, start: { row, j in beta * load8(row, j) }, finish: finish)
            }
            i &+= 4
        }
        rowSums(lastRowsFrom: i, Block<0>(), F.self)
    }

    /// Rows i ..< i + 4 of C for an inner dimension of K, in 8-column tiles, each starting from
    /// `start(row, column)` and stored as `finish(sums, row index, column)`. A last tile of
    /// fewer than eight columns is the eight ending at column n; when C is not read (a bias or
    /// β = 0) its lanes that the tile before stored are stored again, with the same values,
    /// rather than one lane at a time.
    @inlinable @inline(__always)
    func rowSums<let K: Int, F: MultiplyAdd>(rows i: Int, _: Block<K>, _: F.Type,
                                             start: (UnsafeMutablePointer<Float>, Int) -> Float8,
                                             finish: (Float8, Int, Int) -> Float8) {
        // op(A)[i, p] = A[i·lda + p], or A[p·lda + i] when A is stored transposed.
        let rowStep = transA ? 1 : lda, innerStep = transA ? lda : 1
        let readsC = bias == nil && beta != 0
        var x = InlineArray<K, InlineArray<4, Float8>>(repeating: InlineArray(repeating: Float8()))
        for p in 0 ..< K {
            for r in 0 ..< 4 { x[p][r] = Float8(repeating: a[(i &+ r) &* rowStep &+ p &* innerStep]) }
        }
        let c0 = c + i &* ldc
        var j = 0
        while j < n {
            let block = min(j, n &- 8), skip = readsC ? j &- block : 0
            var s = InlineArray<4, Float8>(repeating: Float8())
            for r in 0 ..< 4 { s[r] = start(c0 + r &* ldc, block) }
            for p in 0 ..< K {
                let bv = load8(b + p &* ldb, block)
                for r in 0 ..< 4 { s[r] = F.multiplyAdd(s[r], x[p][r], bv) }
            }
            for r in 0 ..< 4 { SmallProduct.store(finish(s[r], i &+ r, block), c0 + r &* ldc, block, skip: skip) }
            j &+= 8
        }
    }

    /// Rows i ..< i + R of C: tiles of V SIMD8 vectors of columns, then of two (when V > 2), then
    /// single vectors. R·V is 8 where possible: with fewer independent sums the multiply-adds wait
    /// for each other's results (a Zen 1 FMA takes 5 cycles and a core starts one per cycle).
    /// With S = 1 the tiles also sum op(B)'s rows into `columnSumsOfB`.
    @inlinable @inline(__always)
    func rowSums<let R: Int, let V: Int, let S: Int, F: MultiplyAdd>(rows i: Int, _ rows: Block<R>, _ vectors: Block<V>,
                                                                   _ sums: Block<S>, _: F.Type) {
        var j = 0
        while j &+ 8 &* V <= n {
            rowSumsTile(rows: i, columns: j, skip: 0, rows, vectors, sums, F.self)
            j &+= 8 &* V
        }
        if V > 2 {
            while j &+ 16 <= n {
                rowSumsTile(rows: i, columns: j, skip: 0, rows, Block<2>(), sums, F.self)
                j &+= 16
            }
        }
        while j < n {
            let block = min(j, n &- 8)
            rowSumsTile(rows: i, columns: block, skip: j &- block, rows, Block<1>(), sums, F.self)
            j &+= 8
        }
    }

    /// The R × 8V tile of C at (i, j), held in registers over all of k; with S = 1, also the
    /// sums of op(B)'s rows over those columns, added onto `columnSumsOfB` (or over it).
    @inlinable @inline(__always)
    func rowSumsTile<let R: Int, let V: Int, let S: Int, F: MultiplyAdd>(rows i: Int, columns j: Int, skip: Int,
                                                                       _: Block<R>, _: Block<V>, _: Block<S>,
                                                                       _: F.Type) {
        // op(A)[i, p] = A[i·lda + p], or A[p·lda + i] when A is stored transposed.
        let rowStep = transA ? 1 : lda, innerStep = transA ? lda : 1
        var s = InlineArray<R, InlineArray<V, Float8>>(repeating: InlineArray(repeating: Float8()))
        for r in 0 ..< R {
            let cr = c + (i &+ r) &* ldc
            for v in 0 ..< V { s[r][v] = start8(cr, j &+ 8 &* v) }
        }
        var t = InlineArray<V, Float8>(repeating: Float8())
        if S == 1 && accumulateColumnSums {
            for v in 0 ..< V { t[v] = load8(columnSumsOfB!, j &+ 8 &* v) }
        }
        var bp = b + j, ap = a + i &* rowStep
        for _ in 0 ..< k {
            var bv = InlineArray<V, Float8>(repeating: Float8())
            for v in 0 ..< V { bv[v] = load8(bp, 8 &* v) }
            for r in 0 ..< R {
                let x = Float8(repeating: ap[r &* rowStep])
                for v in 0 ..< V { s[r][v] = F.multiplyAdd(s[r][v], x, bv[v]) }
            }
            if S == 1 {
                for v in 0 ..< V { t[v] += bv[v] }
            }
            bp += ldb
            ap += innerStep
        }
        if let activation {
            for r in 0 ..< R {
                for v in 0 ..< V { s[r][v] = SmallProduct.activate(activation, s[r][v]) }
            }
        }
        if let derivative {
            for r in 0 ..< R {
                let yr = derivative.output + (i &+ r) &* derivative.ld
                for v in 0 ..< V {
                    s[r][v] = SmallProduct.derivative(derivative.activation, output: load8(yr, j &+ 8 &* v), times: s[r][v])
                }
            }
        }
        for r in 0 ..< R {
            let cr = c + (i &+ r) &* ldc
            for v in 0 ..< V { SmallProduct.store(s[r][v], cr, j &+ 8 &* v, skip: skip) }
        }
        if S == 1 {
            for v in 0 ..< V { SmallProduct.store(t[v], columnSumsOfB!, j &+ 8 &* v, skip: skip) }
        }
    }

    /// C[i, j] = start + Σ_p A[i·lda + p]·B[j·ldb + p], for A untransposed and B stored
    /// transposed (op(B)'s columns are its rows). The sum runs in eight interleaved partial sums:
    /// over p in blocks of eight, then, when 8 ∤ k, over the eight indices ending at k with the
    /// lanes of the block before masked to 0 in A's values; the eight lanes are then added up in
    /// a fixed tree (`laneSums`). Two rows by up to four columns at once (eight independent sums,
    /// enough to keep the multiply-adds' latency hidden), or three rows for three columns or
    /// fewer, then the last rows.
    @inlinable @inline(__always)
    func dotProducts<F: MultiplyAdd>(_: F.Type) {
        var i = 0
        if n <= 3 {
            // Three columns or fewer: three rows at once, for six to nine independent sums.
            while i &+ 3 <= m {
                dotProducts(rows: i, Block<3>(), F.self)
                i &+= 3
            }
        }
        while i &+ 2 <= m {
            dotProducts(rows: i, Block<2>(), F.self)
            i &+= 2
        }
        if i < m { dotProducts(rows: i, Block<1>(), F.self) }
    }

    /// Rows i ..< i + R of C by dot products, four columns at a time, then the last one to three.
    @inlinable @inline(__always)
    func dotProducts<let R: Int, F: MultiplyAdd>(rows i: Int, _ rows: Block<R>, _: F.Type) {
        var j = 0
        while j &+ 4 <= n {
            dotTile(rows: i, columns: j, rows, Block<4>(), F.self)
            j &+= 4
        }
        switch n &- j {
        case 3: dotTile(rows: i, columns: j, rows, Block<3>(), F.self)
        case 2: dotTile(rows: i, columns: j, rows, Block<2>(), F.self)
        case 1: dotTile(rows: i, columns: j, rows, Block<1>(), F.self)
        default: break
        }
    }

    /// C[i ..< i + R, j ..< j + W] by dot products (k ≥ 8).
    @inlinable @inline(__always)
    func dotTile<let R: Int, let W: Int, F: MultiplyAdd>(rows i: Int, columns j: Int, _: Block<R>, _: Block<W>, _: F.Type) {
        let first = b + j &* ldb
        var s = InlineArray<R, InlineArray<4, Float8>>(repeating: InlineArray(repeating: Float8()))
        // The last block is the eight indices ending at k; lanes before `fresh` are already summed.
        let blocks = (k &+ 7) / 8, fresh = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: 8 &* blocks &- k))
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        // The whole blocks, then the last one (masked) outside the loop, which then tests nothing.
        for block in 0 ..< blocks &- 1 {
            let p = 8 &* block
            var bv = InlineArray<W, Float8>(repeating: Float8())
            for w in 0 ..< W { bv[w] = load8(first + w &* ldb, p) }
            for r in 0 ..< R {
                let av = load8(a + (i &+ r) &* lda, p)
                for w in 0 ..< W { s[r][w] = F.multiplyAdd(s[r][w], av, bv[w]) }
            }
        }
        do {
            let p = k &- 8
            var bv = InlineArray<W, Float8>(repeating: Float8())
            for w in 0 ..< W { bv[w] = load8(first + w &* ldb, p) }
            for r in 0 ..< R {
                let av = Float8().replacing(with: load8(a + (i &+ r) &* lda, p), where: lanes .>= fresh)
                for w in 0 ..< W { s[r][w] = F.multiplyAdd(s[r][w], av, bv[w]) }
            }
        }
        for r in 0 ..< R {
            let cr = c + (i &+ r) &* ldc
            let t = SmallProduct.laneSums(s[r][0], s[r][1], s[r][2], s[r][3])
            for w in 0 ..< W { cr[j &+ w] = activate(start(cr, j &+ w) + t[w]) }
        }
    }

    /// [Σ a, Σ b, Σ c, Σ d], each over its eight lanes, added in the same fixed tree.
    @inlinable @inline(__always)
    static func laneSums(_ a: Float8, _ b: Float8, _ c: Float8, _ d: Float8) -> SIMD4<Float> {
        let ab = Float8(lowHalf: a.lowHalf + a.highHalf, highHalf: b.lowHalf + b.highHalf)
        let cd = Float8(lowHalf: c.lowHalf + c.highHalf, highHalf: d.lowHalf + d.highHalf)
        let quarters = Float8(lowHalf: ab.evenHalf + ab.oddHalf, highHalf: cd.evenHalf + cd.oddHalf)
        return quarters.evenHalf + quarters.oddHalf
    }

    /// C[i, j] = β·C[i, j] + Σ_p op(B)[p, j]·A[p·lda + i] in increasing p, for A stored transposed
    /// and no bias. Sixteen rows of C at a time (sixteen to thirty-two independent sums, enough to
    /// keep the multiply-adds' latency hidden), then eight (a last block of fewer rows is computed
    /// as the eight ending at row m, of which only the new ones are stored); four columns at once,
    /// then the last one to three.
    @inlinable @inline(__always)
    func columnSums<F: MultiplyAdd>(_: F.Type) {
        var i = 0
        while i &+ 16 <= m {
            columnSums(rows: i, skip: 0, Block<2>(), F.self)
            i &+= 16
        }
        while i < m {
            let block = min(i, m &- 8)
            columnSums(rows: block, skip: i &- block, Block<1>(), F.self)
            i &+= 8
        }
    }

    /// Rows i ..< i + 8V of C (storing from row i + skip on), four columns at a time, then the
    /// last one to three.
    @inlinable @inline(__always)
    func columnSums<let V: Int, F: MultiplyAdd>(rows i: Int, skip: Int, _ vectors: Block<V>, _: F.Type) {
        var j = 0
        while j &+ 4 <= n {
            columnSumsTile(rows: i, columns: j, skip: skip, vectors, Block<4>(), F.self)
            j &+= 4
        }
        switch n &- j {
        case 3: columnSumsTile(rows: i, columns: j, skip: skip, vectors, Block<3>(), F.self)
        case 2: columnSumsTile(rows: i, columns: j, skip: skip, vectors, Block<2>(), F.self)
        case 1: columnSumsTile(rows: i, columns: j, skip: skip, vectors, Block<1>(), F.self)
        default: break
        }
    }

    /// C[i ..< i + 8V, j ..< j + W], held in registers over all of k.
    @inlinable @inline(__always)
    func columnSumsTile<let V: Int, let W: Int, F: MultiplyAdd>(rows i: Int, columns j: Int, skip: Int,
                                                                _: Block<V>, _: Block<W>, _: F.Type) {
        // op(B)[p, j] = B[p·ldb + j], or B[j·ldb + p] when B is stored transposed.
        let bInner = transB ? 1 : ldb, bColumn = transB ? ldb : 1
        var s = InlineArray<W, InlineArray<V, Float8>>(repeating: InlineArray(repeating: Float8()))
        if beta != 0 {
            for w in 0 ..< W {
                for v in 0 ..< V {
                    var column = Float8()
                    var cp = c + ((i &+ 8 &* v) &* ldc &+ j &+ w)
                    for lane in 0 ..< 8 {
                        column[lane] = cp.pointee
                        cp += ldc
                    }
                    s[w][v] = beta * column
                }
            }
        }
        var ap = a + i, bp = b + j &* bColumn
        for _ in 0 ..< k {
            var av = InlineArray<V, Float8>(repeating: Float8())
            for v in 0 ..< V { av[v] = load8(ap, 8 &* v) }
            for w in 0 ..< W {
                let x = Float8(repeating: bp[w &* bColumn])
                for v in 0 ..< V { s[w][v] = F.multiplyAdd(s[w][v], x, av[v]) }
            }
            ap += lda
            bp += bInner
        }
        for w in 0 ..< W {
            for v in 0 ..< V {
                if let activation { s[w][v] = SmallProduct.activate(activation, s[w][v]) }
                let from = v == 0 ? skip : 0
                var cp = c + ((i &+ 8 &* v &+ from) &* ldc &+ j &+ w)
                for lane in from ..< 8 {
                    cp.pointee = s[w][v][lane]
                    cp += ldc
                }
            }
        }
    }

    /// C[i, j] = start + Σ_p op(A)[i, p]·op(B)[p, j] in increasing p, element by element.
    @inlinable @inline(__always)
    func scalarProduct() {
        let aRow = transA ? 1 : lda, aInner = transA ? lda : 1
        let bInner = transB ? 1 : ldb, bColumn = transB ? ldb : 1
        for i in 0 ..< m {
            let cr = c + i &* ldc
            for j in 0 ..< n {
                var s = start(cr, j)
                var ap = a + i &* aRow, bp = b + j &* bColumn
                for _ in 0 ..< k {
                    s += ap.pointee * bp.pointee
                    ap += aInner
                    bp += bInner
                }
                cr[j] = activate(s)
            }
        }
    }
}
