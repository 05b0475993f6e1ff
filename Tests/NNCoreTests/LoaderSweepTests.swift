import Testing
@testable import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// Systematic damage to small model files: every truncation, thousands of single-bit flips,
/// random byte overwrites, insertions and deletions. Each damaged file must either load or be
/// refused with an `NNError` — never crash, trap or hang. Damage the checksum sees must always
/// be refused; the same damage with the checksum resealed reaches the protobuf and semantic
/// checks behind it, where the file must again load (and then predict and save) or be refused.
@Suite struct LoaderSweepTests {
    /// Slowest single load allowed: a hang shows up as a failure, not as a stuck test run.
    static let slowestLoadSeconds = 2.0

    /// The models the sweep damages, serialised: a trained classifier with every optional part
    /// (Adam slots, history, names, metadata, standardisation), an inference-only regressor, and
    /// the hand-written base model of the crafted golden files with all its optional sections.
    static func files() throws -> [(name: String, bytes: [UInt8])] {
        let data = try SyntheticData.spiral(pointsPerClass: 10, classes: 3, seed: 5)
        var classifier = try Model(inputs: 2, layers: [.dense(units: 4, activation: .leakyReLU(alpha: 0.1)),
                                                       .maxout(units: 3, pieces: 2), .dropout(rate: 0.2),
                                                       .dense(units: 3, activation: .elu(alpha: 1))],
                                   loss: .softmaxCrossEntropy, seed: 5)
        try classifier.setFeatureNames(["x", "y"])
        try classifier.setClassLabels(["a", "b", "ç"])
        classifier.metadata = ["k": "v", "ключ": "значение"]
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 10
        options.optimizer = .adam()
        options.schedule = .warmup(epochs: 1, then: .cosine(period: 4, minimumFactor: 0.1))
        options.validationFraction = 0.2
        options.standardize = true
        try classifier.fit(data, options: options)

        var regressor = try Model(inputs: 3, layers: [.dense(units: 3, activation: .tanh), .dense(units: 1)],
                                  loss: .meanSquaredError, seed: 6)
        try regressor.setStandardization(Standardization(mean: [1, 2, 3], scale: [0.5, 1, 2]))

        var extras = HandModel.standardization([0.5, -1], [2, 0.25]) + HandModel.config(schedule: 4, period: 3)
        extras += HandModel.state() + HandModel.history()
        var names = Wire(); names.string(9, "x"); names.string(9, "y"); names.string(10, "a"); names.string(10, "b"); names.string(10, "c")
        names.message(16) { $0.string(1, "key"); $0.string(2, "value") }
        extras += names.bytes

        let pinned = Model.SaveOptions(creationTime: 1)
        return [("classifier", classifier.serialized(options: pinned)),
                ("regressor-inference-only", regressor.serialized(options: .init(includeTrainingState: false, creationTime: 1))),
                ("hand-written", GoldenFixtures.sealed(HandModel(extra: extras).body))]
    }

    /// What became of one damaged file.
    struct Tally: CustomStringConvertible {
        var loaded = 0
        var refused: [NNError.Code: Int] = [:]
        var slowest = 0.0
        var total: Int { loaded + refused.values.reduce(0, +) }
        var description: String {
            "\(total) files: \(loaded) loaded, refused " + refused.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + ", slowest load \(Int(slowest * 1000)) ms"
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Loads `bytes`; a model that loads must predict (or refuse to, with an NNError) and save
    /// to bytes that load again. Returns whether it loaded.
    @discardableResult
    static func attempt(_ bytes: [UInt8], _ tally: inout Tally, _ what: @autoclosure () -> String) -> Bool {
        let start = now()
        defer { tally.slowest = max(tally.slowest, now() - start) }
        let model: Model
        do {
            model = try Model(serialized: bytes)
        } catch let error as NNError {
            tally.refused[error.code, default: 0] += 1
            return false
        } catch {
            Issue.record("\(what()): the loader threw \(error), not an NNError")
            return false
        }
        tally.loaded += 1
        do {
            if let row = try? Matrix(rows: 1, cols: model.inputWidth, repeating: 0.25) { _ = try model.predict(row) }
        } catch let error as NNError {
            _ = error  // e.g. a model without layers
        } catch {
            Issue.record("\(what()): predict threw \(error)")
        }
        let saved = model.serialized(options: .init(creationTime: 1))
        do {
            let again = try Model(serialized: saved)
            #expect(again.serialized(options: .init(creationTime: 1)) == saved, "\(what()): saving the loaded model is not stable")
        } catch {
            Issue.record("\(what()): a model that loaded saves to bytes that do not load: \(error)")
        }
        return true
    }

    /// `bytes` with its last 5 bytes replaced by a correct checksum trailer.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 5 else { return bytes }
        var copy = bytes
        ModelFileTests.resealChecksum(&copy)
        return copy
    }

