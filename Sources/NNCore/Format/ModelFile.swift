// Saving and loading models: to and from files (atomically) and memory. The format is described
// in schema/nncore.proto and docs/format.md.

extension Model {
    /// How a model is written.
    public struct SaveOptions: Equatable, Sendable {
        /// Include the training state (optimiser slots, counters, random generator) so training
        /// can continue exactly; false writes a smaller inference-only copy.
        public var includeTrainingState = true
        /// The creation time to record (seconds since 1970 UTC); nil records the current time.
        /// Pin it to get byte-identical files from identical models.
        public var creationTime: Int64? = nil

        public init(includeTrainingState: Bool = true, creationTime: Int64? = nil) {
            self.includeTrainingState = includeTrainingState
            self.creationTime = creationTime
        }
    }

    /// The model file's bytes. The same model with the same options always gives the same bytes.
    /// - Thread safety: safe to call concurrently with other non-mutating calls.
    public func serialized(options: SaveOptions = SaveOptions()) -> [UInt8] {
        ModelEncoder.encode(self, options: options)
    }

    /// Saves the model to `path` atomically: written to a temporary file in the same directory,
    /// flushed to disk, then renamed over `path`. If anything fails (full disk, unwritable
    /// directory, I/O error) the previous file at `path` is untouched and no temporary file is
    /// left behind.
    /// - Throws: `.io` or `.notFound` saying which step failed.
    public func save(to path: String, options: SaveOptions = SaveOptions()) throws {
        try save(to: path, options: options, calls: .system)
    }

    func save(to path: String, options: SaveOptions, calls: FileSystemCalls) throws {
        let bytes = serialized(options: options)
        try bytes.withUnsafeBytes { try FileIO.atomicWrite($0, to: path, calls: calls) }
    }

    /// Loads a model from a file.
    /// - Throws: `.notFound` for a missing file; `.io` for a directory, FIFO, device or unreadable
    ///   file; `.limitExceeded` for a file over `ModelFormat.maxFileBytes` or past a model limit;
    ///   `.corruptFile` for anything malformed, truncated, damaged or inconsistent (the message
    ///   says what and where); `.unsupportedVersion` for a file that needs a newer reader.
    public init(contentsOf path: String) throws {
        let bytes = try FileIO.readRegularFile(path, limit: ModelFormat.maxFileBytes)
        self = try Model(serialized: bytes)
    }

    /// Loads a model from the bytes of a model file. Errors as `init(contentsOf:)`.
    public init(serialized bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try Model(serialized: $0) }
    }

    /// Loads a model from borrowed bytes (the C ABI's entry point).
    package init(serialized bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= ModelFormat.maxFileBytes else {
            throw NNError(.limitExceeded, "\(bytes.count) bytes exceed the model file limit of \(ModelFormat.maxFileBytes)")
        }
        self = try ModelDecoder.decode(bytes)
    }
}
