import FieldKit

/// The words of one command: positional arguments and `--name value` / `--flag` options.
///
///     var args = try Arguments(["JS-0412", "--db", "c.db", "--json"], flags: ["json"])
///     args.positional  // ["JS-0412"]
///     try args.value("db")  // "c.db"
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: String] = [:]
    private var flags: Set<String> = []
    private var used: Set<String> = []

    init(_ words: [String], flags known: Set<String>) throws {
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                if known.contains(name) {
                    flags.insert(name)
                } else {
                    guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else {
                        throw UsageError("option --\(name) is unknown or needs a value; see --help")
                    }
                    options[name] = words[index + 1]
                    index += 1
                }
            } else {
                positional.append(word)
            }
            index += 1
        }
    }

    mutating func flag(_ name: String) -> Bool {
        used.insert(name)
        return flags.contains(name)
    }

    mutating func value(_ name: String) -> String? {
        used.insert(name)
        return options[name]
    }

    /// An option's value without marking it used (to choose how a command runs before it runs).
    func peek(_ name: String) -> String? { options[name] }

    mutating func required(_ name: String, _ what: String) throws -> String {
        guard let value = value(name) else { throw UsageError("missing --\(name) \(what)") }
        return value
    }

    mutating func int(_ name: String, default fallback: Int) throws -> Int {
        guard let text = value(name) else { return fallback }
        guard let number = Int(text) else { throw UsageError("--\(name) takes a whole number; got \"\(text)\"") }
        return number
    }

    /// A grid cell option in its canonical form (`--cell js0412` gives "JS-0412"); anything that
    /// is not a cell id is refused with FieldKit's message, so a typo never names an empty cell.
    mutating func cell(_ name: String) throws -> String? {
        try value(name).map { try GridCell(parsing: $0).id }
    }

    /// A comma-separated list of grid cells, canonical and without repeats (`--cells JS0401,js-0402`).
    mutating func cells(_ name: String) throws -> [String] {
        let cells = try required(name, "C1,C2").split(separator: ",", omittingEmptySubsequences: false)
            .map { try GridCell(parsing: String($0)).id }
        return cells.reduce(into: []) { unique, cell in if !unique.contains(cell) { unique.append(cell) } }
    }

    /// Refuses options the command does not know (a typo must not be ignored silently).
    func checkAllUsed() throws {
        let unknown = Set(options.keys).union(flags).subtracting(used)
        if let name = unknown.sorted().first { throw UsageError("unknown option --\(name); see --help") }
    }
}

/// A command line that does not parse: exit 64 with the message and a pointer to --help.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
