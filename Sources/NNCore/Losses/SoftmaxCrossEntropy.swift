import NNKernels

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
        var labelTerms = 0.0, logTerms = 0.0
        var product = 1.0, exponent = 0.0  // unweighted: Π Sᵢ = product · 2^exponent
        // Σ shareᵢ·ln Sᵢ: the weighted rows' logarithms; the unweighted rows' product.
        @inline(__always) func addLogTerm(_ total: Float, row r: Int) {
            if let weights {
                logTerms += Double(LossSupport.share(weights, row: r, normaliser: normaliser) * _log(total))
            } else {
                product *= Double(total)
                if product > 0x1p512 {
                    product *= 0x1p-512
                    exponent += 512
                }
            }
        }
        @inline(__always) func addLabelTerm(_ shifted: Float, row r: Int) {
            labelTerms += weights == nil ? Double(shifted)
                : Double(LossSupport.share(weights, row: r, normaliser: normaliser)) * Double(shifted)
        }
        // Eight rows at a time while a row has at most eight classes (`narrowRows`), then the
        // rest row by row; both add each row's terms in row order and give the same bits.
        var first = 0
        if classes <= 8 {
            while first &+ 8 <= rows {
                let totals = try narrowRows(first, logits: logits, labels: labels, probabilities: probabilities,
                                            classes: classes, labelTerm: addLabelTerm)
                for lane in 0 ..< 8 { addLogTerm(totals[lane], row: first &+ lane) }
                first &+= 8
            }
        }
        // zᵢ − mᵢ into the probabilities, and Σ shareᵢ·(zᵢ,yᵢ − mᵢ).
        for r in first ..< rows {
            let label = try LossSupport.classIndex(labels, row: r, classes: classes)
            let z = logits + r &* classes, y = probabilities + r &* classes
            let peak = Softmax.maximum(z, count: classes)
            for j in 0 ..< classes { y[j] = z[j] - peak }
            addLabelTerm(y[label], row: r)
        }
        expInPlace(probabilities + first &* classes, count: (rows &- first) &* classes)
        // Normalise each row by its sum Sᵢ.
        for r in first ..< rows {
            addLogTerm(SoftmaxCrossEntropy.normalise(probabilities + r &* classes, classes: classes), row: r)
        }
        if weights == nil {
            labelTerms /= Double(normaliser)
            logTerms = (_log(product) + exponent * 0.693_147_180_559_945_3) / Double(normaliser)
        }
        return Float(logTerms - labelTerms)
    }

    /// Rows `first ..< first + 8` of the forward pass for at most eight classes, one row per
    /// lane: class j of the eight rows is one vector (gathered from the logits, scattered into
    /// the probabilities), so the maximum, the shift, the exponential and the normalisation run
    /// on eight rows at once instead of one short row at a time. Each lane computes what the
    /// row-by-row loops compute for its row, in the same order (the maximum and the sum over the
    /// classes in increasing j), so the bits are the same. Calls `labelTerm` for the rows in
    /// order and returns their sums Sᵢ.
    @inline(__always)
    static func narrowRows(_ first: Int, logits: UnsafePointer<Float>, labels: UnsafePointer<Float>,
                           probabilities: UnsafeMutablePointer<Float>, classes: Int,
                           labelTerm: (Float, Int) -> Void) throws -> Float8 {
        var z = InlineArray<8, Float8>(repeating: Float8())
        let block = logits + first &* classes
        for j in 0 ..< classes {
            for lane in 0 ..< 8 { z[j][lane] = block[lane &* classes &+ j] }
        }
        var peak = z[0]
        for j in 1 ..< classes { peak = peak.replacing(with: z[j], where: z[j] .> peak) }
        for j in 0 ..< classes { z[j] -= peak }
        for lane in 0 ..< 8 {
            let label = try LossSupport.classIndex(labels, row: first &+ lane, classes: classes)
            labelTerm(z[label][lane], first &+ lane)
        }
        var total = Float8()
        for j in 0 ..< classes {
            z[j] = exp8(z[j])
            total += z[j]
        }
        let inverse = 1 / total
        let out = probabilities + first &* classes
        for j in 0 ..< classes {
            let y = z[j] * inverse
            for lane in 0 ..< 8 { out[lane &* classes &+ j] = y[lane] }
        }
        return total
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
