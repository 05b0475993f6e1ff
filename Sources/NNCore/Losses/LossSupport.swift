// What every loss shares: reading class labels safely and normalising by the sample weights.

enum LossSupport {
    /// The class index stored (as a float) in `labels[row]`.
    /// - Throws: `.labelOutOfRange` unless it is an integer in 0..<classes.
    @inline(__always)
    static func classIndex(_ labels: UnsafePointer<Float>, row: Int, classes: Int) throws -> Int {
        let value = labels[row]
        // In range, Int(value) cannot trap; converting back is exact and equals value iff it is an
        // integer (no call to truncf, which baseline x86-64 lacks an instruction for).
        guard value >= 0, value < Float(classes), Float(Int(value)) == value else {
            throw NNError(.labelOutOfRange, "row \(row): label \(value) is not a class index in 0..<\(classes)")
        }
        return Int(value)
    }

    /// The denominator of the mean: the number of rows, or the sum of the sample weights.
    /// A batch whose weights are all 0 contributes nothing (its normaliser is 1, every term 0).
    /// - Throws: `.invalidArgument` for a negative or non-finite weight.
    static func normaliser(_ weights: UnsafePointer<Float>?, rows: Int) throws -> Float {
        guard let weights else { return Float(rows) }
        var total: Float = 0
        for i in 0 ..< rows {
            let w = weights[i]
            guard w >= 0, w.isFinite else {
                throw NNError.invalidArgument("row \(i): sample weight \(w) must be finite and non-negative")
            }
            total += w
        }
        return total > 0 ? total : 1
    }

    /// The weight of one row in the mean: wᵢ / Σw, or 1/rows.
    @inline(__always)
    static func share(_ weights: UnsafePointer<Float>?, row: Int, normaliser: Float) -> Float {
        (weights?[row] ?? 1) / normaliser
    }
}
