import NNCore

/// `nn plot`: SVG pictures of training curves and decision regions, written by hand.
enum PlotCommand: Command {
    static let name = "plot"
    static let abstract = "Draw training curves, or a 2-D classifier's decision regions, as SVG"
    static let help = """
    Usage: nn plot MODEL -o FILE.svg [--data DATA] [--target COLUMN]

    Without --data: the training curves — loss and accuracy per epoch, training and validation,
    with the epochs where the learning rate changed marked.
    With --data (a model with 2 inputs that classifies): the decision regions over the data's
    range, with the data points on top, coloured by their true class.

    Examples:
      nn plot spiral.nnm -o spiral-curves.svg
      nn plot spiral.nnm --data spiral.csv -o spiral-regions.svg

    """

    static func run(_ arguments: inout Arguments) throws {
        guard let output = try arguments.option("-o", "--output") else { throw UsageError(message: "-o FILE.svg is required") }
        let dataPath = try arguments.option("--data")
        let target = try arguments.option("--target")
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: "a MODEL file is required") }
        let (model, _) = try ModelFiles.load(paths[0])
        let svg: String
        if let dataPath {
            let table = try DataFiles.readTable(dataPath)
            let (inputs, targetColumn) = try EvalCommand.features(table, model: model, target: target, path: dataPath)
            let names = model.classLabels.isEmpty ? (0 ..< model.classCount).map(String.init) : model.classLabels
            let labels = targetColumn.map { c in table.cells.map { names.firstIndex(of: $0[c]) ?? -1 } }
            svg = try Pictures.decisionRegions(model, points: inputs, labels: labels, title: paths[0])
        } else {
            svg = try Pictures.trainingCurves(model, title: paths[0])
        }
        try PredictCommand.writeFile(output, svg)
        Terminal.error("wrote \(output)\n")
    }
}

/// SVG pictures, written by hand (valid XML, viewable in a browser).
enum Pictures {
    /// Class colours (strong for points, light for regions), in the manner of the ConvNetJS demos.
    static let strong = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    static let light = ["#f4b6b6", "#b5e3b5", "#b3d1ee", "#ffd5ad", "#d9c8ea", "#dccbc6", "#f5cfe9", "#b0ebf1", "#ececa9", "#d9d9d9"]

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func n(_ v: Double) -> String { Format.fixed(v, 2) }

