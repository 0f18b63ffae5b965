import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `fieldsync central serve` as a separate process, with its CPU time and peak memory read from
/// /proc.
final class NodeProcess {
    let process = Process()
    let port: Int

    init(fieldsync: String, central: String, log: URL, threads: Int? = nil) throws {
        process.executableURL = URL(fileURLWithPath: fieldsync)
        process.arguments = ["central", "serve", "--db", central, "--port", "0", "--json"] + (threads.map { ["--threads", String($0)] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "}")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("fieldsync central serve exited before listening; see \(log.path)") }
            buffer.append(chunk)
        }
        guard let object = try JSONSerialization.jsonObject(with: buffer) as? [String: Any], let port = object["port"] as? Int else {
            throw BenchError("fieldsync central serve printed no port: \(String(decoding: buffer, as: UTF8.self))")
        }
        self.port = port
    }

    /// User plus system CPU seconds the node has used so far.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after "(comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The node's peak resident memory so far, in KiB.
    func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
