import FieldKit
import Foundation
import Synchronization
import Testing
@testable import CentralNode
@testable import SyncKit

/// The protocol over real HTTP on loopback: the hub behind `HubService`, devices through
/// `HTTPSyncTransport`.
struct HTTPSyncTests {
    @Test func devicesSyncThroughTheHubOverHTTP() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let service = HubService(hub: world.hub)
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: service.router)
        let base = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        let li = HTTPSyncTransport(baseURL: base, token: world.devices["li"]!.token, timeoutSeconds: 120, backoffBaseSeconds: 0.01)
        let zhao = HTTPSyncTransport(baseURL: base, token: world.devices["zhao"]!.token, timeoutSeconds: 120)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.replica("li").write { tx in for _ in 0..<20 { try tx.increment("households", id, "visit_count") } }
        let up = try SyncSession(replica: world.replica("li"), pushOpsMax: 7).run(exchange: li.exchange)
        let down = try SyncSession(replica: world.replica("zhao"), pullOpsMax: 5).run(bodies: zhao.exchange(body:))
        #expect(up.opsUp == 21 && up.verified)
        // zhao starts cell C1: the household comes as one record of state, not 21 operations.
        #expect(down.recordsDown == 1 && down.opsDown == 0 && down.verified)
        #expect(down.bytesUp > 0 && down.bytesDown > down.bytesUp)
        #expect(try world.replica("zhao").record("households", id)?["visit_count"] == 20)

        // A wrong token is refused with the hub's message; an unreachable hub says nothing is lost.
        let stranger = HTTPSyncTransport(baseURL: base, token: "nope", timeoutSeconds: 120)
        let refused = #expect(throws: SyncRefusal.self) { try SyncSession(replica: world.replica("li")).run(exchange: stranger.exchange) }
        #expect(refused?.status == 401 && refused?.code == "unknownToken")
        #expect(refused?.message.contains("enroll") == true)
        // Metrics count what happened, in the Prometheus text format.
        let metrics = try await fetch(server, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("fieldsync_ops_ingested_total 21"))
        #expect(metrics.text.contains("fieldsync_errors_total{code=\"unknownToken\"} 1"))
        #expect(metrics.text.contains("fieldsync_requests_total{route=\"/v1/sync\",status=\"200\"}"))
        #expect(metrics.text.contains("fieldsync_devices_last_seen{within=\"1h\"} 2.0"))
        #expect(metrics.text.contains("fieldsync_request_duration_seconds_count"))
        #expect(try await fetch(server, "/healthz").status == 200)
        await server.stop()
        let gone = #expect(throws: SyncError.self) { try SyncSession(replica: world.replica("li")).run(exchange: li.exchange) }
        #expect(gone?.code == .unreachable)
        #expect(gone?.message.contains("your changes are kept") == true)
    }
}

struct HTTPRetryTests {
    @Test func transientServerFailuresAreRetriedAndRefusalsAreNot() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        let service = HubService(hub: world.hub)
        let attempts = Mutex(0)
        // The first two exchanges fail with 503; the rest reach the hub.
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0)) { request in
            let attempt = attempts.withLock { value -> Int in value += 1; return value }
            if attempt <= 2 { return .json(SyncErrorReply(code: "busy", message: "try later"), status: HTTPStatus(503)) }
            return service.router.respond(to: request)
        }
        let base = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "retried"]) }
        let transport = HTTPSyncTransport(baseURL: base, token: world.devices["li"]!.token, timeoutSeconds: 120, backoffBaseSeconds: 0.01)
        let progress = try SyncSession(replica: world.replica("li")).run(exchange: transport.exchange)
        #expect(progress.opsUp == 1 && progress.unsynced == 0)
        #expect(attempts.withLock { $0 } >= 3)
        // A 4xx is not retried.
        let before = attempts.withLock { $0 }
        let wrong = HTTPSyncTransport(baseURL: base, token: "wrong", timeoutSeconds: 120, backoffBaseSeconds: 0.01)
        #expect(throws: SyncRefusal.self) { try SyncSession(replica: world.replica("li")).run(exchange: wrong.exchange) }
        #expect(attempts.withLock { $0 } == before + 1)
        await server.stop()
    }
}

/// The README's `async` example, as written there.
func syncNow(replica: Replica, office: URL, token: String) async throws -> SyncSession.Progress {
    let transport = HTTPSyncTransport(baseURL: office, token: token)
    return try await SyncSession(replica: replica).run(async: transport.send(body:)) { progress in
        print("sent \(progress.opsUp), received \(progress.opsDown + progress.recordsDown)")
    }
}

