import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT while training: the progress closure then stops training, and the model is saved.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// `nn train`: trains a model from a CSV or .npy file and saves it.
enum TrainCommand: Command {
    static let name = "train"
    static let abstract = "Train a model from CSV or .npy data and save it"
    static let help = """
    Usage: nn train DATA -o MODEL [options]

    DATA is a CSV file (comma-separated; a header row is detected) or a .npy array. One column
    is the target (default: the last); the others are the numeric features. For classifiers
    the classes are the target column's distinct values (text allowed), saved as class labels.

    Architecture and loss:
      --layers SPEC        comma-separated layers (default 100:relu): UNITS[:ACTIVATION],
                           maxout:UNITS:PIECES, dropout:RATE. An output layer sized to the
                           classes (or targets) is appended unless the last layer is a plain
                           dense layer (no activation). Activations: relu, leaky_relu(α),
                           sigmoid, tanh, elu(α), gelu, softplus, identity.
      --loss NAME          softmax (default), hinge, mse, bce
      --target COLUMN      the target column, by name or index (negative counts from the end)
    Training:
      --optimizer NAME     sgd (default), momentum, nesterov, adagrad, rmsprop, adam, adamw
      --lr RATE            learning rate (default 0.01)
      --momentum MU        momentum of momentum/nesterov (default 0.9)
      --l2 LAMBDA          L2 penalty λ₂·ΣW² (default 0)
      --l1 LAMBDA          L1 penalty λ₁·Σ|W| (default 0)
      --schedule SPEC      constant, step:30,60,90:0.1, exponential:0.95, cosine:100[:0.01],
                           warmup:5:<schedule>
      --epochs N           passes over the data (default 10)
      --batch-size N       samples per step; 0 = full batch (default 32)
      --validation SHARE   hold out this share of rows for validation (e.g. 0.1)
      --early-stopping N   stop after N epochs without improvement; keep the best weights
      --clip NORM          clip gradients to this global norm
      --seed N             seed of the model's generator (default 0)
      --standardize        standardise inputs with the training data's mean and std
      -o, --output MODEL   where to save the model (required)
      -q, --quiet          no progress output

    Progress goes to stderr: a bar redrawn in place on a terminal, plain lines otherwise.
    Ctrl-C stops after the current step and still saves the model.

    Examples:
      nn train iris.csv --target species --layers 16:relu --epochs 200 --lr 0.1 -o iris.nnm
      nn train spiral.csv --layers 100:relu,3 --batch-size 0 --lr 1 --l2 1e-3 --epochs 10000 \\
               --schedule step:5000,7500:0.1 -o spiral.nnm

    """

