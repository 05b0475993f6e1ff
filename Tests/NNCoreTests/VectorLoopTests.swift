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
