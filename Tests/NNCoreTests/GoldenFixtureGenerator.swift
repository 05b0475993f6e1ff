import Testing
@testable import NNCore
#if canImport(Glibc)
import Glibc
#endif

// The generator of the golden model files in Tests/Fixtures/models (see GoldenFileTests.swift):
//
//   valid/NAME.nnm + valid/NAME.expected   small valid models written by this version, and what
//                                          each must predict for a few fixed inputs, bit for bit;
//   corrupt/NAME.nnm + corrupt/MANIFEST    deliberately broken files, and the NNError code and a
//                                          message substring the loader must refuse each with.
//
// It only writes when NNCORE_WRITE_FIXTURES=1 (`make fixtures`); otherwise its one test is
// skipped. The output is deterministic: pinned creation times, seeded generators, and training
// history times overwritten with fixed values. Valid files are never rewritten casually: they
// are the promise that later versions keep reading what this one wrote (a regeneration that
// changes them needs a reason in the commit message).

@Suite struct GoldenFixtureGenerator {
    @Test(.enabled(if: GoldenFixtures.writingRequested, "set NNCORE_WRITE_FIXTURES=1 to (re)write Tests/Fixtures/models"))
    func writesTheGoldenFixturesWhenAskedTo() throws {
        try GoldenFixtures.writeAll()
    }
}

enum GoldenFixtures {
    static var writingRequested: Bool {
        guard let value = getenv("NNCORE_WRITE_FIXTURES") else { return false }
        return String(cString: value) == "1"
    }

    /// Tests/Fixtures/models, found from this source file's path.
    static let root: String = {
        var path = #filePath
        for _ in 0 ..< 2 { path = String(path[..<path.lastIndex(of: "/")!]) }  // drop file name and NNCoreTests
        return path + "/Fixtures/models"
    }()
    static var validDirectory: String { root + "/valid" }
    static var corruptDirectory: String { root + "/corrupt" }

    /// The creation time recorded in every golden file (2024-01-01T00:00:00Z).
    static let creationTime: Int64 = 1_704_067_200
    static let saveOptions = Model.SaveOptions(creationTime: creationTime)

    // MARK: Writing

