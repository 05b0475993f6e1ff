// The C ABI of nncore (libnncore.so). This target stays thin: it validates arguments, converts
// types, calls NNCore and maps errors. The full ABI (generated header, handles, statuses) is
// being built on top of these first functions.
import NNCore

/// `uint32_t nn_version_number(void)`: the library's version as MAJOR·10000 + MINOR·100 + PATCH,
/// so a caller can compare it with the header's `NN_VERSION_NUMBER`. Thread-safe.
@c(nn_version_number)
public func nn_version_number() -> UInt32 {
    UInt32(NNCoreVersion.major * 10_000 + NNCoreVersion.minor * 100 + NNCoreVersion.patch)
}

/// `const char *nn_version_string(void)`: the version as static text, "MAJOR.MINOR.PATCH".
/// The string is owned by the library and never freed. Thread-safe.
@c(nn_version_string)
public func nn_version_string() -> UnsafePointer<CChar> {
    versionText
}

/// Static storage for the version string (allocated once, never freed).
nonisolated(unsafe) private let versionText: UnsafePointer<CChar> = {
    let text = NNCoreVersion.string
    let bytes = UnsafeMutablePointer<CChar>.allocate(capacity: text.utf8.count + 1)
    for (i, byte) in text.utf8.enumerated() { bytes[i] = CChar(bitPattern: byte) }
    bytes[text.utf8.count] = 0
    return UnsafePointer(bytes)
}()