    /// Loss and accuracy per epoch, training and validation, with learning-rate changes marked.
    static func trainingCurves(_ model: Model, title: String) throws -> String {
        let history = model.history
        guard !history.isEmpty else { throw NNError.invalidState("the model has no training history to plot") }
        let width = 900.0, height = 380.0
        var svg = header(width: width, height: height, title: "Training curves — \(title)")
        let panels: [(String, [Float?], [Float?], Bool)] = [
            ("loss", history.map { $0.loss }, history.map { $0.validationLoss }, false),
            ("accuracy", history.map { $0.accuracy }, history.map { $0.validationAccuracy }, true),
        ]
        let changes = history.indices.dropFirst().filter { history[$0].learningRate != history[$0 - 1].learningRate }
        for (index, panel) in panels.enumerated() {
            let left = 60.0 + Double(index) * 450, top = 50.0, w = 360.0, h = 270.0
            let values = (panel.1 + panel.2).compactMap { $0 }.filter(\.isFinite)
            svg += "<g class=\"panel\" id=\"\(panel.0)\">\n"
            svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"#ffffff\" stroke=\"#888888\"/>\n"
            svg += "<text x=\"\(n(left + w / 2))\" y=\"\(n(top - 12))\" text-anchor=\"middle\" font-size=\"14\">\(panel.0)</text>\n"
            guard let low0 = values.min(), let high0 = values.max() else {
                svg += "<text x=\"\(n(left + w / 2))\" y=\"\(n(top + h / 2))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#888888\">not recorded</text>\n</g>\n"
                continue
            }
            let low = panel.3 ? min(Double(low0), 0) : Double(low0), high = panel.3 ? max(Double(high0), 1) : Double(high0)
            let span = high - low > 0 ? high - low : 1
            func x(_ i: Int) -> Double { left + (history.count > 1 ? Double(i) / Double(history.count - 1) : 0.5) * w }
            func y(_ v: Float) -> Double { top + h - (Double(v) - low) / span * h }
            for i in changes {
                svg += "<line class=\"lr-change\" x1=\"\(n(x(i)))\" y1=\"\(n(top))\" x2=\"\(n(x(i)))\" y2=\"\(n(top + h))\" stroke=\"#999999\" stroke-dasharray=\"4 3\"/>\n"
                svg += "<text x=\"\(n(x(i) + 3))\" y=\"\(n(top + 12))\" font-size=\"10\" fill=\"#666666\">lr \(Format.short(history[i].learningRate))</text>\n"
            }
            for (series, colour, name) in [(panel.1, "#1f77b4", "training"), (panel.2, "#ff7f0e", "validation")] {
                let points = series.enumerated().compactMap { i, v in v.flatMap { $0.isFinite ? "\(n(x(i))),\(n(y($0)))" : nil } }
                guard !points.isEmpty else { continue }
                svg += "<polyline class=\"\(name)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>\n"
            }
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(top + 4))\" text-anchor=\"end\" font-size=\"10\">\(Format.short(Float(high)))</text>\n"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(top + h))\" text-anchor=\"end\" font-size=\"10\">\(Format.short(Float(low)))</text>\n"
            svg += "<text x=\"\(n(left))\" y=\"\(n(top + h + 16))\" font-size=\"10\">epoch \(history.first!.epoch)</text>\n"
            svg += "<text x=\"\(n(left + w))\" y=\"\(n(top + h + 16))\" text-anchor=\"end\" font-size=\"10\">epoch \(history.last!.epoch)</text>\n"
            svg += "</g>\n"
        }
        svg += "<text x=\"60\" y=\"\(n(height - 14))\" font-size=\"12\"><tspan fill=\"#1f77b4\">━ training</tspan>  <tspan fill=\"#ff7f0e\">━ validation</tspan>  <tspan fill=\"#999999\">┆ learning-rate change</tspan></text>\n"
        return svg + "</svg>\n"
    }

    /// The class each point of a grid over the data's range gets, drawn as runs of cells, with
    /// the data points on top.
    static func decisionRegions(_ model: Model, points: Matrix, labels: [Int]?, title: String, resolution: Int = 120) throws -> String {
        guard model.inputWidth == 2 else {
            throw NNError.invalidArgument("decision regions need a model with 2 inputs; this one has \(model.inputWidth)")
        }
        guard model.classCount > 0 else { throw NNError.invalidArgument("decision regions need a classifier; this is a regression model") }
        guard points.rows > 0 else { throw NNError(.emptyData, "the data has no rows") }
        var minX = Float.infinity, maxX = -Float.infinity, minY = Float.infinity, maxY = -Float.infinity
        for r in 0 ..< points.rows {
            minX = min(minX, points[r, 0]); maxX = max(maxX, points[r, 0])
            minY = min(minY, points[r, 1]); maxY = max(maxY, points[r, 1])
        }
        let padX = max((maxX - minX) * 0.08, 1e-3), padY = max((maxY - minY) * 0.08, 1e-3)
        minX -= padX; maxX += padX; minY -= padY; maxY += padY
        let size = 600.0, margin = 40.0
        let cell = size / Double(resolution)
        var grid = [Float]()
        grid.reserveCapacity(resolution * resolution * 2)
        for j in 0 ..< resolution {
            for i in 0 ..< resolution {
                grid.append(minX + (Float(i) + 0.5) / Float(resolution) * (maxX - minX))
                grid.append(maxY - (Float(j) + 0.5) / Float(resolution) * (maxY - minY))
            }
        }
        let classes = try model.classify(Matrix(rows: resolution * resolution, cols: 2, values: grid))
        var svg = header(width: size + 2 * margin, height: size + 2 * margin + 30, title: "Decision regions — \(title)")
        svg += "<g class=\"regions\" shape-rendering=\"crispEdges\">\n"
        for j in 0 ..< resolution {
            var i = 0
            while i < resolution {
                let c = classes[j * resolution + i]
                var end = i + 1
                while end < resolution && classes[j * resolution + end] == c { end += 1 }
                svg += "<rect x=\"\(n(margin + Double(i) * cell))\" y=\"\(n(margin + Double(j) * cell))\" width=\"\(n(Double(end - i) * cell))\" height=\"\(n(cell))\" fill=\"\(light[c % light.count])\" data-class=\"\(c)\"/>\n"
                i = end
            }
        }
        svg += "</g>\n<g class=\"points\">\n"
        for r in 0 ..< points.rows {
            let px = margin + Double((points[r, 0] - minX) / (maxX - minX)) * size
            let py = margin + Double((maxY - points[r, 1]) / (maxY - minY)) * size
            let label = labels?[r] ?? -1
            let colour = label >= 0 ? strong[label % strong.count] : "#333333"
            svg += "<circle cx=\"\(n(px))\" cy=\"\(n(py))\" r=\"3.5\" fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"0.8\"/>\n"
        }
        svg += "</g>\n"
        let names = model.classLabels.isEmpty ? (0 ..< model.classCount).map(String.init) : model.classLabels
        var legend = ""
        for (k, name) in names.enumerated() {
            legend += "<tspan fill=\"\(strong[k % strong.count])\">● \(escape(name))</tspan>  "
        }
        svg += "<text x=\"\(n(margin))\" y=\"\(n(size + 2 * margin + 10))\" font-size=\"13\">\(legend)</text>\n"
        svg += "<rect x=\"\(n(margin))\" y=\"\(n(margin))\" width=\"\(n(size))\" height=\"\(n(size))\" fill=\"none\" stroke=\"#888888\"/>\n"
        // The plotted range, so that readers (and tests) can map coordinates back to the data.
        svg += "<desc id=\"range\">x \(minX) \(maxX) y \(minY) \(maxY) origin \(margin) \(margin) size \(size)</desc>\n"
        return svg + "</svg>\n"
    }

    static func header(width: Double, height: Double, title: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n" +
        "<title>\(escape(title))</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>\n" +
        "<text x=\"\(n(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
    }
}