    static func writeAll() throws {
        for directory in [String(root.dropLast("/models".count)), root, validDirectory, corruptDirectory] {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw NNError(.io, "cannot create \(directory)") }
        }
        // Each directory mirrors the generator: stale files go.
        for directory in [validDirectory, corruptDirectory] {
            for name in ModelFileTests.entries(directory) { unlink(directory + "/" + name) }
        }
        for fixture in try validModels() {
            let bytes = fixture.model.serialized(options: fixture.options)
            try write(bytes, to: "\(validDirectory)/\(fixture.name).nnm")
            let loaded = try Model(serialized: bytes)
            let outputs = try loaded.predict(fixture.inputs)
            if fixture.exact {
                for row in 0 ..< fixture.inputs.rows {
                    let single = try loaded.predict(Matrix(rows: 1, cols: fixture.inputs.cols, values: fixture.inputs.row(row)))
                    precondition(single.values.map(\.bitPattern) == outputs.row(row).map(\.bitPattern),
                                 "\(fixture.name): row \(row) predicts differently alone; its sums are not exact")
                }
            }
            try write(Array(expectedText(fixture, loaded: loaded, outputs: outputs).utf8), to: "\(validDirectory)/\(fixture.name).expected")
        }
        var manifest = """
            # The deliberately broken model files in this directory, written by
            # Tests/NNCoreTests/GoldenFixtureGenerator.swift (`make fixtures`), and what the loader
            # must say about each: FILE  NNError.Code  a substring of the message (rest of the line).
            # "sealed" files carry a correct CRC-32C trailer over bad content, so they exercise the
            # protobuf and semantic checks behind the checksum.

            """
        let files = try corruptFiles()
        var seen = Set<String>()
        for file in files {
            precondition(seen.insert(file.name).inserted, "two corrupt fixtures are named \(file.name)")
            try write(file.bytes, to: "\(corruptDirectory)/\(file.name)")
            manifest += "\(file.name)  \(file.code)  \(file.message)\n"
        }
        try write(Array(manifest.utf8), to: corruptDirectory + "/MANIFEST")
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try FileIO.atomicWrite($0, to: path) }
    }

    // MARK: Valid models

    struct ValidModel {
        var name: String
        var summary: String
        var model: Model
        var inputs: Matrix
        /// Whether the outputs are exact by construction (see `dyadic`).
        var exact = true
        var options: Model.SaveOptions { .init(includeTrainingState: !name.hasSuffix("inference-only"), creationTime: creationTime) }
    }

    /// Float32 values with few significant bits (multiples of 1/8 in [-1, 1]). With inputs that
    /// are multiples of 1/2 and piecewise-linear hidden activations, every product and partial
    /// sum of these small models fits float32's 24-bit significand, so their outputs do not
    /// depend on BLAS's kernel, summation order or FMA: the same bits on any CPU (the generator
    /// checks this much by predicting row by row, through sgemv, as well as in one sgemm call).
    static func dyadic(count: Int, seed: UInt64) -> [Float] {
        var random = RandomGenerator(seed: seed)
        return (0 ..< count).map { _ in Float(Int(random.next() % 17) - 8) / 8 }
    }

    static func dyadicInputs(rows: Int, cols: Int, seed: UInt64) throws -> Matrix {
        var random = RandomGenerator(seed: seed)
        return try Matrix(rows: rows, cols: cols, values: (0 ..< rows * cols).map { _ in Float(Int(random.next() % 9) - 4) / 2 })
    }

    static func classificationData(rows: Int, cols: Int, classes: Int, seed: UInt64) throws -> Dataset {
        var random = RandomGenerator(seed: seed)
        let inputs = try dyadicInputs(rows: rows, cols: cols, seed: seed &+ 1)
        return try Dataset(inputs: inputs, labels: (0 ..< rows).map { _ in random.nextIndex(below: classes) })
    }

    static func regressionData(rows: Int, cols: Int, outputs: Int, seed: UInt64, binary: Bool = false) throws -> Dataset {
        var random = RandomGenerator(seed: seed)
        let inputs = try dyadicInputs(rows: rows, cols: cols, seed: seed &+ 1)
        let targets = (0 ..< rows * outputs).map { _ in binary ? Float(random.next() % 2) : Float(random.nextUnitDouble() * 2 - 1) }
        return try Dataset(inputs: inputs, targets: Matrix(rows: rows, cols: outputs, values: targets))
    }

    /// Training history records wall-clock seconds; pin them so the files are reproducible.
    static func pinHistoryTimes(_ model: inout Model) {
        model.makeUnique()
        for i in model.storage.history.indices { model.storage.history[i].seconds = 0.125 * Double(i + 1) }
    }

    static func validModels() throws -> [ValidModel] {
        var models: [ValidModel] = []

        // Softmax classifier with every layer kind and activation parameters; trained two epochs
        // with momentum, then given exact few-bit parameters (the momentum slots stay).
        do {
            var model = try Model(inputs: 4, layers: [.dense(units: 6, activation: .leakyReLU(alpha: 0.125)),
                                                      .maxout(units: 4, pieces: 3), .dropout(rate: 0.25),
                                                      .dense(units: 5, activation: .relu),
                                                      .dense(units: 3, activation: .elu(alpha: 0.5))],
                                  loss: .softmaxCrossEntropy, seed: 11, initializer: .uniform(limit: 0.5))
            var options = TrainingOptions()
            options.epochs = 2
            options.batchSize = 8
            options.optimizer = .momentum(0.875)
            options.learningRate = 0.0625
            try model.fit(classificationData(rows: 24, cols: 4, classes: 3, seed: 101), options: options)
            try model.setParameters(dyadic(count: model.parameterCount, seed: 102))
            pinHistoryTimes(&model)
            models.append(ValidModel(name: "softmax-every-layer-kind", summary: "softmax classifier: dense(leaky ReLU α=0.125), maxout(3 pieces), dropout(0.25), dense(ReLU), dense(ELU α=0.5); momentum state; uniform initializer",
                                     model: model, inputs: try dyadicInputs(rows: 5, cols: 4, seed: 103)))
        }
        // Multiclass hinge, trained with Nesterov, cosine schedule, L1 and gradient clipping.
        do {
            var model = try Model(inputs: 3, layers: [.dense(units: 6, activation: .relu), .dense(units: 4, activation: .softplus)],
                                  loss: .multiclassHinge, seed: 21, initializer: .glorot)
            var options = TrainingOptions()
            options.epochs = 3
            options.batchSize = 0
            options.optimizer = .nesterov(0.5)
            options.schedule = .cosine(period: 10, minimumFactor: 0.125)
            options.l1 = 0.001
            options.gradientClipNorm = 4
            try model.fit(classificationData(rows: 16, cols: 3, classes: 4, seed: 201), options: options)
            try model.setParameters(dyadic(count: model.parameterCount, seed: 202))
            pinHistoryTimes(&model)
            models.append(ValidModel(name: "hinge", summary: "multiclass hinge: dense(ReLU), dense(softplus); Nesterov state; Glorot initializer",
                                     model: model, inputs: try dyadicInputs(rows: 4, cols: 3, seed: 203)))
        }
        // MSE regressor with a standardisation (power-of-two scales, so it is exact too),
        // trained with RMSProp and an exponential schedule.
        do {
            var model = try Model(inputs: 3, layers: [.dense(units: 6, activation: .relu), .dense(units: 2, activation: .tanh)],
                                  loss: .meanSquaredError, seed: 31, initializer: .he)
            try model.setStandardization(Standardization(mean: [0.5, -1, 2], scale: [2, 0.5, 4]))
            var options = TrainingOptions()
            options.epochs = 2
            options.batchSize = 4
            options.optimizer = .rmsprop(decay: 0.75, epsilon: 1e-6)
            options.schedule = .exponential(gamma: 0.5)
            options.l2 = 0.01
            options.shuffle = false
            try model.fit(regressionData(rows: 12, cols: 3, outputs: 2, seed: 301), options: options)
            try model.setParameters(dyadic(count: model.parameterCount, seed: 302))
            pinHistoryTimes(&model)
            models.append(ValidModel(name: "mse-standardized", summary: "MSE regressor with input standardisation: dense(ReLU), dense(tanh); RMSProp state; He initializer",
                                     model: model, inputs: try dyadicInputs(rows: 4, cols: 3, seed: 303)))
        }
        // Binary cross-entropy with one output (two classes), Adagrad, step decay, validation.
        do {
            var model = try Model(inputs: 2, layers: [.dense(units: 5, activation: .sigmoid), .dense(units: 1)],
                                  loss: .binaryCrossEntropy, seed: 41, initializer: .normal(std: 0.25))
            try model.setClassLabels(["no", "yes"])
            var options = TrainingOptions()
            options.epochs = 3
            options.batchSize = 5
            options.optimizer = .adagrad(epsilon: 1e-7)
            options.schedule = .stepDecay(milestones: [1, 2], factor: 0.5)
            options.validationFraction = 0.25
            try model.fit(regressionData(rows: 20, cols: 2, outputs: 1, seed: 401, binary: true), options: options)
            try model.setParameters(dyadic(count: model.parameterCount, seed: 402))
            pinHistoryTimes(&model)
            models.append(ValidModel(name: "bce", summary: "binary cross-entropy, one output: dense(sigmoid), dense(identity); class labels; Adagrad state; normal initializer",
                                     model: model, inputs: try dyadicInputs(rows: 4, cols: 2, seed: 403), exact: false))
        }
        // Never trained: no training configuration, empty training state, GELU output.
        do {
            var model = try Model(inputs: 2, layers: [.dense(units: 3, activation: .gelu)], loss: .meanSquaredError, seed: 51)
            try model.setParameters(dyadic(count: model.parameterCount, seed: 502))
            models.append(ValidModel(name: "untrained-gelu", summary: "never trained: one dense(GELU) layer, MSE, automatic initializer, no training configuration",
                                     model: model, inputs: try dyadicInputs(rows: 4, cols: 2, seed: 503)))
        }
        // A really trained classifier with everything optional filled in, and its inference copy.
        do {
            let data = try SyntheticData.spiral(pointsPerClass: 30, classes: 3, seed: 61)
            var model = try Model(inputs: 2, layers: [.dense(units: 12, activation: .tanh), .dropout(rate: 0.125),
                                                      .maxout(units: 6, pieces: 2), .dense(units: 3)],
                                  loss: .softmaxCrossEntropy, seed: 61)
            try model.setFeatureNames(["x", "y (ü)"])
            try model.setClassLabels(["rouge", "vert", "蓝"])
            model.metadata = ["author": "golden fixtures", "empty": "", "note": "ünïcödé ✓ — \"quoted\"\nsecond line"]
            var options = TrainingOptions()
            options.epochs = 4
            options.batchSize = 16
            options.optimizer = .adamW(beta1: 0.875, beta2: 0.99, epsilon: 1e-7, weightDecay: 0.001)
            options.learningRate = 0.02
            options.schedule = .warmup(epochs: 2, then: .stepDecay(milestones: [3], factor: 0.5))
            options.l2 = 0.0001
            options.validationFraction = 0.2
            options.earlyStoppingPatience = 5
            options.earlyStoppingMinDelta = 0.001
            options.gradientClipNorm = 10
            options.standardize = true
            try model.fit(data, options: options)
            pinHistoryTimes(&model)
            let inputs = try Matrix(rows: 4, cols: 2, values: [0, 0, 0.5, -0.25, -0.75, 0.125, 0.3, 0.9])
            models.append(ValidModel(name: "trained-full", summary: "trained spiral classifier with feature names, class labels, metadata, standardisation, history and AdamW training state",
                                     model: model, inputs: inputs, exact: false))
            models.append(ValidModel(name: "trained-full-inference-only", summary: "the same model saved without its training state",
                                     model: model, inputs: inputs, exact: false))
        }
        return models
    }

    static func hex(_ bits: UInt32) -> String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func hex64(_ bits: UInt64) -> String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func expectedText(_ fixture: ValidModel, loaded: Model, outputs: Matrix) -> String {
        let inference = !fixture.options.includeTrainingState
        var text = """
            # Golden file \(fixture.name).nnm, written by nncore \(NNCoreVersion.string) (format version \(ModelFormat.version)).
            # \(fixture.summary)
            # Every later nncore must load it and, for each `input` row, predict() (all rows in one
            # call) must return the following `output` row bit for bit (to float rounding when the
            # file is not exact by construction). Values are float32 bit patterns in hex; the
            # comment after `#` gives them in decimal.

            """
        text += fixture.exact
            ? "# Exact by construction: few-bit weights and inputs, so no BLAS kernel or summation order changes a bit.\n"
            : "# Not exact by construction: a layer sums the outputs of a sigmoid/tanh layer, so a BLAS kernel with\n# another summation order (another CPU) could change the last bits.\n"
        text += "loss \(loaded.loss.rawValue)\n"
        text += "input-width \(loaded.inputWidth)\n"
        text += "output-width \(loaded.outputWidth)\n"
        text += "layers \(loaded.layers.count)\n"
        text += "parameters \(loaded.parameterCount)\n"
        text += "parameter-checksum \(hex(parameterChecksum(loaded)))\n"
        text += "feature-names \(loaded.featureNames.count)\n"
        text += "class-labels \(loaded.classLabels.count)\n"
        text += "metadata-entries \(loaded.metadata.count)\n"
        text += "history-epochs \(loaded.history.count)\n"
        text += "training-step \(loaded.trainingState.step)\n"
        text += "training-epoch \(loaded.trainingState.epoch)\n"
        if !inference {
            let r = loaded.random.state
            text += "random-state \(hex64(r.0)) \(hex64(r.1)) \(hex64(r.2)) \(hex64(r.3))\n"
        }
        for row in 0 ..< fixture.inputs.rows {
            let x = fixture.inputs.row(row), y = outputs.row(row)
            text += "input " + x.map { hex($0.bitPattern) }.joined(separator: " ") + "  # " + x.map { "\($0)" }.joined(separator: " ") + "\n"
            text += "output " + y.map { hex($0.bitPattern) }.joined(separator: " ") + "  # " + y.map { "\($0)" }.joined(separator: " ") + "\n"
        }
        return text
    }

    /// CRC-32C of the parameters' little-endian bytes.
    static func parameterChecksum(_ model: Model) -> UInt32 {
        var bytes: [UInt8] = []
        for value in model.parameters {
            let bits = value.bitPattern
            for k in 0 ..< 4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
        }
        return bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }

    // MARK: Corrupt files

    struct CorruptFile {
        var name: String
        var bytes: [UInt8]
        var code: NNError.Code
        var message: String
    }

    /// `body` followed by a correct checksum trailer.
    static func sealed(_ body: [UInt8]) -> [UInt8] {
        var bytes = body + [0, 0, 0, 0, 0]
        ModelFileTests.resealChecksum(&bytes)
        return bytes
    }

    static func corruptFiles() throws -> [CorruptFile] {
        var files: [CorruptFile] = []
        func add(_ name: String, _ bytes: [UInt8], _ code: NNError.Code, _ message: String) {
            files.append(CorruptFile(name: name + ".nnm", bytes: bytes, code: code, message: message))
        }
        let full = try validModels().first { $0.name == "trained-full" }!.model.serialized(options: saveOptions)
        let payload = full.count - 5
        // Where the first weight tensor's floats start: the bytes of parameter 0, found in the file.
        let model = try Model(serialized: full)
        let firstWeights = model.parameters[0 ..< 4].flatMap { v in (0 ..< 4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
        let weightsAt = (0 ..< full.count - 16).first { Array(full[$0 ..< $0 + 16]) == firstWeights }!

        // The envelope: emptiness, truncation, bit flips, other kinds of files.
        add("empty", [], .corruptFile, "the file is empty")
        add("truncated-inside-signature", Array(full.prefix(7)), .corruptFile, "not even a complete signature")
        add("truncated-after-signature", Array(full.prefix(14)), .corruptFile, "does not end with its checksum")
        add("truncated-after-header", Array(full.prefix(18)), .corruptFile, "does not end with its checksum")
        add("truncated-inside-weights", Array(full.prefix(weightsAt + 10)), .corruptFile, "truncated")
        add("truncated-at-half", Array(full.prefix(full.count / 2)), .corruptFile, "truncated")
        add("truncated-without-checksum", Array(full.prefix(payload)), .corruptFile, "truncated")
        add("truncated-last-byte", Array(full.prefix(full.count - 1)), .corruptFile, "truncated")
        var flipped = full; flipped[5] ^= 0x04
        add("bitflip-in-signature", flipped, .corruptFile, "not an nncore model file")
        flipped = full; flipped[15] ^= 0x02
        add("bitflip-in-format-version", flipped, .corruptFile, "checksum mismatch")
        flipped = full; flipped[weightsAt + 6] ^= 0x10
        add("bitflip-in-weights", flipped, .corruptFile, "checksum mismatch")
        flipped = full; flipped[payload + 2] ^= 0x80
        add("bitflip-in-checksum", flipped, .corruptFile, "checksum mismatch")
        flipped = full; flipped[payload] ^= 0x01
        add("bitflip-in-checksum-tag", flipped, .corruptFile, "does not end with its checksum")
        add("trailing-garbage-after-checksum", full + Array("garbage!".utf8), .corruptFile, "does not end with its checksum")
        var wrong = full; wrong.replaceSubrange(2 ..< 14, with: Array("nncore-modem".utf8))
        add("wrong-signature", wrong, .corruptFile, "not an nncore model file")
        add("png-image", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0],
            .corruptFile, "a PNG image")
        // An ONNX ModelProto starts with ir_version (field 1, varint) and producer_name (field 2).
        var onnx = Wire()
        onnx.varint(1, 8)
        onnx.string(2, "pytorch")
        onnx.string(3, "2.1.0")
        onnx.message(7) { graph in graph.string(2, "main_graph") }
        add("onnx-like-protobuf", onnx.bytes, .corruptFile, "perhaps an ONNX model")
        var random = RandomGenerator(seed: 0xBAD)
        var noise = (0 ..< 512).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        noise[0] = 0xC3
        add("random-bytes", noise, .corruptFile, "not an nncore model file")
        add("text-file", Array("input,output\n1.0,2.0\n".utf8), .corruptFile, "(text)")

        // Versions.
        add("newer-min-reader-version", sealed(HandModel(minReaderVersion: 2).body), .unsupportedVersion, "needs a reader of format version 2")
        // A future format might change the trailer too: the version is checked before the checksum.
        add("future-format-with-another-trailer", HandModel(formatVersion: 7, minReaderVersion: 7).body + Array("sha256:...".utf8),
            .unsupportedVersion, "needs a reader of format version 7")
        add("format-version-0", sealed(HandModel(formatVersion: 0).body), .corruptFile, "format version 0 is not a valid version")

        // Sizes and limits.
        add("input-width-2-pow-31", sealed(HandModel(inputWidth: 1 << 31, tensors: []).body), .corruptFile, "input width 2147483648 is outside")
        add("input-width-0", sealed(HandModel(inputWidth: 0, tensors: []).body), .corruptFile, "input width 0 is outside")
        add("dense-units-2-pow-30", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 1 << 30, activation: 1)], tensors: []).body),
            .corruptFile, "dense units must be in 1...16777216, got 1073741824")
        add("maxout-pieces-2-pow-31", sealed(HandModel(layers: [Wire.layer(kind: 2, units: 1 << 24, pieces: 1 << 31)], tensors: []).body),
            .corruptFile, "maxout pieces must be in 1...64")
        // 16,777,216 inputs × 63 units: a billion parameters declared, none stored. The loader must
        // refuse it without allocating 4 GiB first.
        add("huge-architecture-without-weights", sealed(HandModel(inputWidth: 1 << 24, layers: [Wire.layer(kind: 1, units: 63, activation: 1)],
                                                                  tensors: [Wire.tensor(layer: 0, kind: 1, rows: 1 << 24, cols: 63, floats: []),
                                                                            Wire.tensor(layer: 0, kind: 2, rows: 1, cols: 63, floats: [])]).body),
            .corruptFile, "the architecture needs 1056964671 parameters (4227858684 bytes) but the file stores only 61 bytes")
        add("parameters-past-the-limit", sealed(HandModel(inputWidth: 1 << 24, layers: [Wire.layer(kind: 1, units: 1 << 24, activation: 1)],
                                                          tensors: []).body),
            .limitExceeded, "layer 0 would bring the model past 1073741824 parameters")
        add("layers-2000", sealed(HandModel(layers: Array(repeating: Wire.layer(kind: 3, rate: 0.5), count: 1999) + [Wire.layer(kind: 1, units: 3, activation: 1)]).body),
            .limitExceeded, "the file has 2000 layers; the limit is 1024")
        // A million empty layer messages: 2 MB of file that protobuf-c would turn into ~72 MB,
        // past the decoder's memory budget (2 × the file + 64 MiB).
        add("layers-1000000", sealed(HandModel(layers: Array(repeating: [], count: 1_000_000), tensors: []).body),
            .limitExceeded, "decoding the model file would need more than")
        var entries = Wire()
        for _ in 0 ..< 100_001 { entries.bytes(16, []) }  // empty entries: 3 bytes each
        add("metadata-entries-100001", sealed(HandModel(extra: entries.bytes).body), .limitExceeded, "100001 metadata entries; the limit is 100000")

        // Architecture.
        add("unknown-layer-kind", sealed(HandModel(layers: [Wire.layer(kind: 4, units: 3, activation: 1)]).body), .corruptFile, "layer 0: unknown layer kind 4")
        add("unspecified-layer-kind", sealed(HandModel(layers: [Wire.layer(kind: 0, units: 3, activation: 1)]).body), .corruptFile, "layer 0: unknown layer kind 0")
        add("unknown-activation", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 3, activation: 9)]).body), .corruptFile, "layer 0: unknown activation kind 9")
        add("negative-activation", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 3, activation: UInt64(bitPattern: -1))]).body),
            .corruptFile, "layer 0: unknown activation kind")
        add("leaky-relu-alpha-infinite", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 3, activation: 3, alpha: .infinity)]).body),
            .corruptFile, "has an invalid α")
        add("elu-alpha-negative", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 3, activation: 6, alpha: -1)]).body),
            .corruptFile, "has an invalid α")
        add("dense-units-0", sealed(HandModel(layers: [Wire.layer(kind: 1, units: 0, activation: 1)], tensors: []).body),
            .corruptFile, "dense units must be in 1...16777216, got 0")
        add("maxout-0-pieces", sealed(HandModel(layers: [Wire.layer(kind: 2, units: 3, pieces: 0)]).body), .corruptFile, "maxout pieces must be in 1...64, got 0")
        add("dropout-rate-1", sealed(HandModel(layers: [Wire.layer(kind: 3, rate: 1), Wire.layer(kind: 1, units: 3, activation: 1)]).body),
            .corruptFile, "dropout rate must be in [0, 1), got 1.0")
        add("dropout-rate-nan", sealed(HandModel(layers: [Wire.layer(kind: 3, rate: .nan), Wire.layer(kind: 1, units: 3, activation: 1)]).body),
            .corruptFile, "dropout rate must be in [0, 1), got nan")
        add("unknown-loss", sealed(HandModel(loss: 5).body), .corruptFile, "unknown loss kind 5")
        add("unspecified-loss", sealed(HandModel(loss: 0).body), .corruptFile, "unknown loss kind 0")
        var initializer = Wire(); initializer.message(18) { $0.varint(1, 6) }
        add("unknown-initializer", sealed(HandModel(extra: initializer.bytes).body), .corruptFile, "unknown initializer kind 6")
        initializer = Wire(); initializer.message(18) { $0.varint(1, 4); $0.float(2, -1) }
        add("initializer-negative-scale", sealed(HandModel(extra: initializer.bytes).body), .corruptFile, "initializer scale must be finite and ≥ 0")

        // Parameter tensors.
        let w = HandModel.defaultWeights, b = HandModel.defaultBiases
        let weights = Wire.tensor(layer: 0, kind: 1, rows: 2, cols: 3, floats: w)
        let biases = Wire.tensor(layer: 0, kind: 2, rows: 1, cols: 3, floats: b)
        add("tensor-kind-unknown", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 3, rows: 2, cols: 3, floats: w), biases]).body),
            .corruptFile, "parameter tensor 0 should be layer 0 weights, found layer 0 kind 3")
        add("tensors-in-wrong-order", sealed(HandModel(tensors: [biases, weights]).body),
            .corruptFile, "parameter tensor 0 should be layer 0 weights, found layer 0 kind 2")
        add("tensor-of-wrong-layer", sealed(HandModel(tensors: [Wire.tensor(layer: 1, kind: 1, rows: 2, cols: 3, floats: w), biases]).body),
            .corruptFile, "should be layer 0 weights, found layer 1 kind 1")
        add("too-many-tensors", sealed(HandModel(tensors: [weights, biases, biases]).body),
            .corruptFile, "the architecture has 2 parameter tensors, the file has 3")
        add("too-few-tensors", sealed(HandModel(tensors: [weights]).body),
            .corruptFile, "the architecture has 2 parameter tensors, the file has 1")
        add("tensor-shape-transposed", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 1, rows: 3, cols: 2, floats: w), biases]).body),
            .corruptFile, "layer 0 weights: expected shape 2 × 3, found 3 × 2")
        add("tensor-shape-huge", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 1, rows: 1 << 31, cols: 1 << 31, floats: w), biases]).body),
            .corruptFile, "expected shape 2 × 3, found 2147483648 × 2147483648")
        var ragged = Wire.floatBytes(w); ragged.removeLast()
        add("tensor-bytes-not-a-multiple-of-4", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 1, rows: 2, cols: 3, data: ragged), biases]).body),
            .corruptFile, "23 bytes (not a whole number of floats)")
        add("tensor-too-few-floats", sealed(HandModel(tensors: [weights, Wire.tensor(layer: 0, kind: 2, rows: 1, cols: 3, floats: [1, 2])]).body),
            .corruptFile, "layer 0 biases: expected 3 floats, found 2")
        add("tensor-too-many-floats", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 1, rows: 2, cols: 3, floats: w + [0]), biases]).body),
            .corruptFile, "layer 0 weights: expected 6 floats, found 7")
        var nanWeights = w; nanWeights[2] = .nan
        add("weight-nan", sealed(HandModel(tensors: [Wire.tensor(layer: 0, kind: 1, rows: 2, cols: 3, floats: nanWeights), biases]).body),
            .corruptFile, "layer 0 weights: value 2 is nan")
        add("bias-infinite", sealed(HandModel(tensors: [weights, Wire.tensor(layer: 0, kind: 2, rows: 1, cols: 3, floats: [0, -.infinity, 0])]).body),
            .corruptFile, "layer 0 biases: value 1 is -inf")

        // Names, labels, metadata.
        var names = Wire(); names.string(9, "x"); names.bytes(9, [0x79, 0xC3, 0x28])
        add("feature-name-invalid-utf8", sealed(HandModel(extra: names.bytes).body), .corruptFile, "feature name 1 is not valid UTF-8")
        names = Wire(); names.string(9, "x"); names.string(9, "y"); names.string(9, "z")
        add("feature-names-3-for-2-inputs", sealed(HandModel(extra: names.bytes).body), .corruptFile, "3 feature names for 2 inputs")
        var labels = Wire(); labels.bytes(10, [0xFF, 0xFE]); labels.string(10, "b"); labels.string(10, "c")
        add("class-label-invalid-utf8", sealed(HandModel(extra: labels.bytes).body), .corruptFile, "class label 0 is not valid UTF-8")
        labels = Wire(); labels.string(10, "a"); labels.string(10, "b")
        add("class-labels-2-for-3-classes", sealed(HandModel(extra: labels.bytes).body), .corruptFile, "2 class labels for a model with 3 classes")
        labels = Wire(); labels.string(10, "a")
        add("class-labels-for-a-regressor", sealed(HandModel(loss: 3, extra: labels.bytes).body), .corruptFile, "1 class labels for a model with 0 classes")
        var metadata = Wire()
        metadata.message(16) { $0.string(1, "author"); $0.bytes(2, [0x61, 0xED, 0xA0, 0x80]) }  // an encoded UTF-16 surrogate
        add("metadata-value-invalid-utf8", sealed(HandModel(extra: metadata.bytes).body), .corruptFile, "metadata value 'author' is not valid UTF-8")
        metadata = Wire()
        metadata.message(16) { $0.bytes(1, [0xC0, 0x80]); $0.string(2, "overlong NUL") }
        add("metadata-key-invalid-utf8", sealed(HandModel(extra: metadata.bytes).body), .corruptFile, "metadata key 0 is not valid UTF-8")
        metadata = Wire()
        metadata.message(16) { $0.string(1, "author"); $0.string(2, "a") }
        metadata.message(16) { $0.string(1, "author"); $0.string(2, "b") }
        add("metadata-duplicate-key", sealed(HandModel(extra: metadata.bytes).body), .corruptFile, "metadata key 'author' appears twice")
        var provenance = Wire(); provenance.message(14) { $0.bytes(1, [0x80]) }
        add("provenance-invalid-utf8", sealed(HandModel(extra: provenance.bytes).body), .corruptFile, "provenance library is not valid UTF-8")
        var signature = Wire(); signature.string(1, "nncore-modem")
        add("second-signature-field", sealed(HandModel(extra: signature.bytes).body), .corruptFile, "the signature field is not \"nncore-model\"")

        // Standardisation.
        add("standardization-zero-scale", sealed(HandModel(extra: HandModel.standardization([0, 0], [1, 0])).body), .corruptFile, "standardisation: a scale is not positive")
        add("standardization-negative-scale", sealed(HandModel(extra: HandModel.standardization([0, 0], [-1, 1])).body), .corruptFile, "standardisation: a scale is not positive")
        add("standardization-nan-mean", sealed(HandModel(extra: HandModel.standardization([.nan, 0], [1, 1])).body), .corruptFile, "standardisation mean 0 is nan")
        add("standardization-wrong-count", sealed(HandModel(extra: HandModel.standardization([0, 0, 0], [1, 1, 1])).body),
            .corruptFile, "standardisation: expected 2 means and scales, found 3 and 3")
        add("standardization-means-only", sealed(HandModel(extra: HandModel.standardization([0, 0], [])).body),
            .corruptFile, "standardisation: expected 2 means and scales, found 2 and 0")

        // Training configuration, state and history.
        add("unknown-optimizer", sealed(HandModel(extra: HandModel.config(optimizer: 8)).body), .corruptFile, "training configuration: unknown optimizer kind 8")
        add("learning-rate-negative", sealed(HandModel(extra: HandModel.config(learningRate: -0.5)).body), .corruptFile, "learning rate must be positive, got -0.5")
        add("training-epochs-0", sealed(HandModel(extra: HandModel.config(epochs: 0)).body), .corruptFile, "epochs must be ≥ 1, got 0")
        add("unknown-schedule", sealed(HandModel(extra: HandModel.config(schedule: 9)).body), .corruptFile, "unknown schedule kind 9")
        add("cosine-period-0", sealed(HandModel(extra: HandModel.config(schedule: 4, period: 0)).body), .corruptFile, "cosine period must be ≥ 1 epoch, got 0")
        var momentum = Wire(); momentum.message(11) { c in c.message(1) { $0.varint(1, 2); $0.float(2, 1.5) }; c.float(2, 0.01); c.varint(6, 1) }
        add("momentum-1.5", sealed(HandModel(extra: momentum.bytes).body), .corruptFile, "momentum must be in [0, 1), got 1.5")

        add("random-state-3-words", sealed(HandModel(extra: HandModel.state(words: 3)).body), .corruptFile, "the random generator state has 3 words, expected 4")
        add("random-state-missing", sealed(HandModel(extra: HandModel.state(words: 0)).body), .corruptFile, "the random generator state has 0 words, expected 4")
        add("adam-first-moment-too-short", sealed(HandModel(extra: HandModel.state(first: 8)).body), .corruptFile, "training state: first moment: expected 9 floats, found 8")
        add("adam-second-moment-missing", sealed(HandModel(extra: HandModel.state(second: 0)).body), .corruptFile, "training state: second moment: expected 9 floats, found 0")
        add("momentum-with-a-second-moment", sealed(HandModel(extra: HandModel.state(optimizer: 2, second: 9)).body), .corruptFile, "training state: second moment: expected 0 floats, found 9")
        add("slots-without-an-optimizer", sealed(HandModel(extra: HandModel.state(optimizer: nil)).body), .corruptFile, "training state: first moment: expected 0 floats, found 9")
        add("training-step-2-pow-63", sealed(HandModel(extra: HandModel.state(step: 1 << 63)).body), .corruptFile, "training state: step 9223372036854775808 or epoch 1 is out of range")
        var slotNaN = Wire()
        slotNaN.message(12) { s in
            s.message(1) { $0.varint(1, 2); $0.float(2, 0.5) }
            s.bytes(4, Wire.floatBytes([0, 0, 0, 0, .nan, 0, 0, 0, 0]))
            s.bytes(6, (0 ..< 4).flatMap { Wire.le64(UInt64($0 + 1)) })
        }
        add("optimizer-slot-nan", sealed(HandModel(extra: slotNaN.bytes).body), .corruptFile, "first moment: value 4 is nan")
        add("history-loss-nan", sealed(HandModel(extra: HandModel.history(loss: .nan)).body), .corruptFile, "history record 0: data loss is nan")
        add("history-seconds-infinite", sealed(HandModel(extra: HandModel.history(seconds: .infinity)).body), .corruptFile, "history record 0: seconds is inf")
        add("history-accuracy-nan", sealed(HandModel(extra: HandModel.history(accuracy: .nan)).body), .corruptFile, "history record 0: accuracy is nan")

        // Malformed protobuf behind a correct checksum.
        var pastEnd = HandModel().body
        pastEnd += [0x4A, 0x7F, 0x41]  // field 9 (a feature name) of 127 bytes, with 1 byte present
        add("length-prefix-past-the-end", sealed(pastEnd), .corruptFile, "not a valid nncore protobuf message although its checksum matches")
        var wireType = HandModel().body
        wireType += [0x22, 0x01, 0x02]  // field 4 (input_width, a varint) as length-delimited
        add("wrong-wire-type", sealed(wireType), .corruptFile, "not a valid nncore protobuf message although its checksum matches")
        var longVarint = HandModel().body
        longVarint += [0x88, 0x01] + Array(repeating: 0xFF, count: 11) + [0x01]  // field 17 (seed): an 11-byte varint
        add("varint-too-long", sealed(longVarint), .corruptFile, "not a valid nncore protobuf message although its checksum matches")
        var groups = HandModel().body
        groups += [0x5B]  // field 11 as a start-group: protobuf-c does not support groups
        add("start-group-wire-type", sealed(groups), .corruptFile, "not a valid nncore protobuf message although its checksum matches")
        var nested = HandModel().body
        nested += [0x62, 0x05, 0x32, 0x10, 0x01, 0x02, 0x03]  // training state whose random_state claims 16 bytes and has 3
        add("nested-length-past-its-message", sealed(nested), .corruptFile, "not a valid nncore protobuf message although its checksum matches")
        add("garbage-inside-the-checksum", sealed(HandModel().body + Array("garbage!".utf8)), .corruptFile,
            "not a valid nncore protobuf message although its checksum matches")
        add("checksum-of-the-wrong-bytes", HandModel().body + [0x7D, 0xDE, 0xAD, 0xBE, 0xEF], .corruptFile, "checksum mismatch (stored 0xEFBEADDE")
        return files
    }
}

