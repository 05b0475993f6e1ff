import Testing
@testable import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// Save/load round trips, resuming, determinism and the file-system behaviour of saving.
@Suite struct ModelFileTests {
    /// A trained classifier with every kind of layer and optional data filled in.
    static func trainedModel(epochs: Int = 3, seed: UInt64 = 7) throws -> (Model, Dataset, TrainingOptions) {
        let data = try SyntheticData.spiral(pointsPerClass: 40, classes: 3, seed: seed)
        var model = try Model(inputs: 2, layers: [.dense(units: 16, activation: .leakyReLU(alpha: 0.05)),
                                                  .maxout(units: 8, pieces: 2), .dropout(rate: 0.1),
                                                  .dense(units: 3)],
                              loss: .softmaxCrossEntropy, seed: seed)
        try model.setFeatureNames(["x", "y"])
        try model.setClassLabels(["red", "green", "blue"])
        model.metadata = ["author": "tests", "purpose": "round trip ✓"]
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 16
        options.optimizer = .adam()
        options.learningRate = 0.01
        options.schedule = .warmup(epochs: 2, then: .stepDecay(milestones: [4, 8], factor: 0.5))
        options.l2 = 1e-4
        options.validationFraction = 0.2
        options.standardize = true
        try model.fit(data, options: options)
        return (model, data, options)
    }

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/nncore-test-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: result!)
    }

    static func fileBytes(_ path: String) throws -> [UInt8] {
        try FileIO.readRegularFile(path, limit: 1 << 30)
    }

    @Test func predictionsAreBitIdenticalAfterAFileRoundTrip() throws {
        let (model, data, _) = try Self.trainedModel()
        let path = Self.temporaryDirectory() + "/model.nnm"
        try model.save(to: path)
        let loaded = try Model(contentsOf: path)
        #expect(try loaded.predict(data.inputs).values.map(\.bitPattern) == model.predict(data.inputs).values.map(\.bitPattern))
        #expect(loaded.layers == model.layers)
        #expect(loaded.loss == model.loss)
        #expect(loaded.parameters.map(\.bitPattern) == model.parameters.map(\.bitPattern))
        #expect(loaded.featureNames == ["x", "y"])
        #expect(loaded.classLabels == ["red", "green", "blue"])
        #expect(loaded.metadata == model.metadata)
        #expect(loaded.standardization == model.standardization)
        #expect(loaded.history == model.history)
        #expect(loaded.lastTrainingOptions == model.lastTrainingOptions)
        #expect(loaded.trainingState == model.trainingState)
        #expect(loaded.random == model.random)
        #expect(loaded.seed == model.seed)
        #expect(loaded.provenance?.library == "nncore")
        #expect(loaded.provenance?.libraryVersion == NNCoreVersion.string)
    }

    @Test func predictionsAreBitIdenticalAfterAMemoryRoundTrip() throws {
        let (model, data, _) = try Self.trainedModel()
        let loaded = try Model(serialized: model.serialized())
        #expect(try loaded.predict(data.inputs).values.map(\.bitPattern) == model.predict(data.inputs).values.map(\.bitPattern))
    }

    @Test func trainingTenEpochsSavingLoadingAndTrainingTenMoreEqualsTwentyInOneGo() throws {
        var (straight, data, options) = try Self.trainedModel(epochs: 0 + 1)
        // Both start from the same one-epoch model so the comparison covers every saved slot.
        var resumed = try Model(serialized: straight.serialized())
        options.epochs = 19
        try straight.fit(data, options: options)
        options.epochs = 9
        try resumed.fit(data, options: options)
        resumed = try Model(serialized: resumed.serialized())
        options.epochs = 10
        try resumed.fit(data, options: options)
        #expect(resumed.parameters.map(\.bitPattern) == straight.parameters.map(\.bitPattern))
        #expect(resumed.trainingState == straight.trainingState)
        #expect(resumed.history.count == straight.history.count)
    }

    @Test func theSameModelAlwaysSavesToTheSameBytes() throws {
        let (model, _, _) = try Self.trainedModel()
        let pinned = Model.SaveOptions(creationTime: 1_700_000_000)
        let copy = try Model(serialized: model.serialized(options: pinned))
        #expect(model.serialized(options: pinned) == model.serialized(options: pinned))
        #expect(copy.serialized(options: pinned) == model.serialized(options: pinned))
    }

    @Test func anInferenceOnlyCopyHasNoTrainingStateAndPredictsTheSame() throws {
        let (model, data, _) = try Self.trainedModel()
        let full = model.serialized()
        let slim = model.serialized(options: .init(includeTrainingState: false))
        #expect(slim.count < full.count)
        let loaded = try Model(serialized: slim)
        #expect(loaded.trainingState == TrainingState())
        #expect(try loaded.predict(data.inputs) == model.predict(data.inputs))
    }

    @Test func aFileThatNeedsANewerReaderIsRefusedWithUnsupportedVersion() throws {
        let (model, _, _) = try Self.trainedModel(epochs: 1)
        var bytes = model.serialized()
        // Fields 2 and 3 follow the 14-byte signature: 10 01 18 01. Ask for reader version 9.
        #expect(Array(bytes[14 ..< 18]) == [0x10, 0x01, 0x18, 0x01])
        bytes[17] = 9
        Self.resealChecksum(&bytes)
        #expect { try Model(serialized: bytes) } throws: { ($0 as? NNError)?.code == .unsupportedVersion }
    }

    @Test func unknownFieldsFromANewerWriterAreIgnored() throws {
        let (model, data, _) = try Self.trainedModel(epochs: 1)
        var bytes = model.serialized()
        bytes.removeLast(5)
        // Field 90 (varint 12345) and field 91 (bytes "future"), as a newer writer might add.
        bytes += [0xD0, 0x05, 0xB9, 0x60, 0xDA, 0x05, 0x06] + Array("future".utf8)
        bytes += [0, 0, 0, 0, 0]
        Self.resealChecksum(&bytes)
        let loaded = try Model(serialized: bytes)
        #expect(try loaded.predict(data.inputs) == model.predict(data.inputs))
    }

    /// Rewrites the 5-byte checksum trailer for the bytes before it.
    static func resealChecksum(_ bytes: inout [UInt8]) {
        let size = bytes.count - 5
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0 ..< size])) }
        bytes[size] = 0x7D
        for k in 0 ..< 4 { bytes[size + 1 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }
        #expect(check == 0xE306_9283)
        // Longer than one 8-byte slice, against a bitwise implementation.
        let bytes = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == crc ^ 0xFFFF_FFFF)
    }

    // MARK: Loading from the file system

    @Test func aMissingFileIsNotFound() throws {
        #expect { try Model(contentsOf: "/nonexistent/dir/model.nnm") } throws: { ($0 as? NNError)?.code == .notFound }
    }

    @Test func aDirectoryIsRefusedAsNotAModelFile() throws {
        let directory = Self.temporaryDirectory()
        #expect { try Model(contentsOf: directory) } throws: {
            ($0 as? NNError)?.code == .io && ($0 as! NNError).message.contains("directory")
        }
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let path = Self.temporaryDirectory() + "/pipe"
        #expect(mkfifo(path, 0o600) == 0)
        #expect { try Model(contentsOf: path) } throws: {
            ($0 as? NNError)?.code == .io && ($0 as! NNError).message.contains("FIFO")
        }
    }

    @Test func devZeroIsRefusedAsADevice() throws {
        #expect { try Model(contentsOf: "/dev/zero") } throws: {
            ($0 as? NNError)?.code == .io && ($0 as! NNError).message.contains("device")
        }
    }

    @Test func anUnreadableFileIsRefusedWithAnIOError() throws {
        let path = Self.temporaryDirectory() + "/secret.nnm"
        let (model, _, _) = try Self.trainedModel(epochs: 1)
        try model.save(to: path)
        #expect(chmod(path, 0) == 0)
        if geteuid() == 0 {
            // root reads any file: prove the loader still works there, and use a path whose
            // parent is a file instead, which no one can open.
            #expect(throws: Never.self) { try Model(contentsOf: path) }
            #expect { try Model(contentsOf: path + "/inside") } throws: { ($0 as? NNError)?.code == .notFound }
        } else {
            #expect { try Model(contentsOf: path) } throws: { ($0 as? NNError)?.code == .io }
        }
    }

    // MARK: Atomic saving

    @Test func aFailedWriteLeavesThePreviousFileIntactAndNoTemporaryFile() throws {
        let directory = Self.temporaryDirectory()
        let path = directory + "/model.nnm"
        let (old, _, _) = try Self.trainedModel(epochs: 1, seed: 1)
        let (new, _, _) = try Self.trainedModel(epochs: 2, seed: 2)
        try old.save(to: path)
        let before = try Self.fileBytes(path)
        var failing = FileSystemCalls()
        failing.write = { _, _, _ in errno = ENOSPC; return -1 }
        #expect { try new.save(to: path, options: .init(), calls: failing) } throws: {
            ($0 as? NNError)?.code == .io && ($0 as! NNError).message.contains("No space left")
        }
        #expect(try Self.fileBytes(path) == before)
        #expect(Self.entries(directory) == ["model.nnm"])
        var failingSync = FileSystemCalls()
        failingSync.fsync = { _ in errno = EIO; return -1 }
        #expect { try new.save(to: path, options: .init(), calls: failingSync) } throws: { ($0 as? NNError)?.code == .io }
        #expect(try Self.fileBytes(path) == before)
        #expect(Self.entries(directory) == ["model.nnm"])
    }

    @Test func aFullDiskLeavesThePreviousFileIntact() throws {
        // A real full disk: a 64 KiB tmpfs (needs the right to mount, as root in CI has).
        let directory = Self.temporaryDirectory()
        guard mount("tmpfs", directory, "tmpfs", 0, "size=64k") == 0 else {
            Issue.record("cannot mount a tmpfs here (errno \(errno)); the injected-failure test covers this path")
            return
        }
        defer { umount(directory) }
        let path = directory + "/model.nnm"
        let small = try Model(inputs: 2, layers: [.dense(units: 3)], loss: .softmaxCrossEntropy)
        try small.save(to: path)
        let before = try Self.fileBytes(path)
        let big = try Model(inputs: 100, layers: [.dense(units: 200)], loss: .meanSquaredError)  // ≈ 80 KB
        #expect { try big.save(to: path) } throws: { ($0 as? NNError)?.code == .io }
        #expect(try Self.fileBytes(path) == before)
        #expect(Self.entries(directory) == ["model.nnm"])
    }

    @Test func savingIntoAMissingDirectoryFailsClearly() throws {
        let (model, _, _) = try Self.trainedModel(epochs: 1)
        #expect { try model.save(to: "/nonexistent-dir-for-nncore/model.nnm") } throws: { ($0 as? NNError)?.code == .notFound }
    }

    static func entries(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
