// Versions, status strings, the last error message and the thread count.
import CNNCore
import NNCore

@c @implementation
public func nn_version_number() -> UInt32 {
    UInt32(NNCoreVersion.major * 10_000 + NNCoreVersion.minor * 100 + NNCoreVersion.patch)
}

@c @implementation
public func nn_version_string() -> UnsafePointer<CChar>! {
    StaticText.version
}

@c @implementation
public func nn_status_string(_ status: nn_status) -> UnsafePointer<CChar>! {
    StaticText.status(status)
}

@c @implementation
public func nn_last_error_message() -> UnsafePointer<CChar>! {
    lastErrorMessage()
}

@c @implementation
public func nn_set_thread_count(_ threads: Int32) -> nn_status {
    status {
        guard threads >= 1 else { throw NNError.invalidArgument("the thread count must be at least 1, got \(threads)") }
        Runtime.threadCount = Int(threads)
    }
}

@c @implementation
public func nn_get_thread_count() -> Int32 {
    Int32(clamping: Runtime.threadCount)
}

/// Static C strings, allocated once and never freed.
enum StaticText {
    nonisolated(unsafe) static let version = make(NNCoreVersion.string)
    nonisolated(unsafe) static let unknown = make("unknown status")
    nonisolated(unsafe) static let statuses: [UnsafePointer<CChar>] = (0 ... 20).map { code in
        make(code == 0 ? "ok" : NNError.Code(rawValue: Int32(code)).map(describe) ?? "unknown status")
    }

    static func status(_ code: nn_status) -> UnsafePointer<CChar> {
        code >= 0 && Int(code) < statuses.count ? statuses[Int(code)] : unknown
    }

    static func describe(_ code: NNError.Code) -> String {
        switch code {
        case .invalidArgument: return "invalid argument"
        case .nullPointer: return "null pointer"
        case .shapeMismatch: return "shape mismatch"
        case .bufferTooSmall: return "buffer too small"
        case .labelOutOfRange: return "label out of range"
        case .nonFiniteValue: return "non-finite value"
        case .emptyData: return "empty data"
        case .badHyperparameter: return "bad hyper-parameter"
        case .invalidState: return "invalid state"
        case .diverged: return "training diverged"
        case .cancelled: return "cancelled"
        case .io: return "input/output error"
        case .notFound: return "not found"
        case .corruptFile: return "corrupt file"
        case .unsupportedVersion: return "unsupported version"
        case .limitExceeded: return "limit exceeded"
        case .busy: return "busy"
        case .outOfMemory: return "out of memory"
        case .invalidHandle: return "invalid handle"
        case .internalError: return "internal error"
        }
    }

    private static func make(_ text: String) -> UnsafePointer<CChar> {
        let bytes = Array(text.utf8)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return UnsafePointer(p)
    }
}
