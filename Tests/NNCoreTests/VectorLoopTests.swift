// The SIMD exponential that softmax uses (`exp8`, `expInPlace`), against Double's exp.

@testable import NNCore
import NNKernels
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct VectorLoopTests {
    /// Over [−87, 88] (where eˣ is a normal float), every result — the last three, past the
    /// last multiple of eight, included — is within 2 ulp of the correctly rounded value, and e⁰
    /// is exactly 1.
    @Test func exp8IsWithinTwoUlpOverTheNormalRange() {
        let count = 200_003
        var values = (0 ..< count).map { Float(-87 + 175 * Double($0) / Double(count - 1)) }
        values[count / 2] = 0
        var results = values
        results.withUnsafeMutableBufferPointer { expInPlace($0.baseAddress!, count: count) }
        var worstUlps: Float = 0, worstAt: Float = 0
        for (x, y) in zip(values, results) {
            let exact = Float(exp(Double(x)))
            let ulps = abs(y - exact) / exact.ulp
            if ulps > worstUlps { (worstUlps, worstAt) = (ulps, x) }
        }
        #expect(worstUlps <= 2, "largest error \(worstUlps) ulp at x = \(worstAt)")
        #expect(results[count / 2] == 1)
    }

    /// Outside the normal range the result stays a finite normal float (softmax only ever asks
    /// for x ≤ 0, where a tiny positive value and 0 make no difference to a sum that holds a 1);
    /// NaN stays NaN.
    @Test func exp8ClampsLargeArgumentsAndKeepsNaN() {
        let v = exp8(Float8(-1000, -200, -88, .infinity * -1, 100, 1000, .nan, 0))
        for lane in 0 ..< 4 { #expect(v[lane] > 0 && v[lane] < 1.2e-38 * 1.01) }
        #expect(v[4].isFinite && v[4] > 1e38 && v[5] == v[4])
        #expect(v[6].isNaN)
        #expect(v[7] == 1)
    }
}

/// Softmax cross-entropy over rows of at most eight classes, which its forward pass computes
/// eight rows at a time (`SoftmaxCrossEntropy.narrowRows`, one row per SIMD lane).
struct NarrowSoftmaxTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rows: Int, classes: Int, weighted: Bool
        var testDescription: String { "\(rows) rows × \(classes) classes\(weighted ? ", weighted" : "")" }
    }

    static let cases = [
        Case(rows: 21, classes: 3, weighted: false),  // two blocks of eight, then five rows one by one
        Case(rows: 16, classes: 3, weighted: true),
        Case(rows: 13, classes: 8, weighted: false),
        Case(rows: 9, classes: 1, weighted: true),
    ]

    /// The probabilities have the bits of the same rows computed one at a time (the row-by-row
    /// loops, which batches of fewer than eight rows take), and the loss is the Double
    /// reference's. Logits span ±30 with a NaN-free maximum in every lane's row.
    @Test(arguments: cases) func eightRowsAtOnceGiveTheRowByRowBits(_ test: Case) throws {
        var rng = RandomGenerator(seed: 5)
        let logits = rng.uniformValues(test.rows * test.classes, -30, 30).map(Float.init)
        let labels = (0 ..< test.rows).map { _ in Float(rng.drawIndex(below: test.classes)) }
        let weights = test.weighted ? rng.uniformValues(test.rows, 0.2, 2).map(Float.init) : nil
        var batch = [Float](repeating: .nan, count: logits.count), oneByOne = batch
        let loss = try SoftmaxCrossEntropy.forward(logits: logits, labels: labels, weights: weights, probabilities: &batch,
                                                   rows: test.rows, classes: test.classes)
        for r in 0 ..< test.rows {
            let row = r * test.classes
            _ = try logits.withUnsafeBufferPointer { z in
                try labels.withUnsafeBufferPointer { y in
                    try oneByOne.withUnsafeMutableBufferPointer { p in
                        try SoftmaxCrossEntropy.forward(logits: z.baseAddress! + row, labels: y.baseAddress! + r, weights: nil,
                                                        probabilities: p.baseAddress! + row, rows: 1, classes: test.classes)
                    }
                }
            }
        }
        #expect(batch.map(\.bitPattern) == oneByOne.map(\.bitPattern))
        var expected = 0.0, total = 0.0
        for r in 0 ..< test.rows {
            let z = (0 ..< test.classes).map { Double(logits[r * test.classes + $0]) }
            let peak = z.max()!
            let logSum = log(z.map { exp($0 - peak) }.reduce(0, +)) + peak
            let share = weights.map { Double($0[r]) } ?? 1
            expected += share * (logSum - z[Int(labels[r])])
            total += share
        }
        expected /= total
        #expect(abs(Double(loss) - expected) <= 1e-5 * (1 + abs(expected)), "loss \(loss), reference \(expected)")
    }
}
