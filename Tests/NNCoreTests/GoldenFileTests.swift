import Testing
@testable import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// The golden model files in Tests/Fixtures/models (written by GoldenFixtureGenerator.swift,
/// `make fixtures`): valid files written by an earlier version must keep loading the same
/// parameters and predicting the same bits (to float rounding for the files whose sidecar says
/// they are not exact by construction, whose last bits depend on the BLAS kernel and summation
/// order), and every broken file must be refused with the code and message its MANIFEST line
/// gives.
@Suite struct GoldenFileTests {
    static let minimumValidFiles = 6
    static let minimumCorruptFiles = 30

    // MARK: Valid files

    /// The names (without .nnm) of the valid golden files.
    static func validNames() -> [String] {
        ModelFileTests.entries(GoldenFixtures.validDirectory).filter { $0.hasSuffix(".nnm") }.map { String($0.dropLast(4)) }
    }

    /// A parsed `NAME.expected` sidecar: `key value…` lines, and `input`/`output` row pairs.
    struct Expected {
        var values: [String: [String]] = [:]
        var inputs: [[Float]] = []
        var outputs: [[UInt32]] = []
        /// False when the generator marked the outputs as depending on the summation order.
        var exact = true

        init(_ text: String) throws {
            exact = !text.contains("# Not exact by construction")
            for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                let words = line.split(separator: " ").map(String.init)
                guard let key = words.first else { continue }
                let rest = Array(words.dropFirst())
                switch key {
                case "input":
                    inputs.append(try rest.map { Float(bitPattern: try Self.bits($0)) })
                case "output":
                    outputs.append(try rest.map { try Self.bits($0) })
                default:
                    values[key] = rest
                }
            }
        }

        static func bits(_ hex: String) throws -> UInt32 {
            guard hex.count == 8, let value = UInt32(hex, radix: 16) else { throw NNError(.corruptFile, "bad float bit pattern '\(hex)'") }
            return value
        }

