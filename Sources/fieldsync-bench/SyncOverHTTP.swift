import CentralNode
import Dispatch
import Foundation
import SyncKit

/// `push_http`, `pull_http`, `bootstrap_10k`: the sync protocol over loopback HTTP to a central
/// node in this process (libmicrohttpd, the real `HubService`), against plain SQLite upserting
/// the same operations' values in transactions of the same size.
enum SyncOverHTTP {
    static let cell = "JS-0412"
    static let seed: UInt64 = 0x5E4C_0001

    /// A central node on 127.0.0.1, port chosen by the system.
    struct Node {
        let hub: Hub
        let server: HTTPServer
        var url: URL { URL(string: "http://127.0.0.1:\(server.boundPort)")! }

        init(path: String) throws {
            hub = try Hub.open(path: path, schema: try Households.replicaSchema(), options: Households.options(seed: SyncOverHTTP.seed &+ 1))
            server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: hub).router)
        }

        func transport(for device: String) throws -> HTTPSyncTransport {
            let enrollment = try hub.enroll(device: device, cells: [SyncOverHTTP.cell], actor: "bench")
            return HTTPSyncTransport(baseURL: url, token: enrollment.token, timeoutSeconds: 120, retriesMax: 0)
        }

        func stop() { SyncOverHTTP.stop(server) }
    }

    /// Stops a server from synchronous code (waits for it).
    static func stop(_ server: HTTPServer) {
        let done = DispatchSemaphore(value: 0)
        Task { await server.stop(); done.signal() }
        done.wait()
    }

    /// A device file holding `inserts` new households and `updates` phone updates, none synced;
    /// returns its operations (for the baseline).
    static func writeDevice(path: String, inserts: Int, updates: Int) throws -> [Op] {
        let replica = try Fixture.openReplica(path, seed: seed)
        var generator = HouseholdGenerator(seed: seed)
        let households = (0..<inserts).map { _ -> Household in
            var household = generator.household()
            household.cell = cell
            return household
        }
        try Fixture.insert(households[...], into: replica)
        var remaining = updates
        while remaining > 0 {
            let batch = min(remaining, Fixture.batchWritesMax)
            try replica.write { tx in
                for _ in 0..<batch {
                    try tx.update(Households.collection, households[generator.below(inserts)].id, ["phone": .text(generator.phone())])
                }
            }
            remaining -= batch
        }
        return try replica.outbox(limit: Int.max)
    }

    static func copy(_ from: String, to: String) throws {
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// Plain SQLite applying the same operations' values, `perTransaction` at a time.
    static func baseline(_ ops: [Op], perTransaction: Int, scratch: ScratchDirectory) throws -> Duration {
        let path = scratch.newPath("plain")
        defer { scratch.remove(path) }
        let plain = try Baseline(path: path, schema: Households.schema)
        let upserter = try PlainUpserter(baseline: plain)
        return try Measurement.time {
            for chunk in ops.chunks(of: perTransaction) {
                try plain.db.transaction { for op in chunk { try upserter.upsert(op) } }
            }
        }
    }

    static func push(_ settings: RunSettings) throws -> BenchmarkReport {
        try run(settings, name: "push_http", inserts: 2_000, updates: 8_000, measure: .push)
    }

    static func pull(_ settings: RunSettings) throws -> BenchmarkReport {
        try run(settings, name: "pull_http", inserts: 2_000, updates: 8_000, measure: .pull)
    }

    static func bootstrap(_ settings: RunSettings) throws -> BenchmarkReport {
        try run(settings, name: "bootstrap_10k", inserts: 10_000, updates: 0, measure: .pull)
    }

    enum Measured { case push, pull }

    private static func run(_ settings: RunSettings, name: String, inserts: Int, updates: Int, measure: Measured) throws -> BenchmarkReport {
        let scratch = settings.scratch
        Console.error("[\(name)] writing \(inserts) inserts and \(updates) updates on a device (untimed)")
        let source = scratch.newPath("device")
        defer { scratch.remove(source) }
        let ops = try writeDevice(path: source, inserts: inserts, updates: updates)
        let perTransaction = measure == .push ? SyncProtocol.pushOpsMax : SyncProtocol.pageOpsMax
        var rounds = 0

        let (ours, plain) = try PairedRuns(timedRuns: settings.timedRuns, label: name).measure(
            ours: {
                let nodePath = scratch.newPath("node"), devicePath = scratch.newPath("pusher"), pullerPath = scratch.newPath("puller")
                defer { [nodePath, devicePath, pullerPath].forEach(scratch.remove) }
                try copy(source, to: devicePath)
                let node = try Node(path: nodePath)
                defer { node.stop() }
                let device = try Fixture.openReplica(devicePath, seed: seed)
                let pushing = try node.transport(for: "pusher")
                var elapsed = Duration.zero
                let pushTime = try Measurement.time {
                    rounds = try SyncSession(replica: device, verify: false).run(exchange: pushing.exchange).rounds
                }
                guard try node.hub.replica.operations().count == ops.count else { throw BenchError("the node stored fewer operations than were pushed") }
                elapsed = pushTime
                if measure == .pull {
                    let puller = try Fixture.openReplica(pullerPath, seed: seed &+ 2)
                    let pulling = try node.transport(for: "puller")
                    elapsed = try Measurement.time {
                        rounds = try SyncSession(replica: puller, verify: true).run(bodies: pulling.exchange(body:)).rounds
                    }
                    guard try puller.digest() == node.hub.replica.digest() else { throw BenchError("the pulling device does not match the node") }
                }
                return elapsed
            },
            baseline: { try baseline(ops, perTransaction: perTransaction, scratch: scratch) })
        var report = BenchmarkReport(benchmark: name, unit: "ops/s")
        report.compare(ours: ours, baseline: plain, ops: ops.count)
        report.extras["exchanges"] = .int(rounds)
        report.extras["ops_per_exchange"] = .int(perTransaction)
        report.extras["transport"] = .string("HTTP/1.1 loopback, libmicrohttpd, URLSession")
        return report
    }
}
