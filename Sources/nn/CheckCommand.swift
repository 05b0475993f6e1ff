import NNCore

/// `nn check MODEL…`: verifies model files completely.
enum CheckCommand: Command {
    static let name = "check"
    static let abstract = "Verify model files (signature, checksum, schema, shapes, values)"
    static let help = """
    Usage: nn check MODEL...

    Loads each file with every check the library makes (signature, reader version, CRC-32C
    checksum, protobuf structure, limits, shapes against the architecture, finite values, UTF-8)
    and prints "OK" or exactly what is wrong. Exits 0 only when every file is valid.

    Example:
      nn check spiral.nnm backup/*.nnm

    """

    static func run(_ arguments: inout Arguments) throws {
        let paths = try arguments.positionals()
        guard !paths.isEmpty else { throw UsageError(message: "at least one MODEL file is required") }
        var failures = 0
        for path in paths {
            do {
                let (model, bytes) = try ModelFiles.load(path)
                Terminal.write("\(path): OK (\(model.layers.count) layers, \(Format.grouped(model.parameterCount)) parameters, \(Format.bytes(bytes)))\n")
            } catch let error as NNError {
                failures += 1
                Terminal.write("\(path): FAILED: \(error.message)\n")
            }
        }
        if failures > 0 {
            throw NNError(.corruptFile, "\(failures) of \(paths.count) files failed the check")
        }
    }
}

/// `nn graph MODEL`: the model's computational graph as Graphviz DOT.
enum GraphCommand: Command {
    static let name = "graph"
    static let abstract = "Print a model's computational graph as Graphviz DOT"
    static let help = """
    Usage: nn graph MODEL

    Prints the inference graph (inputs, parameters, affine, activation, maxout and dropout
    nodes) in Graphviz DOT; render it with `dot -Tsvg`.

    Example:
      nn graph spiral.nnm | dot -Tsvg > spiral-graph.svg

    """

    static func run(_ arguments: inout Arguments) throws {
        let paths = try arguments.positionals()
        guard paths.count == 1 else { throw UsageError(message: paths.isEmpty ? "a MODEL file is required" : "graph takes one MODEL") }
        let (model, _) = try ModelFiles.load(paths[0])
        Terminal.write(try model.dot(title: paths[0]))
    }
}
