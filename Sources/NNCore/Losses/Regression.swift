/// Mean squared error: ℓᵢ = (1/cols) Σ_j (p_ij − t_ij)², so the unweighted loss is the mean
/// over every element (as PyTorch's `MSELoss`).
enum MeanSquaredError {
    static func forward(predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                        rows: Int, cols: Int) throws -> Float {
        let normaliser = try LossSupport.normaliser(weights, rows: rows)
        var loss: Double = 0
        for r in 0 ..< rows {
            let p = predictions + r &* cols, t = targets + r &* cols
            var rowLoss: Float = 0
            for j in 0 ..< cols { let e = p[j] - t[j]; rowLoss += e * e }
            loss += Double(LossSupport.share(weights, row: r, normaliser: normaliser) * rowLoss / Float(cols))
        }
        return Float(loss)
    }

    /// dP += g·shareᵢ·2(p − t)/cols; dT −= the same.
    static func backward(predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                         dLoss: Float, dPredictions: UnsafeMutablePointer<Float>?, dTargets: UnsafeMutablePointer<Float>?,
                         rows: Int, cols: Int) {
        let normaliser = (try? LossSupport.normaliser(weights, rows: rows)) ?? Float(rows)
        for r in 0 ..< rows {
            let g = dLoss * LossSupport.share(weights, row: r, normaliser: normaliser) * 2 / Float(cols)
            let offset = r &* cols
            // The optionals are unwrapped outside the loops, so each loop vectorises.
            if let dPredictions {
                for j in 0 ..< cols { dPredictions[offset &+ j] += g * (predictions[offset &+ j] - targets[offset &+ j]) }
            }
            if let dTargets {
                for j in 0 ..< cols { dTargets[offset &+ j] -= g * (predictions[offset &+ j] - targets[offset &+ j]) }
            }
        }
    }
}

/// Binary cross-entropy on logits: ℓᵢ = (1/cols) Σ_j max(z, 0) − z·t + ln(1 + e^−|z|), which
/// equals −t·ln σ(z) − (1 − t)·ln(1 − σ(z)) without ever taking the log of 0.
enum BinaryCrossEntropy {
    static func forward(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                        rows: Int, cols: Int) throws -> Float {
        let normaliser = try LossSupport.normaliser(weights, rows: rows)
        var loss: Double = 0
        for r in 0 ..< rows {
            let z = logits + r &* cols, t = targets + r &* cols
            var rowLoss: Float = 0
            for j in 0 ..< cols { rowLoss += max(z[j], 0) - z[j] * t[j] + _log1p(_exp(-abs(z[j]))) }
            loss += Double(LossSupport.share(weights, row: r, normaliser: normaliser) * rowLoss / Float(cols))
        }
        return Float(loss)
    }

    /// dZ += g·shareᵢ·(σ(z) − t)/cols; dT −= g·shareᵢ·z/cols.
    static func backward(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                         dLoss: Float, dLogits: UnsafeMutablePointer<Float>?, dTargets: UnsafeMutablePointer<Float>?,
                         rows: Int, cols: Int) {
        let normaliser = (try? LossSupport.normaliser(weights, rows: rows)) ?? Float(rows)
        for r in 0 ..< rows {
            let g = dLoss * LossSupport.share(weights, row: r, normaliser: normaliser) / Float(cols)
            let offset = r &* cols
            for j in 0 ..< cols {
                dLogits?[offset &+ j] += g * (ActivationKernel.sigmoid(logits[offset &+ j]) - targets[offset &+ j])
                dTargets?[offset &+ j] -= g * logits[offset &+ j]
            }
        }
    }
}
