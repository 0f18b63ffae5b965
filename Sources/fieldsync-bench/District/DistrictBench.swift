import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync-bench district`: a whole district through a real central node, from outside.
///
///     fieldsync-bench district --cells 134 --households 300 --clients 64
///
/// Generates the district (seeded), imports it with the real CLI (`fieldsync central
/// import-csv`, timed next to plain SQLite inserting the same rows in this run), enrolls one
/// device per cell, starts `fieldsync central serve`, and runs two scenarios with clients in
/// separate processes (`fieldsync-bench district-client`) speaking HTTP to it:
/// - the burst at 8 o'clock: every device takes its cell (snapshot), pushes 20 operations,
///   pulls, verifies;
/// - the ordinary morning: the same devices, already bootstrapped, push 50 operations each and pull.
/// Prints one JSON line per figure on stdout (sorted keys); progress on stderr.
struct DistrictBench {
    struct Options {
        var cells = 134
        var households = 300
        var clients = 64
        var processes = 8
        /// The node's HTTP threads (`central serve --threads`); nil: its default.
        var nodeThreads: Int?
        var seed: UInt64 = 20_261_204
        var burstOps = 20
        var morningOps = 50
        var keep = false
        var fieldsync: String?
        /// A directory a `--keep` run left: its imported district and devices are used again
        /// (for profiling; figures of the burst only, the node's database holds earlier runs' pushes).
        var reuse: String?
    }

    static let usage = """
        usage: fieldsync-bench district [--cells N] [--households N] [--clients N] [--processes N]
                                        [--node-threads N] [--seed N] [--fieldsync PATH] [--keep]

          --cells N        grid cells, one device each (default 134; the reference district has 1344)
          --households N   doorplates per cell, most with one household (default 300)
          --clients N      devices syncing at once, over all client processes (default 64)
          --processes N    client processes (default 8)
          --node-threads N the node's HTTP threads (central serve --threads; default its own, 8)
          --fieldsync PATH the fieldsync binary (default: beside this one)
          --keep           keep the files (central.db, CSVs, device replicas)
          --reuse DIR      run the scenarios again on the district a --keep run left in DIR
        """

