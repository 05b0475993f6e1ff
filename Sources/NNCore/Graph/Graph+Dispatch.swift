// Forward and backward of one node: unpack the node's buffers and call the op's kernels
// (Ops/ and Losses/), where each op's forward and backward sit next to each other.

import NNKernels

extension Graph {
    @inline(__always) private func val(_ id: Int) -> UnsafeMutablePointer<Float> { records[id].value! }

    func forwardNode(_ i: Int) throws {
        let r = records[i]
        let y = r.value!
        let n = activeRows(i), cols = r.cols
        switch r.op {
        case .input, .parameter, .constant:
            break
        case .matmul:
            MatMul.forward(a: val(r.a), b: val(r.b), c: y, m: n, k: records[r.a].cols, n: cols, scratch: r.auxiliary)
        case .affine:
            Affine.forward(x: val(r.a), w: val(r.b), bias: val(r.c), y: y, m: n, k: records[r.a].cols, n: cols,
                           scratch: r.auxiliary, epilogue: r.epilogue)
        case .biasAdd:
            BiasAdd.forward(x: val(r.a), bias: val(r.b), y: y, rows: n, cols: cols)
        case .add, .sub, .mul:
            Broadcast.forward(r.op, a: val(r.a), aShape: broadcastShape(r.a), b: val(r.b), bShape: broadcastShape(r.b),
                              y: y, rows: n, cols: cols)
        case .scale(let s):
            Scale.forward(x: val(r.a), y: y, count: n &* cols, s: s)
        case .sum, .mean:
            Reduce.forward(x: val(r.a), count: activeCount(r.a), y: y, mean: r.op == .mean)
        case .exp:
            Exp.forward(x: val(r.a), y: y, count: n &* cols)
        case .log:
            Log.forward(x: val(r.a), y: y, count: n &* cols)
        case .activation(let f):
            if !r.fusedIntoInput { ActivationKernel.forward(f, x: val(r.a), y: y, count: n &* cols) }
        case .maxout(let pieces):
            Maxout.forward(x: val(r.a), y: y, rows: n, units: cols, pieces: pieces)
        case .dropout(let rate):
            Dropout.forward(x: val(r.a), y: y, mask: r.auxiliary!.baseAddress!, count: n &* cols, rate: rate,
                            training: isTraining, random: &random)
        case .softmax:
            Softmax.forward(x: val(r.a), y: y, rows: n, cols: cols)
        case .softmaxCrossEntropy:
            y[0] = try SoftmaxCrossEntropy.forward(logits: val(r.a), labels: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                                   probabilities: r.auxiliary!.baseAddress!, rows: activeRows(r.a), classes: records[r.a].cols)
        case .multiclassHinge:
            y[0] = try MulticlassHinge.forward(scores: val(r.a), labels: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                               rows: activeRows(r.a), classes: records[r.a].cols)
        case .meanSquaredError:
            y[0] = try MeanSquaredError.forward(predictions: val(r.a), targets: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                                rows: activeRows(r.a), cols: records[r.a].cols)
        case .binaryCrossEntropyWithLogits:
            y[0] = try BinaryCrossEntropy.forward(logits: val(r.a), targets: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                                  rows: activeRows(r.a), cols: records[r.a].cols)
        case .l2Penalty(let lambda):
            y[0] = Penalty.l2Forward(x: val(r.a), count: activeCount(r.a), lambda: lambda)
        case .l1Penalty(let lambda):
            y[0] = Penalty.l1Forward(x: val(r.a), count: activeCount(r.a), lambda: lambda)
        }
    }