struct HTTPAsyncSyncTests {
    /// The async driver over the async transport: the node's 503 with `Retry-After: 1` is waited
    /// out (by suspending, not by blocking a thread), then the sync completes and verifies.
    @Test func anAsyncSessionWaitsOutRetryAfterAndCompletes() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let service = HubService(hub: world.hub)
        let attempts = Mutex(0)
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0)) { request in
            let attempt = attempts.withLock { value -> Int in value += 1; return value }
            if attempt == 1 {
                var busy = HTTPResponse.json(SyncErrorReply(code: "overloaded", message: "come back in a second"), status: HTTPStatus(503))
                busy.headers.add(name: "Retry-After", value: "1")
                return busy
            }
            return service.router.respond(to: request)
        }
        let base = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        let waits = Mutex<[Double]>([])
        let transport = HTTPSyncTransport(baseURL: base, token: world.devices["li"]!.token, timeoutSeconds: 120, backoffBaseSeconds: 0.01,
                                          onRetry: { _, wait in waits.withLock { $0.append(wait) } })
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "异步"]) }
        let started = ContinuousClock.now
        let progress = try await SyncSession(replica: world.replica("li")).run(async: transport.send(body:))
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(waits.withLock { $0.count == 1 && $0[0] >= 1 })
        #expect(progress.opsUp == 1 && progress.unsynced == 0 && progress.verified && progress.bytesUp > 0)
        let down = try await syncNow(replica: world.replica("zhao"), office: base, token: world.devices["zhao"]!.token)
        #expect(down.recordsDown == 1 && down.verified)
        #expect(try world.replica("zhao").record("households", id)?["head_name"] == "异步")
        // A refusal is not retried and ends the session with the node's reply.
        let stranger = HTTPSyncTransport(baseURL: base, token: "nope", timeoutSeconds: 120)
        await #expect(throws: SyncRefusal.self) { try await SyncSession(replica: world.replica("li")).run(async: stranger.send(body:)) }
        await server.stop()
    }
}

struct HTTPRefusalTests {
    @Test func badRequestsGetTheirDocumentedErrorAndChangeNothing() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.bodyBytesMax = 64 * 1024
        let server = try HTTPServer.start(configuration, router: HubService(hub: world.hub).router)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1"]) }
        let good = try SyncProtocol.encode(try world.replica("li").nextSyncRequest())
        let token = world.devices["li"]!.token
        let before = try world.hub.replica.digest()
        let version2 = Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"protocol\":1", with: "\"protocol\":2").utf8)
        let cases: [(String, Data, [String: String], Int, String)] = [
            ("no token", good, [:], 401, "Bearer"),
            ("wrong token", good, ["Authorization": "Bearer 00ff"], 401, "unknownToken"),
            ("malformed JSON", Data("{\"protocol\":1,".utf8), ["Authorization": "Bearer \(token)"], 400, "malformed"),
            ("wrong type", Data(#"{"protocol":1,"device":42}"#.utf8), ["Authorization": "Bearer \(token)"], 400, "malformed"),
            ("protocol 2", version2, ["Authorization": "Bearer \(token)"], 400, "protocol version 2"),
            ("oversized body", Data(repeating: 0x20, count: 200 * 1024), ["Authorization": "Bearer \(token)"], 413, "bodyTooLarge"),
        ]
        for (name, body, headers, status, says) in cases {
            let response = try await fetch(server, "/v1/sync", method: "POST", body: body, headers: headers)
            #expect(response.status == status, "\(name): got \(response.status)")
            #expect(response.text.contains(says), "\(name): \(response.text.prefix(200))")
            let reply = try? SyncProtocol.decode(SyncErrorReply.self, from: response.body)
            #expect(reply?.protocolVersion == 1 && reply?.message.isEmpty == false, "\(name): one error shape everywhere")
        }
        #expect(try world.hub.replica.digest() == before)
        #expect(try world.hub.devices().first?.replica == nil)   // not even the token binding changed
        await server.stop()
    }
}

