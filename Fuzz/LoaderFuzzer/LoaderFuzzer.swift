// libFuzzer entry point for the model-file loader (built by Fuzz/build.sh; not part of the
// SwiftPM package, so `swift build` and `swift test` never see it).
//
// Every input is handed to `Model(serialized:)` twice: as it is, and resealed — with a correct
// CRC-32C trailer (replacing a trailer-shaped last 5 bytes, else appended) — so that mutations
// get past the checksum and reach the protobuf and semantic checks behind it. The loader must
// either throw an `NNError` or return a model; anything else (a trap, a sanitizer report, a hang, a huge allocation, another
// error type) is a bug. A model that loads must also predict one row (a thrown `NNError` is
// fine there, e.g. for a model without layers) and save to bytes that load again and save to
// the very same bytes.
@testable import NNCore

@_cdecl("LLVMFuzzerTestOneInput")
public func loaderFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    check(bytes)
    check(resealed(bytes))
    return 0
}

/// `bytes` with a correct checksum trailer.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var body = bytes
    if body.count >= 5 && body[body.count - 5] == 0x7D { body.removeLast(5) }
    let crc = body.withUnsafeBytes { CRC32C.checksum($0) }
    return body + [0x7D] + (0 ..< 4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
}

func check(_ bytes: [UInt8]) {
    let model: Model
    do {
        model = try Model(serialized: bytes)
    } catch is NNError {
        return
    } catch {
        fatalError("the loader threw something other than an NNError: \(error)")
    }
    // Inference graphs hold at most 2^24 floats of activations when a row allows it, and leave
    // dropout out, so even 2^24 inputs through 1,000 dropout layers predict within 64 MiB.
    if let row = try? Matrix(rows: 1, cols: model.inputWidth, repeating: 0.5) {
        do { _ = try model.predict(row) } catch is NNError {} catch { fatalError("predict threw \(error)") }
    }
    let options = Model.SaveOptions(creationTime: 0)
    let saved = model.serialized(options: options)
    do {
        let reloaded = try Model(serialized: saved)
        guard reloaded.serialized(options: options) == saved else {
            fatalError("a loaded model saves to bytes that load into a different model")
        }
    } catch {
        fatalError("a loaded model saves to bytes that do not load again: \(error)")
    }
}
