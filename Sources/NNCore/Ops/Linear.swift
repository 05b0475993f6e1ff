import CBLAS
import NNKernels

// Shape legend: m rows (the batch), k inputs, n outputs. All buffers row-major.

/// C = A·B through OpenBLAS (`Gemm`: `sgemm`, `sgemv` for one row, split over the worker pool
/// when large).
enum MatMul {
    /// a (m, k), b (k, n) → c (m, n). `scratch` (see `Gemm.scratch`, `Gemm.scratchCount`) lets a
    /// one-row product be split along k, a small product copy b transposed, and the bands of a
    /// large panel product share one packing of b.
    static func forward(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, m: Int, k: Int, n: Int,
                        scratch: UnsafeMutableBufferPointer<Float>? = nil) {
        Gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n, scratch: scratch).perform()
    }

    /// da (m, k) += dc·bᵀ; db (k, n) += aᵀ·dc. A gradient whose `accumulate…` flag is false is
    /// overwritten instead (β = 0), which spares zeroing it first. `scratch` as in `forward`.
    /// With `derivativeOfA` (only with `accumulateA` false), da = (dc·bᵀ) ⊙ f′ instead: the
    /// gradient of the input of the activation that produced a.
    static func backward(a: UnsafePointer<Float>, b: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                         da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, m: Int, k: Int, n: Int,
                         accumulateA: Bool = true, accumulateB: Bool = true, scratch: UnsafeMutableBufferPointer<Float>? = nil,
                         derivativeOfA: SmallProduct.Derivative? = nil, columnSumsOfC: UnsafeMutablePointer<Float>? = nil,
                         accumulateColumnSums: Bool = true) {
        if let da {
            Gemm(transB: true, m: m, n: k, k: n, beta: accumulateA ? 1 : 0, a: dc, lda: n, b: b, ldb: n, c: da, ldc: k,
                 scratch: scratch, derivative: accumulateA ? nil : derivativeOfA).perform()
        }
        if let db {
            var product = Gemm(transA: true, m: k, n: n, k: m, beta: accumulateB ? 1 : 0, a: a, lda: k, b: dc, ldb: n,
                               c: db, ldc: n, scratch: scratch)
            product.columnSumsOfB = columnSumsOfC
            product.accumulateColumnSums = accumulateColumnSums
            product.perform()
        } else if let columnSumsOfC {
            ColumnSum.accumulate(dc, into: columnSumsOfC, rows: m, cols: n, accumulate: accumulateColumnSums)
        }
    }
}

/// y = x·W + b: the dense layer's product with its bias, in one op.
enum Affine {
    /// x (m, k), w (k, n), bias (1, n) → y (m, n). The bias is broadcast into each block of y
    /// just before the product accumulates on top of it (β = 1), while the block is in cache.
    /// `epilogue`, when given, is applied to y in the same pass (see `Graph.fusesActivations`).
    static func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        y: UnsafeMutablePointer<Float>, m: Int, k: Int, n: Int, scratch: UnsafeMutableBufferPointer<Float>? = nil,
                        epilogue: Activation? = nil) {
        Gemm(m: m, n: n, k: k, a: x, lda: k, b: w, ldb: n, c: y, ldc: n, bias: bias, scratch: scratch,
             epilogue: epilogue).perform()
    }

    /// dx (m, k) += dy·Wᵀ; dW (k, n) += xᵀ·dy; dbias (1, n) += column sums of dy (each one
    /// overwritten instead when its `accumulate…` flag is false). `scratch` as in `forward`.
    /// With `derivativeOfX` (only when dx is overwritten), dx = (dy·Wᵀ) ⊙ f′: the gradient of the
    /// input of the activation that produced x.
    static func backward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         m: Int, k: Int, n: Int, accumulateX: Bool = true, accumulateW: Bool = true, accumulateBias: Bool = true,
                         scratch: UnsafeMutableBufferPointer<Float>? = nil, derivativeOfX: SmallProduct.Derivative? = nil) {
        // The bias gradient is summed with the weight gradient's product, over the same blocks
        // of the batch's rows when the pool cuts that product along them (`Gemm.columnSumsOfB`).
        MatMul.backward(a: x, b: w, dc: dy, da: dx, db: dw, m: m, k: k, n: n, accumulateA: accumulateX, accumulateB: accumulateW,
                        scratch: scratch, derivativeOfA: derivativeOfX, columnSumsOfC: dbias, accumulateColumnSums: accumulateBias)
    }
}