    /// Applies node `i`'s chain rule to its inputs' gradients. Kernels that can overwrite get
    /// `gradientDestination` (the first contribution of the pass overwrites); the others add to
    /// a buffer `accumulatingGradient` has zeroed if needed.
    func backwardNode(_ i: Int) {
        let r = records[i]
        let y = r.value!, dy = r.gradient!
        let n = activeRows(i), cols = r.cols
        @inline(__always) func grad(_ id: Int) -> UnsafeMutablePointer<Float>? { accumulatingGradient(id) }
        switch r.op {
        case .input, .parameter, .constant:
            break
        case .matmul:
            let da = gradientDestination(r.a)
            MatMul.backward(a: val(r.a), b: val(r.b), dc: dy, da: da?.0, db: nil, m: n, k: records[r.a].cols, n: cols,
                            accumulateA: da?.accumulate ?? true, scratch: r.auxiliary)
            let db = gradientDestination(r.b)
            MatMul.backward(a: val(r.a), b: val(r.b), dc: dy, da: nil, db: db?.0, m: n, k: records[r.a].cols, n: cols,
                            accumulateB: db?.accumulate ?? true)
        case .affine:
            let dw = gradientDestination(r.b)
            let dbias = gradientDestination(r.c)
            let x = records[r.a]
            if x.inputGradientByConsumer == i, case .activation(let f) = x.op,
               let derivative = ActivationKernel.registerActivation(f) {
                // x = f(z) with f's backward skipped (`planActivationFusion`): write dz here.
                guard let dz = gradientDestination(x.a) else { break }
                let fPrime = SmallProduct.Derivative(output: val(r.a), ld: x.cols, activation: derivative)
                if dz.accumulate {
                    // Something else wrote dz first (not in the graphs planned): dx, then f′ added.
                    let dx = x.gradient!
                    Affine.backward(x: val(r.a), w: val(r.b), dy: dy, dx: dx, dw: nil, dbias: nil, m: n, k: x.cols, n: cols,
                                    accumulateX: false, scratch: r.auxiliary)
                    ActivationKernel.backward(f, x: val(r.a), y: val(r.a), dy: dx, dx: dz.0, count: n &* x.cols)
                    Affine.backward(x: val(r.a), w: val(r.b), dy: dy, dx: nil, dw: dw?.0, dbias: dbias?.0, m: n, k: x.cols,
                                    n: cols, accumulateW: dw?.accumulate ?? true, accumulateBias: dbias?.accumulate ?? true)
                } else {
                    Affine.backward(x: val(r.a), w: val(r.b), dy: dy, dx: dz.0, dw: dw?.0, dbias: dbias?.0,
                                    m: n, k: x.cols, n: cols, accumulateX: false, accumulateW: dw?.accumulate ?? true,
                                    accumulateBias: dbias?.accumulate ?? true, scratch: r.auxiliary, derivativeOfX: fPrime)
                }
                break
            }
            let dx = gradientDestination(r.a)
            Affine.backward(x: val(r.a), w: val(r.b), dy: dy, dx: dx?.0, dw: dw?.0, dbias: dbias?.0,
                            m: n, k: x.cols, n: cols, accumulateX: dx?.accumulate ?? true,
                            accumulateW: dw?.accumulate ?? true, accumulateBias: dbias?.accumulate ?? true,
                            scratch: r.auxiliary)
        case .biasAdd:
            BiasAdd.backward(dy: dy, dx: grad(r.a), dbias: grad(r.b), rows: n, cols: cols)
        case .add, .sub, .mul:
            Broadcast.backward(r.op, a: val(r.a), aShape: broadcastShape(r.a), da: grad(r.a),
                               b: val(r.b), bShape: broadcastShape(r.b), db: grad(r.b), dy: dy, rows: n, cols: cols)
        case .scale(let s):
            if let dx = grad(r.a) { Scale.backward(dy: dy, dx: dx, count: n &* cols, s: s) }
        case .sum, .mean:
            if let dx = grad(r.a) { Reduce.backward(dy: dy[0], dx: dx, count: activeCount(r.a), mean: r.op == .mean) }
        case .exp:
            if let dx = grad(r.a) { Exp.backward(y: y, dy: dy, dx: dx, count: n &* cols) }
        case .log:
            if let dx = grad(r.a) { Log.backward(x: val(r.a), dy: dy, dx: dx, count: n &* cols) }
        case .activation(let f):
            if let (dx, accumulate) = gradientDestination(r.a) {
                ActivationKernel.backward(f, x: val(r.a), y: y, dy: dy, dx: dx, count: n &* cols, accumulate: accumulate)
            }
        case .maxout(let pieces):
            if let dx = grad(r.a) { Maxout.backward(x: val(r.a), dy: dy, dx: dx, rows: n, units: cols, pieces: pieces) }
        case .dropout:
            if let dx = grad(r.a) { Dropout.backward(mask: r.auxiliary!.baseAddress!, dy: dy, dx: dx, count: n &* cols) }
        case .softmax:
            if let dx = grad(r.a) { Softmax.backward(y: y, dy: dy, dx: dx, rows: n, cols: cols) }
        case .softmaxCrossEntropy:
            if let (dx, accumulate) = gradientDestination(r.a) {
                SoftmaxCrossEntropy.backward(probabilities: r.auxiliary!.baseAddress!, labels: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                             dLoss: dy[0], dLogits: dx, rows: activeRows(r.a), classes: records[r.a].cols,
                                             accumulate: accumulate)
            }
        case .multiclassHinge:
            if let dx = grad(r.a) {
                MulticlassHinge.backward(scores: val(r.a), labels: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                         dLoss: dy[0], dScores: dx, rows: activeRows(r.a), classes: records[r.a].cols)
            }
        case .meanSquaredError:
            MeanSquaredError.backward(predictions: val(r.a), targets: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                      dLoss: dy[0], dPredictions: grad(r.a), dTargets: grad(r.b),
                                      rows: activeRows(r.a), cols: records[r.a].cols)
        case .binaryCrossEntropyWithLogits:
            BinaryCrossEntropy.backward(logits: val(r.a), targets: val(r.b), weights: r.c >= 0 ? val(r.c) : nil,
                                        dLoss: dy[0], dLogits: grad(r.a), dTargets: grad(r.b),
                                        rows: activeRows(r.a), cols: records[r.a].cols)
        case .l2Penalty(let lambda):
            if let (dx, accumulate) = gradientDestination(r.a) {
                Penalty.l2Backward(x: val(r.a), dLoss: dy[0], dx: dx, count: activeCount(r.a), lambda: lambda, accumulate: accumulate)
            }
        case .l1Penalty(let lambda):
            if let dx = grad(r.a) { Penalty.l1Backward(x: val(r.a), dLoss: dy[0], dx: dx, count: activeCount(r.a), lambda: lambda) }
        }
    }

    /// The shape of an operand as broadcasting sees it: active rows and columns.
    @inline(__always) private func broadcastShape(_ id: Int) -> (rows: Int, cols: Int) { (activeRows(id), records[id].cols) }
}
