// Activation functions, maxout, dropout and softmax: each forward next to its backward.
// Backward passes read the op's input x and/or output y, whichever gives the cheaper derivative.

import NNKernels

enum ActivationKernel {
    /// f as an activation the small-product loops apply in registers before storing (the ReLU
    /// family, a lane-wise select), or nil for the others (identity needs nothing).
    static func registerActivation(_ f: Activation) -> SmallProduct.RegisterActivation? {
        switch f {
        case .relu: return .relu
        case .leakyReLU(let alpha): return .leakyReLU(alpha)
        case .identity, .sigmoid, .tanh, .elu, .gelu, .softplus: return nil
        }
    }

    static func forward(_ f: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .identity:
            y.update(from: x, count: count)
        case .relu, .leakyReLU:
            let g = registerActivation(f)!
            var i = 0
            while i &+ 8 <= count {
                store8(SmallProduct.activate(g, load8(x, i)), y, i)
                i &+= 8
            }
            while i < count {
                y[i] = SmallProduct.activate(g, Float8(repeating: x[i]))[0]
                i &+= 1
            }
        case .sigmoid:
            for i in 0 ..< count { y[i] = sigmoid(x[i]) }
        case .tanh:
            for i in 0 ..< count { y[i] = _tanh(x[i]) }
        case .elu(let alpha):
            for i in 0 ..< count { y[i] = x[i] > 0 ? x[i] : alpha * _expm1(x[i]) }
        case .gelu:
            for i in 0 ..< count { y[i] = 0.5 * x[i] * (1 + _erf(x[i] * Float(0.5).squareRoot())) }
        case .softplus:
            for i in 0 ..< count { y[i] = softplus(x[i]) }
        }
    }

    /// dx += f′(x) · dy, or dx = f′(x) · dy when `accumulate` is false.
    static func backward(_ f: Activation, x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = true) {
        switch f {
        case .identity:
            if accumulate { Accumulate.add(dy, into: dx, count: count) } else { dx.update(from: dy, count: count) }
        case .relu:
            // dx (+)= x > 0 ? dy : 0 lane-wise, as a select rather than a (mispredicted) branch.
            var i = 0
            while i &+ 8 <= count {
                let g = load8(dy, i)
                store8(prior8(dx, i, accumulate) + Float8().replacing(with: g, where: load8(x, i) .> 0), dx, i)
                i &+= 8
            }
            while i < count {
                dx[i] = prior(dx, i, accumulate) + (x[i] > 0 ? dy[i] : 0)
                i &+= 1
            }
        case .leakyReLU(let alpha):
            var i = 0
            while i &+ 8 <= count {
                let g = load8(dy, i)
                store8(prior8(dx, i, accumulate) + (alpha * g).replacing(with: g, where: load8(x, i) .> 0), dx, i)
                i &+= 8
            }
            while i < count {
                dx[i] = prior(dx, i, accumulate) + (x[i] > 0 ? dy[i] : alpha * dy[i])
                i &+= 1
            }
        case .sigmoid:
            var i = 0
            while i &+ 8 <= count {
                let s = load8(y, i)
                store8(prior8(dx, i, accumulate) + load8(dy, i) * s * (1 - s), dx, i)
                i &+= 8
            }
            while i < count {
                dx[i] = prior(dx, i, accumulate) + (dy[i] * y[i] * (1 - y[i]))
                i &+= 1
            }
        case .tanh:
            var i = 0
            while i &+ 8 <= count {
                let t = load8(y, i)
                store8(prior8(dx, i, accumulate) + load8(dy, i) * (1 - t * t), dx, i)
                i &+= 8
            }
            while i < count {
                dx[i] = prior(dx, i, accumulate) + (dy[i] * (1 - y[i] * y[i]))
                i &+= 1
            }
        case .elu(let alpha):
            var i = 0
            while i &+ 8 <= count {
                let g = load8(dy, i)
                store8(prior8(dx, i, accumulate) + (g * (load8(y, i) + alpha)).replacing(with: g, where: load8(x, i) .> 0), dx, i)
                i &+= 8
            }
            while i < count {
                dx[i] = prior(dx, i, accumulate) + (x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha))
                i &+= 1
            }
        case .gelu:
            // d/dx x·Φ(x) = Φ(x) + x·φ(x).
            let invSqrt2 = Float(0.5).squareRoot(), invSqrt2Pi = 1 / (2 * Float.pi).squareRoot()
            for i in 0 ..< count {
                let v = x[i]
                let cdf = 0.5 * (1 + _erf(v * invSqrt2))
                let pdf = invSqrt2Pi * _exp(-0.5 * v * v)
                dx[i] = prior(dx, i, accumulate) + (dy[i] * (cdf + v * pdf))
            }
        case .softplus:
            for i in 0 ..< count { dx[i] = prior(dx, i, accumulate) + dy[i] * sigmoid(x[i]) }
        }
    }

    /// 1 / (1 + e^−x) without overflow for large |x|.
    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + _exp(-x)) }
        let e = _exp(x)
        return e / (1 + e)
    }

    /// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|).
    @inline(__always) static func softplus(_ x: Float) -> Float { max(x, 0) + _log1p(_exp(-abs(x))) }
}

