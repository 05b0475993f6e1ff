// The optimiser's step over the whole parameter block — the gradient's norm, clipping and the
// update — in fixed parts that the worker pool's threads share.
//
// Run on the caller alone, these two passes over the parameter, gradient and slot arrays kept the
// worker waiting: with two threads on net M (235k parameters, batches of 128), a build that
// skipped them trained about 9 % faster. In parts, both threads read and write their own share.
//
// The parts are fixed by the parameter count (`partFloats` each), never by the thread count or by
// timing: each part's sum of squares is kept apart and the sums are added in part order, and the
// update is element by element. So a step gives the same bits on any number of threads.

/// One model's optimiser steps (`Model.Storage.parameterStep`). Not thread-safe by itself: the
/// model's trainer runs one step at a time, whose parts run on the pool's threads.
final class ParameterStep: PoolTask, @unchecked Sendable {
    /// Parameters per part: 32 KB of each array, so that a part's gradient is still in cache when
    /// its update reads it. Net M has 29 parts, net L 513; a model of up to this many parameters
    /// runs its step on the caller alone.
    static let partFloats = 8192

    private enum Phase {
        case squares
        case update
    }

    // The current pass's, set before its parts run.
    private var phase = Phase.squares
    private var p: UnsafeMutablePointer<Float>? = nil
    private var g: UnsafeMutablePointer<Float>? = nil
    private var m: UnsafeMutablePointer<Float>? = nil
    private var v: UnsafeMutablePointer<Float>? = nil
    private var count = 0
    private var optimizer = Optimizer.sgd
    private var learningRate: Float = 0
    private var step = 0
    private var scale: Float = 1
    private var tensors: [ParameterTensor] = []
    /// Per part: its sum of squares of the gradient, or 1 when its new parameters are all finite
    /// and 0 when not. Grown when a larger block needs more parts, then reused.
    private var results = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var capacity = 0

    deinit { results.deallocate() }

    /// √(Σ gᵢ²) over the `count` gradients at `g`.
    func gradientNorm(_ g: UnsafeMutablePointer<Float>, count: Int) -> Float {
        self.g = g
        self.count = count
        phase = .squares
        let parts = perform()
        var total = 0.0
        for part in 0 ..< parts { total += Double(results[part]) }
        return Float(total.squareRoot())
    }

    /// Multiplies the gradient by `scale` (when it is not 1: clipping) and applies `optimizer`'s
    /// update to the `count` parameters at `p` (slots `m`, `v` as `Optimizer.update` takes them).
    /// - Returns: whether every new parameter is finite.
    func update(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>?,
                v: UnsafeMutablePointer<Float>?, count: Int, optimizer: Optimizer, learningRate: Float, step: Int,
                tensors: [ParameterTensor], scale: Float) -> Bool {
        (self.p, self.g, self.m, self.v, self.count) = (p, g, m, v, count)
        (self.optimizer, self.learningRate, self.step, self.tensors, self.scale) = (optimizer, learningRate, step, tensors, scale)
        phase = .update
        defer { self.tensors = [] }
        let parts = perform()
        for part in 0 ..< parts where results[part] == 0 { return false }
        return true
    }

    /// Runs the current phase's parts on the pool and returns how many there were.
    private func perform() -> Int {
        let parts = max(1, (count + ParameterStep.partFloats - 1) / ParameterStep.partFloats)
        if parts > capacity {
            results.deallocate()
            results = .allocate(capacity: parts)
            capacity = parts
        }
        WorkerPool.shared.perform(parts: parts, of: self)
        return parts
    }

    func run(part: Int) {
        let first = part &* ParameterStep.partFloats
        let n = min(ParameterStep.partFloats, count &- first)
        guard n > 0, let g else {
            results[part] = phase == .squares ? 0 : 1
            return
        }
        switch phase {
        case .squares:
            results[part] = sumOfSquares(g + first, count: n)
        case .update:
            if scale != 1 { scaleInPlace(g + first, count: n, by: scale) }
            let finite = optimizer.update(p: p! + first, g: g + first, m: m.map { $0 + first }, v: v.map { $0 + first },
                                          count: n, learningRate: learningRate, step: step, tensors: tensors,
                                          offset: first)
            results[part] = finite ? 1 : 0
        }
    }
}
