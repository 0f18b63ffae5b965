import FuzzChecks
import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Sync messages, single operations and enrollment payloads: parsed, and (for messages) taken by
/// the hub and by a device, as the network delivers them.
extension FuzzTests {
    static let protocolTokens = [
        "\"protocol\":", "\"push\":", "\"ops\":", "\"cursors\":", "\"digests\":", "\"snapshots\":", "\"held\":", "\"more\":true",
        "\"acceptedThroughSeq\":", "\"pullOpsMax\":", "\"assignments\":", "\"prev\":[]", "\"increment\":", "\"remove\":", "\"tags\":",
        "\"set\":", "\"add\":", "{\"blob\":\"AAEC\"}", "{\"real\":1e308}", "{\"int\":-9223372036854775808}", "\"hlc\":\"281474976710655.65535\"",
        "\"id\":\"00000000000000010000000000000001.9223372036854775807\"", "\"entity\":\"\"", "\"collection\":\"_fs_op\"",
        "\"field\":\"_exists\"", "\"cells\":[\"JS-0412\",\"JS-0412\"]", "\"resync\":[\"JS-0412\"]", ":null", ",", "[", "]", "{", "}",
    ]

    // MARK: Parsing

    @Test func syncMessagesParseOrFailCleanlyAndRoundTrip() async throws {
        let seeds = try FuzzWorld.requestSeeds() + FuzzWorld.responseSeeds() + FuzzWorld.protocolFixtures(prefix: "error")
        try await Fuzzer.run(FuzzTarget(name: "protocol.messages", seeds: seeds, tokens: Self.protocolTokens, json: true, iterations: 1_500,
                                        check: ParserChecks.syncMessages))
    }

    static let opSeeds = [
        #"{"assignments":[{"field":"_exists","prev":[],"set":{"bool":true}},{"field":"cell","prev":[],"set":{"text":"C1"}},{"field":"name","prev":[],"set":{"text":"kept"}},{"field":"visits","increment":1},{"add":{"text":"x"},"field":"tags"},{"add":{"text":"y"},"field":"tags"}],"collection":"items","entity":"NCDJAMJHNAXSZRVP92CC9122WG","hlc":"1767225600000.0","id":"00000000000000150000000cfa8cfc2d.1"}"#,
        #"{"assignments":[{"field":"_exists","prev":["00000000000000150000000cfa8cfc2d.1"],"set":{"bool":false}}],"collection":"items","entity":"NCDJAMJHNAXSZRVP92CC9122WG","hlc":"1767225600500.0","id":"00000000000000150000000cfa8cfc2d.3"}"#,
        #"{"assignments":[{"field":"tags","remove":{"text":"x"},"tags":["00000000000000150000000cfa8cfc2d.1"]},{"field":"photo","prev":[],"set":{"blob":"AAECAwQ="}},{"field":"latitude","prev":[],"set":{"real":30.7412}},{"field":"member_count","prev":[],"set":{"int":3}},{"field":"phone","prev":[],"set":null}],"collection":"households","entity":"JXC3BQGWJXBCXFY88R80QZ0Y88","hlc":"1767225600000.2","id":"00000000000000010000000000000001.1"}"#,
    ].map { Data($0.utf8) }

    @Test func singleOperationsParseOrFailCleanlyAndRoundTrip() async throws {
        var seeds = Self.opSeeds
        // The operations inside real messages too.
        for message in try FuzzWorld.requestSeeds() {
            if let request = try? SyncProtocol.decode(SyncRequest.self, from: message) { seeds += try request.push.prefix(6).map { try $0.jsonData() } }
        }
        try await Fuzzer.run(FuzzTarget(name: "protocol.op", seeds: seeds, tokens: Self.protocolTokens, json: true, iterations: 2_000,
                                        check: ParserChecks.operation))
    }

    // MARK: Past the parser

