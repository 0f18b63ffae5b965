import Foundation
import Testing
@testable import SyncKit

/// The sync session's policy, with a fake device side and a scripted node: no replica, no
/// network, every decision visible.
struct SyncSessionTests {
    /// A device with `outbox` operations to push, acknowledging what replies say.
    final class FakeEndpoint: SyncEndpoint {
        let device = ReplicaID(high: 7, low: 7)
        var written: UInt64
        var acked: UInt64 = 0
        var requests: [SyncRequest] = []
        var ingested = 0

        init(outbox: UInt64) { written = outbox }

        func nextSyncRequest(pushOpsMax: Int, pullOpsMax: Int, verify: Bool) throws -> SyncRequest {
            let push = (acked..<written).prefix(max(0, pushOpsMax)).map { seq in
                Op(id: OpID(replica: device, seq: seq + 1), hlc: HLCTimestamp(millis: 1_000 + seq, counter: 0), collection: "items",
                   entity: EntityID(unchecked: "e\(seq)"), assignments: [Assignment(field: "name", change: .set("x", prev: []))])
            }
            let request = SyncRequest(device: device, cursors: ["C1": 0], push: push, pullOpsMax: pullOpsMax, digests: verify ? ["C1": "d"] : nil)
            requests.append(request)
            return request
        }

        func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport {
            acked = max(acked, response.acceptedThroughSeq)
            ingested += 1
            var report = ApplyReport()
            report.applied = response.ops.count
            return report
        }

        func unsyncedCount() throws -> Int { Int(written - acked) }
    }

    /// A reply that takes everything pushed.
    static func reply(to request: SyncRequest, more: Bool = false, resync: [String] = [], stored: Bool = true) -> SyncResponse {
        let through = stored ? (request.push.last?.id.seq ?? 0) : 0
        return SyncResponse(serverTimeMillis: testEpochMillis, acceptedThroughSeq: through, held: [], ops: [], cursors: ["C1": 1],
                            more: more, cells: ["C1"], resync: resync)
    }

    /// Drives a session against `node` until it is done; returns the requests it sent.
    static func drive(_ session: inout SyncSession, node: (SyncRequest, Int) throws -> SyncResponse) throws -> [SyncRequest] {
        var sent: [SyncRequest] = []
        while let request = try session.nextRequest() {
            sent.append(request)
            do {
                try session.receive(try node(request, sent.count))
            } catch let refusal as SyncRefusal {
                try session.receive(refusal)
            }
        }
        return sent
    }

    @Test func aCaughtUpDevicePushesThenVerifiesOnceAndStops() throws {
        let device = FakeEndpoint(outbox: 5)
        var session = SyncSession(endpoint: device, pushOpsMax: 2)
        let sent = try Self.drive(&session) { request, _ in Self.reply(to: request) }
        #expect(sent.map(\.push.count) == [2, 2, 1, 0])
        #expect(sent.map { $0.digests != nil } == [false, false, false, true])
        #expect(session.isDone && session.progress.verified && session.progress.opsUp == 5 && session.progress.rounds == 4)
        #expect(try session.nextRequest() == nil)
    }

    @Test func aResyncIsPulledAndVerifiedOnceMoreThenTheSessionStops() throws {
        let device = FakeEndpoint(outbox: 0)
        var session = SyncSession(endpoint: device)
        // Every verification finds the cell different: the session verifies twice, not forever.
        let sent = try Self.drive(&session) { request, _ in Self.reply(to: request, resync: request.digests == nil ? [] : ["C1"]) }
        #expect(sent.filter { $0.digests != nil }.count == 2)
        #expect(session.progress.resynced == ["C1", "C1"] && !session.progress.verified)
    }

    @Test func aRefusedPushKeepsTheOperationsQueuedAndPullingGoesOn() throws {
        let device = FakeEndpoint(outbox: 3)
        var session = SyncSession(endpoint: device, verify: false)
        let sent = try Self.drive(&session) { request, _ in
            if !request.push.isEmpty { throw SyncRefusal(422, "outOfScope", "cell C9 is not yours") }
            return Self.reply(to: request, more: false)
        }
        #expect(sent.map(\.push.count) == [3, 0])
        #expect(session.progress.refusal?.code == "outOfScope" && session.progress.unsynced == 3)
    }