/// y = x + b with a row vector b.
enum BiasAdd {
    /// x (rows, cols), bias (1, cols) → y (rows, cols).
    static func forward(x: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for row in 0 ..< rows {
            let xr = x + row &* cols, yr = y + row &* cols
            var j = 0
            while j &+ 8 <= cols {
                store8(load8(xr, j) + load8(bias, j), yr, j)
                j &+= 8
            }
            while j < cols {
                yr[j] = xr[j] + bias[j]
                j &+= 1
            }
        }
    }

    /// dx += dy; dbias += column sums of dy.
    static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?, rows: Int, cols: Int) {
        if let dx { Accumulate.add(dy, into: dx, count: rows &* cols) }
        if let dbias { ColumnSum.accumulate(dy, into: dbias, rows: rows, cols: cols) }
    }
}

/// out (1, cols) += Σ over rows of x (rows, cols); with `accumulate` false, out = Σ.
///
/// Each column is summed in row order onto its `out` value (or onto 0), as a row-by-row loop would, but a
/// block of columns is held in registers across all the rows: 32 columns (four independent SIMD8
/// sums) at a time, then 8, then the last few four at a time.
enum ColumnSum {
    static func accumulate(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                           accumulate: Bool = true) {
        var j = 0
        while j &+ 32 <= cols {
            var s0 = prior8(out, j, accumulate), s1 = prior8(out, j &+ 8, accumulate)
            var s2 = prior8(out, j &+ 16, accumulate), s3 = prior8(out, j &+ 24, accumulate)
            var xr = x + j
            for _ in 0 ..< rows {
                s0 += load8(xr, 0)
                s1 += load8(xr, 8)
                s2 += load8(xr, 16)
                s3 += load8(xr, 24)
                xr += cols
            }
            store8(s0, out, j)
            store8(s1, out, j &+ 8)
            store8(s2, out, j &+ 16)
            store8(s3, out, j &+ 24)
            j &+= 32
        }
        while j &+ 8 <= cols {
            var s = prior8(out, j, accumulate)
            var xr = x + j
            for _ in 0 ..< rows {
                s += load8(xr, 0)
                xr += cols
            }
            store8(s, out, j)
            j &+= 8
        }
        // The last 1…7 columns four at a time in scalars; a group past the end repeats the last
        // column, whose sum it then stores twice (the same value).
        let last = cols &- 1
        while j < cols {
            let c0 = j, c1 = min(j &+ 1, last), c2 = min(j &+ 2, last), c3 = min(j &+ 3, last)
            var s0 = prior(out, c0, accumulate), s1 = prior(out, c1, accumulate)
            var s2 = prior(out, c2, accumulate), s3 = prior(out, c3, accumulate)
            var xr = x
            for _ in 0 ..< rows {
                s0 += xr[c0]
                s1 += xr[c1]
                s2 += xr[c2]
                s3 += xr[c3]
                xr += cols
            }
            out[c3] = s3
            out[c2] = s2
            out[c1] = s1
            out[c0] = s0
            j &+= 4
        }
    }
}

/// out += x, element by element.
enum Accumulate {
    static func add(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            store8(load8(out, i) + load8(x, i), out, i)
            i &+= 8
        }
        while i < count {
            out[i] += x[i]
            i &+= 1
        }
    }
}