        func int(_ key: String) -> Int? { values[key]?.first.flatMap { Int($0) } }
    }

    @Test func theFixtureDirectoriesHoldTheGoldenFiles() throws {
        let valid = Self.validNames()
        #expect(valid.count >= Self.minimumValidFiles, "only \(valid.count) valid golden files in \(GoldenFixtures.validDirectory); run `make fixtures`")
        let sidecars = ModelFileTests.entries(GoldenFixtures.validDirectory).filter { $0.hasSuffix(".expected") }.map { String($0.dropLast(9)) }
        #expect(sidecars == valid, "every valid .nnm needs a .expected sidecar and vice versa")
        let others = ModelFileTests.entries(GoldenFixtures.validDirectory).filter { !$0.hasSuffix(".nnm") && !$0.hasSuffix(".expected") }
        #expect(others.isEmpty, "unexpected files in valid/: \(others)")
        #expect(try Self.manifest().count >= Self.minimumCorruptFiles)
    }

    @Test(arguments: validNames())
    func everyValidGoldenFileLoadsAndPredictsItsExpectedOutputs(name: String) throws {
        let path = "\(GoldenFixtures.validDirectory)/\(name).nnm"
        let model = try Model(contentsOf: path)
        let text = try ModelFileTests.fileBytes("\(GoldenFixtures.validDirectory)/\(name).expected")
        let expected = try Expected(String(decoding: text, as: UTF8.self))

        #expect(model.loss.rawValue == expected.values["loss"]?.first)
        #expect(model.inputWidth == expected.int("input-width"))
        #expect(model.outputWidth == expected.int("output-width"))
        #expect(model.layers.count == expected.int("layers"))
        #expect(model.parameterCount == expected.int("parameters"))
        #expect(GoldenFixtures.hex(GoldenFixtures.parameterChecksum(model)) == expected.values["parameter-checksum"]?.first)
        #expect(model.featureNames.count == expected.int("feature-names"))
        #expect(model.classLabels.count == expected.int("class-labels"))
        #expect(model.metadata.count == expected.int("metadata-entries"))
        #expect(model.history.count == expected.int("history-epochs"))
        #expect(model.trainingState.step == expected.int("training-step"))
        #expect(model.trainingState.epoch == expected.int("training-epoch"))
        if let words = expected.values["random-state"] {
            let r = model.random.state
            #expect([r.0, r.1, r.2, r.3].map(GoldenFixtures.hex64) == words)
        }

        #expect(!expected.inputs.isEmpty && expected.inputs.count == expected.outputs.count)
        let inputs = try Matrix(expected.inputs)
        let outputs = try model.predict(inputs)
        for row in 0 ..< inputs.rows {
            if expected.exact {
                #expect(outputs.row(row).map(\.bitPattern) == expected.outputs[row], "\(name): row \(row) of \(expected.inputs[row])")
            } else {
                let want = expected.outputs[row].map { Float(bitPattern: $0) }
                let worst = zip(outputs.row(row), want).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? .infinity
                #expect(want.count == outputs.cols && worst < 1e-5, "\(name): row \(row) of \(expected.inputs[row]) is off by \(worst)")
            }
        }

        // While the writer is this very version, saving the loaded model gives the file back.
        if let provenance = model.provenance, provenance.libraryVersion == NNCoreVersion.string {
            let again = model.serialized(options: .init(includeTrainingState: !name.hasSuffix("inference-only"),
                                                        creationTime: provenance.createdUnixSeconds))
            #expect(again == (try ModelFileTests.fileBytes(path)), "\(name) does not save back to the same bytes")
        }
    }

    // MARK: Corrupt files

    struct ManifestEntry: CustomTestStringConvertible, Sendable {
        var file: String
        var code: NNError.Code
        var message: String
        var testDescription: String { file }
    }

    /// corrupt/MANIFEST: `FILE  CODE  message substring` per line; `#` starts a comment line.
    static func manifest() throws -> [ManifestEntry] {
        let bytes = try ModelFileTests.fileBytes(GoldenFixtures.corruptDirectory + "/MANIFEST")
        var entries: [ManifestEntry] = []
        for rawLine in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let line = Substring(rawLine)
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { continue }
            var rest = line[...]
            func word() -> String {
                rest = rest.drop { $0 == " " }
                let word = rest.prefix { $0 != " " }
                rest = rest.dropFirst(word.count)
                return String(word)
            }
            let file = word(), codeName = word()
            let message = String(rest.drop { $0 == " " })
            guard let code = NNError.Code.allCases.first(where: { "\($0)" == codeName }) else {
                throw NNError(.corruptFile, "MANIFEST: unknown error code '\(codeName)' for \(file)")
            }
            entries.append(ManifestEntry(file: file, code: code, message: message))
        }
        return entries
    }

    static func manifestOrEmpty() -> [ManifestEntry] { (try? manifest()) ?? [] }

    @Test func theManifestListsExactlyTheFilesInTheCorruptDirectory() throws {
        let listed = try Self.manifest().map(\.file)
        #expect(Set(listed).count == listed.count, "a file is listed twice in the MANIFEST")
        let present = ModelFileTests.entries(GoldenFixtures.corruptDirectory).filter { $0 != "MANIFEST" }
        #expect(Set(present).subtracting(listed).sorted() == [], "files in corrupt/ that the MANIFEST does not list")
        #expect(Set(listed).subtracting(present).sorted() == [], "MANIFEST lines whose file is missing")
        #expect(listed.count >= Self.minimumCorruptFiles)
    }

    @Test(arguments: manifestOrEmpty())
    func everyCorruptGoldenFileIsRefusedWithItsCodeAndMessage(entry: ManifestEntry) throws {
        let path = GoldenFixtures.corruptDirectory + "/" + entry.file
        let error = #expect(throws: NNError.self, "\(entry.file) loaded") { try Model(contentsOf: path) }
        #expect(error?.code == entry.code, "\(entry.file): \(error?.description ?? "")")
        #expect(error?.message.contains(entry.message) == true, "\(entry.file): \(error?.description ?? "")")
        // From memory, the same.
        let bytes = try ModelFileTests.fileBytes(path)
        let fromMemory = #expect(throws: NNError.self) { try Model(serialized: bytes) }
        #expect(fromMemory == error)
    }

    // MARK: The crafted files' base

    @Test func theHandWrittenBaseOfTheCraftedFilesIsAValidModel() throws {
        let model = try Model(serialized: GoldenFixtures.sealed(HandModel().body))
        #expect(model.layers == [.dense(units: 3)])
        #expect(model.parameters == HandModel.defaultWeights + HandModel.defaultBiases)
        // With every optional section the crafted files break one value of.
        var extras = HandModel.standardization([0.5, -1], [2, 0.25]) + HandModel.config(schedule: 4, period: 3)
        extras += HandModel.state() + HandModel.history()
        var names = Wire(); names.string(9, "x"); names.string(9, "y"); names.string(10, "a"); names.string(10, "b"); names.string(10, "c")
        names.message(16) { $0.string(1, "author"); $0.string(2, "a") }
        names.message(14) { $0.string(1, "nncore"); $0.string(2, "0.0.1") }
        names.message(18) { $0.varint(1, 4); $0.float(2, 0.5) }
        extras += names.bytes
        let full = try Model(serialized: GoldenFixtures.sealed(HandModel(extra: extras).body))
        #expect(full.featureNames == ["x", "y"])
        #expect(full.classLabels == ["a", "b", "c"])
        #expect(full.metadata == ["author": "a"])
        #expect(full.standardization == (try Standardization(mean: [0.5, -1], scale: [2, 0.25])))
        #expect(full.trainingState.step == 3 && full.trainingState.firstMoment.count == 9 && full.trainingState.secondMoment.count == 9)
        #expect(full.history.count == 1)
        #expect(full.lastTrainingOptions?.schedule == .cosine(period: 3, minimumFactor: 0))
        #expect(full.initializer == .normal(std: 0.5))
        // And a model with a momentum state, the base of the one-slot crafted files.
        #expect(throws: Never.self) { try Model(serialized: GoldenFixtures.sealed(HandModel(extra: HandModel.state(optimizer: 2, second: 0)).body)) }
    }
}
