import Testing
import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// The `nn` tool end to end: help snapshots, train → inspect → predict → eval on a CSV with
/// string labels, refusals with the right exit codes, and the SVG pictures.
@Suite struct CLITests {
    /// Tests/Fixtures, found from this source file's path.
    static let fixtures: String = {
        var path = #filePath
        for _ in 0 ..< 2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures"
    }()

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/nncore-cli-XXXXXX".utf8CString)
        return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
    }

    static func write(_ text: String, to path: String) {
        let file = fopen(path, "wb")!
        _ = text.withCString { fputs($0, file) }
        fclose(file)
    }

    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[0 ..< n]
            if n < chunk.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Compares `actual` with the snapshot file; NNCORE_UPDATE_SNAPSHOTS=1 rewrites it.
    static func expectSnapshot(_ actual: String, _ name: String) {
        let path = fixtures + "/cli/" + name
        if getenv("NNCORE_UPDATE_SNAPSHOTS") != nil {
            write(actual, to: path)
            return
        }
        guard let expected = read(path) else {
            Issue.record("snapshot \(name) is missing; run the tests with NNCORE_UPDATE_SNAPSHOTS=1 once")
            return
        }
        #expect(actual == expected, "output differs from Tests/Fixtures/cli/\(name)")
    }

    /// The spiral as CSV with text labels ("arm a", "arm b", "arm c": one with a space and quotes).
    static func spiralCSV() throws -> String {
        let data = try SyntheticData.spiral(pointsPerClass: 60, classes: 3, seed: 3)
        guard case .labels(let labels) = data.targets else { return "" }
        let names = ["\"arm, a\"", "arm b", "arm c"]
        var text = "x,y,arm\n"
        for r in 0 ..< data.count {
            text += "\(data.inputs[r, 0]),\(data.inputs[r, 1]),\(names[labels[r]])\n"
        }
        return text
    }

    @Test func helpMatchesItsSnapshot() {
        let result = Subprocess.run([Subprocess.nn, "--help"])
        #expect(result.status == 0)
        Self.expectSnapshot(result.stdout, "help.txt")
        for command in ["train", "predict", "eval", "inspect", "plot", "check", "graph", "demo"] {
            let help = Subprocess.run([Subprocess.nn, command, "--help"])
            #expect(help.status == 0, "nn \(command) --help")
            #expect(help.stdout == Subprocess.run([Subprocess.nn, "help", command]).stdout)
            Self.expectSnapshot(help.stdout, "help-\(command).txt")
        }
    }

    @Test func versionPrintsTheLibraryVersion() {
        let result = Subprocess.run([Subprocess.nn, "--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "nn \(NNCoreVersion.string)\n")
    }

    @Test func inspectMatchesItsSnapshotsOnAGoldenModel() {
        let model = Self.fixtures + "/models/valid/softmax-every-layer-kind.nnm"
        let text = Subprocess.run([Subprocess.nn, "inspect", model])
        #expect(text.status == 0, "\(text.stderr)")
        Self.expectSnapshot(text.stdout.replacingPath(model, with: "MODEL"), "inspect.txt")
        let json = Subprocess.run([Subprocess.nn, "inspect", model, "--json"])
        #expect(json.status == 0)
        Self.expectSnapshot(json.stdout.replacingPath(model, with: "MODEL"), "inspect.json")
        let check = Subprocess.run(["python3", "-c", "import json,sys; d=json.load(sys.stdin); assert d['loss'] and d['layers']", ], input: json.stdout)
        #expect(check.status == 0, "inspect --json is not valid JSON: \(check.stderr)")
    }

    @Test func trainInspectPredictAndEvalWorkOnACSVWithStringLabels() throws {
        let directory = Self.temporaryDirectory()
        Self.write(try Self.spiralCSV(), to: directory + "/spiral.csv")
        let train = Subprocess.run([Subprocess.nn, "train", "spiral.csv", "--layers", "64:relu", "--batch-size", "0",
                                    "--lr", "1", "--l2", "1e-3", "--epochs", "1500", "--schedule", "step:1000:0.1",
                                    "-o", "spiral.nnm"], directory: directory)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.hasPrefix("saved spiral.nnm"))
        #expect(train.stderr.contains("epoch 1500/1500"))

        let inspect = Subprocess.run([Subprocess.nn, "inspect", "spiral.nnm"], directory: directory)
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("output: 3 classes (arm b, arm c, arm, a)") || inspect.stdout.contains("arm, a"))
        #expect(inspect.stdout.contains("input: 2 features (x, y)"))

        let eval = Subprocess.run([Subprocess.nn, "eval", "spiral.nnm", "--data", "spiral.csv", "--target", "arm"], directory: directory)
        #expect(eval.status == 0, "\(eval.stderr)")
        let accuracyLine = eval.stdout.split(separator: "\n").first { $0.hasPrefix("accuracy: ") } ?? ""
        let accuracy = Double(accuracyLine.dropFirst("accuracy: ".count).split(separator: " ").first ?? "") ?? 0
        #expect(accuracy >= 90, "\(eval.stdout)")
        #expect(eval.stdout.contains("confusion matrix"))

        let predict = Subprocess.run([Subprocess.nn, "predict", "spiral.nnm", "--data", "spiral.csv", "--proba", "-o", "out.csv"], directory: directory)
        #expect(predict.status == 0, "\(predict.stderr)")
        let lines = Self.read(directory + "/out.csv")!.split(separator: "\n")
        #expect(lines.count == 181)
        #expect(lines[0].hasPrefix("class,p("))
        // The predicted labels agree with the model's own classification through the library.
        let model = try Model(contentsOf: directory + "/spiral.nnm")
        let data = try SyntheticData.spiral(pointsPerClass: 60, classes: 3, seed: 3)
        let classes = try model.classify(data.inputs)
        for r in [0, 59, 60, 119, 120, 179] {
            let expected = model.classLabels[classes[r]]
            let field = expected.contains(",") ? "\"\(expected)\"" : expected
            #expect(lines[r + 1].hasPrefix(field + ","), "row \(r): \(lines[r + 1]) vs \(expected)")
        }
    }

    @Test func aCorruptFileFailsCheckAndInspectWithExitOneAndAClearMessage() {
        let directory = Self.temporaryDirectory()
        Self.write("this is not a model\n", to: directory + "/bad.nnm")
        let check = Subprocess.run([Subprocess.nn, "check", directory + "/bad.nnm"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("FAILED: not an nncore model file"))
        let inspect = Subprocess.run([Subprocess.nn, "inspect", directory + "/bad.nnm"])
        #expect(inspect.status == 1)
        #expect(inspect.stderr.hasPrefix("nn inspect: not an nncore model file"))
        #expect(inspect.stderr.split(separator: "\n").count == 1)
        let good = Self.fixtures + "/models/valid/hinge.nnm"
        let mixed = Subprocess.run([Subprocess.nn, "check", good, directory + "/bad.nnm"])
        #expect(mixed.status == 1)
        #expect(mixed.stdout.contains(": OK"))
        #expect(Subprocess.run([Subprocess.nn, "check", good]).status == 0)
    }

    @Test func badFlagsAndMissingArgumentsExitWith64() {
        for arguments in [["frobnicate"], ["inspect"], ["inspect", "a.nnm", "--bogus"], ["train", "data.csv"],
                          ["train", "data.csv", "-o", "m.nnm", "--epochs", "zero"], ["demo", "--epochs"], []] {
            let result = Subprocess.run([Subprocess.nn] + arguments)
            #expect(result.status == 64, "nn \(arguments.joined(separator: " ")) exited \(result.status)")
            #expect(result.stderr.contains("Usage:") || result.stderr.contains("Commands:"))
        }
    }

    @Test func picturesAreValidSVGAndTheSpiralRegionsHaveThreeColoursWhereExpected() throws {
        let directory = Self.temporaryDirectory()
        let data = try SyntheticData.spiral(pointsPerClass: 100, classes: 3, seed: 0)
        var model = try Model(inputs: 2, layers: [.dense(units: 100, activation: .relu), .dense(units: 3)], seed: 0)
        var options = TrainingOptions()
        options.epochs = 2000; options.batchSize = 0; options.learningRate = 1; options.l2 = 1e-3
        options.schedule = .stepDecay(milestones: [1000, 1500], factor: 0.1)
        try model.fit(data, options: options)
        try model.save(to: directory + "/spiral.nnm")
        var csv = "x,y,label\n"
        guard case .labels(let labels) = data.targets else { return }
        for r in 0 ..< data.count { csv += "\(data.inputs[r, 0]),\(data.inputs[r, 1]),\(labels[r])\n" }
        Self.write(csv, to: directory + "/spiral.csv")

        let regions = Subprocess.run([Subprocess.nn, "plot", "spiral.nnm", "--data", "spiral.csv", "-o", "regions.svg"], directory: directory)
        #expect(regions.status == 0, "\(regions.stderr)")
        let curves = Subprocess.run([Subprocess.nn, "plot", "spiral.nnm", "-o", "curves.svg"], directory: directory)
        #expect(curves.status == 0, "\(curves.stderr)")
        for file in ["regions.svg", "curves.svg"] {
            let parse = Subprocess.run(["python3", "-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", directory + "/" + file])
            #expect(parse.status == 0, "\(file) is not well-formed XML: \(parse.stderr)")
        }
        let svg = Self.read(directory + "/regions.svg")!
        let colours = Set(svg.split(separator: "\n").filter { $0.hasPrefix("<rect") && $0.contains("data-class") }
            .compactMap { $0.split(separator: "\"").dropFirst(9).first })
        #expect(colours.count == 3, "expected three region colours, found \(colours)")
        // Points near the outer end of each arm lie in their own class's region.
        let script = """
        import re, sys
        svg = open(sys.argv[1]).read()
        m = re.search(r'<desc id="range">x (\\S+) (\\S+) y (\\S+) (\\S+) origin (\\S+) (\\S+) size (\\S+)</desc>', svg)
        x0, x1, y0, y1, ox, oy, size = map(float, m.groups())
        rects = [tuple(map(float, r[:4])) + (int(r[4]),) for r in re.findall(r'<rect x="([\\d.]+)" y="([\\d.]+)" width="([\\d.]+)" height="([\\d.]+)" fill="[^"]+" data-class="(\\d+)"', svg)]
        for arg in sys.argv[2:]:
            x, y = map(float, arg.split(','))
            px, py = ox + (x - x0) / (x1 - x0) * size, oy + (y1 - y) / (y1 - y0) * size
            hits = [c for (rx, ry, w, h, c) in rects if rx <= px < rx + w and ry <= py < ry + h]
            print(hits[0] if hits else -1)
        """
        let probes = [90, 190, 290].map { "\(data.inputs[$0, 0]),\(data.inputs[$0, 1])" }
        let found = Subprocess.run(["python3", "-c", script, directory + "/regions.svg"] + probes)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout == "0\n1\n2\n", "region classes at the arms' ends: \(found.stdout)")
    }
}

extension String {
    func replacingPath(_ path: String, with replacement: String) -> String {
        split(separator: path, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