/// A minimal protobuf wire-format writer, for model files crafted byte by byte.
struct Wire {
    var bytes: [UInt8] = []

    static func varintBytes(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0 ..< 8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func floatBytes(_ values: [Float]) -> [UInt8] { values.flatMap { le32($0.bitPattern) } }

    mutating func tag(_ field: Int, _ wireType: Int) { bytes += Self.varintBytes(UInt64(field << 3 | wireType)) }
    mutating func varint(_ field: Int, _ value: UInt64) { tag(field, 0); bytes += Self.varintBytes(value) }
    mutating func fixed64(_ field: Int, _ value: UInt64) { tag(field, 1); bytes += Self.le64(value) }
    mutating func double(_ field: Int, _ value: Double) { fixed64(field, value.bitPattern) }
    mutating func fixed32(_ field: Int, _ value: UInt32) { tag(field, 5); bytes += Self.le32(value) }
    mutating func float(_ field: Int, _ value: Float) { fixed32(field, value.bitPattern) }
    mutating func bytes(_ field: Int, _ data: [UInt8]) { tag(field, 2); bytes += Self.varintBytes(UInt64(data.count)) + data }
    mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }
    mutating func message(_ field: Int, _ build: (inout Wire) -> Void) {
        var inner = Wire()
        build(&inner)
        bytes(field, inner.bytes)
    }

