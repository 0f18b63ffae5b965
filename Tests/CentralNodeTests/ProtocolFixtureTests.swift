import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Golden protocol messages (Fixtures/protocol): real messages of a deterministic exchange, kept
/// so that another team can write a client in another language against them. Each must decode
/// and re-encode to the very same bytes, and today's code must still produce them.
/// `FIELDSYNC_WRITE_GOLDEN=1` rewrites them (only for a deliberate, documented change).
struct ProtocolFixtureTests {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/protocol")
    }

    /// A device pushes a new household and a visit; the hub answers with a colleague's edit; a new
    /// device receives the cell as a snapshot.
    static func scenario() throws -> [(String, Data)] {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["JS-0412"], index: 1)
        try world.enroll("zhao", cells: ["JS-0412"], index: 2)
        let id = try world.replica("zhao").write { try $0.insert("households", ["cell": "JS-0412", "head_name": "张伟", "phone": "13800138000"]) }
        try world.sync("zhao")
        try world.sync("li")
        try world.replica("zhao").write { try $0.update("households", id, ["phone": "13912345678"]) }
        try world.sync("zhao")
        try world.replica("li").write { tx in
            try tx.increment("households", id, "visit_count")
            try tx.add("households", id, "tags", "elderly")
        }
        let request = try world.replica("li").nextSyncRequest(pullOpsMax: 100)
        let response = try world.hub.handle(request, token: world.devices["li"]!.token)
        let verify = try world.replica("li").nextSyncRequest(pullOpsMax: 100, verify: true)
        // A third device starts the cell: it receives the household as a snapshot of state.
        try world.enroll("wang", cells: ["JS-0412"], index: 3)
        let start = try world.replica("wang").nextSyncRequest(pullOpsMax: 100)
        let snapshot = try world.hub.handle(start, token: world.devices["wang"]!.token)
        // A client that does not ask for the compact form gets the records spelled out (form 1).
        try world.enroll("zhou", cells: ["JS-0412"], index: 4)
        var plain = try world.replica("zhou").nextSyncRequest(pullOpsMax: 100)
        plain.snapshotForm = nil
        let spelledOut = try world.hub.handle(plain, token: world.devices["zhou"]!.token)
        let error = SyncErrorReply(code: "revoked", message: "device tablet-07 was revoked by an operator; it can no longer sync")
        return [("sync-request.json", try SyncProtocol.encode(request)), ("sync-response.json", try SyncProtocol.encode(response)),
                ("sync-request-verify.json", try SyncProtocol.encode(verify)), ("error-reply.json", try SyncProtocol.encode(error)),
                ("sync-response-snapshot.json", try SyncProtocol.encode(snapshot)),
                ("sync-response-snapshot-form1.json", try SyncProtocol.encode(spelledOut))]
    }

    @Test func goldenMessagesDecodeAndReencodeToTheSameBytes() throws {
        let produced = try Self.scenario()
        if ProcessInfo.processInfo.environment["FIELDSYNC_WRITE_GOLDEN"] == "1" {
            for (name, data) in produced { try data.write(to: Self.directory.appendingPathComponent(name)) }
        }
        for (name, data) in produced {
            let golden = try Data(contentsOf: Self.directory.appendingPathComponent(name))
            let reencoded: Data
            switch name {
            case "sync-response.json", "sync-response-snapshot.json", "sync-response-snapshot-form1.json": reencoded = try SyncProtocol.encode(try SyncProtocol.decode(SyncResponse.self, from: golden))
            case "error-reply.json": reencoded = try SyncProtocol.encode(try SyncProtocol.decode(SyncErrorReply.self, from: golden))
            default: reencoded = try SyncProtocol.encode(try SyncProtocol.decode(SyncRequest.self, from: golden))
            }
            #expect(reencoded == golden, "\(name) does not re-encode to the same bytes")
            #expect(data == golden, "today's code no longer produces \(name)")
        }
    }
}
