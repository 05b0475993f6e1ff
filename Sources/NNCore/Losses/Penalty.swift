/// Weight penalties: L2 = λ·Σx² (gradient 2λx) and L1 = λ·Σ|x| (subgradient λ·sign x, 0 at 0).
/// The sums run in several SIMD accumulators, so they differ from a serial sum in the last bits.

import NNKernels

enum Penalty {
    static func l2Forward(x: UnsafePointer<Float>, count: Int, lambda: Float) -> Float {
        lambda * sumOfSquares(x, count: count)
    }
    /// dx += 2λ·dLoss·x (dx = … when `accumulate` is false).
    static func l2Backward(x: UnsafePointer<Float>, dLoss: Float, dx: UnsafeMutablePointer<Float>, count: Int, lambda: Float,
                           accumulate: Bool = true) {
        scaledAdd(2 * lambda * dLoss, x, into: dx, count: count, accumulate: accumulate)
    }
    static func l1Forward(x: UnsafePointer<Float>, count: Int, lambda: Float) -> Float {
        lambda * sumOfMagnitudes(x, count: count)
    }
    static func l1Backward(x: UnsafePointer<Float>, dLoss: Float, dx: UnsafeMutablePointer<Float>, count: Int, lambda: Float) {
        let g = lambda * dLoss
        // x > 0 ? g : (x < 0 ? −g : 0) lane-wise, as selects rather than branches.
        let plus = Float8(repeating: g), minus = Float8(repeating: -g)
        var i = 0
        while i &+ 8 <= count {
            let v = load8(x, i)
            store8(load8(dx, i) + Float8().replacing(with: minus, where: v .< 0).replacing(with: plus, where: v .> 0), dx, i)
            i &+= 8
        }
        while i < count {
            dx[i] += x[i] > 0 ? g : (x[i] < 0 ? -g : 0)
            i &+= 1
        }
    }
}