    /// A Layer message's bytes (zero fields are left out, as protobuf does).
    static func layer(kind: UInt64, units: UInt64 = 0, activation: UInt64 = 0, alpha: Float = 0, pieces: UInt64 = 0, rate: Float = 0) -> [UInt8] {
        var w = Wire()
        if kind != 0 { w.varint(1, kind) }
        if units != 0 { w.varint(2, units) }
        if activation != 0 { w.varint(3, activation) }
        if alpha != 0 || alpha.isNaN { w.float(4, alpha) }
        if pieces != 0 { w.varint(5, pieces) }
        if rate != 0 || rate.isNaN { w.float(6, rate) }
        return w.bytes
    }

    /// A Tensor message's bytes.
    static func tensor(layer: UInt64, kind: UInt64, rows: UInt64, cols: UInt64, floats: [Float]) -> [UInt8] {
        tensor(layer: layer, kind: kind, rows: rows, cols: cols, data: floatBytes(floats))
    }

    static func tensor(layer: UInt64, kind: UInt64, rows: UInt64, cols: UInt64, data: [UInt8]) -> [UInt8] {
        var w = Wire()
        if layer != 0 { w.varint(1, layer) }
        w.varint(2, kind)
        w.varint(3, rows)
        w.varint(4, cols)
        w.bytes(5, data)
        return w.bytes
    }
}

