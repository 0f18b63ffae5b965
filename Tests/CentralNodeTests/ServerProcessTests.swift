import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// End to end with the real `fieldsync central serve` process on 127.0.0.1: operators enroll
/// devices with the CLI, devices (FieldStore replicas) sync over HTTP.
struct ServerProcessTests {
    /// The `fieldsync` executable built beside the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldsync")
    }

    static func cli(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `fieldsync central serve --port 0 --json` and reads the port from its first line.
    static func startServer(db: String, stderr: URL? = nil) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["central", "serve", "--db", db, "--port", "0", "--json"]
        let out = Pipe()
        process.standardOutput = out
        if let stderr {
            FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        var buffer = Data()
        let handle = out.fileHandleForReading
        while !buffer.contains(0x7D) {   // the JSON object's closing brace
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw SyncError(.notFound, "the server exited before listening") }
            buffer.append(chunk)
        }
        let object = try JSONSerialization.jsonObject(with: buffer) as? [String: Any]
        guard let port = object?["port"] as? Int else { throw SyncError(.corrupt, "no port in \(String(decoding: buffer, as: UTF8.self))") }
        return (process, port)
    }

    @Test func devicesOnSeveralCellsConvergeThroughARealServerProcess() async throws {
        try await offPool { try Self.scenario() }
    }

    static func scenario() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let central = dir.appendingPathComponent("central.db").path
        #expect(try cli(["central", "init", "--db", central]).status == 0)
        let (server, port) = try startServer(db: central)
        defer { if server.isRunning { server.terminate() } }
        let url = "http://127.0.0.1:\(port)"

        // Four devices: a and d share cell JS-0001; b and c have cells of their own.
        let plan: [(String, String)] = [("a", "JS-0001"), ("b", "JS-0002"), ("c", "JS-0003"), ("d", "JS-0001")]
        var stores: [String: FieldStore] = [:]
        var transports: [String: HTTPSyncTransport] = [:]
        for (index, (name, cell)) in plan.enumerated() {
            let enrolled = try cli(["central", "enroll", "--db", central, "--device", name, "--cells", cell, "--url", url, "--json"])
            #expect(enrolled.status == 0, "\(enrolled.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(enrolled.stdout.utf8)) as? [String: Any])
            let payload = try EnrollmentPayload(parsing: try #require(object["payload"] as? String))
            var options = ReplicaOptions()
            options.randomSeed = UInt64(index + 1)
            stores[name] = try FieldStore.open(path: dir.appendingPathComponent("\(name).db").path, options: options)
            transports[name] = HTTPSyncTransport(baseURL: payload.url, token: payload.token, timeoutSeconds: 120)
        }
        func sync(_ name: String) throws -> SyncSession.Progress {
            try SyncSession(replica: stores[name]!.replica, pushOpsMax: 3, pullOpsMax: 4).run(exchange: transports[name]!.exchange)
        }

        // Offline: a and d register the same doorplate with different streets; everyone works.
        let shared = try DoorplateCode(parsing: "JS0001-00088")
        _ = try stores["a"]!.addDoorplate(DoorplateDraft(code: shared, address: Address(street: "幸福路")))
        _ = try stores["d"]!.addDoorplate(DoorplateDraft(code: shared, address: Address(street: "幸福北路")))
        guard case .created(let household) = try stores["a"]!.addHousehold(HouseholdDraft(doorplate: shared, room: "501", headName: "张伟", memberCount: 3)) else {
            Issue.record("household not created"); return
        }
        for (name, cell) in plan where name != "d" {
            let code = try DoorplateCode(parsing: cell.replacingOccurrences(of: "-", with: "") + "-00001")
            _ = try stores[name]!.addDoorplate(DoorplateDraft(code: code))
        }
        // Round 1, then a concurrent edit of one household's phone by a and d.
        for name in ["a", "b", "c", "d", "a"] { _ = try sync(name) }
        _ = try stores["a"]!.updateHousehold(household.id) { $0.phone = "13800138000" }
        _ = try stores["d"]!.updateHousehold(household.id) { $0.phone = "13912345678" }
        for name in ["d", "a", "b", "c", "d", "a"] { _ = try sync(name) }

        // Every shared cell's digest agrees with the central node's.
        let hub = try Replica.open(path: central, schema: FieldModel.schema)
        for (name, cell) in plan {
            #expect(try stores[name]!.replica.digest(cell: cell) == hub.digest(cell: cell), "\(name) differs on \(cell)")
            #expect(try stores[name]!.replica.unsyncedCount() == 0)
        }
        // Cells stay apart: b holds nothing of JS-0001.
        #expect(try stores["b"]!.replica.records("doorplates", cell: "JS-0001").isEmpty)
        // The conflicts are on the central node's queue exactly once.
        let conflicts = try hub.conflicts()
        #expect(conflicts.filter { $0.entity == household.id && $0.field == "phone" }.count == 1)
        #expect(conflicts.filter { $0.collection == "doorplates" && $0.field == "street" }.count == 1)
        #expect(Set(conflicts.map { "\($0.collection)/\($0.entity).\($0.field)" }).count == conflicts.count)

        // The operator settles the phone conflict with the CLI; the devices receive it.
        let queue = try cli(["central", "review", "list", "--kind", "conflict", "--json", "--db", central])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(queue.stdout.utf8)) as? [[String: Any]])
        let phone = try #require(items.first { ($0["id"] as? String)?.hasSuffix("/phone") == true })
        let candidates = try #require(phone["candidates"] as? [[String: Any]])
        let chosen = try #require(candidates.first { $0["value"] as? String == "13800138000" }?["op"] as? String)
        let resolved = try cli(["central", "review", "resolve", try #require(phone["id"] as? String), "--pick", chosen, "--db", central])
        #expect(resolved.status == 0, "\(resolved.stderr)")
        for name in ["a", "d"] { _ = try sync(name) }
        for name in ["a", "d"] {
            #expect(try stores[name]!.household(household.id)?.details.phone == "13800138000")
            #expect(try stores[name]!.replica.conflicts().allSatisfy { $0.field != "phone" })
        }

        // Graceful shutdown on SIGTERM: exit 0.
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
    }
}