    /// Mutated operations applied to a replica: applied, quarantined or refused whole.
    @Test func mutatedOperationsApplyOrAreRefusedWithoutPartialWrites() async throws {
        var seeds = Self.opSeeds
        for message in try FuzzWorld.requestSeeds() {
            if let request = try? SyncProtocol.decode(SyncRequest.self, from: message) { seeds += try request.push.map { try $0.jsonData() } }
        }
        let holder = ReplicaHolder()
        try await Fuzzer.run(FuzzTarget(name: "replica.apply", seeds: seeds, tokens: Self.protocolTokens, json: true, iterations: 400) { input in
            guard let op = try? SyncProtocol.decode(Op.self, from: Data(input)) else { return }
            let world = try holder.world()
            let before = try Fuzzer.contents(of: world.zhao.replica)
            if try ParserChecks.clean({ try world.zhao.replica.apply([op]) }) == nil {
                try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: world.zhao.replica), "operation")
            } else {
                _ = try world.zhao.replica.digest()
                holder.used()
            }
        })
    }

    /// Mutated requests as the hub receives them over HTTP, with the device's real token.
    @Test func mutatedRequestsAreAnsweredOrRefusedWithoutPartialWrites() async throws {
        let holder = ReplicaHolder()
        try await Fuzzer.run(FuzzTarget(name: "hub.sync", seeds: try FuzzWorld.requestSeeds(), tokens: Self.protocolTokens, json: true, iterations: 300) { input in
            guard let request = try ParserChecks.clean({ try SyncProtocol.decode(SyncRequest.self, from: Data(input)) }) else { return }
            let world = try holder.world()
            let before = try Fuzzer.contents(of: world.hub.replica)
            let token = world.tokens[request.device == world.zhao.replica.id ? "zhao" : "li"]!
            guard let response = try ParserChecks.clean({ try world.hub.handle(request, token: token) }) else {
                return try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: world.hub.replica), "request")
            }
            holder.used()
            guard try ParserChecks.roundTrip(SyncResponse.self, try SyncProtocol.encode(response)) == response else {
                throw FuzzViolation("the hub's reply does not survive its own JSON")
            }
        })
    }

    /// Mutated replies as a device receives them: ingested whole or refused with nothing written.
    @Test func mutatedRepliesAreIngestedOrRefusedWithoutPartialWrites() async throws {
        let holder = ReplicaHolder(changesPerWorldMax: 1)
        try await Fuzzer.run(FuzzTarget(name: "device.ingest", seeds: try FuzzWorld.responseSeeds(), tokens: Self.protocolTokens, json: true, iterations: 300) { input in
            guard let response = try ParserChecks.clean({ try SyncProtocol.decode(SyncResponse.self, from: Data(input)) }) else { return }
            let world = try holder.world()
            let replica = world.li.replica
            let request = try replica.nextSyncRequest(pushOpsMax: 3, pullOpsMax: 100)
            let before = try Fuzzer.contents(of: replica)
            guard try ParserChecks.clean({ try replica.ingest(response, for: request) }) != nil else {
                return try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: replica), "reply")
            }
            holder.used()
            _ = try replica.digest()
            _ = try replica.nextSyncRequest(verify: true)
        })
    }

    // MARK: Enrollment

    @Test func enrollmentPayloadsParseOrFailCleanlyAndRoundTrip() async throws {
        let seeds = [
            "fieldsync:enroll?v=1&url=https%3A%2F%2Fcentral.example%3A8443&token=3f9a0c1d2e3f405162738495a6b7c8d9",
            "fieldsync:enroll?v=1&url=http%3A%2F%2F127.0.0.1%3A8080%2Fnode%2F&token=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            "fieldsync:enroll?v=1&url=http%3A%2F%2F%5B%3A%3A1%5D%3A80&token=ABCDEFabcdef0123456789abcdef0123",
            "  fieldsync:enroll?token=3f9a0c1d2e3f405162738495a6b7c8d9&url=https://node.example&v=1\n",
        ].map { Data($0.utf8) }
        let tokens = ["%", "%2F", "%3A", "%25", "%00", "&", "=", "v=1", "v=2", "url=", "token=", "http://", "https://", "ftp://", "file:///",
                      "[::1]", ":99999", "@", "#", "?", "fieldsync:enroll?", "0123456789abcdef", "%E4%B8%AD"]
        try await Fuzzer.run(FuzzTarget(name: "enrollment.payload", seeds: seeds, tokens: tokens, iterations: 3_000,
                                        check: ParserChecks.enrollmentPayload))
    }
}

/// The world a stateful target works on, rebuilt after every few inputs that changed it, so that
/// most inputs meet the state the seeds were made for (a rebuild costs about 100 ms in a debug
/// build, so not after every one). Used by the fuzzer's worker thread only (its inputs run one
/// at a time), which is why the unchecked Sendable is safe.
final class ReplicaHolder: @unchecked Sendable {
    /// Inputs that may change a world before it is rebuilt: 1 where a change would make later
    /// seeds meaningless (a device's cursors only move forward).
    let changesPerWorldMax: Int
    private var current: FuzzWorld?
    private var changes = 0

    init(changesPerWorldMax: Int = 4) {
        self.changesPerWorldMax = changesPerWorldMax
    }

    func world() throws -> FuzzWorld {
        if let current { return current }
        let made = try FuzzWorld()
        current = made
        changes = 0
        return made
    }

    /// The last input changed the world.
    func used() {
        changes += 1
        if changes >= changesPerWorldMax { current = nil }
    }
}