    @Test func aPushTooLargeForTheNodeIsHalvedDownToOneOperation() throws {
        let device = FakeEndpoint(outbox: 8)
        var session = SyncSession(endpoint: device, verify: false)
        let sent = try Self.drive(&session) { request, _ in
            if request.push.count > 2 { throw SyncRefusal(413, "bodyTooLarge", "too large") }
            return Self.reply(to: request)
        }
        #expect(sent.map(\.push.count) == [8, 4, 2, 2, 2, 2])
        #expect(session.progress.unsynced == 0 && session.progress.refusal == nil)
    }

    @Test func theSessionStopsWhenTheNodeStoresNothingMoreOfThePush() throws {
        let device = FakeEndpoint(outbox: 4)
        var session = SyncSession(endpoint: device)
        // The node waits for a gap to be filled: it stores nothing, says no more.
        let sent = try Self.drive(&session) { request, _ in Self.reply(to: request, stored: false) }
        #expect(sent.count == 1 && session.progress.unsynced == 4 && !session.progress.verified)
    }

    @Test func aNodeThatAlwaysHasMoreHitsTheRoundLimit() throws {
        let device = FakeEndpoint(outbox: 0)
        var session = SyncSession(endpoint: device, roundsMax: 6)
        let error = #expect(throws: SyncError.self) { _ = try Self.drive(&session) { request, _ in Self.reply(to: request, more: true) } }
        #expect(error?.code == .limitExceeded && error?.message.contains("6 exchanges") == true)
        #expect(device.ingested == 6 && session.isDone)
    }

    @Test func aRefusalOfTheDeviceItselfEndsTheSession() throws {
        let device = FakeEndpoint(outbox: 2)
        var session = SyncSession(endpoint: device)
        let refusal = #expect(throws: SyncRefusal.self) {
            _ = try Self.drive(&session) { _, _ in throw SyncRefusal(401, "revoked", "this device was revoked") }
        }
        #expect(refusal?.code == "revoked" && session.isDone && device.ingested == 0)
        #expect(try session.nextRequest() == nil)
    }

    @Test func aLostExchangeIsAskedAgainAndCountsNoRound() throws {
        let device = FakeEndpoint(outbox: 2)
        var session = SyncSession(endpoint: device, verify: false)
        let lost = try #require(try session.nextRequest())
        #expect(session.pending == lost)
        // The reply never came: the session builds the request again from the device side.
        let again = try #require(try session.nextRequest())
        #expect(again.push == lost.push && session.progress.rounds == 0)
        try session.receive(Self.reply(to: again))
        #expect(session.isDone && session.progress.rounds == 1 && session.progress.opsUp == 2)
    }

    @Test func aReplyTheDeviceCannotTakeLeavesTheSessionWaiting() throws {
        final class Failing: SyncEndpoint {
            var fail = true
            let inner = FakeEndpoint(outbox: 1)
            func nextSyncRequest(pushOpsMax: Int, pullOpsMax: Int, verify: Bool) throws -> SyncRequest {
                try inner.nextSyncRequest(pushOpsMax: pushOpsMax, pullOpsMax: pullOpsMax, verify: verify)
            }
            func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport {
                if fail { throw SyncError(.invalidInput, "damaged") }
                return try inner.ingest(response, for: request)
            }
            func unsyncedCount() throws -> Int { try inner.unsyncedCount() }
        }
        let device = Failing()
        var session = SyncSession(endpoint: device, verify: false)
        let request = try #require(try session.nextRequest())
        #expect(throws: SyncError.self) { try session.receive(Self.reply(to: request)) }
        #expect(session.pending == request && session.progress.rounds == 0 && session.progress.opsUp == 0)
        device.fail = false
        try session.receive(Self.reply(to: request))
        #expect(session.isDone && session.progress.opsUp == 1)
    }

    @Test func theAsyncDriverFollowsTheSamePolicy() async throws {
        let device = FakeEndpoint(outbox: 3)
        let progress = try await SyncSession(endpoint: device, pushOpsMax: 2).run(async: { body in
            await Task.yield()
            let request = try SyncProtocol.decode(SyncRequest.self, from: body)
            return try SyncProtocol.encode(Self.reply(to: request))
        })
        #expect(progress.opsUp == 3 && progress.verified && progress.rounds == 3 && progress.bytesUp > 0)
        #expect(device.requests.map(\.push.count) == [2, 1, 0])
    }
}
