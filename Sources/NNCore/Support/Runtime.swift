import CBLAS

/// Process-wide settings of the BLAS library underneath nncore.
public enum Runtime {
    /// The number of threads OpenBLAS uses for matrix products (a process-wide setting of
    /// OpenBLAS; results are deterministic for a given count). Setting a value below 1 selects 1.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(clamping: max(1, newValue))) }
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
