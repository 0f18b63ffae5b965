import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// `fieldsync central serve` keeps serving correctly while the operator's other commands write
/// the same database from their own processes: enrollments, district imports, bundle imports,
/// review decisions, revocations and cell changes.
struct ConcurrentWriterTests {
    @Test func everyOperatorCommandWhileTheNodeServesIsSeenByTheServingProcess() async throws {
        try await offPool { try Self.scenario() }
    }

    static func scenario() throws {
        let cli = ServerProcessTests.cli
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-writers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let central = dir.appendingPathComponent("central.db").path
        let log = dir.appendingPathComponent("serve.log")
        #expect(try cli(["central", "init", "--db", central]).status == 0)
        let (server, port) = try ServerProcessTests.startServer(db: central, stderr: log)
        defer { if server.isRunning { server.terminate() } }
        let url = "http://127.0.0.1:\(port)"

        // Enrollments, each by another process while the node serves.
        var stores: [String: FieldStore] = [:]
        var tokens: [String: String] = [:]
        func enroll(_ name: String, _ cells: String, clockAheadMillis: Int64 = 0) throws {
            let enrolled = try cli(["central", "enroll", "--db", central, "--device", name, "--cells", cells, "--url", url, "--json"])
            #expect(enrolled.status == 0, "\(enrolled.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(enrolled.stdout.utf8)) as? [String: Any])
            tokens[name] = try #require(object["token"] as? String)
            var options = ReplicaOptions()
            options.randomSeed = UInt64(tokens.count)
            if clockAheadMillis != 0 { options.clock = ManualClock(millis: SystemClock().nowMillis() + clockAheadMillis) }
            stores[name] = try FieldStore.open(path: dir.appendingPathComponent("\(name).db").path, options: options)
        }
        func sync(_ name: String) throws -> SyncSession.Progress {
            let transport = HTTPSyncTransport(baseURL: URL(string: url)!, token: tokens[name]!, timeoutSeconds: 120)
            return try SyncSession(replica: stores[name]!.replica).run(exchange: transport.exchange)
        }
        try enroll("a", "JS-0401")
        try enroll("b", "JS-0401")
        let plate = try DoorplateCode(parsing: "JS0401-00088")
        _ = try stores["a"]!.addDoorplate(DoorplateDraft(code: plate, address: Address(street: "幸福路")))
        guard case .created(let household) = try stores["a"]!.addHousehold(HouseholdDraft(doorplate: plate, room: "501", headName: "张伟", memberCount: 3)) else {
            Issue.record("household not created"); return
        }
        #expect(try sync("a").verified)
        #expect(try sync("b").verified)

        // A bundle from a device that never had a network, imported by the CLI: the serving
        // process meets records that name a replica it has never seen.
        try enroll("c", "JS-0401")
        _ = try stores["c"]!.addDoorplate(DoorplateDraft(code: try DoorplateCode(parsing: "JS0401-00089"), address: Address(street: "和平路")))
        let bundle = dir.appendingPathComponent("c.bundle").path
        try stores["c"]!.replica.exportBundle().write(to: URL(fileURLWithPath: bundle))
        let imported = try cli(["central", "bundle", "import", bundle, "--device", "c", "--reply", dir.appendingPathComponent("c.reply").path, "--db", central])
        #expect(imported.status == 0, "\(imported.stderr)")
        let page = try blockingFetch(port: port, "/v1/snapshot?cell=JS-0401", token: tokens["a"]!)
        #expect(page.status == 200, "snapshot after a bundle import: \(page.status) \(page.text.prefix(200))")
        #expect(try SyncProtocol.decode(CellSnapshot.self, from: page.body).records.count == 3)
        try enroll("d", "JS-0401")
        let fresh = try sync("d")
        #expect(fresh.verified && fresh.recordsDown == 3)

        // A district import by the CLI reaches the devices through the serving process.
        let csv = dir.appendingPathComponent("plates.csv")
        try Data(("code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes\r\n"
                  + "JS0401-00090,JS-0401,金山区,金山大道,216号,1栋,1单元,,101室,,,,issued,,\r\n").utf8).write(to: csv)
        #expect(try cli(["central", "import-csv", "doorplates", csv.path, "--db", central]).status == 0)
        #expect(try sync("a").opsDown >= 1)
        #expect(try stores["a"]!.replica.records(FieldModel.doorplates).count == 3)

        // A review decision by the CLI: a concurrent phone edit, resolved while the node serves.
        _ = try stores["a"]!.updateHousehold(household.id) { $0.phone = "13800138000" }
        _ = try stores["b"]!.updateHousehold(household.id) { $0.phone = "13912345678" }
        _ = try sync("a"); _ = try sync("b")
        let queue = try cli(["central", "review", "list", "--kind", "conflict", "--json", "--db", central])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(queue.stdout.utf8)) as? [[String: Any]])
        let phone = try #require(items.first { ($0["id"] as? String)?.hasSuffix("/phone") == true })
        let pick = try #require((phone["candidates"] as? [[String: Any]])?.first { $0["value"] as? String == "13912345678" }?["op"] as? String)
        #expect(try cli(["central", "review", "resolve", try #require(phone["id"] as? String), "--pick", pick, "--db", central]).status == 0)
        _ = try sync("a")
        #expect(try stores["a"]!.household(household.id)?.details.phone == "13912345678")

        // A held operation (a clock an hour ahead) released by the CLI reaches the others.
        try enroll("e", "JS-0401", clockAheadMillis: 3_600_000)
        _ = try stores["e"]!.addDoorplate(DoorplateDraft(code: try DoorplateCode(parsing: "JS0401-00091"), address: Address(street: "未来路")))
        #expect(try sync("e").held.map(\.reason).contains("clockDrift"))
        let held = try cli(["central", "review", "list", "--kind", "quarantine", "--json", "--db", central])
        let heldItems = try #require(try JSONSerialization.jsonObject(with: Data(held.stdout.utf8)) as? [[String: Any]])
        for item in heldItems {
            #expect(try cli(["central", "review", "release", try #require(item["id"] as? String), "--db", central]).status == 0)
        }
        _ = try sync("b")
        #expect(try stores["b"]!.replica.records(FieldModel.doorplates).contains { $0["street"] == "未来路" })

        // Cells changed and a device revoked by the CLI take effect at once.
        #expect(try cli(["central", "cells", "d", "--set", "JS-0402", "--db", central]).status == 0)
        #expect(try sync("d").cells == ["JS-0402"])
        #expect(try stores["d"]!.replica.records(FieldModel.doorplates).isEmpty)
        #expect(try cli(["central", "revoke", "c", "--db", central]).status == 0)
        let revoked = #expect(throws: SyncRefusal.self) { try sync("c") }
        #expect(revoked?.code == "revoked")

        // Every device agrees with the node, and the node never failed a request.
        let hub = try Replica.open(path: central, schema: FieldModel.schema)
        for name in ["a", "b"] {
            _ = try sync(name)
            #expect(try stores[name]!.replica.digest(cell: "JS-0401") == hub.digest(cell: "JS-0401"), "\(name) differs")
        }
        server.terminate()
        server.waitUntilExit()
        let lines = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        #expect(!lines.contains("failed"), "\(lines.split(separator: "\n").filter { $0.contains("failed") }.prefix(5))")
    }

    /// One GET with a bearer token, waiting on this (non-cooperative) thread.
    static func blockingFetch(port: Int, _ path: String, token: String) throws -> FetchedResponse {
        let curl = try curlPath()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try run(curl, ["-s", "-o", out.path, "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(port)\(path)"])
        return FetchedResponse(status: Int(result.stdout) ?? 0, body: (try? Data(contentsOf: out)) ?? Data(), headers: [:])
    }
}
