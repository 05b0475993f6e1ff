/// The library's version (semantic versioning; the file format has its own version).
public enum NNCoreVersion {
    /// Incompatible ABI changes bump this (and the SONAME).
    public static let major = 0
    /// Additions bump this.
    public static let minor = 1
    /// Fixes bump this.
    public static let patch = 0
    /// "MAJOR.MINOR.PATCH".
    public static var string: String { "\(major).\(minor).\(patch)" }
}
