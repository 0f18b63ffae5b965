import FieldKit
import Foundation
import Synchronization
import Testing
@testable import CentralNode
@testable import SyncKit

/// Raw bytes on a socket: a request a second one hides in, as a smuggler writes them.
private struct Smuggling {
    let node: AttackedNode
    let token: String
    let device = ReplicaID(high: 9, low: 9)

    init() throws {
        node = try AttackedNode()
        token = try node.enroll("li")
    }

    /// A push of one household: what the hidden request does if the server ever reads it.
    func hiddenPush() throws -> [UInt8] {
        let body = try SyncProtocol.encode(SyncRequest(device: device, cursors: [:], push: [try householdOp(device, seq: 1, name: "smuggled")]))
        return Array("POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    func emptySync() throws -> [UInt8] {
        Array(try SyncProtocol.encode(SyncRequest(device: device, cursors: [:], push: [])))
    }

    /// Sends `bytes` and reads until the server closes the connection.
    func exchange(_ bytes: [UInt8]) throws -> (reply: String, closed: Bool) {
        let (reply, closed) = try rawExchangeEnding(port: node.server.boundPort, bytes, receiveTimeoutSeconds: 300)
        return (reply, closed)
    }

    func households() throws -> [Record] { try node.hub.replica.records(FieldModel.households) }

    static func responses(in reply: String) -> Int { reply.components(separatedBy: "HTTP/1.1 ").count - 1 }
}

struct RequestSmugglingTests {
    @Test func contentLengthWithChunkedIsFramedByTheChunksAndTheConnectionCloses() async throws {
        let test = try Smuggling()
        defer { Task { await test.node.server.stop() } }
        let body = try test.emptySync()
        let chunked = Array("\(String(body.count, radix: 16))\r\n".utf8) + body + Array("\r\n0\r\n\r\n".utf8)
        let rest = chunked + (try test.hiddenPush())
        let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(test.token)\r\nContent-Length: \(rest.count)\r\nTransfer-Encoding: chunked\r\n\r\n"
        let (reply, closed) = try test.exchange(Array(head.utf8) + rest)
        #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply.prefix(300))")
        #expect(reply.lowercased().contains("connection: close"))
        #expect(Smuggling.responses(in: reply) == 1 && closed)
        #expect(try test.households().isEmpty)
    }

    @Test func twoDifferentContentLengthsAreRefusedAndTheConnectionCloses() async throws {
        let test = try Smuggling()
        defer { Task { await test.node.server.stop() } }
        let hidden = try test.hiddenPush()
        let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(test.token)\r\nContent-Length: 0\r\nContent-Length: \(hidden.count)\r\n\r\n"
        let (reply, closed) = try test.exchange(Array(head.utf8) + hidden)
        #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply.prefix(300))")
        #expect(reply.contains("\"code\":\"badRequest\"") && reply.contains("Content-Length"))
        #expect(Smuggling.responses(in: reply) == 1 && closed)
        #expect(try test.households().isEmpty)
    }

    @Test func aSpaceBeforeTheColonIsRefusedAndTheConnectionCloses() async throws {
        let test = try Smuggling()
        defer { Task { await test.node.server.stop() } }
        let hidden = try test.hiddenPush()
        for separator in [" :", "\t:"] {
            let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(test.token)\r\nContent-Length\(separator) \(hidden.count)\r\n\r\n"
            let (reply, closed) = try test.exchange(Array(head.utf8) + hidden)
            #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply.prefix(300))")
            #expect(reply.contains("is not valid"))
            #expect(Smuggling.responses(in: reply) == 1 && closed)
        }
        #expect(try test.households().isEmpty)
    }

    @Test func transferCodingsOtherThanChunkedAreRefusedBeforeTheBody() async throws {
        let test = try Smuggling()
        defer { Task { await test.node.server.stop() } }
        let hidden = try test.hiddenPush()
        for coding in ["gzip", "chunked, gzip", "xchunked"] {
            let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(test.token)\r\nTransfer-Encoding: \(coding)\r\n\r\n"
            let (reply, closed) = try test.exchange(Array(head.utf8) + hidden)
            #expect(reply.hasPrefix("HTTP/1.1 501"), "\(coding): \(reply.prefix(300))")
            #expect(Smuggling.responses(in: reply) == 1 && closed)
        }
        #expect(try test.households().isEmpty)
    }

