// Explicit SIMD helpers for the per-step loops that the compiler would not vectorise by itself
// (selects that become branches, float reductions that must keep a serial order).
// NNCore is built for baseline x86-64, so a SIMD8<Float> is two SSE registers here; nothing here
// needs AVX. (Float8, load8 and store8 come from NNKernels.)

import NNKernels

/// Σ x[i]² over `count` floats, in four independent SIMD8 accumulators (so the summation order
/// differs from a serial loop in the last bits).
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var a0 = Float8(), a1 = Float8(), a2 = Float8(), a3 = Float8()
    var i = 0
    while i &+ 32 <= count {
        let v0 = load8(x, i), v1 = load8(x, i &+ 8), v2 = load8(x, i &+ 16), v3 = load8(x, i &+ 24)
        a0 += v0 * v0
        a1 += v1 * v1
        a2 += v2 * v2
        a3 += v3 * v3
        i &+= 32
    }
    while i &+ 8 <= count {
        let v = load8(x, i)
        a0 += v * v
        i &+= 8
    }
    var tail: Float = 0
    while i < count {
        tail += x[i] * x[i]
        i &+= 1
    }
    return ((a0 + a1) + (a2 + a3)).sum() + tail
}

/// Σ |x[i]| over `count` floats, in four independent SIMD8 accumulators.
@inline(__always)
func sumOfMagnitudes(_ x: UnsafePointer<Float>, count: Int) -> Float {
    // Clearing the sign bit is |x| for every float, NaN included.
    let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
    @inline(__always) func abs8(_ v: Float8) -> Float8 {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & magnitude, to: Float8.self)
    }
    var a0 = Float8(), a1 = Float8(), a2 = Float8(), a3 = Float8()
    var i = 0
    while i &+ 32 <= count {
        a0 += abs8(load8(x, i))
        a1 += abs8(load8(x, i &+ 8))
        a2 += abs8(load8(x, i &+ 16))
        a3 += abs8(load8(x, i &+ 24))
        i &+= 32
    }
    while i &+ 8 <= count {
        a0 += abs8(load8(x, i))
        i &+= 8
    }
    var tail: Float = 0
    while i < count {
        tail += abs(x[i])
        i &+= 1
    }
    return ((a0 + a1) + (a2 + a3)).sum() + tail
}

/// p[i] ·= s over `count` floats.
@inline(__always)
func scaleInPlace(_ p: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
    var i = 0
    while i &+ 8 <= count {
        store8(load8(p, i) * s, p, i)
        i &+= 8
    }
    while i < count {
        p[i] *= s
        i &+= 1
    }
}

/// Whether every one of `count` floats is finite (no NaN, no ±∞): x·0 is 0 for finite x and NaN
/// otherwise, and a NaN lane stays NaN through the sums.
@inline(__always)
func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
    var a0 = Float8(), a1 = Float8()
    var i = 0
    while i &+ 16 <= count {
        a0 += load8(x, i) * 0
        a1 += load8(x, i &+ 8) * 0
        i &+= 16
    }
    var tail: Float = 0
    while i < count {
        tail += x[i] * 0
        i &+= 1
    }
    return ((a0 + a1).sum() + tail) == 0
}

/// out[i] (+)= g · x[i] over `count` floats: added to `out`, or written over it when
/// `accumulate` is false (a gradient's first contribution, see `Graph.backward`).
@inline(__always)
func scaledAdd(_ g: Float, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
    var i = 0
    while i &+ 8 <= count {
        store8(prior8(out, i, accumulate) + g * load8(x, i), out, i)
        i &+= 8
    }
    while i < count {
        out[i] = prior(out, i, accumulate) + g * x[i]
        i &+= 1
    }
}

/// What a gradient kernel adds its contribution to: the gradient so far, or 0 when it is the
/// first contribution of the backward pass and overwrites the buffer (see `Graph.backward`).
@inline(__always)
func prior8(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ accumulate: Bool) -> Float8 {
    accumulate ? load8(p, i) : Float8()
}

/// The scalar `prior8`.
@inline(__always)
func prior(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ accumulate: Bool) -> Float {
    accumulate ? p[i] : 0
}

/// Copies the row `source` (cols floats) into each of `rows` rows of `target` (rows `stride`
/// floats apart), inline: a memmove call per row costs more than the copy for narrow rows.
@inline(__always)
func broadcastRow(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int) {
    var row = target
    for _ in 0 ..< rows {
        var j = 0
        while j &+ 8 <= cols {
            store8(load8(source, j), row, j)
            j &+= 8
        }
        while j < cols {
            row[j] = source[j]
            j &+= 1
        }
        row += stride
    }
}

/// eˣ lane-wise, to about 1 ulp (Cephes' expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6
/// polynomial for eʳ, then 2ⁿ put into the exponent bits), without a call per element. Arguments
/// are clamped to [−87.3, 88] (so that 2ⁿ is a normal float), so the result is one: at most
/// e⁸⁸ = 1.65e38, at least 1.2e−38 where expf would give a subnormal, 0 or (above 88.7) ∞.
/// NaN gives NaN.
@inline(__always)
func exp8(_ x: Float8) -> Float8 {
    // Clamped by selects (NaN compares false, so it stays NaN; `clamped` calls generic code).
    let low = Float8(repeating: -87.33654), high = Float8(repeating: 88)
    let v = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    // n = round(v·log₂e): adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
    let magic = Float8(repeating: 12_582_912)
    let shifted = v * 1.442_695_04 + magic
    let n = shifted - magic
    var r = v - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    // 2ⁿ: n sits in the low bits of `shifted` (whose bits are 0x4B40_0000 + n).
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: Float8.self)
}

/// x[i] = e^x[i] for `count` floats, eight at a time (`exp8`).
func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
        store8(exp8(load8(x, i)), x, i)
        i &+= 8
    }
    guard i < count else { return }
    var tail = Float8()
    for lane in 0 ..< count &- i { tail[lane] = x[i &+ lane] }
    tail = exp8(tail)
    for lane in 0 ..< count &- i { x[i &+ lane] = tail[lane] }
}
