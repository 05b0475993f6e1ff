/// Small synthetic data sets for examples, tests and benchmarks, generated from a seed.
public enum SyntheticData {
    /// The lecture's spiral: `classes` arms of `pointsPerClass` points in 2-D. Point i of arm k
    /// has radius r = i/(N−1) and angle t = 4k + 4·i/(N−1) + noise·𝒩(0, 1), at (r·sin t, r·cos t).
    /// Labels are the arm index. Rows are ordered arm by arm.
    /// - Throws: `.invalidArgument` for fewer than 2 points per class or 1 class.
    public static func spiral(pointsPerClass: Int = 100, classes: Int = 3, noise: Double = 0.2,
                              seed: UInt64 = 0) throws -> Dataset {
        guard pointsPerClass >= 2, classes >= 1, pointsPerClass * classes <= 10_000_000 else {
            throw NNError.invalidArgument("spiral: need ≥ 2 points per class and ≥ 1 class, got \(pointsPerClass) × \(classes)")
        }
        var random = RandomGenerator(seed: seed)
        var values = [Float](), labels = [Int]()
        values.reserveCapacity(pointsPerClass * classes * 2)
        for k in 0 ..< classes {
            for i in 0 ..< pointsPerClass {
                let r = Double(i) / Double(pointsPerClass - 1)
                let t = Double(4 * k) + 4 * Double(i) / Double(pointsPerClass - 1) + random.nextGaussian() * noise
                values.append(Float(r * _sin(t)))
                values.append(Float(r * _cos(t)))
                labels.append(k)
            }
        }
        return try Dataset(inputs: Matrix(rows: labels.count, cols: 2, values: values), labels: labels)
    }

    /// The four points of XOR: (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0.
    public static func xor() -> Dataset {
        // Four fixed rows: these initialisers cannot fail.
        try! Dataset(inputs: Matrix(rows: 4, cols: 2, values: [0, 0, 0, 1, 1, 0, 1, 1]), labels: [0, 1, 1, 0])
    }
}
