// nn: the nncore command-line tool. Usage errors print the usage and exit 64; failures print one
// line to stderr and exit 1.
import NNCore
#if canImport(Glibc)
import Glibc
#endif

let exitUsage: Int32 = 64
let exitFailure: Int32 = 1

func runMain() -> Int32 {
    var words = Array(CommandLine.arguments.dropFirst())
    guard let first = words.first else {
        Terminal.error(mainHelp())
        return exitUsage
    }
    switch first {
    case "--help", "-h":
        Terminal.write(mainHelp())
        return 0
    case "--version", "-V":
        Terminal.write("nn \(NNCoreVersion.string)\n")
        return 0
    case "help":
        guard words.count >= 2 else { Terminal.write(mainHelp()); return 0 }
        guard let command = commands.first(where: { $0.name == words[1] }) else {
            Terminal.error("nn: unknown command '\(words[1])'\n\n" + mainHelp())
            return exitUsage
        }
        Terminal.write(command.help)
        return 0
    default:
        break
    }
    guard let command = commands.first(where: { $0.name == first }) else {
        Terminal.error("nn: unknown command '\(first)'\n\n" + mainHelp())
        return exitUsage
    }
    words.removeFirst()
    var arguments = Arguments(words)
    if arguments.wantsHelp {
        Terminal.write(command.help)
        return 0
    }
    do {
        try command.run(&arguments)
        return 0
    } catch let error as UsageError {
        Terminal.error("nn \(command.name): \(error.message)\n\n\(command.help)")
        return exitUsage
    } catch let error as NNError {
        Terminal.error("nn \(command.name): \(error.message)\n")
        return exitFailure
    } catch {
        Terminal.error("nn \(command.name): \(error)\n")
        return exitFailure
    }
}

exit(runMain())
