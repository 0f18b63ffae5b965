import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `bootstrap_cell`: a new device starts one grid cell of the field model (300 households with
/// their doorplates and tasks, some tasks already moved along) over loopback HTTP and verifies
/// it, against plain SQLite storing the same rows (three plain tables, one transaction each).
enum BootstrapCell {
    static let seed: UInt64 = 0xB007_0001
    static let householdsWanted = 300

    /// A generated cell with at least `householdsWanted` households.
    static func generatedCell() -> GeneratedCell {
        var plates = 100
        while true {
            let cell = DistrictGenerator(seed: seed, options: .init(cellCount: 1, doorplatesPerCell: plates, tasksPerCell: 80)).cell(at: 0)
            if cell.households.count >= householdsWanted { return cell }
            plates += 25
        }
    }

    static func options(seed: UInt64) -> ReplicaOptions {
        var options = ReplicaOptions()
        options.randomSeed = seed
        return options
    }

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        let scratch = settings.scratch
        let generated = generatedCell()
        let cell = generated.cell.id
        Console.error("[bootstrap_cell] cell \(cell): \(generated.households.count) households, \(generated.doorplates.count) doorplates, \(generated.tasks.count) tasks (untimed setup)")

        // The node and the collector who wrote the cell (untimed).
        let nodePath = scratch.newPath("node"), seederPath = scratch.newPath("seeder")
        defer { [nodePath, seederPath].forEach(scratch.remove) }
        let hub = try Hub.open(path: nodePath, schema: FieldModel.schema, options: options(seed: seed &+ 1))
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: hub).router)
        defer { SyncOverHTTP.stop(server) }
        let url = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        let seeder = try FieldStore.open(path: seederPath, options: options(seed: seed &+ 2))
        try seeder.importRecords(doorplates: generated.doorplates, households: generated.households)
        for (index, draft) in generated.tasks.enumerated() {
            let task = try seeder.addTask(draft)
            if index % 2 == 0 { _ = try seeder.assignTask(task.id, to: "collector-1") }
        }
        let seederToken = try hub.enroll(device: "seeder", cells: [cell], actor: "bench").token
        try SyncSession(replica: seeder.replica).run(bodies: HTTPSyncTransport(baseURL: url, token: seederToken, retriesMax: 0).exchange(body:))
        let collections = [FieldModel.doorplates, FieldModel.households, FieldModel.tasks]
        var rows: [String: [Record]] = [:]
        for collection in collections { rows[collection] = try seeder.replica.records(collection, cell: cell, limit: Int.max) }
        let recordCount = rows.values.reduce(0) { $0 + $1.count }

        var devices = 0, bytesDown = 0, rounds = 0
        let (ours, plain) = try PairedRuns(timedRuns: settings.timedRuns, label: "bootstrap_cell").measure(
            ours: {
                devices += 1
                let path = scratch.newPath("device")
                defer { scratch.remove(path) }
                let device = try FieldStore.open(path: path, options: options(seed: seed &+ 100 &+ UInt64(devices)))
                let token = try hub.enroll(device: "device-\(devices)", cells: [cell], actor: "bench").token
                let transport = HTTPSyncTransport(baseURL: url, token: token, retriesMax: 0)
                var result: SyncSession.Progress?
                let elapsed = try Measurement.time { result = try SyncSession(replica: device.replica).run(bodies: transport.exchange(body:)) }
                guard let progress = result, progress.verified, progress.recordsDown == recordCount, try device.replica.digest(cell: cell) == hub.replica.digest(cell: cell) else {
                    throw BenchError("the new device does not match the node after its bootstrap")
                }
                (bytesDown, rounds) = (progress.bytesDown, progress.rounds)
                return elapsed
            },
            baseline: {
                var total = Duration.zero
                for collection in collections {
                    let path = scratch.newPath("plain")
                    defer { scratch.remove(path) }
                    let schema = FieldModel.collections.first { $0.name == collection }!
                    let plain = try Baseline(path: path, schema: schema)
                    let insert = try plain.insertStatement()
                    total += try Measurement.time {
                        try plain.db.transaction {
                            for record in rows[collection]! { try plain.run(insert, [.text(record.id.rawValue)] + schema.fields.map { record[$0.name] }) }
                        }
                    }
                }
                return total
            })
        var report = BenchmarkReport(benchmark: "bootstrap_cell", unit: "records/s")
        report.compare(ours: ours, baseline: plain, ops: recordCount)
        report.extras["records"] = .int(recordCount)
        report.extras["households"] = .int(generated.households.count)
        report.extras["bytes_down"] = .int(bytesDown)
        report.extras["exchanges"] = .int(rounds)
        report.extras["transport"] = .string("HTTP/1.1 loopback, libmicrohttpd, URLSession; snapshot of state, then verify")
        return report
    }
}
