// The SIMD vocabulary of nncore's loops, shared by the engine and the kernel modules.
//
// A `Float8` is two SSE registers where the code is compiled for baseline x86-64 (NNCore,
// NNKernels) and one AVX register in NNKernelsAVX2. Everything here is `@inline(__always)`, so
// it is compiled with the instruction set of the module that uses it.

public typealias Float8 = SIMD8<Float>

/// Eight floats from `p + i`, with no alignment requirement.
@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>, _ i: Int) -> Float8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: Float8.self)
}

@inlinable @inline(__always)
public func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> Float8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: Float8.self)
}

/// Stores eight floats at `p + i`, with no alignment requirement.
@inlinable @inline(__always)
public func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Float8.self)
}

/// How a loop computes s + x·y on eight lanes. The loops are generic over it, so that one source
/// gives both instruction sets: `SeparateMultiplyAdd` (a multiply, then an add — two roundings)
/// compiled for baseline x86-64 here, and NNKernelsAVX2's fused multiply-add (one rounding)
/// compiled for AVX2 and FMA.
public protocol MultiplyAdd {
    static func multiplyAdd(_ s: Float8, _ x: Float8, _ y: Float8) -> Float8
}

/// s + x·y as a multiply and an add, each rounded.
public enum SeparateMultiplyAdd: MultiplyAdd {
    @inlinable @inline(__always)
    public static func multiplyAdd(_ s: Float8, _ x: Float8, _ y: Float8) -> Float8 { s + x * y }
}
