#if canImport(Glibc)
import Glibc
#endif
import NNSchema

/// Reads a model file, treating every byte as hostile: the signature, the reader version and the
/// checksum are checked before protobuf-c sees the bytes; protobuf-c decodes under a memory
/// budget; then every field is validated (limits, enum values, shapes against the architecture,
/// finite values, UTF-8) before a `Model` is built.
enum ModelDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Model {
        try checkEnvelope(bytes)
        let payload = bytes.count - 5
        let budget = BudgetAllocator(limit: ModelFormat.decodeBudgetFactor * payload + ModelFormat.decodeBudgetSlack)
        let context = Unmanaged.passUnretained(budget).toOpaque()
        var allocator = ProtobufCAllocator(alloc: budgetAlloc, free: budgetFree, allocator_data: context)
        guard let message = nncore__model__unpack(&allocator, payload, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)) else {
            if budget.exceeded {
                throw NNError(.limitExceeded, "decoding the model file would need more than \(budget.limit) bytes of memory; the file is malformed")
            }
            throw NNError(.corruptFile, "the model file is not a valid nncore protobuf message although its checksum matches")
        }
        defer { nncore__model__free_unpacked(message, &allocator) }
        return try withExtendedLifetime(budget) { try build(message.pointee, fileSize: bytes.count) }
    }

    /// Signature, reader version and checksum: the checks that need no protobuf decoding.
    static func checkEnvelope(_ bytes: UnsafeRawBufferPointer) throws {
        let prefix = ModelFormat.prefix
        guard bytes.count > 0 else { throw NNError(.corruptFile, "the file is empty") }
        let head = min(bytes.count, prefix.count)
        guard bytes.count >= prefix.count, bytes.prefix(head).elementsEqual(prefix.prefix(head)) else {
            if bytes.count < prefix.count && bytes.elementsEqual(prefix.prefix(bytes.count)) {
                throw NNError(.corruptFile, "the file is truncated: \(bytes.count) bytes, not even a complete signature")
            }
            throw NNError(.corruptFile, "not an nncore model file: \(sniff(bytes))")
        }
        // Fields 2 and 3 follow the signature; check the reader version before anything that a
        // newer format might have changed (the checksum included).
        var cursor = prefix.count
        var minimumReader = 1
        while cursor < bytes.count, bytes[cursor] == 0x10 || bytes[cursor] == 0x18 {
            let field = bytes[cursor] >> 3
            cursor += 1
            guard let (value, next) = readVarint(bytes, at: cursor) else { break }
            cursor = next
            if field == 3 { minimumReader = value > UInt64(Int.max) ? Int.max : Int(value) }
        }
        if minimumReader > ModelFormat.readerVersion {
            throw NNError(.unsupportedVersion, "the file needs a reader of format version \(minimumReader); nncore \(NNCoreVersion.string) reads up to version \(ModelFormat.readerVersion)")
        }
        guard bytes.count >= prefix.count + 5, bytes[bytes.count - 5] == ModelFormat.checksumTag else {
            throw NNError(.corruptFile, "the file is truncated or damaged: it does not end with its checksum")
        }
        var stored: UInt32 = 0
        for k in 0 ..< 4 { stored |= UInt32(bytes[bytes.count - 4 + k]) << (8 * UInt32(k)) }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0 ..< bytes.count - 5]))
        guard stored == computed else {
            throw NNError(.corruptFile, "checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the file is damaged or truncated")
        }
    }

    private static func readVarint(_ bytes: UnsafeRawBufferPointer, at start: Int) -> (UInt64, Int)? {
        var value: UInt64 = 0, shift: UInt64 = 0, i = start
        while i < bytes.count, shift < 64 {
            let byte = bytes[i]
            value |= UInt64(byte & 0x7F) << shift
            i += 1
            if byte & 0x80 == 0 { return (value, i) }
            shift += 7
        }
        return nil
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A guess at what a non-model file is, for the error message.
    private static func sniff(_ bytes: UnsafeRawBufferPointer) -> String {
        let first = Array(bytes.prefix(8))
        let hexBytes = first.map { b -> String in
            let d = String(b, radix: 16, uppercase: true)
            return d.count == 1 ? "0" + d : d
        }.joined(separator: " ")
        let kind: String
        if first.starts(with: [0x89, 0x50, 0x4E, 0x47]) { kind = " (a PNG image)" }
        else if first.starts(with: [0x50, 0x4B, 0x03, 0x04]) { kind = " (a ZIP archive)" }
        else if first.starts(with: [0x1F, 0x8B]) { kind = " (gzip data)" }
        else if first.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { kind = " (an ELF binary)" }
        else if first.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { kind = " (a NumPy .npy file)" }
        else if first.first == 0x08 { kind = " (another protobuf message, perhaps an ONNX model)" }
        else if first.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20 ..< 0x7F).contains($0) }) { kind = " (text)" }
        else { kind = "" }
        return "it starts with \(hexBytes)\(kind), not with the signature \"\(ModelFormat.signature)\""
    }

    // MARK: Fields

    private static func corrupt(_ message: String) -> NNError { NNError(.corruptFile, message) }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ what: @autoclosure () -> String) throws -> String {
        guard let pointer else { return "" }
        guard let value = String(validatingCString: pointer) else { throw corrupt("\(what()) is not valid UTF-8") }
        return value
    }

    private static func texts(_ count: Int, _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ what: String) throws -> [String] {
        guard count > 0, let pointers else { return [] }
        return try (0 ..< count).map { try text(pointers[$0], "\(what) \($0)") }
    }

    /// Little-endian float32 bytes, all finite, exactly `expected` of them.
    private static func floats(_ data: ProtobufCBinaryData, expected: Int, _ what: String) throws -> [Float] {
        guard data.len % 4 == 0, data.len / 4 == expected else {
            throw corrupt("\(what): expected \(expected) floats, found \(data.len % 4 == 0 ? "\(data.len / 4)" : "\(data.len) bytes (not a whole number of floats)")")
        }
        var values = [Float](repeating: 0, count: expected)
        for i in 0 ..< expected {
            let b = data.data + 4 * i
            let bits = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
            let value = Float(bitPattern: bits)
            guard value.isFinite else { throw corrupt("\(what): value \(i) is \(value)") }
            values[i] = value
        }
        return values
    }

    private static func finite(_ value: Float, _ what: @autoclosure () -> String) throws -> Float {
        guard value.isFinite else { throw corrupt("\(what()) is \(value)") }
        return value
    }

    private static func build(_ m: Nncore__Model, fileSize: Int) throws -> Model {
        guard let signature = m.signature, String(validatingCString: signature) == ModelFormat.signature else {
            throw corrupt("the signature field is not \"\(ModelFormat.signature)\"")
        }
        guard m.format_version >= 1 else { throw corrupt("format version \(m.format_version) is not a valid version") }
        guard m.min_reader_version <= ModelFormat.readerVersion else {
            throw NNError(.unsupportedVersion, "the file needs a reader of format version \(m.min_reader_version); this nncore reads up to \(ModelFormat.readerVersion)")
        }
        guard m.input_width >= 1, Int(m.input_width) <= Limits.maxWidth else {
            throw corrupt("input width \(m.input_width) is outside 1...\(Limits.maxWidth)")
        }
        guard m.n_layers <= Limits.maxLayers else {
            throw NNError(.limitExceeded, "the file has \(m.n_layers) layers; the limit is \(Limits.maxLayers)")
        }
        guard let loss = Loss(fileCode: number(m.loss)) else { throw corrupt("unknown loss kind \(number(m.loss))") }

        var layers: [Layer] = []
        for i in 0 ..< m.n_layers {
            guard let l = m.layers[i]?.pointee else { throw corrupt("layer \(i) is missing") }
            switch number(l.kind) {
            case 1:
                guard let activation = Activation(fileCode: number(l.activation), alpha: l.alpha) else {
                    throw corrupt("layer \(i): unknown activation kind \(number(l.activation))")
                }
                layers.append(.dense(units: Int(l.units), activation: activation))
            case 2:
                layers.append(.maxout(units: Int(l.units), pieces: Int(l.pieces)))
            case 3:
                layers.append(.dropout(rate: l.rate))
            default:
                throw corrupt("layer \(i): unknown layer kind \(number(l.kind))")
            }
        }
        var initializer = Initializer.automatic
        if let i = m.initializer?.pointee {
            guard let value = Initializer(fileCode: number(i.kind), scale: i.scale) else {
                throw corrupt("unknown initializer kind \(number(i.kind))")
            }
            initializer = value
        }

        // Every parameter the architecture declares must be stored in the file (4 bytes each):
        // check that before the model allocates them, so that a few hostile bytes can never make
        // the loader allocate (and zero) gigabytes.
        var width = Int(m.input_width), declared = 0
        for (i, layer) in layers.enumerated() {
            do { try Model.validate(layer, index: i) } catch let error as NNError {
                throw corrupt("the architecture is invalid: \(error.message)")
            }
            if layer.isTrainable {
                declared += (width + 1) * layer.weightColumns  // both factors ≤ 2^24 + 1 once validated
                guard declared <= Limits.maxParameters else {
                    throw NNError(.limitExceeded, "layer \(i) would bring the model past \(Limits.maxParameters) parameters")
                }
            }
            width = layer.outputWidth(inputWidth: width)
        }
        guard declared <= fileSize / 4 else {
            throw corrupt("the architecture needs \(declared) parameters (\(4 * declared) bytes) but the file stores only \(fileSize) bytes")
        }

        var model: Model
        do {
            model = try Model(inputs: Int(m.input_width), layers: layers, loss: loss, seed: m.seed,
                              initializer: initializer, initializeParameters: false)
        } catch let error as NNError where error.code != .limitExceeded {
            throw corrupt("the architecture is invalid: \(error.message)")
        }
        let s = model.storage

        // Parameters: exactly the architecture's tensors, in order.
        guard m.n_parameters == s.layout.count else {
            throw corrupt("the architecture has \(s.layout.count) parameter tensors, the file has \(m.n_parameters)")
        }
        for (i, expected) in s.layout.enumerated() {
            guard let t = m.parameters[i]?.pointee else { throw corrupt("parameter tensor \(i) is missing") }
            let what = "layer \(expected.layer) \(expected.kind == .weight ? "weights" : "biases")"
            guard Int(t.layer) == expected.layer, number(t.kind) == (expected.kind == .weight ? 1 : 2) else {
                throw corrupt("parameter tensor \(i) should be \(what), found layer \(t.layer) kind \(number(t.kind))")
            }
            guard Int(t.rows) == expected.rows, Int(t.cols) == expected.cols else {
                throw corrupt("\(what): expected shape \(expected.rows) × \(expected.cols), found \(t.rows) × \(t.cols)")
            }
            let values = try floats(t.data, expected: expected.count, what)
            for (k, v) in values.enumerated() { s.parameters[expected.offset + k] = v }
        }

        if let st = m.standardization?.pointee {
            let width = Int(m.input_width)
            guard st.n_mean == width, st.n_scale == width else {
                throw corrupt("standardisation: expected \(width) means and scales, found \(st.n_mean) and \(st.n_scale)")
            }
            let mean = try (0 ..< width).map { try finite(st.mean[$0], "standardisation mean \($0)") }
            let scale = try (0 ..< width).map { try finite(st.scale[$0], "standardisation scale \($0)") }
            guard scale.allSatisfy({ $0 > 0 }) else { throw corrupt("standardisation: a scale is not positive") }
            s.standardization = try Standardization(mean: mean, scale: scale)
        }
        let featureNames = try texts(m.n_feature_names, m.feature_names, "feature name")
        guard featureNames.isEmpty || featureNames.count == model.inputWidth else {
            throw corrupt("\(featureNames.count) feature names for \(model.inputWidth) inputs")
        }
        s.featureNames = featureNames
        let classLabels = try texts(m.n_class_labels, m.class_labels, "class label")
        guard classLabels.isEmpty || classLabels.count == model.classCount else {
            throw corrupt("\(classLabels.count) class labels for a model with \(model.classCount) classes")
        }
        s.classLabels = classLabels

        if let c = m.training_config?.pointee { s.trainingOptions = try trainingOptions(c) }
        if let state = m.training_state?.pointee { try restore(state, into: s) }

        guard m.n_history <= ModelFormat.maxHistory else {
            throw NNError(.limitExceeded, "the file has \(m.n_history) epochs of history; the limit is \(ModelFormat.maxHistory)")
        }
        s.history.reserveCapacity(m.n_history)
        for i in 0 ..< m.n_history {
            guard let r = m.history[i]?.pointee else { throw corrupt("history record \(i) is missing") }
            let what = "history record \(i)"
            guard r.seconds.isFinite else { throw corrupt("\(what): seconds is \(r.seconds)") }
            s.history.append(EpochStats(
                epoch: Int(r.epoch),
                dataLoss: try finite(r.data_loss, "\(what): data loss"),
                regularizationLoss: try finite(r.regularization_loss, "\(what): regularisation loss"),
                accuracy: r.has_accuracy != 0 ? try finite(r.accuracy, "\(what): accuracy") : nil,
                validationLoss: r.has_validation != 0 ? try finite(r.validation_loss, "\(what): validation loss") : nil,
                validationAccuracy: r.has_validation != 0 && r.has_accuracy != 0 ? try finite(r.validation_accuracy, "\(what): validation accuracy") : nil,
                learningRate: try finite(r.learning_rate, "\(what): learning rate"),
                seconds: r.seconds))
        }

        if let p = m.provenance?.pointee {
            s.provenance = Provenance(library: try text(p.library, "provenance library"),
                                      libraryVersion: try text(p.library_version, "provenance library version"),
                                      createdUnixSeconds: p.created_unix_seconds, formatVersion: Int(m.format_version))
        } else {
            s.provenance = Provenance(library: "", libraryVersion: "", createdUnixSeconds: 0, formatVersion: Int(m.format_version))
        }

        guard m.n_metadata <= ModelFormat.maxMetadataEntries else {
            throw NNError(.limitExceeded, "the file has \(m.n_metadata) metadata entries; the limit is \(ModelFormat.maxMetadataEntries)")
        }
        for i in 0 ..< m.n_metadata {
            guard let e = m.metadata[i]?.pointee else { throw corrupt("metadata entry \(i) is missing") }
            let key = try text(e.key, "metadata key \(i)")
            guard s.metadata[key] == nil else { throw corrupt("metadata key '\(key)' appears twice") }
            s.metadata[key] = try text(e.value, "metadata value '\(key)'")
        }
        return model
    }

    private static func optimizer(_ o: Nncore__Optimizer?, _ what: String) throws -> Optimizer {
        guard let o else { throw corrupt("\(what): the optimizer is missing") }
        let fields = OptimizerFields(kind: number(o.kind), momentum: o.momentum, epsilon: o.epsilon, decay: o.decay,
                                     beta1: o.beta1, beta2: o.beta2, weightDecay: o.weight_decay)
        guard let value = fields.optimizer else { throw corrupt("\(what): unknown optimizer kind \(number(o.kind))") }
        do { try value.validate() } catch let error as NNError { throw corrupt("\(what): \(error.message)") }
        return value
    }

    private static func trainingOptions(_ c: Nncore__TrainingConfig) throws -> TrainingOptions {
        var options = TrainingOptions()
        options.optimizer = try optimizer(c.optimizer?.pointee, "training configuration")
        options.learningRate = c.learning_rate
        if let sc = c.schedule?.pointee {
            let milestones = sc.n_milestones > 0 ? Array(UnsafeBufferPointer(start: sc.milestones, count: sc.n_milestones)) : []
            let fields = ScheduleFields(kind: number(sc.kind), milestones: milestones, factor: sc.factor, gamma: sc.gamma,
                                        period: sc.period, minimumFactor: sc.minimum_factor, warmupEpochs: sc.warmup_epochs)
            guard let schedule = fields.schedule else { throw corrupt("training configuration: unknown schedule kind \(number(sc.kind))") }
            options.schedule = schedule
        }
        options.l2 = c.l2
        options.l1 = c.l1
        options.epochs = Int(c.epochs)
        options.batchSize = Int(c.batch_size)
        options.validationFraction = c.validation_fraction
        options.earlyStoppingPatience = c.early_stopping_patience > 0 ? Int(c.early_stopping_patience) : nil
        options.earlyStoppingMinDelta = c.early_stopping_min_delta
        options.shuffle = c.shuffle != 0
        options.standardize = c.standardize != 0
        options.gradientClipNorm = c.gradient_clip_norm > 0 ? c.gradient_clip_norm : nil
        do { try options.validate() } catch let error as NNError { throw corrupt("training configuration: \(error.message)") }
        return options
    }

    private static func restore(_ state: Nncore__TrainingState, into s: Model.Storage) throws {
        var training = TrainingState()
        if let o = state.optimizer?.pointee { training.optimizer = try optimizer(o, "training state") }
        guard state.step <= UInt64(Int.max / 2), state.epoch <= UInt64(Int.max / 2) else {
            throw corrupt("training state: step \(state.step) or epoch \(state.epoch) is out of range")
        }
        training.step = Int(state.step)
        training.epoch = Int(state.epoch)
        let slots = training.optimizer?.slotCount ?? 0
        let count = s.parameterCount
        training.firstMoment = try floats(state.first_moment, expected: slots >= 1 ? count : 0, "training state: first moment")
        training.secondMoment = try floats(state.second_moment, expected: slots >= 2 ? count : 0, "training state: second moment")
        guard state.n_random_state == 4 else {
            throw corrupt("training state: the random generator state has \(state.n_random_state) words, expected 4")
        }
        let r = state.random_state!
        s.random = RandomGenerator(state: (r[0], r[1], r[2], r[3]))
        s.training = training
    }
}

/// protobuf-c's allocator with a budget: an allocation past the budget fails (and protobuf-c
/// then fails the decode) instead of exhausting memory.
final class BudgetAllocator {
    let limit: Int
    var used = 0
    var exceeded = false
    init(limit: Int) { self.limit = limit }
}

/// Each block carries its size in a 16-byte header so that `free` can return it to the budget.
private let budgetAlloc: @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = { context, size in
    let budget = Unmanaged<BudgetAllocator>.fromOpaque(context!).takeUnretainedValue()
    let (total, overflow) = size.addingReportingOverflow(16)
    guard !overflow, total <= budget.limit - budget.used, let block = malloc(total) else {
        budget.exceeded = true
        return nil
    }
    block.storeBytes(of: total, as: Int.self)
    budget.used += total
    return block + 16
}

private let budgetFree: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { context, pointer in
    guard let pointer else { return }
    let budget = Unmanaged<BudgetAllocator>.fromOpaque(context!).takeUnretainedValue()
    let block = pointer - 16
    budget.used -= block.load(as: Int.self)
    free(block)
}
