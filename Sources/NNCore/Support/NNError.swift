/// The single error type of the engine. Every failure reachable through the public API is
/// thrown as an `NNError`; nothing traps on user input.
///
/// `code` is a stable category (its raw value is pinned forever and becomes the C ABI's
/// `nn_status`); `message` says specifically what was wrong and where
/// ("layer 2 expects 100 inputs, got 64").
public struct NNError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable error categories. Raw values are pinned and never reused.
    public enum Code: Int32, Sendable, CaseIterable {
        /// An argument is malformed (bad count, bad name, bad index, misuse of an API).
        case invalidArgument = 1
        /// A pointer that must not be null was null (C ABI only).
        case nullPointer = 2
        /// Two shapes that must agree do not.
        case shapeMismatch = 3
        /// A caller-supplied buffer is smaller than the result.
        case bufferTooSmall = 4
        /// A class label is negative or not below the number of classes.
        case labelOutOfRange = 5
        /// Input data contains NaN or infinity.
        case nonFiniteValue = 6
        /// A data set has no samples (or no features).
        case emptyData = 7
        /// A hyper-parameter is out of its domain (negative rate, dropout ≥ 1, ...).
        case badHyperparameter = 8
        /// The object is not in a state that allows the call (e.g. a model with no layers).
        case invalidState = 9
        /// The training loss became NaN or infinite; weights are those of the last good step.
        case diverged = 10
        /// A progress callback asked to stop.
        case cancelled = 11
        /// Reading or writing a file failed.
        case io = 12
        /// A file or key does not exist.
        case notFound = 13
        /// A model file is malformed, truncated or fails its checksum.
        case corruptFile = 14
        /// A model file needs a newer reader.
        case unsupportedVersion = 15
        /// A size exceeds a hard limit of the library.
        case limitExceeded = 16
        /// The object is in use by another thread.
        case busy = 17
        /// Memory could not be allocated.
        case outOfMemory = 18
        /// A handle is not a live object of the expected kind (C ABI only).
        case invalidHandle = 19
        /// A bug in nncore; please report it.
        case internalError = 20
    }

    /// The stable category of the failure.
    public let code: Code
    /// A specific, human-readable explanation of what was wrong and where.
    public let message: String

    /// Creates an error with a category and a specific message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension NNError {
    package static func invalidArgument(_ message: String) -> NNError { NNError(.invalidArgument, message) }
    package static func shapeMismatch(_ message: String) -> NNError { NNError(.shapeMismatch, message) }
    package static func badHyperparameter(_ message: String) -> NNError { NNError(.badHyperparameter, message) }
    package static func invalidState(_ message: String) -> NNError { NNError(.invalidState, message) }
}

/// Multiplies two sizes that come from outside, reporting overflow as an error instead of trapping.
@inline(__always)
func checkedProduct(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow || a < 0 || b < 0 {
        throw NNError(.limitExceeded, "\(what()): \(a) × \(b) is too large")
    }
    return product
}