    @Test func framingRulesJudgeHeadersAlone() {
        func headers(_ fields: [(String, String)]) -> HTTPHeaders { HTTPHeaders(fields.map { .init(name: $0.0, value: $0.1) }) }
        #expect(RequestFraming.judge(version: "HTTP/1.1", headers: headers([("Content-Length", "5")])) == .ok)
        #expect(RequestFraming.judge(version: "HTTP/1.1", headers: headers([("Content-Length", "5"), ("content-length", "5")])) == .ok)
        #expect(RequestFraming.judge(version: "HTTP/1.1", headers: headers([("Transfer-Encoding", "Chunked")])) == .ok)
        #expect(RequestFraming.judge(version: "HTTP/1.1", headers: headers([("Transfer-Encoding", "chunked"), ("Content-Length", "5")])) == .closeAfterResponse)
        for bad in [[("Content-Length", "5"), ("Content-Length", "6")], [("Content-Length", "5, 5")], [("Content-Length", "-1")],
                    [("Content-Length", "")], [("Content-Length ", "5")], [("X Y", "1")], [("", "1")]] {
            guard case .refuse(400, "badRequest", _) = RequestFraming.judge(version: "HTTP/1.1", headers: headers(bad)) else {
                Issue.record("\(bad) was not refused"); continue
            }
        }
        guard case .refuse(400, _, _) = RequestFraming.judge(version: "HTTP/1.0", headers: headers([("Transfer-Encoding", "chunked")])) else {
            Issue.record("HTTP/1.0 with Transfer-Encoding was not refused"); return
        }
    }
}

/// Answers a request can get from its head alone, before (or without) its body.
struct EarlyAnswerTests {
    @Test func aWrongTokenIsRefusedBeforeTheBodyIsReadOrParsed() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        _ = try node.enroll("li")
        // Headers announce a body that never comes: the answer cannot have waited for it.
        let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer 00ff\r\nContent-Length: 100000\r\n\r\n{\"protocol\":1,"
        let (reply, closed) = try rawExchangeEnding(port: node.server.boundPort, Array(head.utf8), receiveTimeoutSeconds: 300)
        #expect(reply.hasPrefix("HTTP/1.1 401"), "\(reply.prefix(300))")
        #expect(reply.contains("\"code\":\"unknownToken\"") && closed)
        // With a whole malformed body, still 401, not 400: nobody without a token reaches the parser.
        let malformed = try await fetch(node.server, "/v1/sync", method: "POST", body: Data("{\"protocol\":1,".utf8),
                                        headers: ["Authorization": "Bearer 00ff"])
        #expect(malformed.status == 401 && errorCode(malformed) == "unknownToken")
        let missing = try await fetch(node.server, "/v1/sync", method: "POST", body: Data("not json".utf8))
        #expect(missing.status == 401 && errorCode(missing) == "unknownToken")
        // A revoked token too.
        let token = try node.enroll("wang")
        try node.hub.revoke(device: "wang", actor: "operator-1")
        let revoked = try await fetch(node.server, "/v1/sync", method: "POST", body: Data("not json".utf8), headers: ["Authorization": "Bearer \(token)"])
        #expect(revoked.status == 401 && errorCode(revoked) == "revoked")
        let metrics = try await fetch(node.server, "/metrics")
        #expect(metrics.text.contains("fieldsync_errors_total{code=\"unknownToken\"} 3"))
    }

    @Test func aBodyOverTheLimitSentWholeGets413NotABrokenPipe() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li")
        let size = 9 * 1024 * 1024
        let head = "POST /v1/sync HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n"
        // Like a client that writes the whole body before it reads (no Expect: 100-continue).
        let socket = try #require(connectLoopback(port: node.server.boundPort, receiveTimeoutSeconds: 300))
        defer { close(socket) }
        var sent = 0
        let bytes = Array(head.utf8) + [UInt8](repeating: 0x20, count: size)
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            #expect(count > 0, "the server cut the upload (errno \(errno)) instead of answering")
            guard count > 0 else { break }
            sent += count
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            reply += buffer[0..<count]
        }
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 413"), "\(text.prefix(300))")
        #expect(text.contains("\"code\":\"bodyTooLarge\""))
        #expect(await eventually { node.server.connectionsLingered >= 1 })
    }

    @Test func aDeviceSplitsAPushTooLargeForTheNodeAndReportsAnOperationThatCannotFit() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.bodyBytesMax = 64 * 1024
        let server = try HTTPServer.start(configuration, router: HubService(hub: world.hub).router)
        defer { Task { await server.stop() } }
        let transport = HTTPSyncTransport(baseURL: URL(string: "http://127.0.0.1:\(server.boundPort)")!, token: world.devices["li"]!.token, timeoutSeconds: 120)
        // Twenty households of 8 KB each: one push of all of them is over the node's 64 KiB.
        let note = String(repeating: "x", count: 8_000)
        try world.replica("li").write { tx in for n in 0..<20 { _ = try tx.insert("households", ["cell": "C1", "head_name": .text("\(n) \(note)")]) } }
        let replica = world.replica("li")
        let split = try await offPool { try SyncSession(replica: replica).run(bodies: transport.exchange(body:)) }
        #expect(split.refusal == nil && split.unsynced == 0 && split.opsUp == 20)
        #expect(try world.hub.replica.records("households").count == 20)
        // One operation alone over the limit: reported as the node's refusal, kept queued; pulls go on.
        try world.replica("li").write {
            try $0.insert("households", ["cell": "C1", "head_name": .text(String(repeating: "y", count: 40_000)), "phone": .text(String(repeating: "9", count: 40_000))])
        }
        let refused = try await offPool { try SyncSession(replica: replica).run(bodies: transport.exchange(body:)) }
        #expect(refused.refusal?.status == 413 && refused.refusal?.code == "bodyTooLarge")
        #expect(refused.unsynced == 1)
    }
}