/// A model file written field by field: by default a valid 2-input, 3-class softmax model with
/// one dense layer (GoldenFileTests checks that it loads), so that each crafted file differs
/// from a valid one only where its name says.
struct HandModel {
    static let defaultWeights: [Float] = [0.5, -0.25, 1, -1, 0.125, 0.75]
    static let defaultBiases: [Float] = [0, 0.5, -0.5]

    var signature = ModelFormat.signature
    var formatVersion: UInt64 = 1
    var minReaderVersion: UInt64 = 1
    var inputWidth: UInt64 = 2
    var layers: [[UInt8]] = [Wire.layer(kind: 1, units: 3, activation: 1)]
    var loss: UInt64 = 1
    var tensors: [[UInt8]] = [Wire.tensor(layer: 0, kind: 1, rows: 2, cols: 3, floats: defaultWeights),
                              Wire.tensor(layer: 0, kind: 2, rows: 1, cols: 3, floats: defaultBiases)]
    /// Fields appended after the architecture and parameters.
    var extra: [UInt8] = []

    /// The file without its checksum trailer.
    var body: [UInt8] {
        var w = Wire()
        w.string(1, signature)
        w.varint(2, formatVersion)
        w.varint(3, minReaderVersion)
        w.varint(4, inputWidth)
        for layer in layers { w.bytes(5, layer) }
        w.varint(6, loss)
        for tensor in tensors { w.bytes(7, tensor) }
        return w.bytes + extra
    }
}