/// y[r, u] = max over x[r, u·pieces ..< (u+1)·pieces]; the gradient goes to the first maximum.
enum Maxout {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, units: Int, pieces: Int) {
        let width = units &* pieces
        for r in 0 ..< rows {
            let xr = x + r &* width, yr = y + r &* units
            for u in 0 ..< units {
                let group = xr + u &* pieces
                var best = group[0]
                for p in 1 ..< pieces where group[p] > best { best = group[p] }
                yr[u] = best
            }
        }
    }

    static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                         rows: Int, units: Int, pieces: Int) {
        let width = units &* pieces
        for r in 0 ..< rows {
            let xr = x + r &* width, dxr = dx + r &* width, dyr = dy + r &* units
            for u in 0 ..< units {
                let base = u &* pieces
                var arg = 0
                for p in 1 ..< pieces where xr[base &+ p] > xr[base &+ arg] { arg = p }
                dxr[base &+ arg] += dyr[u]
            }
        }
    }
}

/// Inverted dropout: the mask holds 0 or 1/(1 − rate), so evaluation needs no rescaling.
enum Dropout {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                        count: Int, rate: Float, training: Bool, random: inout RandomGenerator) {
        guard training, rate > 0 else {
            mask.update(repeating: 1, count: count)
            y.update(from: x, count: count)
            return
        }
        let keep = 1 / (1 - rate)
        for i in 0 ..< count {
            let m: Float = random.nextUnitFloat() >= rate ? keep : 0
            mask[i] = m
            y[i] = x[i] * m
        }
    }

    static func backward(mask: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            store8(load8(dx, i) + load8(dy, i) * load8(mask, i), dx, i)
            i &+= 8
        }
        while i < count {
            dx[i] += dy[i] * mask[i]
            i &+= 1
        }
    }
}

/// Row-wise softmax, shifted by the row maximum so that exp never overflows.
enum Softmax {
    static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        shiftedExponentials(x: x, y: y, rows: rows, cols: cols)
        for r in 0 ..< rows {
            let yr = y + r &* cols
            var total: Float = 0
            for j in 0 ..< cols { total += yr[j] }
            scaleInPlace(yr, count: cols, by: 1 / total)
        }
    }

    /// y = e^(x − the row's maximum), row by row, not normalised: each row has a 1 where its
    /// maximum is, and the exponentials of the whole batch are taken eight at a time.
    static func shiftedExponentials(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0 ..< rows {
            let xr = x + r &* cols, yr = y + r &* cols
            let peak = maximum(xr, count: cols)
            for j in 0 ..< cols { yr[j] = xr[j] - peak }
        }
        expInPlace(y, count: rows &* cols)
    }

    /// The largest of `count` ≥ 1 values (a NaN after the first is skipped, as the comparison fails).
    @inline(__always)
    static func maximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
        var peak = row[0]
        for j in 1 ..< count { peak = row[j] > peak ? row[j] : peak }
        return peak
    }

    /// dx = y ⊙ (dy − Σ dy·y), row by row.
    static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0 ..< rows {
            let yr = y + r &* cols, dyr = dy + r &* cols, dxr = dx + r &* cols
            var dot8 = Float8(), dotTail: Float = 0
            var j = 0
            while j &+ 8 <= cols {
                dot8 += load8(dyr, j) * load8(yr, j)
                j &+= 8
            }
            while j < cols {
                dotTail += dyr[j] * yr[j]
                j &+= 1
            }
            let dot = dot8.sum() + dotTail
            j = 0
            while j &+ 8 <= cols {
                store8(load8(dxr, j) + load8(yr, j) * (load8(dyr, j) - dot), dxr, j)
                j &+= 8
            }
            while j < cols {
                dxr[j] += yr[j] * (dyr[j] - dot)
                j &+= 1
            }
        }
    }
}