/// Clients that hold connections without finishing a request.
struct SlowClientTests {
    /// Connections that send a request line and then one header line per `interval`, forever,
    /// reconnecting whenever the server closes one.
    final class Trickler: @unchecked Sendable {
        // @unchecked: `stopped` is atomic; the sockets are only touched by the trickler's thread.
        private let stopped = Atomic<Bool>(false)
        private let done = DispatchSemaphore(value: 0)
        let reconnects = Atomic<Int>(0)
        /// Rounds of header lines sent on every connection.
        let rounds = Atomic<Int>(0)

        init(port: Int, connections: Int, interval: Double) {
            let thread = Thread { [self] in
                var sockets: [Int32] = []
                func open() -> Int32 {
                    guard let socket = connectLoopback(port: port, receiveTimeoutSeconds: 1) else { return -1 }
                    let line = "GET /healthz HTTP/1.1\r\nHost: node\r\n"
                    _ = line.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    return socket
                }
                for _ in 0..<connections { sockets.append(open()) }
                while !stopped.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: interval)
                    for index in sockets.indices {
                        let line = "X-Trickle-\(index): yes\r\n"
                        let sent = sockets[index] < 0 ? -1 : line.withCString { send(sockets[index], $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                        if sent < 0 {
                            if sockets[index] >= 0 { close(sockets[index]) }
                            sockets[index] = open()
                            reconnects.add(1, ordering: .relaxed)
                        }
                    }
                    rounds.add(1, ordering: .relaxed)
                }
                for socket in sockets where socket >= 0 { close(socket) }
                done.signal()
            }
            thread.start()
        }

        func stop() {
            stopped.store(true, ordering: .relaxed)
            done.wait()
        }
    }

    @Test func oneHostTricklingHeadersOnHundredsOfConnectionsDoesNotStopASync() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.headerTimeoutSeconds = 3
        let server = try HTTPServer.start(configuration, router: HubService(hub: world.hub).router)
        defer { Task { await server.stop() } }
        let attack = Trickler(port: server.boundPort, connections: 600, interval: 1)
        defer { attack.stop() }
        // Every connection is open and trickling before the collector comes.
        #expect(await eventually { attack.rounds.load(ordering: .relaxed) >= 2 })
        let health = try await fetch(server, "/healthz")
        #expect(health.status == 200)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "through the storm"]) }
        let transport = HTTPSyncTransport(baseURL: URL(string: "http://127.0.0.1:\(server.boundPort)")!, token: world.devices["li"]!.token, timeoutSeconds: 120)
        let replica = world.replica("li")
        let progress = try await offPool { try SyncSession(replica: replica).run(exchange: transport.exchange) }
        #expect(progress.unsynced == 0 && progress.verified)
        // The server cut the waiting connections of that one address, not the collector's.
        #expect((server.connectionsCut[.addressPending] ?? 0) > 0)
    }

    @Test func manyKeptAliveConnectionsOfOneAddressBetweenRequestsAreNotCut() async throws {
        // Collectors behind one carrier address: more connections than the per-address limit of
        // waiting ones, each between two requests.
        let server = try startTestServer { $0.pendingConnectionsPerAddressMax = 4 }
        defer { Task { await server.stop() } }
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        func request(_ socket: Int32) -> String {
            _ = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var reply = ""
            while !reply.hasSuffix("hello") {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return reply + "<closed>" }
                reply += String(decoding: buffer[0..<count], as: UTF8.self)
            }
            return reply
        }
        for _ in 0..<16 {
            let socket = try #require(connectLoopback(port: server.boundPort, receiveTimeoutSeconds: 300))
            sockets.append(socket)
            #expect(request(socket).hasPrefix("HTTP/1.1 200"))
        }
        // Every one of them is still open for its next request.
        for socket in sockets { #expect(request(socket).hasPrefix("HTTP/1.1 200")) }
        #expect(server.connectionsCut[.addressPending] == nil)
    }

    @Test func aConnectionTricklingHeadersIsClosedAtTheHeaderDeadline() async throws {
        let server = try startTestServer { $0.headerTimeoutSeconds = 1; $0.connectionTimeoutSeconds = 600 }
        defer { Task { await server.stop() } }
        let socket = try #require(connectLoopback(port: server.boundPort, receiveTimeoutSeconds: 300))
        defer { close(socket) }
        _ = "GET /hello HTTP/1.1\r\nHost: x\r\n".withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        // A byte every 200 ms restarts libmicrohttpd's idle timeout each time, not the deadline.
        let trickling = Task.detached {
            for index in 0..<3_000 {
                guard !Task.isCancelled else { return }
                _ = "X-\(index): y\r\n".withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { trickling.cancel() }
        var buffer = [UInt8](repeating: 0, count: 64)
        var result = 0
        repeat { result = recv(socket, &buffer, buffer.count, 0) } while result < 0 && errno == EINTR
        #expect(result == 0 || (result < 0 && errno == ECONNRESET), "the server kept the connection (recv \(result), errno \(errno))")
        #expect(await eventually { (server.connectionsCut[.headerTimeout] ?? 0) >= 1 })
    }
}
