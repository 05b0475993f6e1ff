/// The Weston–Watkins multiclass SVM loss with margin 1: ℓᵢ = Σ_{j≠yᵢ} max(0, s_j − s_yᵢ + 1).
enum MulticlassHinge {
    /// scores (rows, classes), labels (rows, 1), weights (rows, 1)? → mean loss.
    static func forward(scores: UnsafePointer<Float>, labels: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                        rows: Int, classes: Int) throws -> Float {
        let normaliser = try LossSupport.normaliser(weights, rows: rows)
        var loss: Double = 0
        for r in 0 ..< rows {
            let label = try LossSupport.classIndex(labels, row: r, classes: classes)
            let s = scores + r &* classes
            let correct = s[label]
            var rowLoss: Float = 0
            for j in 0 ..< classes where j != label { rowLoss += max(0, s[j] - correct + 1) }
            loss += Double(LossSupport.share(weights, row: r, normaliser: normaliser) * rowLoss)
        }
        return Float(loss)
    }

    /// Each violated margin adds +g to its class and −g to the correct class.
    static func backward(scores: UnsafePointer<Float>, labels: UnsafePointer<Float>, weights: UnsafePointer<Float>?,
                         dLoss: Float, dScores: UnsafeMutablePointer<Float>, rows: Int, classes: Int) {
        let normaliser = (try? LossSupport.normaliser(weights, rows: rows)) ?? Float(rows)
        for r in 0 ..< rows {
            let g = dLoss * LossSupport.share(weights, row: r, normaliser: normaliser)
            let label = Int(labels[r])
            let s = scores + r &* classes, d = dScores + r &* classes
            let correct = s[label]
            var violations: Float = 0
            for j in 0 ..< classes where j != label && s[j] - correct + 1 > 0 {
                d[j] += g
                violations += 1
            }
            d[label] -= g * violations
        }
    }
}
