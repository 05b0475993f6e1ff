import NNSchema

/// Constants of the model file format (see docs/format.md).
public enum ModelFormat {
    /// Field 1 of every file: the first bytes are 0A 0C followed by these 12 characters.
    public static let signature = "nncore-model"
    /// The format version this library writes.
    public static let version = 1
    /// The newest `min_reader_version` this library can read.
    public static let readerVersion = 1
    /// The largest file the loader accepts, in bytes (4 GiB).
    public static let maxFileBytes = 1 << 32
    /// The most epochs of training history a file may hold.
    public static let maxHistory = 10_000_000
    /// The most metadata entries a file may hold.
    public static let maxMetadataEntries = 100_000
    /// The decoder never allocates more than `decodeBudgetFactor` × the file size plus
    /// `decodeBudgetSlack` bytes for protobuf-c's decoded message.
    static let decodeBudgetFactor = 2
    static let decodeBudgetSlack = 64 << 20

    /// The exact first 14 bytes of every model file.
    static let prefix: [UInt8] = [0x0A, UInt8(signature.utf8.count)] + Array(signature.utf8)
    /// The tag byte of the trailing checksum field (field 15, wire type 5: fixed32).
    static let checksumTag: UInt8 = 15 << 3 | 5
}

/// Owns every C allocation made while building a protobuf-c message for packing; frees them all
/// at once when it goes away.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for block in blocks { block.deallocate() } }

    /// A message struct initialised by its protoc-c `__init` function.
    func message<T>(_ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        blocks.append(UnsafeMutableRawPointer(pointer))
        initialize(pointer)
        return pointer
    }

    /// An uninitialised array of `count` elements (at least one is allocated).
    func array<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// An array initialised from `values`.
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = array(T.self, count: values.count)
        for (i, value) in values.enumerated() { (pointer + i).initialize(to: value) }
        return pointer
    }

    /// A NUL-terminated copy of `text`.
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(text.utf8)
        let pointer = array(CChar.self, count: utf8.count + 1)
        for (i, byte) in utf8.enumerated() { pointer[i] = CChar(bitPattern: byte) }
        pointer[utf8.count] = 0
        return pointer
    }

    /// Float32 values as little-endian bytes.
    func bytes(_ values: UnsafeBufferPointer<Float>) -> ProtobufCBinaryData {
        let count = values.count * 4
        let pointer = array(UInt8.self, count: count)
        for (i, value) in values.enumerated() {
            let bits = value.bitPattern.littleEndian
            pointer[4 * i] = UInt8(truncatingIfNeeded: bits)
            pointer[4 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            pointer[4 * i + 2] = UInt8(truncatingIfNeeded: bits >> 16)
            pointer[4 * i + 3] = UInt8(truncatingIfNeeded: bits >> 24)
        }
        return ProtobufCBinaryData(len: count, data: pointer)
    }
}

/// A C enum value from its number (protoc-c enums are imported as raw-value structs).
@inline(__always)
func cEnum<T: RawRepresentable>(_ value: Int) -> T where T.RawValue: FixedWidthInteger {
    T(rawValue: T.RawValue(truncatingIfNeeded: value))!
}

/// A C enum's number.
@inline(__always)
func number<T: RawRepresentable>(_ value: T) -> Int where T.RawValue: FixedWidthInteger {
    Int(truncatingIfNeeded: value.rawValue)
}
