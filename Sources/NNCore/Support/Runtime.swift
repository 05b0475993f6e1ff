import CBLAS

/// Process-wide settings of the BLAS library underneath nncore.
public enum Runtime {
    /// The number of threads a large matrix product uses: the calling thread plus workers of
    /// nncore's own pool, each running OpenBLAS single-threaded on a block of the result
    /// (see `WorkerPool`). Process-wide. It starts at OpenBLAS's own count (the cores, or
    /// `OPENBLAS_NUM_THREADS`), and the first use sets OpenBLAS's process-wide thread count
    /// to 1 — a host that uses the same OpenBLAS for its own products and wants them threaded
    /// can set it back with `openblas_set_num_threads`; nncore's blocks then run threaded
    /// inside OpenBLAS too (the first use also stops OpenBLAS's own idle threads, which it
    /// starts again when asked for several). Values are clamped to 1...64. Results are
    /// deterministic for a count, never dependent on timing; another count may change their
    /// last bits: a small weight gradient is summed in blocks of the batch's rows, one per
    /// thread, and OpenBLAS rounds the edges of blocks differently.
    public static var threadCount: Int {
        get { WorkerPool.shared.threadCount }
        set { WorkerPool.shared.threadCount = newValue }
    }

    /// The OpenBLAS kernel in use (e.g. "Haswell"), for benchmark reports.
    public static var blasCore: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string.
    public static var blasConfiguration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config)
    }
}
