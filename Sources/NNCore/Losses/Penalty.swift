/// Weight penalties: L2 = λ·Σx² (gradient 2λx) and L1 = λ·Σ|x| (subgradient λ·sign x, 0 at 0).
enum Penalty {
    static func l2Forward(x: UnsafePointer<Float>, count: Int, lambda: Float) -> Float {
        var total: Float = 0
        for i in 0 ..< count { total += x[i] * x[i] }
        return lambda * total
    }
    static func l2Backward(x: UnsafePointer<Float>, dLoss: Float, dx: UnsafeMutablePointer<Float>, count: Int, lambda: Float) {
        let g = 2 * lambda * dLoss
        for i in 0 ..< count { dx[i] += g * x[i] }
    }
    static func l1Forward(x: UnsafePointer<Float>, count: Int, lambda: Float) -> Float {
        var total: Float = 0
        for i in 0 ..< count { total += abs(x[i]) }
        return lambda * total
    }
    static func l1Backward(x: UnsafePointer<Float>, dLoss: Float, dx: UnsafeMutablePointer<Float>, count: Int, lambda: Float) {
        let g = lambda * dLoss
        for i in 0 ..< count { dx[i] += x[i] > 0 ? g : (x[i] < 0 ? -g : 0) }
    }
}