struct HTTPSnapshotTests {
    @Test func aDeviceReadsItsCellsSnapshotPageByPageAndNoOtherCell() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.replica("li").write { tx in for n in 0..<5 { _ = try tx.insert("households", ["cell": "C1", "head_name": .text("h\(n)")]) } }
        try world.sync("li")
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: world.hub).router)
        let auth = ["Authorization": "Bearer \(world.devices["zhao"]!.token)"]
        let first = try await fetch(server, "/v1/snapshot?cell=C1&limit=3", headers: auth)
        #expect(first.status == 200)
        let page1 = try SyncProtocol.decode(CellSnapshot.self, from: first.body)
        #expect(page1.records.count == 3 && page1.next != nil && page1.cseq > 0)
        let next = page1.next!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let page2 = try SyncProtocol.decode(CellSnapshot.self, from: try await fetch(server, "/v1/snapshot?cell=C1&limit=3&after=\(next)", headers: auth).body)
        #expect(page2.records.count == 2 && page2.next == nil)
        #expect(Set((page1.records + page2.records).map(\.entity)) == Set(try world.hub.replica.records("households").map(\.id)))
        let cases: [(String, [String: String], Int, String)] = [
            ("/v1/snapshot?cell=C9", auth, 403, "outOfScope"),
            ("/v1/snapshot?cell=C1", [:], 401, "unknownToken"),
            ("/v1/snapshot", auth, 400, "badRequest"),
            ("/v1/snapshot?cell=C1&limit=0", auth, 400, "badRequest"),
            ("/v1/snapshot?cell=C1&after=nonsense", auth, 400, "badRequest"),
        ]
        for (path, headers, status, code) in cases {
            let response = try await fetch(server, path, headers: headers)
            #expect(response.status == status, "\(path): got \(response.status)")
            #expect((try? SyncProtocol.decode(SyncErrorReply.self, from: response.body))?.code == code, "\(path): \(response.text.prefix(200))")
        }
        await server.stop()
    }
}

/// `GET /v1/schema` (PROTOCOL.md, "Schema"): what a client in another language needs of the
/// schema, for enrolled devices only, with a hash that changes when the schema does.
struct HTTPSchemaTests {
    @Test func anEnrolledDeviceReadsTheSchemaTheNodeMergesWith() async throws {
        var world = try HubSyncTests.World(schema: FieldModel.schema)
        try world.enroll("li", cells: ["C1"], index: 1)
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: world.hub).router)
        let response = try await fetch(server, "/v1/schema", headers: ["Authorization": "Bearer \(world.devices["li"]!.token)"])
        #expect(response.status == 200 && response.body == Data(FieldModel.schema.descriptionJSON))
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        #expect(object["hash"] as? String == FieldModel.schema.hash && object["protocol"] as? Int == SyncProtocol.version)
        let collections = try #require(object["collections"] as? [[String: Any]])
        let households = try #require(collections.first { $0["name"] as? String == "households" })
        let fields = try #require(households["fields"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == FieldModel.householdCollection.fields.map(\.name), "every field, merged_into too, in column order")
        #expect(fields.contains { $0["name"] as? String == "phone" && $0["personal"] as? Bool == true && $0["review"] as? Bool == true })
        let doorplates = try #require(collections.first { $0["name"] as? String == "doorplates" })
        #expect(doorplates["naturalKeyNormalizer"] as? String == "doorplate-code")
        let status = try #require((doorplates["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "status" }?["lifecycle"] as? [String: Any])
        #expect((status["precedence"] as? [String])?.isEmpty == false && status["transitions"] is [String: [String]])
        // Without a token (or with a revoked one): refused before anything is read.
        #expect(try await fetch(server, "/v1/schema").status == 401)
        try world.hub.revoke(device: "li", actor: "operator-1")
        #expect(try await fetch(server, "/v1/schema", headers: ["Authorization": "Bearer \(world.devices["li"]!.token)"]).status == 401)
        await server.stop()
    }

    @Test func theSchemaHashChangesWithAnyDeclarationAndOnlyThen() throws {
        let base = [CollectionSchema("things", cellField: "cell", fields: [.text("cell"), .text("name", review: true, personal: true)])]
        let same = try Schema(base).hash
        #expect(try Schema(base).hash == same && same.count == 64)
        let variants: [[FieldSchema]] = [
            [.text("cell"), .text("name", review: false, personal: true)],
            [.text("cell"), .text("name", review: true, personal: false)],
            [.text("cell"), .text("name", review: true, personal: true), .int("size")],
            [.text("cell"), .int("name", review: true, personal: true)],
        ]
        for fields in variants { #expect(try Schema([CollectionSchema("things", cellField: "cell", fields: fields)]).hash != same) }
    }
}
