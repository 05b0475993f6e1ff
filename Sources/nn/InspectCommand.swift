import NNCore

/// `nn inspect MODEL`: everything about a model file at a glance, or as JSON.
enum InspectCommand: Command {
    static let name = "inspect"
    static let abstract = "Show a model file's layers, data description, training and weights"
    static let help = """
    Usage: nn inspect MODEL [--json] [--weights LAYER]

    Prints a layer table (index, layer, activation, output shape, parameters) with totals and
    memory size; input width, standardisation, feature names, class labels and loss; file size,
    format version, writer and creation time; the training configuration; a digest of the
    training history with a sparkline of the loss; statistics of every weight tensor; metadata.

    Options:
      --json            print the same as JSON (documented in docs/cli.md)
      --weights LAYER   print layer LAYER's weights and biases instead, one row per line
      -h, --help        show this help

    Examples:
      nn inspect spiral.nnm
      nn inspect spiral.nnm --json
      nn inspect spiral.nnm --weights 0

    """

    static func run(_ arguments: inout Arguments) throws {
        let json = arguments.flag("--json")
        let weightsLayer = try arguments.integer("--weights", in: 0 ... 1_000_000)
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: paths.isEmpty ? "a MODEL file is required" : "inspect takes one MODEL") }
        let (model, bytes) = try ModelFiles.load(paths[0])
        if let layer = weightsLayer {
            Terminal.write(try weightsText(model, layer: layer))
        } else if json {
            Terminal.write(report(model, path: paths[0], bytes: bytes).rendered() + "\n")
        } else {
            Terminal.write(text(model, path: paths[0], bytes: bytes))
        }
    }

    static func weightsText(_ model: Model, layer: Int) throws -> String {
        let w = try model.weights(ofLayer: layer), b = try model.biases(ofLayer: layer)
        var out = "# layer \(layer) \(model.layers[layer]): weights \(w.rows) × \(w.cols) (row = input, column = unit)\n"
        for r in 0 ..< w.rows { out += w.row(r).map { Format.short($0) }.joined(separator: " ") + "\n" }
        out += "# biases (\(b.count))\n" + b.map { Format.short($0) }.joined(separator: " ") + "\n"
        return out
    }

    static func text(_ model: Model, path: String, bytes: Int) -> String {
        let summary = model.summary()
        var out = "Model \(path)\n"
        if let p = model.provenance {
            out += "  file: \(Format.bytes(bytes)), format \(p.formatVersion), written by \(p.library) \(p.libraryVersion), \(Format.utc(p.createdUnixSeconds))\n"
        }
        let features = model.featureNames.isEmpty ? "" : " (" + model.featureNames.joined(separator: ", ") + ")"
        out += "  input: \(model.inputWidth) features\(features)\(model.standardization == nil ? "" : ", standardised")\n"
        if model.classCount > 0 {
            let labels = model.classLabels.isEmpty ? "" : " (" + model.classLabels.joined(separator: ", ") + ")"
            out += "  output: \(model.classCount) classes\(labels)\n"
        } else {
            out += "  output: \(model.outputWidth) values (regression)\n"
        }
        out += "  loss: \(model.loss.rawValue)\n\n"

        var table: [[String]] = [["#", "layer", "activation", "output shape", "parameters"]]
        for row in summary.layers {
            table.append([String(row.index), row.kind, row.function, "(batch, \(row.outputWidth))", Format.grouped(row.parameters)])
        }
        out += Self.table(table, rightAligned: [0, 4])
        out += "Total parameters: \(Format.grouped(summary.totalParameters)) (\(Format.bytes(summary.parameterBytes)) as float32)\n"

        if let options = model.lastTrainingOptions {
            out += "\nTraining: \(options.summaryLine)\n"
            let state = model.trainingState
            let slots = (state.optimizer?.slotCount ?? 0) > 0 ? ", \(state.optimizer!.name) state kept" : ""
            out += "  state: epoch \(state.epoch), step \(state.step)\(slots)\n"
        }
        if let h = summary.history {
            out += "\nHistory: \(h.epochs) epochs; best epoch \(h.bestEpoch) (loss \(Format.short(h.bestLoss)))"
            out += "; final loss \(Format.short(h.finalLoss))"
            if let a = h.finalAccuracy { out += ", accuracy \(Format.percent(a))" }
            if let a = h.bestAccuracy { out += " (best \(Format.percent(a)))" }
            if let v = h.finalValidationLoss { out += "; validation loss \(Format.short(v))" }
            if let a = h.finalValidationAccuracy { out += ", accuracy \(Format.percent(a))" }
            out += "\n  loss \(Format.sparkline(h.lossCurve))\n"
        }
        if !summary.tensors.isEmpty {
            out += "\nWeights:\n"
            var rows: [[String]] = [["layer", "tensor", "shape", "mean", "std", "min", "max", "zeros", "NaN"]]
            for t in summary.tensors {
                rows.append([String(t.layer), t.kind.rawValue, "\(t.rows)×\(t.cols)", Format.short(Float(t.mean)),
                             Format.short(Float(t.standardDeviation)), Format.short(t.minimum), Format.short(t.maximum),
                             Format.percent(Float(t.zeroShare)), String(t.nanCount)])
            }
            out += Self.table(rows, rightAligned: [0, 3, 4, 5, 6, 7, 8])
        }
        if !model.metadata.isEmpty {
            out += "\nMetadata:\n"
            for key in model.metadata.keys.sorted() { out += "  \(key): \(model.metadata[key]!)\n" }
        }
        return out
    }

    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                rightAligned.contains(i) ? Format.padLeft(cell, widths[i]) : Format.pad(cell, widths[i])
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }.joined()
    }

    static func report(_ model: Model, path: String, bytes: Int) -> JSON {
        let summary = model.summary()
        let p = model.provenance
        return .object([
            ("file", .object([
                ("path", .string(path)), ("bytes", .integer(bytes)),
                ("format_version", p.map { .integer($0.formatVersion) } ?? .null),
                ("library", p.map { .string($0.library) } ?? .null),
                ("library_version", p.map { .string($0.libraryVersion) } ?? .null),
                ("created_unix_seconds", p.map { .integer(Int($0.createdUnixSeconds)) } ?? .null),
            ])),
            ("input", .object([
                ("width", .integer(model.inputWidth)),
                ("feature_names", .array(model.featureNames.map { .string($0) })),
                ("standardization", model.standardization.map {
                    .object([("mean", .array($0.mean.map { .float($0) })), ("scale", .array($0.scale.map { .float($0) }))])
                } ?? .null),
            ])),
            ("output", .object([
                ("width", .integer(model.outputWidth)), ("classes", .integer(model.classCount)),
                ("class_labels", .array(model.classLabels.map { .string($0) })),
            ])),
            ("loss", .string(model.loss.rawValue)),
            ("layers", .array(summary.layers.map {
                .object([("index", .integer($0.index)), ("kind", .string($0.kind)), ("function", .string($0.function)),
                         ("output_width", .integer($0.outputWidth)), ("parameters", .integer($0.parameters))])
            })),
            ("parameters", .object([("total", .integer(summary.totalParameters)), ("bytes", .integer(summary.parameterBytes))])),
            ("training", model.lastTrainingOptions?.json ?? .null),
            ("training_state", .object([
                ("epoch", .integer(model.trainingState.epoch)), ("step", .integer(model.trainingState.step)),
                ("optimizer", model.trainingState.optimizer.map { .string($0.name) } ?? .null),
            ])),
            ("history", summary.history.map { h in
                .object([("epochs", .integer(h.epochs)), ("best_epoch", .integer(h.bestEpoch)), ("best_loss", .float(h.bestLoss)),
                         ("final_loss", .float(h.finalLoss)), ("final_accuracy", .float(h.finalAccuracy)),
                         ("best_accuracy", .float(h.bestAccuracy)), ("final_validation_loss", .float(h.finalValidationLoss)),
                         ("final_validation_accuracy", .float(h.finalValidationAccuracy))])
            } ?? .null),
            ("weights", .array(summary.tensors.map { t in
                .object([("layer", .integer(t.layer)), ("kind", .string(t.kind.rawValue)), ("rows", .integer(t.rows)),
                         ("cols", .integer(t.cols)), ("mean", .number(t.mean)), ("std", .number(t.standardDeviation)),
                         ("min", .float(t.minimum)), ("max", .float(t.maximum)), ("zero_share", .number(t.zeroShare)),
                         ("nan_count", .integer(t.nanCount))])
            })),
            ("metadata", .object(model.metadata.keys.sorted().map { ($0, .string(model.metadata[$0]!)) })),
        ])
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
