import NNCore

/// A subcommand of `nn`.
protocol Command: Sendable {
    /// The word that selects it (`nn NAME …`).
    static var name: String { get }
    /// One line saying what it does.
    static var abstract: String { get }
    /// The full help text: usage, options, examples.
    static var help: String { get }
    /// Runs with the arguments after the subcommand's name.
    static func run(_ arguments: inout Arguments) throws
}

/// Every subcommand, in the order `nn --help` lists them.
let commands: [any Command.Type] = [TrainCommand.self, PredictCommand.self, EvalCommand.self, InspectCommand.self, PlotCommand.self, CheckCommand.self, GraphCommand.self, DemoCommand.self]

/// The top-level help.
func mainHelp() -> String {
    var text = """
    nn \(NNCoreVersion.string) — build, train, inspect and run nncore models

    Usage: nn <command> [options]
           nn help <command>
           nn --version

    Commands:

    """
    let width = commands.map { $0.name.count }.max() ?? 0
    for command in commands {
        text += "  \(Format.pad(command.name, width))  \(command.abstract)\n"
    }
    text += "\nRun 'nn <command> --help' for a command's options.\n"
    return text
}
