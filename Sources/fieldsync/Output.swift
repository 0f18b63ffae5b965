import Foundation

/// Where a command's results go: one JSON document on stdout with `--json`, text otherwise;
/// diagnostics on stderr.
enum Output {
    static func json(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String, terminator: Bool = true) {
        FileHandle.standardError.write(Data((text + (terminator ? "\n" : "")).utf8))
    }

    /// A byte count for people: 512 B, 3.4 KB, 12.0 MB (decimal units).
    static func bytes(_ count: Int) -> String {
        switch count {
        case ..<1_000: return "\(count) B"
        case ..<1_000_000: return String(format: "%.1f KB", Double(count) / 1e3)
        default: return String(format: "%.1f MB", Double(count) / 1e6)
        }
    }

    /// One structured log line (JSON) on stderr: never field values, never tokens.
    static func log(_ event: String, _ fields: [String: Any] = [:]) {
        var record = fields
        record["event"] = event
        record["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