    @Test func everyTruncationOfAModelFileIsRefused() throws {
        for (name, bytes) in try Self.files() {
            var tally = Tally()
            for length in 0 ..< bytes.count {
                let loaded = Self.attempt(Array(bytes.prefix(length)), &tally, "\(name) truncated to \(length) bytes")
                #expect(!loaded, "\(name) truncated to \(length) of \(bytes.count) bytes loaded")
            }
            #expect(Self.attempt(bytes, &tally, "\(name) whole"), "\(name) itself does not load")
            #expect(tally.slowest < Self.slowestLoadSeconds)
            print("truncations of \(name) (\(bytes.count) bytes): \(tally)")
        }
    }

    @Test func everySingleBitFlipIsCaughtAndResealedFlipsLoadOrThrowNNError() throws {
        var random = RandomGenerator(seed: 0x5EED_0001)
        for (name, bytes) in try Self.files() {
            var caught = Tally(), behind = Tally()
            // Every bit of the first 64 bytes (signature, versions, the start of the architecture)
            // and of the trailer, then random bits anywhere.
            var positions = Array(0 ..< min(64, bytes.count) * 8) + Array((bytes.count - 5) * 8 ..< bytes.count * 8)
            positions += (0 ..< 10_000).map { _ in random.nextIndex(below: bytes.count * 8) }
            for bit in positions {
                var damaged = bytes
                damaged[bit / 8] ^= 1 << UInt8(bit % 8)
                let loaded = Self.attempt(damaged, &caught, "\(name) with bit \(bit) flipped")
                #expect(!loaded, "\(name) with bit \(bit) flipped loaded")
                Self.attempt(Self.resealed(damaged), &behind, "\(name) with bit \(bit) flipped, resealed")
            }
            #expect(caught.slowest < Self.slowestLoadSeconds && behind.slowest < Self.slowestLoadSeconds)
            #expect(behind.loaded > 0 && behind.total > behind.loaded, "the resealed flips should reach both outcomes")
            print("bit flips of \(name): \(caught); resealed: \(behind)")
        }
    }

    @Test func randomByteOverwritesInsertionsAndDeletionsLoadOrThrowNNError() throws {
        var random = RandomGenerator(seed: 0x5EED_0002)
        for (name, bytes) in try Self.files() {
            var caught = Tally(), behind = Tally()
            for trial in 0 ..< 6000 {
                var damaged = bytes
                let what: String
                switch trial % 3 {
                case 0:  // overwrite 1–4 bytes with different values
                    for _ in 0 ... random.nextIndex(below: 4) {
                        let at = random.nextIndex(below: damaged.count)
                        damaged[at] ^= UInt8(1 + random.nextIndex(below: 255))
                    }
                    what = "overwritten"
                case 1:  // insert 1–8 random bytes
                    let at = random.nextIndex(below: damaged.count + 1)
                    damaged.insert(contentsOf: (0 ... random.nextIndex(below: 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
                    what = "with bytes inserted at \(at)"
                default:  // delete 1–8 bytes
                    let at = random.nextIndex(below: damaged.count)
                    damaged.removeSubrange(at ..< min(damaged.count, at + 1 + random.nextIndex(below: 8)))
                    what = "with bytes deleted at \(at)"
                }
                if damaged == bytes { continue }
                let loaded = Self.attempt(damaged, &caught, "\(name) \(what) (trial \(trial))")
                #expect(!loaded, "\(name) \(what) (trial \(trial)) loaded")
                Self.attempt(Self.resealed(damaged), &behind, "\(name) \(what) (trial \(trial)), resealed")
            }
            #expect(caught.slowest < Self.slowestLoadSeconds && behind.slowest < Self.slowestLoadSeconds)
            print("byte damage of \(name): \(caught); resealed: \(behind)")
        }
    }
}
