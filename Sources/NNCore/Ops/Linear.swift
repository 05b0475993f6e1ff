import CBLAS

// Shape legend: m rows (the batch), k inputs, n outputs. All buffers row-major.

/// C = A·B through OpenBLAS.
enum MatMul {
    /// a (m, k), b (k, n) → c (m, n).
    static func forward(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, m: Int, k: Int, n: Int) {
        if m == 1 {
            // One row: c = bᵀ·a as a matrix-vector product.
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, b, Int32(n), a, 1, 0, c, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
        }
    }

    /// da (m, k) += dc·bᵀ; db (k, n) += aᵀ·dc.
    static func backward(a: UnsafePointer<Float>, b: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                         da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, m: Int, k: Int, n: Int) {
        if let da {
            if m == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(k), Int32(n), 1, b, Int32(n), dc, 1, 1, da, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(k), Int32(n),
                            1, dc, Int32(n), b, Int32(n), 1, da, Int32(k))
            }
        }
        if let db {
            if m == 1 {
                cblas_sger(CblasRowMajor, Int32(k), Int32(n), 1, a, 1, dc, 1, db, Int32(n))
            } else {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(n), Int32(m),
                            1, a, Int32(k), dc, Int32(n), 1, db, Int32(n))
            }
        }
    }
}

/// y = x·W + b: the dense layer's product with its bias, in one op.
enum Affine {
    /// x (m, k), w (k, n), bias (1, n) → y (m, n).
    static func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        y: UnsafeMutablePointer<Float>, m: Int, k: Int, n: Int) {
        if m == 1 {
            y.update(from: bias, count: n)
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, w, Int32(n), x, 1, 1, y, 1)
            return
        }
        // Broadcast the bias into every row, then accumulate the product on top (beta = 1).
        for row in 0 ..< m { (y + row &* n).update(from: bias, count: n) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, x, Int32(k), w, Int32(n), 1, y, Int32(n))
    }

    /// dx (m, k) += dy·Wᵀ; dW (k, n) += xᵀ·dy; dbias (1, n) += column sums of dy.
    static func backward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         m: Int, k: Int, n: Int) {
        MatMul.backward(a: x, b: w, dc: dy, da: dx, db: dw, m: m, k: k, n: n)
        if let dbias { ColumnSum.accumulate(dy, into: dbias, rows: m, cols: n) }
    }
}

/// y = x + b with a row vector b.
enum BiasAdd {
    /// x (rows, cols), bias (1, cols) → y (rows, cols).
    static func forward(x: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for row in 0 ..< rows {
            let xr = x + row &* cols, yr = y + row &* cols
            for j in 0 ..< cols { yr[j] = xr[j] + bias[j] }
        }
    }

    /// dx += dy; dbias += column sums of dy.
    static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?, rows: Int, cols: Int) {
        if let dx { Accumulate.add(dy, into: dx, count: rows &* cols) }
        if let dbias { ColumnSum.accumulate(dy, into: dbias, rows: rows, cols: cols) }
    }
}

/// out (1, cols) += Σ over rows of x (rows, cols).
enum ColumnSum {
    static func accumulate(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for row in 0 ..< rows {
            let xr = x + row &* cols
            for j in 0 ..< cols { out[j] += xr[j] }
        }
    }
}

/// out += x, element by element.
enum Accumulate {
    static func add(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { out[i] += x[i] }
    }
}
