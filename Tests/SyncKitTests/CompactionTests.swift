import Foundation
import Testing
@testable import SyncKit

/// Compaction of a device's op log: what leaves, what stays, and that merging sees no
/// difference (a twin replica that never compacts ends identical).
struct CompactionTests {
    /// A reply from the central node carrying `ops`, acknowledging the device through `acked`.
    static func reply(_ ops: [Op], acked: UInt64, more: Bool, cursor: UInt64) -> SyncResponse {
        SyncResponse(serverTimeMillis: testEpochMillis, acceptedThroughSeq: acked, held: [], ops: ops, cursors: ["C1": cursor],
                     more: more, cells: ["C1"])
    }

    static func ingest(_ device: Replica, _ ops: [Op], acked: UInt64 = 0, more: Bool, cursor: UInt64) throws -> ApplyReport {
        var request = try device.nextSyncRequest(pullOpsMax: max(1, ops.count))
        request.push = []
        return try device.ingest(reply(ops, acked: acked, more: more, cursor: cursor), for: request)
    }

    static func logged(_ replica: Replica) throws -> [OpID] { try replica.operations().map(\.id) }

    @Test func acknowledgedOwnOperationsLeaveTheLogAndTheNewestStays() throws {
        let (device, clock) = try makeReplica(1)
        let id = try device.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"]) }
        for n in 0..<5 { try device.write { try $0.update("items", id, ["size": .int(Int64(n))]) } }
        let other = try device.write { try $0.insert("items", ["cell": "C1", "name": "b", "status": "open"]) }
        try device.write { try $0.increment("items", other, "visits") }
        #expect(try device.compact().opsDropped == 0, "nothing is acknowledged yet")
        try device.acknowledge(through: 6)
        let done = try device.compact()
        // Ops 1-6 are acknowledged; 7 (other's creation) and 8 are not, and 8 is the newest.
        #expect(done.opsDropped == 6 && done.opsKept == 2)
        #expect(try Self.logged(device).map(\.seq) == [7, 8])
        let before = try ReplicaSnapshot(device)
        // Reopened from the file, sequence numbers and the clock go on from where they were.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("d.db").path
        let (onDisk, _) = try makeReplica(2, clock: clock, path: path)
        let first = try onDisk.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"]) }
        try onDisk.write { try $0.update("items", first, ["size": 1]) }
        try onDisk.write { try $0.update("items", first, ["size": 2]) }
        try onDisk.acknowledge(through: 3)
        #expect(try onDisk.compact().opsDropped == 2)
        let (reopened, _) = try makeReplica(2, clock: clock, path: path)
        try reopened.write { try $0.update("items", first, ["size": 3]) }
        #expect(try reopened.outbox().map(\.id.seq) == [4])
        #expect(try reopened.record("items", first)?["size"] == 3)
        #expect(try reopened.conflicts().isEmpty)
        #expect(before == (try ReplicaSnapshot(device)))
    }

    @Test func unsentWorkAndOpenConflictsKeepTheirHistory() throws {
        let (device, _) = try makeReplica(1)
        let (peer, _) = try makeReplica(2)
        let id = try device.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"]) }
        try peer.apply(try device.operations())
        try device.write { try $0.update("items", id, ["name": "mine"]) }
        try peer.write { try $0.update("items", id, ["name": "theirs"]) }
        try device.apply(try peer.operations())
        #expect(try device.conflicts().count == 1)
        let calm = try device.write { try $0.insert("items", ["cell": "C1", "name": "calm", "status": "open"]) }
        try device.write { try $0.update("items", calm, ["size": 1]) }
        try device.write { try $0.update("items", calm, ["size": 2]) }
        try device.acknowledge(through: 5)
        let busy = try device.write { try $0.insert("items", ["cell": "C1", "name": "busy", "status": "open"]) }
        try device.acknowledge(through: 6)
        try device.write { try $0.update("items", busy, ["size": 3]) }
        try device.compact()
        // The conflicted record keeps every operation, the one with unsent work its whole
        // history; the calm one leaves the log.
        let kept = try device.operations()
        #expect(kept.filter { $0.entity == id }.count == 3)
        #expect(kept.filter { $0.entity == busy }.map(\.id.seq) == [6, 7])
        #expect(kept.filter { $0.entity == calm }.isEmpty)
    }