    static func run(_ arguments: inout Arguments) throws {
        guard let output = try arguments.option("-o", "--output") else { throw UsageError(message: "-o MODEL is required") }
        let layerSpec = try arguments.option("--layers") ?? "100:relu"
        let loss = try Loss(parsing: try arguments.option("--loss") ?? "softmax")
        let target = try arguments.option("--target")
        var options = TrainingOptions()
        options.optimizer = try Optimizer(parsing: try arguments.option("--optimizer") ?? "sgd")
        if let mu = try arguments.option("--momentum") {
            guard let value = Float(mu) else { throw UsageError(message: "--momentum must be a number, got '\(mu)'") }
            switch options.optimizer {
            case .momentum: options.optimizer = .momentum(value)
            case .nesterov: options.optimizer = .nesterov(value)
            default: throw UsageError(message: "--momentum needs --optimizer momentum or nesterov")
            }
        }
        options.learningRate = try number(&arguments, "--lr") ?? 0.01
        options.l2 = try number(&arguments, "--l2") ?? 0
        options.l1 = try number(&arguments, "--l1") ?? 0
        if let schedule = try arguments.option("--schedule") { options.schedule = try Schedule(parsing: schedule) }
        options.epochs = try arguments.integer("--epochs", in: 1 ... 100_000_000) ?? 10
        options.batchSize = try arguments.integer("--batch-size", in: 0 ... Int(Int32.max)) ?? 32
        options.validationFraction = try number(&arguments, "--validation") ?? 0
        options.earlyStoppingPatience = try arguments.integer("--early-stopping", in: 1 ... 1_000_000)
        options.gradientClipNorm = try number(&arguments, "--clip")
        options.standardize = arguments.flag("--standardize")
        let seed = try arguments.integer("--seed", in: 0 ... Int.max) ?? 0
        let quiet = arguments.flag("-q", "--quiet")
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: paths.isEmpty ? "a DATA file is required" : "train takes one DATA file") }
        try options.validate()

        let table = try DataFiles.readTable(paths[0])
        let targetColumn = try DataFiles.targetColumn(target, in: table)
        let inputs = try DataFiles.features(table, skipping: targetColumn, path: paths[0])
        guard inputs.cols >= 1 else { throw NNError.invalidArgument("\(paths[0]) has no feature columns besides the target") }
        let targetTexts = table.cells.map { $0[targetColumn] }

        var classNames: [String] = []
        let data: Dataset
        let outputs: Int
        if loss == .meanSquaredError {
            let values = try targetTexts.enumerated().map { r, text -> Float in
                guard let v = Float(text) else { throw NNError.invalidArgument("\(paths[0]): row \(r + 1) target '\(text)' is not a number") }
                return v
            }
            data = try Dataset(inputs: inputs, targets: Matrix(rows: values.count, cols: 1, values: values))
            outputs = 1
        } else {
            classNames = Array(Set(targetTexts))
            if classNames.allSatisfy({ Double($0) != nil }) {
                classNames.sort { Double($0)! < Double($1)! }
            } else {
                classNames.sort()
            }
            guard classNames.count >= 2 else { throw NNError.invalidArgument("\(paths[0]): the target has a single class '\(classNames.first ?? "")'") }
            if loss == .binaryCrossEntropy && classNames.count != 2 {
                throw NNError.invalidArgument("bce needs exactly 2 classes, the target has \(classNames.count)")
            }
            let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
            data = try Dataset(inputs: inputs, labels: targetTexts.map { index[$0]! })
            outputs = loss == .binaryCrossEntropy ? 1 : classNames.count
        }

        var layers = try parseLayers(layerSpec)
        if case .dense(_, .identity)? = layers.last {} else { layers.append(.dense(units: outputs)) }
        var model = try Model(inputs: inputs.cols, layers: layers, loss: loss, seed: UInt64(seed))
        if table.columnNames.first != "column0" {
            try model.setFeatureNames(table.columnNames.indices.filter { $0 != targetColumn }.map { table.columnNames[$0] })
        }
        if !classNames.isEmpty { try model.setClassLabels(classNames) }
        model.metadata["trained_from"] = paths[0]

        if !quiet {
            Terminal.error("training \(model.layers.map(\.description).joined(separator: " → ")) (\(Format.grouped(model.parameterCount)) parameters) on \(data.count) rows\n")
        }
        signal(SIGINT) { _ in interruptRequested = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        var progress = ProgressReporter(title: "", totalEpochs: options.epochs)
        let started = Terminal.monotonicSeconds()
        let summary = try model.fit(data, options: options, progress: { stats in
            if !quiet { progress.update(epoch: stats.epoch, loss: stats.loss, accuracy: stats.accuracy) }
            return .continue
        }, interrupt: { interruptRequested != 0 })
        if !quiet { progress.finish() }
        try model.save(to: output)
        var line = "saved \(output): \(summary.epochs.count) epochs in \(Format.fixed(Terminal.monotonicSeconds() - started, 2)) s"
        if let last = summary.epochs.last {
            line += ", loss \(Format.short(last.loss))"
            if let a = last.accuracy { line += ", accuracy \(Format.percent(a))" }
            if let v = last.validationLoss { line += ", validation loss \(Format.short(v))" }
            if let a = last.validationAccuracy { line += ", validation accuracy \(Format.percent(a))" }
        }
        switch summary.stopReason {
        case .completed: break
        case .earlyStopped: line += " (early stopping kept epoch \(summary.bestEpoch ?? 0))"
        case .cancelled: line += " (interrupted by Ctrl-C; the unfinished epoch is not in the history)"
        }
        Terminal.write(line + "\n")
    }

    static func number(_ arguments: inout Arguments, _ name: String) throws -> Float? {
        guard let text = try arguments.option(name) else { return nil }
        guard let value = Float(text), value.isFinite else { throw UsageError(message: "\(name) must be a number, got '\(text)'") }
        return value
    }

    /// "100:relu,maxout:50:3,dropout:0.2,3" → layers.
    static func parseLayers(_ spec: String) throws -> [Layer] {
        try spec.split(separator: ",").map { item -> Layer in
            let parts = item.split(separator: ":", maxSplits: 2).map(String.init)
            switch parts[0].lowercased() {
            case "maxout":
                guard parts.count == 3, let units = Int(parts[1]), let pieces = Int(parts[2]) else {
                    throw UsageError(message: "maxout layers are written maxout:UNITS:PIECES, got '\(item)'")
                }
                return .maxout(units: units, pieces: pieces)
            case "dropout":
                guard parts.count == 2, let rate = Float(parts[1]) else { throw UsageError(message: "dropout layers are written dropout:RATE, got '\(item)'") }
                return .dropout(rate: rate)
            default:
                guard let units = Int(parts[0]) else { throw UsageError(message: "cannot read layer '\(item)'; see --help") }
                let activation = parts.count > 1 ? try Activation(parsing: parts[1...].joined(separator: ":")) : .identity
                return .dense(units: units, activation: activation)
            }
        }
    }
}

