import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a command's results go: one JSON document on stdout with `--json`, text otherwise;
/// diagnostics on stderr.
enum Output {
    static func json(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        write(data + Data("\n".utf8), to: STDOUT_FILENO)
    }

    static func line(_ text: String) {
        write(Data((text + "\n").utf8), to: STDOUT_FILENO)
    }

    static func error(_ text: String, terminator: Bool = true) {
        write(Data((text + (terminator ? "\n" : "")).utf8), to: STDERR_FILENO)
    }

    /// Writes to a file descriptor. A reader that went away (`fieldsync … | head`) ends the
    /// command quietly: the work was done before anything was printed. (Foundation's
    /// FileHandle.write traps on a broken pipe.)
    private static func write(_ data: Data, to descriptor: Int32) {
        data.withUnsafeBytes { raw in
            guard var next = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let written = Glibc.write(descriptor, next, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { exit(0) }
                    return
                }
                next += written
                left -= written
            }
        }
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
        write(data + Data("\n".utf8), to: STDERR_FILENO)
    }
}