    @Test func remoteOperationsLeaveOnlyOnceTheDeviceIsCaughtUpAndNeverComeBack() throws {
        let (author, clock) = try makeReplica(1)
        let (device, _) = try makeReplica(2, clock: clock)
        let (twin, _) = try makeReplica(3, clock: clock)
        let id = try author.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"], elements: ["tags": ["x"]]) }
        try author.write { try $0.update("items", id, ["name": "b"]) }
        try author.write { try $0.increment("items", id, "visits", by: 2) }
        let gone = try author.write { try $0.insert("items", ["cell": "C1", "name": "doomed", "status": "open"]) }
        try author.write { try $0.delete("items", gone) }
        let first = try author.operations()
        // A page with more to come: the device is not caught up, the remote operations stay.
        _ = try Self.ingest(device, Array(first.prefix(3)), more: true, cursor: 3)
        #expect(try Self.logged(device).count == 3)
        // The last page: caught up, and compacted after taking it.
        _ = try Self.ingest(device, Array(first.dropFirst(3)), more: false, cursor: 5)
        #expect(try Self.logged(device).isEmpty)
        try twin.apply(first)
        // Everything again (an old bundle, a resent page): all duplicates; the deleted record stays deleted.
        let again = try Self.ingest(device, first, more: false, cursor: 5)
        #expect(again.applied == 0 && again.duplicates == first.count)
        #expect(try device.record("items", gone) == nil)
        // Later operations name compacted ones in `prev` and set removals: merged as if the log had them.
        try author.write { tx in
            try tx.update("items", id, ["name": "c"])
            try tx.remove("items", id, "tags", "x")
        }
        let later = Array(try author.operations().dropFirst(first.count))
        _ = try Self.ingest(device, later, more: false, cursor: 7)
        try twin.apply(later)
        #expect(try device.conflicts().isEmpty)
        #expect(try device.record("items", id)?["name"] == "c")
        #expect(try device.record("items", id)?["visits"] == 2)
        #expect(try device.digest() == twin.digest())
        #expect(try device.digest() == author.digest())
    }

    /// A reply older than one already taken (a bundle carried late) does not make a device that
    /// is part way through its log count as caught up: others' operations stay.
    @Test func aLateReplyDoesNotMakeTheDeviceCaughtUp() throws {
        let (author, clock) = try makeReplica(1)
        let (device, _) = try makeReplica(2, clock: clock)
        let id = try author.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"]) }
        try author.write { try $0.update("items", id, ["name": "b"]) }
        let ops = try author.operations()
        func reply(_ page: [Op], serverMillis: Int64, more: Bool, cursor: UInt64) -> SyncResponse {
            SyncResponse(serverTimeMillis: serverMillis, acceptedThroughSeq: 0, held: [], ops: page, cursors: ["C1": cursor], more: more, cells: ["C1"])
        }
        var request = try device.nextSyncRequest(pullOpsMax: 5)
        try device.ingest(reply([ops[0]], serverMillis: testEpochMillis + 60_000, more: true, cursor: 1), for: request)
        // The late one says "no more" as of its (older) time; the device is still part way.
        request = try device.nextSyncRequest(pullOpsMax: 5)
        try device.ingest(reply([], serverMillis: testEpochMillis, more: false, cursor: 1), for: request)
        try device.compact()
        #expect(try Self.logged(device) == [ops[0].id])
        // The newest reply that leaves nothing more to pull: now it is caught up, and compacts.
        request = try device.nextSyncRequest(pullOpsMax: 5)
        try device.ingest(reply([ops[1]], serverMillis: testEpochMillis + 120_000, more: false, cursor: 2), for: request)
        #expect(try Self.logged(device).isEmpty)
        #expect(try device.digest() == author.digest())
    }

    @Test func aReplicaThatTookPeersOperationsCompactsOnlyItsOwn() throws {
        let (author, clock) = try makeReplica(1)
        let (device, _) = try makeReplica(2, clock: clock)
        let id = try author.write { try $0.insert("items", ["cell": "C1", "name": "a", "status": "open"]) }
        try device.apply(try author.operations())
        try device.write { try $0.update("items", id, ["size": 1]) }
        try device.write { try $0.update("items", id, ["size": 2]) }
        // Even caught up with the central node, a peer's operations (any order) stay.
        _ = try Self.ingest(device, [], acked: 2, more: false, cursor: 0)
        #expect(Set(try device.operations().map(\.id)) == [OpID(replica: author.id, seq: 1), OpID(replica: device.id, seq: 2)])
    }
}
