import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// Loading model files for the commands, with the file's size for reports.
enum ModelFiles {
    static func load(_ path: String) throws -> (model: Model, bytes: Int) {
        let model = try Model(contentsOf: path)
        var info = stat()
        let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
        return (model, size)
    }
}

extension TrainingOptions {
    /// A one-line description: "sgd, lr 1.0, schedule constant, l2 0.001, full batch, 10000 epochs".
    var summaryLine: String {
        var parts = ["\(optimizer)", "lr \(Format.short(learningRate))", "schedule \(schedule)"]
        if l2 > 0 { parts.append("l2 \(Format.short(l2))") }
        if l1 > 0 { parts.append("l1 \(Format.short(l1))") }
        parts.append(batchSize == 0 ? "full batch" : "batch \(batchSize)")
        parts.append("\(epochs) epochs")
        if let clip = gradientClipNorm { parts.append("clip \(Format.short(clip))") }
        if validationFraction > 0 { parts.append("validation \(Format.short(validationFraction))") }
        if let patience = earlyStoppingPatience { parts.append("early stopping \(patience)") }
        if standardize { parts.append("standardize") }
        return parts.joined(separator: ", ")
    }

    var json: JSON {
        .object([
            ("optimizer", .string(optimizer.name)), ("optimizer_detail", .string(optimizer.description)),
            ("learning_rate", .float(learningRate)), ("schedule", .string(schedule.description)),
            ("l2", .float(l2)), ("l1", .float(l1)), ("epochs", .integer(epochs)), ("batch_size", .integer(batchSize)),
            ("gradient_clip_norm", .float(gradientClipNorm)), ("validation_fraction", .float(validationFraction)),
            ("early_stopping_patience", earlyStoppingPatience.map { .integer($0) } ?? .null),
            ("shuffle", .bool(shuffle)), ("standardize", .bool(standardize)),
        ])
    }
}
