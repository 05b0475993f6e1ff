/// Softmax cross-entropy fused with the softmax: ℓᵢ = logsumexp(zᵢ) − zᵢ,yᵢ, stable for any
/// logits because the row maximum is subtracted first. Its gradient is p − onehot(y).
enum SoftmaxCrossEntropy {
    /// logits (rows, classes), labels (rows, 1), weights (rows, 1)? → mean loss;
    /// the probabilities (rows, classes) are kept for the backward pass.
    static func forward(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                        probabilities: UnsafeMutablePointer<Float>, rows: Int, classes: Int) throws -> Float {
        let normaliser = try LossSupport.normaliser(weights, rows: rows)
        let uniformShare = LossSupport.share(nil, row: 0, normaliser: normaliser)  // 1/rows, one division
        Softmax.shiftedExponentials(x: logits, y: probabilities, rows: rows, cols: classes)
        var loss: Double = 0
        for r in 0 ..< rows {
            let label = try LossSupport.classIndex(labels, row: r, classes: classes)
            let z = logits + r &* classes, p = probabilities + r &* classes
            let peak = Softmax.maximum(z, count: classes)
            var total: Float = 0
            for j in 0 ..< classes { total += p[j] }
            scaleInPlace(p, count: classes, by: 1 / total)
            let rowLoss = _log(total) + (peak - z[label])  // the exact difference first: ln Σ may be tiny
            let share = weights == nil ? uniformShare : LossSupport.share(weights, row: r, normaliser: normaliser)
            loss += Double(share * rowLoss)
        }
        return Float(loss)
    }

    /// dLogits += dLoss · shareᵢ · (p − onehot(y)); with `accumulate` false, dLogits = ….
    static func backward(probabilities: UnsafePointer<Float>, labels: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                         dLoss: Float, dLogits: UnsafeMutablePointer<Float>, rows: Int, classes: Int, accumulate: Bool = true) {
        // The forward pass validated labels and weights.
        let normaliser = (try? LossSupport.normaliser(weights, rows: rows)) ?? Float(rows)
        guard weights != nil else {
            // Every row has the same share: one pass over the whole batch, then the labels.
            let g = dLoss * LossSupport.share(nil, row: 0, normaliser: normaliser)
            scaledAdd(g, probabilities, into: dLogits, count: rows &* classes, accumulate: accumulate)
            for r in 0 ..< rows { dLogits[r &* classes &+ Int(labels[r])] -= g }
            return
        }
        for r in 0 ..< rows {
            let g = dLoss * LossSupport.share(weights, row: r, normaliser: normaliser)
            let p = probabilities + r &* classes, d = dLogits + r &* classes
            for j in 0 ..< classes { d[j] = prior(d, j, accumulate) + g * p[j] }
            d[Int(labels[r])] -= g
        }
    }
}
