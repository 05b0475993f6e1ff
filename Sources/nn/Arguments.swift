// A small command-line parser (no packages outside the toolchain can be fetched): options
// `--name value`, `--name=value`, boolean flags, and positional arguments.

/// A usage mistake: the CLI prints the command's usage and exits 64 (EX_USAGE).
struct UsageError: Error {
    let message: String
}

/// The arguments of one subcommand, consumed as the command reads them.
struct Arguments {
    private var items: [String]

    init(_ items: [String]) { self.items = items }

    /// Whether `--help`/`-h` is among the arguments.
    var wantsHelp: Bool { items.contains("--help") || items.contains("-h") }

    /// Removes a boolean flag; true when it was present.
    mutating func flag(_ names: String...) -> Bool {
        guard let index = items.firstIndex(where: { names.contains($0) }) else { return false }
        items.remove(at: index)
        return true
    }

    /// Removes `--name value` or `--name=value` and returns the value.
    mutating func option(_ names: String...) throws -> String? {
        for (index, item) in items.enumerated() {
            for name in names {
                if item == name {
                    guard index + 1 < items.count else { throw UsageError(message: "\(name) needs a value") }
                    let value = items[index + 1]
                    items.removeSubrange(index ... index + 1)
                    return value
                }
                if item.hasPrefix(name + "=") {
                    items.remove(at: index)
                    return String(item.dropFirst(name.count + 1))
                }
            }
        }
        return nil
    }

    /// An integer option within `range`.
    mutating func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try option(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(message: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The remaining arguments, which must all be positional.
    mutating func positionals() throws -> [String] {
        if let unknown = items.first(where: { $0.hasPrefix("-") && $0 != "-" }) {
            throw UsageError(message: "unknown option '\(unknown)'")
        }
        defer { items.removeAll() }
        return items
    }

    /// Fails when anything is left unread.
    func finish() throws {
        if let first = items.first {
            throw UsageError(message: first.hasPrefix("-") ? "unknown option '\(first)'" : "unexpected argument '\(first)'")
        }
    }
}
