/// Softmax cross-entropy fused with the softmax: ℓᵢ = logsumexp(zᵢ) − zᵢ,yᵢ, stable for any
/// logits because the row maximum is subtracted first. Its gradient is p − onehot(y).
enum SoftmaxCrossEntropy {
    /// logits (rows, classes), labels (rows, 1), weights (rows, 1)? → mean loss;
    /// the probabilities (rows, classes) are kept for the backward pass.
    ///
    /// ℓᵢ = ln Σⱼ e^(zᵢⱼ − mᵢ) − (zᵢ,yᵢ − mᵢ) with mᵢ the row maximum, so each row's sum Sᵢ is in
    /// [1, classes]. Without sample weights every row has the same share, and Σ ln Sᵢ is taken as
    /// the logarithm of one product (in Double, rescaled by powers of two): one logarithm per
    /// batch instead of one per row, which was a sixth of a spiral training step.
    static func forward(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                        probabilities: UnsafeMutablePointer<Float>, rows: Int, classes: Int) throws -> Float {
        let normaliser = try LossSupport.normaliser(weights, rows: rows)
        // zᵢ − mᵢ into the probabilities, and Σ shareᵢ·(zᵢ,yᵢ − mᵢ).
        var labelTerms = 0.0
        for r in 0 ..< rows {
            let label = try LossSupport.classIndex(labels, row: r, classes: classes)
            let z = logits + r &* classes, y = probabilities + r &* classes
            let peak = Softmax.maximum(z, count: classes)
            for j in 0 ..< classes { y[j] = z[j] - peak }
            let shifted = Double(y[label])
            labelTerms += weights == nil ? shifted : Double(LossSupport.share(weights, row: r, normaliser: normaliser)) * shifted
        }
        if weights == nil { labelTerms /= Double(normaliser) }
        expInPlace(probabilities, count: rows &* classes)
        // Normalise each row by its sum Sᵢ, and Σ shareᵢ·ln Sᵢ: one loop per case, so that the
        // unweighted loop calls nothing (with the weighted case's logarithm in the same loop, a
        // profile showed the product stored to the stack and loaded again in every row).
        var logTerms = 0.0
        if let weights {
            for r in 0 ..< rows {
                let total = SoftmaxCrossEntropy.normalise(probabilities + r &* classes, classes: classes)
                logTerms += Double(LossSupport.share(weights, row: r, normaliser: normaliser) * _log(total))
            }
        } else {
            var product = 1.0, exponent = 0.0  // Π Sᵢ = product · 2^exponent
            for r in 0 ..< rows {
                product *= Double(SoftmaxCrossEntropy.normalise(probabilities + r &* classes, classes: classes))
                if product > 0x1p512 {
                    product *= 0x1p-512
                    exponent += 512
                }
            }
            logTerms = (_log(product) + exponent * 0.693_147_180_559_945_3) / Double(normaliser)
        }
        return Float(logTerms - labelTerms)
    }

    /// Divides a row of exponentials by their sum, which it returns.
    @inline(__always)
    static func normalise(_ y: UnsafeMutablePointer<Float>, classes: Int) -> Float {
        var total: Float = 0
        for j in 0 ..< classes { total += y[j] }
        let inverse = 1 / total
        for j in 0 ..< classes { y[j] *= inverse }
        return total
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