/// `nn predict`: runs a model on CSV or .npy rows.
enum PredictCommand: Command {
    static let name = "predict"
    static let abstract = "Run a model on CSV or .npy data"
    static let help = """
    Usage: nn predict MODEL --data DATA [--proba] [--target COLUMN] [-o OUT.csv]

    Writes one CSV line per input row: the predicted class (its label) for classifiers, with
    --proba the class probabilities too; the outputs for regression. DATA holds the model's
    features; a target column named with --target (or a header column that is not a feature)
    is ignored.

    Example:
      nn predict iris.nnm --data new-flowers.csv --proba -o predictions.csv

    """

    static func run(_ arguments: inout Arguments) throws {
        guard let dataPath = try arguments.option("--data") else { throw UsageError(message: "--data DATA is required") }
        let proba = arguments.flag("--proba")
        let target = try arguments.option("--target")
        let output = try arguments.option("-o", "--output")
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: "a MODEL file is required") }
        let (model, _) = try ModelFiles.load(paths[0])
        let table = try DataFiles.readTable(dataPath)
        let inputs = try EvalCommand.features(table, model: model, target: target, path: dataPath).inputs
        var lines: [String] = []
        if model.classCount > 0 {
            let classes = try model.classify(inputs)
            let names = model.classLabels.isEmpty ? (0 ..< model.classCount).map(String.init) : model.classLabels
            let probabilities = proba ? try model.probabilities(inputs) : nil
            var header = "class"
            if probabilities != nil {
                header += "," + (model.outputWidth == 1 ? ["p(\(names[1]))"] : names.map { "p(\($0))" }).joined(separator: ",")
            }
            lines.append(header)
            for r in 0 ..< inputs.rows {
                var line = csvField(names[classes[r]])
                if let p = probabilities { line += "," + p.row(r).map { String($0) }.joined(separator: ",") }
                lines.append(line)
            }
        } else {
            let y = try model.predict(inputs)
            lines.append((0 ..< y.cols).map { "y\($0)" }.joined(separator: ","))
            for r in 0 ..< y.rows { lines.append(y.row(r).map { String($0) }.joined(separator: ",")) }
        }
        let text = lines.joined(separator: "\n") + "\n"
        if let output {
            try writeFile(output, text)
            Terminal.error("wrote \(inputs.rows) predictions to \(output)\n")
        } else {
            Terminal.write(text)
        }
    }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingAll("\"", with: "\"\"") + "\"" : text
    }

    static func writeFile(_ path: String, _ text: String) throws {
        guard let file = fopen(path, "wb") else { throw NNError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else { throw NNError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}

/// `nn eval`: loss, accuracy and confusion matrix of a model on labelled data.
enum EvalCommand: Command {
    static let name = "eval"
    static let abstract = "Evaluate a model on labelled CSV or .npy data (loss, accuracy, confusion matrix)"
    static let help = """
    Usage: nn eval MODEL --data DATA [--target COLUMN]

    DATA holds the features and the target (default: the last column). Prints the mean loss,
    and for classifiers the accuracy and the confusion matrix (rows: true class, columns:
    predicted class).

    Example:
      nn eval iris.nnm --data iris-test.csv --target species

    """

    static func run(_ arguments: inout Arguments) throws {
        guard let dataPath = try arguments.option("--data") else { throw UsageError(message: "--data DATA is required") }
        let target = try arguments.option("--target")
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: "a MODEL file is required") }
        let (model, _) = try ModelFiles.load(paths[0])
        let table = try DataFiles.readTable(dataPath)
        let (inputs, targetColumn) = try features(table, model: model, target: target ?? "-1", path: dataPath)
        guard let targetColumn else { throw NNError.invalidArgument("\(dataPath) has no target column") }
        let texts = table.cells.map { $0[targetColumn] }
        if model.classCount > 0 {
            let names = model.classLabels.isEmpty ? (0 ..< model.classCount).map(String.init) : model.classLabels
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            let labels = try texts.enumerated().map { r, text -> Int in
                guard let label = index[text] else {
                    throw NNError(.labelOutOfRange, "\(dataPath): row \(r + 1) has class '\(text)', which the model does not know (\(names.joined(separator: ", ")))")
                }
                return label
            }
            let result = try model.evaluate(Dataset(inputs: inputs, labels: labels))
            let predicted = try model.classify(inputs)
            Terminal.write("rows: \(inputs.rows)\nloss: \(Format.short(result.loss))\naccuracy: \(Format.percent(result.accuracy ?? 0))\n\nconfusion matrix (rows: true, columns: predicted):\n")
            var matrix = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: names.count)
            for (t, p) in zip(labels, predicted) { matrix[t][p] += 1 }
            var rows = [[""] + names]
            for (i, name) in names.enumerated() { rows.append([name] + matrix[i].map(String.init)) }
            Terminal.write(InspectCommand.table(rows, rightAligned: Set(1 ... names.count)))
        } else {
            let values = try texts.enumerated().map { r, text -> Float in
                guard let v = Float(text) else { throw NNError.invalidArgument("\(dataPath): row \(r + 1) target '\(text)' is not a number") }
                return v
            }
            guard model.outputWidth == 1 else { throw NNError.invalidArgument("nn eval reads one target column; the model has \(model.outputWidth) outputs") }
            let result = try model.evaluate(Dataset(inputs: inputs, targets: Matrix(rows: values.count, cols: 1, values: values)))
            Terminal.write("rows: \(inputs.rows)\nloss (mse): \(Format.short(result.loss))\n")
        }
    }

    /// The model's feature columns of `table`: all columns when their count is the input width,
    /// else all but the target column.
    static func features(_ table: Table, model: Model, target: String?, path: String) throws -> (inputs: Matrix, target: Int?) {
        let columns = table.columnNames.count
        if columns == model.inputWidth && target == nil {
            return (try DataFiles.features(table, skipping: nil, path: path), nil)
        }
        let targetColumn = try DataFiles.targetColumn(target ?? "-1", in: table)
        let inputs = try DataFiles.features(table, skipping: targetColumn, path: path)
        guard inputs.cols == model.inputWidth else {
            throw NNError.shapeMismatch("the model expects \(model.inputWidth) features, \(path) has \(inputs.cols) besides the target")
        }
        return (inputs, targetColumn)
    }
}

extension String {
    func replacingAll(_ old: String, with new: String) -> String {
        var out = "", rest = Substring(self)
        while let end = String(rest).endOfFirst(old) {
            let startOffset = String(rest).distance(from: String(rest).startIndex, to: end) - old.count
            out += rest.prefix(startOffset) + new
            rest = rest.dropFirst(startOffset + old.count)
        }
        return out + rest
    }
}
