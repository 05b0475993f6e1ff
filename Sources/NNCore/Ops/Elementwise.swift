// Element-wise arithmetic with broadcasting, scaling, reductions, exp and log.

/// a ∘ b for ∘ ∈ {+, −, ·}; an operand dimension of size 1 repeats along the output.
enum Broadcast {
    /// Steps through an operand: `rowStep` is 0 when its rows broadcast, `colStep` 0 when its columns do.
    @inline(__always)
    private static func steps(_ shape: (rows: Int, cols: Int)) -> (row: Int, col: Int) {
        (shape.rows == 1 ? 0 : shape.cols, shape.cols == 1 ? 0 : 1)
    }

    static func forward(_ op: Op, a: UnsafePointer<Float>, aShape: (rows: Int, cols: Int),
                        b: UnsafePointer<Float>, bShape: (rows: Int, cols: Int),
                        y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        if aShape == bShape {
            let count = rows &* cols
            switch op {
            case .add: for i in 0 ..< count { y[i] = a[i] + b[i] }
            case .sub: for i in 0 ..< count { y[i] = a[i] - b[i] }
            default: for i in 0 ..< count { y[i] = a[i] * b[i] }
            }
            return
        }
        let sa = steps(aShape), sb = steps(bShape)
        for i in 0 ..< rows {
            let ar = a + i &* sa.row, br = b + i &* sb.row, yr = y + i &* cols
            for j in 0 ..< cols {
                let u = ar[j &* sa.col], v = br[j &* sb.col]
                switch op {
                case .add: yr[j] = u + v
                case .sub: yr[j] = u - v
                default: yr[j] = u * v
                }
            }
        }
    }

    /// da += ∂y/∂a · dy and db += ∂y/∂b · dy, summed over broadcast positions.
    static func backward(_ op: Op, a: UnsafePointer<Float>, aShape: (rows: Int, cols: Int), da: UnsafeMutablePointer<Float>?,
                         b: UnsafePointer<Float>, bShape: (rows: Int, cols: Int), db: UnsafeMutablePointer<Float>?,
                         dy: UnsafePointer<Float>, rows: Int, cols: Int) {
        let sa = steps(aShape), sb = steps(bShape)
        for i in 0 ..< rows {
            let dyr = dy + i &* cols
            for j in 0 ..< cols {
                let ia = i &* sa.row &+ j &* sa.col, ib = i &* sb.row &+ j &* sb.col
                let g = dyr[j]
                switch op {
                case .add:
                    da?[ia] += g
                    db?[ib] += g
                case .sub:
                    da?[ia] += g
                    db?[ib] -= g
                default:
                    da?[ia] += g * b[ib]
                    db?[ib] += g * a[ia]
                }
            }
        }
    }
}

/// y = s·x.
enum Scale {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, s: Float) {
        for i in 0 ..< count { y[i] = s * x[i] }
    }
    static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, s: Float) {
        for i in 0 ..< count { dx[i] += s * dy[i] }
    }
}

/// y = Σx or y = Σx / count (accumulated in Double: the sum of many floats stays accurate).
enum Reduce {
    static func forward(x: UnsafePointer<Float>, count: Int, y: UnsafeMutablePointer<Float>, mean: Bool) {
        var total = 0.0
        for i in 0 ..< count { total += Double(x[i]) }
        y[0] = Float(mean ? total / Double(count) : total)
    }
    static func backward(dy: Float, dx: UnsafeMutablePointer<Float>, count: Int, mean: Bool) {
        let g = mean ? dy / Float(count) : dy
        for i in 0 ..< count { dx[i] += g }
    }
}

/// y = eˣ; dy/dx = y.
enum Exp {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { y[i] = _exp(x[i]) }
    }
    static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { dx[i] += dy[i] * y[i] }
    }
}

/// y = ln x; dy/dx = 1/x.
enum Log {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { y[i] = _log(x[i]) }
    }
    static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { dx[i] += dy[i] / x[i] }
    }
}
