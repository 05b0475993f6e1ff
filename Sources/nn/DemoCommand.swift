import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// `nn demo`: the lecture's spiral, trained with the linear model, the 2-layer and the 3-layer
/// net, each with the softmax and the hinge loss; progress while training, then a table.
enum DemoCommand: Command {
    static let name = "demo"
    static let abstract = "Train the lecture's spiral with linear, 2-layer and 3-layer nets and compare them"
    static let help = """
    Usage: nn demo [--out DIR] [--epochs N] [--seed N]

    Trains the spiral data set (3 classes × 100 points) full-batch with SGD (rate 1.0,
    L2 λ = 1e-3) using six models — the linear model, the 2-layer ReLU net (100 hidden) and the
    3-layer ReLU net (100-100 hidden), each with the softmax and the multiclass hinge loss —
    then prints their final training accuracies and times. Every model is saved to DIR; the
    most accurate one is inspected, and its training curves and decision regions are drawn as
    SVG pictures in DIR.

    Options:
      --out DIR    where models and pictures go (default nn-demo; created if missing)
      --epochs N   full-batch steps per model (default 10000)
      --seed N     seed of the data and of every model (default 0)
      -h, --help   show this help

    Example:
      nn demo --epochs 2000

    """

    struct Entry {
        let name: String
        let layers: [Layer]
        let loss: Loss
    }

    static func run(_ arguments: inout Arguments) throws {
        let epochs = try arguments.integer("--epochs", in: 1 ... 1_000_000) ?? 10_000
        let seed = try arguments.integer("--seed", in: 0 ... Int(Int32.max)) ?? 0
        let directory = try arguments.option("--out") ?? "nn-demo"
        try arguments.finish()
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw NNError(.io, "cannot create \(directory): \(String(cString: strerror(errno)))")
        }

        let data = try SyntheticData.spiral(pointsPerClass: 100, classes: 3, seed: UInt64(seed))
        let hidden = Layer.dense(units: 100, activation: .relu)
        var entries: [Entry] = []
        for loss in [Loss.softmaxCrossEntropy, .multiclassHinge] {
            entries.append(Entry(name: "linear", layers: [.dense(units: 3)], loss: loss))
            entries.append(Entry(name: "2-layer", layers: [hidden, .dense(units: 3)], loss: loss))
            entries.append(Entry(name: "3-layer", layers: [hidden, hidden, .dense(units: 3)], loss: loss))
        }

        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 0
        options.optimizer = .sgd
        options.learningRate = 1.0
        options.l2 = 1e-3
        options.schedule = .stepDecay(milestones: [epochs / 2, epochs * 3 / 4], factor: 0.1)

        Terminal.write("Spiral: \(data.count) points, 3 classes; full-batch SGD, rate \(options.learningRate), λ₂ = \(options.l2), \(epochs) steps per model\n\n")
        var rows: [[String]] = []
        var best: (model: Model, accuracy: Float, path: String)? = nil
        for entry in entries {
            var model = try Model(inputs: 2, layers: entry.layers, loss: entry.loss, seed: UInt64(seed))
            let title = "\(entry.name) \(entry.loss.rawValue)"
            var progress = ProgressReporter(title: Format.pad(title, 16), totalEpochs: epochs)
            let started = Terminal.monotonicSeconds()
            let summary = try model.fit(data, options: options) { stats in
                progress.update(epoch: stats.epoch, loss: stats.loss, accuracy: stats.accuracy)
                return .continue
            }
            progress.finish()
            let seconds = Terminal.monotonicSeconds() - started
            let result = try model.evaluate(data)
            let last = summary.epochs.last!
            rows.append([entry.name, entry.loss.rawValue, model.layers.map(\.description).joined(separator: " → "),
                         String(model.parameterCount), Format.fixed(Double(last.dataLoss), 4),
                         Format.fixed(Double(last.regularizationLoss), 4), Format.percent(result.accuracy ?? 0),
                         Format.fixed(seconds, 2) + " s",
                         Format.fixed(Double(epochs) / seconds, 0)])
            let path = "\(directory)/spiral-\(entry.name)-\(entry.loss.rawValue).nnm"
            try model.setClassLabels(["arm 0", "arm 1", "arm 2"])
            try model.setFeatureNames(["x", "y"])
            model.metadata["demo"] = "nn demo --epochs \(epochs) --seed \(seed)"
            try model.save(to: path)
            Terminal.write("trained \(title): accuracy \(Format.percent(result.accuracy ?? 0)) in \(Format.fixed(seconds, 2)) s → \(path)\n")
            if best == nil || (result.accuracy ?? 0) > best!.accuracy { best = (model, result.accuracy ?? 0, path) }
        }
        Terminal.write("\n")
        printTable(header: ["model", "loss", "layers", "params", "data loss", "reg loss", "accuracy", "time", "steps/s"], rows: rows)

        guard let best else { return }
        let labels: [Int]
        if case .labels(let values) = data.targets { labels = values } else { labels = [] }
        let curves = "\(directory)/best-training-curves.svg", regions = "\(directory)/best-decision-regions.svg"
        try PredictCommand.writeFile(curves, try Pictures.trainingCurves(best.model, title: best.path))
        try PredictCommand.writeFile(regions, try Pictures.decisionRegions(best.model, points: data.inputs, labels: labels, title: best.path))
        Terminal.write("\nThe most accurate model, \(best.path):\n\n")
        let (saved, bytes) = try ModelFiles.load(best.path)
        Terminal.write(InspectCommand.text(saved, path: best.path, bytes: bytes))
        Terminal.write("\nPictures: \(curves), \(regions)\n")
    }

    static func printTable(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i >= 3 ? Format.padLeft(cell, widths[i]) : Format.pad(cell, widths[i]) }
                .joined(separator: "  ")
        }
        Terminal.write(line(header) + "\n")
        Terminal.write(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n")
        for row in rows { Terminal.write(line(row) + "\n") }
    }
}
