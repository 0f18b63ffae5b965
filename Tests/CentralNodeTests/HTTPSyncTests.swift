import Foundation
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
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), handler: HubService(hub: world.hub).router.respond)
        let base = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        let li = HTTPSyncTransport(baseURL: base, token: world.devices["li"]!.token, timeoutSeconds: 10)
        let zhao = HTTPSyncTransport(baseURL: base, token: world.devices["zhao"]!.token, timeoutSeconds: 10)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.replica("li").write { tx in for _ in 0..<20 { try tx.increment("households", id, "visit_count") } }
        let up = try SyncSession(replica: world.replica("li"), pushOpsMax: 7).run(exchange: li.exchange)
        let down = try SyncSession(replica: world.replica("zhao"), pullOpsMax: 5).run(exchange: zhao.exchange)
        #expect(up.opsUp == 21 && up.verified)
        #expect(down.opsDown == 21 && down.verified)
        #expect(try world.replica("zhao").record("households", id)?["visit_count"] == 20)

        // A wrong token is refused with the hub's message; an unreachable hub says nothing is lost.
        let stranger = HTTPSyncTransport(baseURL: base, token: "nope", timeoutSeconds: 10)
        let refused = #expect(throws: SyncRefusal.self) { try SyncSession(replica: world.replica("li")).run(exchange: stranger.exchange) }
        #expect(refused?.status == 401 && refused?.code == "unknownToken")
        #expect(refused?.message.contains("enroll") == true)
        await server.stop()
        let gone = #expect(throws: SyncError.self) { try SyncSession(replica: world.replica("li")).run(exchange: li.exchange) }
        #expect(gone?.code == .unreachable)
        #expect(gone?.message.contains("your changes are kept") == true)
    }
}
