// NNKernels' loops compiled for AVX2 with fused multiply-adds.
//
// This module is built with `-target-cpu haswell` (AVX, AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE),
// so a Float8 is one YMM register and `FusedMultiplyAdd` is one vfmadd instruction. Nothing in it
// may run unless `nncore_cpu_runs_avx2_kernels()` (CPUFeatures) said yes: on an older CPU its
// instructions fault. The engine checks once and calls in here only through
// `AVX2Kernels.compute`. The loops themselves are NNKernels' `@inlinable` source, specialised
// and compiled in this module (their symbols in libnncore.so end in `…AVX2…Fused…` and use YMM
// registers; `objdump -d` shows it). NNKernels never uses `FusedMultiplyAdd` itself, so it has
// no baseline copy of these specialisations that this module could call instead.

import NNKernels

/// s + x·y with one rounding (vfmadd231ps).
public enum FusedMultiplyAdd: MultiplyAdd {
    @inlinable @inline(__always)
    public static func multiplyAdd(_ s: Float8, _ x: Float8, _ y: Float8) -> Float8 { s.addingProduct(x, y) }
}

/// Entry points compiled for AVX2 and FMA.
public enum AVX2Kernels {
    /// Computes `product` with the AVX2 loops. Only call when the CPU runs AVX2 and FMA.
    @inline(never)
    public static func compute(_ product: SmallProduct) {
        product.compute(FusedMultiplyAdd.self)
    }

    /// Computes `columns` of `product` with the AVX2 panel loops, packing into `pack`
    /// (`PanelProduct.packFloats` floats). Only call when the CPU runs AVX2 and FMA.
    @inline(never)
    public static func compute(_ product: PanelProduct, columns: Range<Int>, pack: UnsafeMutablePointer<Float>) {
        product.compute(FusedMultiplyAdd.self, columns: columns, pack: pack)
    }

    /// Computes row 0 of `product` over the panels `panels` from op(B) packed whole at `packed`
    /// (`PanelProduct.computeRow`). Only call when the CPU runs AVX2 and FMA.
    @inline(never)
    public static func computeRow(_ product: PanelProduct, panels: Range<Int>, packed: UnsafePointer<Float>) {
        product.computeRow(FusedMultiplyAdd.self, panels: panels, packed: packed)
    }
}