    let options: Options

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var words = arguments[...]
        while let word = words.popFirst() {
            func number() throws -> Int {
                guard let text = words.popFirst(), let value = Int(text), value > 0 else { throw BenchError("\(word) takes a whole number above 0\n\(usage)") }
                return value
            }
            switch word {
            case "--cells": options.cells = try number()
            case "--households": options.households = try number()
            case "--clients": options.clients = try number()
            case "--processes": options.processes = try number()
            case "--node-threads": options.nodeThreads = try number()
            case "--seed": options.seed = UInt64(try number())
            case "--fieldsync":
                guard let path = words.popFirst() else { throw BenchError("--fieldsync takes a path\n\(usage)") }
                options.fieldsync = path
            case "--keep": options.keep = true
            case "--reuse":
                guard let path = words.popFirst() else { throw BenchError("--reuse takes a directory\n\(usage)") }
                options.reuse = path
                options.keep = true
            default: throw BenchError("unknown option \(word)\n\(usage)")
            }
        }
        guard options.cells <= 9_999 - 400 else { throw BenchError("--cells is at most 9599 (4-digit cell numbers from 401)") }
        options.processes = min(options.processes, options.clients)
        return options
    }

    func run() throws {
        let directory = options.reuse.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("fieldsync-district-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if !options.keep { try? FileManager.default.removeItem(at: directory) } else { Console.error("district: files kept in \(directory.path)") } }
        let fieldsync = options.fieldsync ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldsync").path
        guard FileManager.default.isExecutableFile(atPath: fieldsync) else {
            throw BenchError("no fieldsync binary at \(fieldsync); build it (swift build -c release) or pass --fieldsync PATH")
        }

        let central = directory.appendingPathComponent("central.db").path
        let devicesFile = directory.appendingPathComponent("devices.json")
        let devices: [DistrictClient.Device]
        if options.reuse != nil {
            // New devices for the same cells: the earlier ones' tokens are bound to their replicas.
            let earlier = try JSONDecoder().decode([DistrictClient.Device].self, from: Data(contentsOf: devicesFile))
            devices = try Self.enroll(cells: earlier.map(\.cell), central: central, prefix: "tablet-\(UInt32.random(in: 0 ... .max))-")
            try? FileManager.default.removeItem(at: directory.appendingPathComponent("devices"))
        } else {
            devices = try prepare(directory: directory, central: central, fieldsync: fieldsync)
            try JSONEncoder().encode(devices).write(to: devicesFile)
        }
        let node = try NodeProcess(fieldsync: fieldsync, central: central, log: directory.appendingPathComponent("serve.log"), threads: options.nodeThreads)
        defer { node.stop() }
        Console.error("district: node listening on port \(node.port); \(devices.count) devices enrolled")

        let replicas = directory.appendingPathComponent("devices")
        try FileManager.default.createDirectory(at: replicas, withIntermediateDirectories: true)
        for (scenario, phase, ops) in [("burst", "burst", options.burstOps), ("morning", "morning", options.morningOps)] {
            let figures = try runScenario(phase: phase, ops: ops, devices: devices, node: node, replicas: replicas, directory: directory)
            for figure in figures { Console.out(JSONLine.render(figure.merging(["scenario": scenario]) { a, _ in a })) }
        }
    }

    /// Generates the district, imports it through the CLI and enrolls one device per cell.
    private func prepare(directory: URL, central: String, fieldsync: String) throws -> [DistrictClient.Device] {
        // The district's files.
        Console.error("district: generating \(options.cells) cells of \(options.households) doorplates (seed \(options.seed))")
        let files = try DistrictFiles.write(cells: options.cells, doorplatesPerCell: options.households, seed: options.seed, in: directory)
        Console.error("district: \(files.doorplates) doorplates, \(files.households) households")

        // The import through the real CLI, next to plain SQLite inserting the same rows.
        try Self.cli(fieldsync, ["central", "init", "--db", central])
        var importFigures: [[String: Any]] = []
        var plainBytes = 0
        for (table, file, rows) in [("doorplates", files.doorplatesCSV, files.doorplates), ("households", files.householdsCSV, files.households)] {
            let started = ContinuousClock.now
            try Self.cli(fieldsync, ["central", "import-csv", table, file.path, "--db", central])
            let ours = Measurement.seconds(ContinuousClock.now - started)
            let plain = try PlainImport.run(csv: file, into: directory.appendingPathComponent("plain-\(table).db").path)
            plainBytes += plain.bytes
            importFigures.append(["benchmark": "district.import", "table": table, "rows": rows, "seconds": ours.rounded(3),
                                  "rows_per_s": (Double(rows) / ours).rounded(0), "baseline_rows_per_s": (Double(rows) / plain.seconds).rounded(0),
                                  "ratio": (ours / plain.seconds).rounded(2)])
            Console.error("district: imported \(rows) \(table) in \(ours.formatted(decimals: 1)) s (plain SQLite \(plain.seconds.formatted(decimals: 2)) s)")
        }
        for figure in importFigures { Console.out(JSONLine.render(figure)) }
        let diskBytes = Self.fileBytes(central)
        let records = files.doorplates + files.households
        Console.out(JSONLine.render(["benchmark": "district.disk", "records": records, "central_db_bytes": diskBytes,
                                     "bytes_per_record": (Double(diskBytes) / Double(records)).rounded(0),
                                     "baseline_bytes": plainBytes, "ratio": (Double(diskBytes) / Double(max(plainBytes, 1))).rounded(2)]))

        // One device per cell.
        return try Self.enroll(cells: files.cells, central: central)
    }

    /// One scenario: every device once, `options.clients` at a time over the client processes.
    private func runScenario(phase: String, ops: Int, devices: [DistrictClient.Device], node: NodeProcess,
                             replicas: URL, directory: URL) throws -> [[String: Any]] {
        let perProcess = max(1, options.clients / options.processes)
        let chunkSize = max(1, (devices.count + options.processes - 1) / options.processes)
        let chunks = stride(from: 0, to: devices.count, by: chunkSize).map { Array(devices[$0..<min($0 + chunkSize, devices.count)]) }
        Console.error("district: \(phase): \(devices.count) devices, \(chunks.count) client processes × \(perProcess) at a time")
        let cpuBefore = node.cpuSeconds()
        let clientsBefore = Self.childrenCPUSeconds()
        let started = ContinuousClock.now
        var clients: [(Process, Pipe)] = []
        for (index, chunk) in chunks.enumerated() {
            let job = DistrictClient.Job(url: "http://127.0.0.1:\(node.port)", devices: chunk, concurrency: perProcess,
                                         directory: replicas.path, phase: phase, ops: ops)
            let jobFile = directory.appendingPathComponent("job-\(phase)-\(index).json")
            try JSONEncoder().encode(job).write(to: jobFile)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["district-client", jobFile.path]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            clients.append((process, out))
        }
        var samples: [DistrictClient.Sample] = []
        var outcomes: [DistrictClient.Outcome] = []
        for (process, out) in clients {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let sample = try? JSONDecoder().decode(DistrictClient.Sample.self, from: Data(line)) { samples.append(sample) }
                else if let outcome = try? JSONDecoder().decode(DistrictClient.Outcome.self, from: Data(line)) { outcomes.append(outcome) }
            }
        }
        let wall = Measurement.seconds(ContinuousClock.now - started)
        let cpu = node.cpuSeconds() - cpuBefore
        let clientsCPU = Self.childrenCPUSeconds() - clientsBefore
        var figures: [[String: Any]] = []
        var errors: [String: Int] = [:]
        for outcome in outcomes where !outcome.ok { errors[outcome.error ?? "unknown", default: 0] += 1 }
        let unverified = outcomes.filter { $0.ok && !$0.verified }.count
        // Retries the devices' transport made before an answer (a 503 with Retry-After, a
        // connection lost): no error in the end, but time in the latencies.
        var retries: [String: Int] = [:]
        for sample in samples { for reason in sample.retries ?? [] { retries[reason, default: 0] += 1 } }
        figures.append(["benchmark": "district.wall", "devices": devices.count, "clients": options.clients, "seconds": wall.rounded(2),
                        "devices_ok": outcomes.filter(\.ok).count, "devices_unverified": unverified, "errors": errors,
                        "retries": retries, "exchanges": samples.count])
        for kind in ["bootstrap", "push", "pull", "verify"] {
            let times = samples.filter { $0.kind == kind }.map(\.ms).sorted()
            guard !times.isEmpty else { continue }
            figures.append(["benchmark": "district.latency", "kind": kind, "count": times.count,
                            "p50_ms": Self.percentile(times, 0.50).rounded(1), "p95_ms": Self.percentile(times, 0.95).rounded(1),
                            "p99_ms": Self.percentile(times, 0.99).rounded(1), "max_ms": times.last!.rounded(1)])
        }
        var statuses: [String: Int] = [:]
        for sample in samples where sample.status != 200 { statuses["\(sample.status) \(sample.code ?? "")", default: 0] += 1 }
        figures.append(["benchmark": "district.clients", "processes": clients.count, "cpu_seconds": clientsCPU.rounded(1),
                        "cpu_cores": (clientsCPU / wall).rounded(2)])
        figures.append(["benchmark": "district.node", "cpu_cores": (cpu / wall).rounded(2), "cpu_seconds": cpu.rounded(1),
                        "peak_rss_mb": (Double(node.peakRSSKiB()) / 1024).rounded(0), "refused_exchanges": statuses])
        let bootstraps = samples.filter { $0.kind == "bootstrap" }
        let records = bootstraps.reduce(0) { $0 + $1.records }
        if records > 0 {
            let down = bootstraps.reduce(0) { $0 + $1.down }
            figures.append(["benchmark": "district.wire", "records": records, "bytes_down": down,
                            "bytes_per_record": (Double(down) / Double(records)).rounded(0)])
        }
        return figures
    }

    /// User and system CPU seconds of this process's children that have ended (the client
    /// processes, once waited for).
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_CHILDREN.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    private static func enroll(cells: [String], central: String, prefix: String = "tablet-") throws -> [DistrictClient.Device] {
        let hub = try Hub.open(path: central, schema: FieldModel.schema)
        return try cells.enumerated().map { index, cell in
            let name = "\(prefix)\(index + 1)"
            return DistrictClient.Device(name: name, token: try hub.enroll(device: name, cells: [cell], actor: "bench").token, cell: cell)
        }
    }

    @discardableResult
    static func cli(_ fieldsync: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fieldsync)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("fieldsync \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: errors.prefix(2_000), as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: path + $1)[.size] as? Int) ?? 0) }
    }
}

extension Double {
    func rounded(_ decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return (self * scale).rounded() / scale
    }
}

/// One JSON object per line, keys sorted.
enum JSONLine {
    static func render(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