extension HandModel {
    // Optional sections of a hand-written model, valid by default (GoldenFileTests checks that a
    // model with all of them loads); the crafted files break one value each.

    static func standardization(_ mean: [Float], _ scale: [Float]) -> [UInt8] {
        var wire = Wire()
        wire.message(8) { $0.bytes(1, Wire.floatBytes(mean)); $0.bytes(2, Wire.floatBytes(scale)) }
        return wire.bytes
    }

    static func config(optimizer: UInt64 = 1, learningRate: Float = 0.01, epochs: UInt64 = 1, schedule: UInt64 = 1, period: UInt64 = 0) -> [UInt8] {
        var wire = Wire()
        wire.message(11) { c in
            c.message(1) { $0.varint(1, optimizer) }
            c.float(2, learningRate)
            c.message(3) { $0.varint(1, schedule); $0.varint(5, period) }
            c.varint(6, epochs)
        }
        return wire.bytes
    }

    static func state(optimizer: UInt64? = 6, step: UInt64 = 3, first: Int = 9, second: Int = 9, words: Int = 4) -> [UInt8] {
        var wire = Wire()
        wire.message(12) { s in
            if let optimizer {
                s.message(1) { o in
                    o.varint(1, optimizer)
                    if optimizer == 6 { o.float(3, 1e-8); o.float(5, 0.9); o.float(6, 0.999) }
                    if optimizer == 2 { o.float(2, 0.9) }
                }
            }
            s.varint(2, step)
            s.varint(3, 1)
            s.bytes(4, Wire.floatBytes((0 ..< first).map { Float($0) / 64 }))
            s.bytes(5, Wire.floatBytes((0 ..< second).map { Float($0) / 128 }))
            s.bytes(6, (0 ..< words).flatMap { Wire.le64(0x0123_4567_89AB_CDEF &* UInt64($0 + 1)) })
        }
        return wire.bytes
    }

    static func history(loss: Float = 0.5, seconds: Double = 1, hasAccuracy: Bool = true, accuracy: Float = 0.5) -> [UInt8] {
        var wire = Wire()
        wire.message(13) { r in
            r.varint(1, 1); r.float(2, loss); r.float(4, accuracy); r.float(7, 0.01); r.double(8, seconds)
            r.varint(9, hasAccuracy ? 1 : 0)
        }
        return wire.bytes
    }
}
