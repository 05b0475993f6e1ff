/// The model's own pseudo-random generator: xoshiro256** seeded through SplitMix64.
///
/// There is no global random state in nncore: each model owns one generator, whose four
/// 64-bit words of state can be saved and restored, so a training run continues bit-identically.
/// Not thread-safe (it is a value; each copy evolves independently).
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's complete state.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose sequence is fully determined by `seed`.
    public init(seed: UInt64) {
        var s = seed
        let a = Self.splitMix(&s), b = Self.splitMix(&s), c = Self.splitMix(&s), d = Self.splitMix(&s)
        state = (a, b, c, d)
    }

    /// Restores a generator from a saved state (an all-zero state is replaced by seed 0's).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = state == (0, 0, 0, 0) ? RandomGenerator(seed: 0).state : state
    }

    private static func splitMix(_ s: inout UInt64) -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.state == b.state }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box–Muller; one sample per call, so the state stays four words).
    public mutating func nextGaussian() -> Double {
        let u1 = 1.0 - nextUnitDouble()  // (0, 1]
        let u2 = nextUnitDouble()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// A uniform integer in 0..<bound for bound ≥ 1 (unbiased).
    mutating func nextIndex(below bound: Int) -> Int {
        Int(next(upperBound: UInt64(max(bound, 1))))
    }

    /// Shuffles `indices` in place (Fisher–Yates) with this generator.
    mutating func shuffle(_ indices: UnsafeMutableBufferPointer<Int32>) {
        var i = indices.count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            indices.swapAt(i, j)
            i -= 1
        }
    }
}
