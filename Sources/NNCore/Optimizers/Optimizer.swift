/// An update rule for the parameters, given their gradient g and the learning rate η.
///
/// Every rule reads one flat parameter block, its gradient block and up to two slot blocks of
/// the same layout (`TrainingState.firstMoment`, `.secondMoment`).

import NNKernels

public enum Optimizer: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Plain gradient descent: p ← p − η·g.
    case sgd
    /// Momentum (the lecture's form): v ← μ·v − η·g; p ← p + v.
    case momentum(Float = 0.9)
    /// Nesterov momentum (the lecture's form): v′ ← μ·v − η·g; p ← p − μ·v + (1 + μ)·v′.
    case nesterov(Float = 0.9)
    /// Adagrad: c ← c + g²; p ← p − η·g / (√c + ε).
    case adagrad(epsilon: Float = 1e-8)
    /// RMSProp: c ← ρ·c + (1 − ρ)·g²; p ← p − η·g / (√c + ε).
    case rmsprop(decay: Float = 0.9, epsilon: Float = 1e-8)
    /// Adam with bias correction: m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
    /// p ← p − η·m̂ / (√v̂ + ε).
    case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// AdamW: Adam plus decoupled weight decay on weights (not biases): p ← p − η·λ·p first.
    case adamW(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01)

    /// How many parameter-sized slot blocks the rule keeps.
    public var slotCount: Int {
        switch self {
        case .sgd: return 0
        case .momentum, .nesterov, .adagrad, .rmsprop: return 1
        case .adam, .adamW: return 2
        }
    }

    /// The short name: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.
    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum: return "momentum"
        case .nesterov: return "nesterov"
        case .adagrad: return "adagrad"
        case .rmsprop: return "rmsprop"
        case .adam: return "adam"
        case .adamW: return "adamw"
        }
    }

    public var description: String {
        switch self {
        case .sgd: return "sgd"
        case .momentum(let mu): return "momentum(μ=\(mu))"
        case .nesterov(let mu): return "nesterov(μ=\(mu))"
        case .adagrad(let eps): return "adagrad(ε=\(eps))"
        case .rmsprop(let rho, let eps): return "rmsprop(ρ=\(rho), ε=\(eps))"
        case .adam(let b1, let b2, let eps): return "adam(β₁=\(b1), β₂=\(b2), ε=\(eps))"
        case .adamW(let b1, let b2, let eps, let wd): return "adamw(β₁=\(b1), β₂=\(b2), ε=\(eps), λ=\(wd))"
        }
    }

    /// Parses a name with default hyper-parameters ("sgd", "momentum", "nesterov", "adagrad",
    /// "rmsprop", "adam", "adamw"). - Throws: `.invalidArgument` naming the known optimisers.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "sgd": self = .sgd
        case "momentum": self = .momentum()
        case "nesterov": self = .nesterov()
        case "adagrad": self = .adagrad()
        case "rmsprop": self = .rmsprop()
        case "adam": self = .adam()
        case "adamw": self = .adamW()
        default: throw NNError.invalidArgument("unknown optimizer '\(name)'; known: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
        }
    }

    func validate() throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw NNError.badHyperparameter("\(name): \(what)") }
        }
        switch self {
        case .sgd: break
        case .momentum(let mu), .nesterov(let mu):
            try check(mu.isFinite && mu >= 0 && mu < 1, "momentum must be in [0, 1), got \(mu)")
        case .adagrad(let eps):
            try check(eps.isFinite && eps > 0, "ε must be positive, got \(eps)")
        case .rmsprop(let rho, let eps):
            try check(rho.isFinite && rho >= 0 && rho < 1, "decay must be in [0, 1), got \(rho)")
            try check(eps.isFinite && eps > 0, "ε must be positive, got \(eps)")
        case .adam(let b1, let b2, let eps), .adamW(let b1, let b2, let eps, _):
            try check(b1.isFinite && b1 >= 0 && b1 < 1, "β₁ must be in [0, 1), got \(b1)")
            try check(b2.isFinite && b2 >= 0 && b2 < 1, "β₂ must be in [0, 1), got \(b2)")
            try check(eps.isFinite && eps > 0, "ε must be positive, got \(eps)")
            if case .adamW(_, _, _, let wd) = self {
                try check(wd.isFinite && wd >= 0, "weight decay must be ≥ 0, got \(wd)")
            }
        }
    }

    /// Applies one update to `p` in place, using gradient `g` and slots `m`, `v`
    /// (each `count` long; `v` unused by one-slot rules). `step` is the 1-based update number
    /// (Adam's bias correction). AdamW decays only the `tensors` that are weights. The pointers
    /// may start at parameter `offset` of the model's block (a part of it, `ParameterStep`):
    /// `tensors`' offsets count from the block's start.
    /// - Returns: whether every updated parameter is finite.
    ///
    /// The loops run eight parameters at a time (SIMD8, each lane the scalar formula, so the
    /// updates are bit for bit those of an element-by-element loop); the finiteness check is the
    /// lane-wise sum of p·0 (plus a scalar one for the last count % 8), which is 0 while every
    /// new value is finite and NaN once one is not.
    func update(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>?,
                v: UnsafeMutablePointer<Float>?, count: Int, learningRate lr: Float, step: Int,
                tensors: [ParameterTensor], offset: Int = 0) -> Bool {
        var check = Float8(), checkTail: Float = 0  // stay finite only while every new value is
        /// Adagrad and RMSProp: c ← keep·c + gain·g²; p ← p − η·g / (√c + ε).
        @inline(__always) func rootMeanSquareStep(_ c: UnsafeMutablePointer<Float>, keep: Float, gain: Float, eps: Float) {
            var i = 0
            while i &+ 8 <= count {
                let gi = load8(g, i)
                let ci = keep * load8(c, i) + gain * gi * gi
                let pi = load8(p, i) - lr * gi / (ci.squareRoot() + eps)
                store8(ci, c, i)
                store8(pi, p, i)
                check += pi * 0
                i &+= 8
            }
            while i < count {
                c[i] = keep * c[i] + gain * g[i] * g[i]
                p[i] -= lr * g[i] / (c[i].squareRoot() + eps)
                checkTail += p[i] * 0
                i &+= 1
            }
        }
        switch self {
        case .sgd:
            var i = 0
            while i &+ 8 <= count {
                let pi = load8(p, i) - lr * load8(g, i)
                store8(pi, p, i)
                check += pi * 0
                i &+= 8
            }
            while i < count {
                p[i] -= lr * g[i]; checkTail += p[i] * 0
                i &+= 1
            }
        case .momentum(let mu):
            let m = m!
            var i = 0
            while i &+ 8 <= count {
                let mi = mu * load8(m, i) - lr * load8(g, i)
                let pi = load8(p, i) + mi
                store8(mi, m, i)
                store8(pi, p, i)
                check += pi * 0
                i &+= 8
            }
            while i < count {
                m[i] = mu * m[i] - lr * g[i]
                p[i] += m[i]
                checkTail += p[i] * 0
                i &+= 1
            }
        case .nesterov(let mu):
            let m = m!
            var i = 0
            while i &+ 8 <= count {
                let previous = load8(m, i)
                let mi = mu * previous - lr * load8(g, i)
                let pi = load8(p, i) + (-mu * previous + (1 + mu) * mi)
                store8(mi, m, i)
                store8(pi, p, i)
                check += pi * 0
                i &+= 8
            }
            while i < count {
                let previous = m[i]
                m[i] = mu * m[i] - lr * g[i]
                p[i] += -mu * previous + (1 + mu) * m[i]
                checkTail += p[i] * 0
                i &+= 1
            }
        case .adagrad(let eps):
            // keep = gain = 1 gives exactly c + g² (multiplying by 1 is exact).
            rootMeanSquareStep(m!, keep: 1, gain: 1, eps: eps)
        case .rmsprop(let rho, let eps):
            rootMeanSquareStep(m!, keep: rho, gain: 1 - rho, eps: eps)
        case .adam(let b1, let b2, let eps), .adamW(let b1, let b2, let eps, _):
            if case .adamW(_, _, _, let decay) = self, decay > 0 {
                let shrink = 1 - lr * decay
                for t in tensors where t.kind == .weight {
                    let first = max(t.offset, offset), end = min(t.offset + t.count, offset + count)
                    var i = first
                    while i < end {
                        p[i &- offset] *= shrink
                        i &+= 1
                    }
                }
            }
            let m = m!, v = v!
            let correction1 = Float(1 - _powDouble(Double(b1), step))
            let correction2 = Float(1 - _powDouble(Double(b2), step))
            let stepSize = lr / correction1
            let invSqrtCorrection2 = 1 / correction2.squareRoot()
            var i = 0
            while i &+ 8 <= count {
                let gi = load8(g, i)
                let mi = b1 * load8(m, i) + (1 - b1) * gi
                let vi = b2 * load8(v, i) + (1 - b2) * gi * gi
                let pi = load8(p, i) - stepSize * mi / (vi.squareRoot() * invSqrtCorrection2 + eps)
                store8(mi, m, i)
                store8(vi, v, i)
                store8(pi, p, i)
                check += pi * 0
                i &+= 8
            }
            while i < count {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                p[i] -= stepSize * m[i] / (v[i].squareRoot() * invSqrtCorrection2 + eps)
                checkTail += p[i] * 0
                i &+= 1
            }
        }
        return (check.sum() + checkTail).isFinite
    }
}

/// x^n for a non-negative integer n, by repeated squaring (exact enough and Foundation-free).
func _powDouble(_ x: Double, _ n: Int) -> Double {
    var result = 1.0, base = x, e = max(n, 0)
    while e > 0 {
        if e & 1 == 1 { result *= base }
        base *= base
        e >>= 1
    }
    return result
}
