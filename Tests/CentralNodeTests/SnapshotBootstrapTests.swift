import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Bootstrap by snapshot: a cell a device starts comes as its records' merge states (with the
/// operations they cover), never as its history, and nothing is counted twice or lost.
struct SnapshotBootstrapTests {
    typealias World = HubSyncTests.World

    /// One exchange by hand, with the device's own page sizes.
    static func step(_ world: World, _ name: String, push: Int = SyncProtocol.pushOpsMax, pull: Int) throws -> SyncResponse {
        let request = try world.replica(name).nextSyncRequest(pushOpsMax: push, pullOpsMax: pull)
        let response = try world.exchange(name, request)
        try world.replica(name).ingest(response, for: request)
        return response
    }

    @Test func aNewDeviceReceivesStateNotHistory() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("wang", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "1"]) }
        try world.replica("li").write { tx in
            for n in 0..<40 { try tx.increment("households", id, "visit_count") }
            for n in 0..<5 { try tx.update("households", id, ["phone": .text("\(n)")]) }
            try tx.add("households", id, "tags", "elderly")
            try tx.add("households", id, "tags", "moved")
            try tx.remove("households", id, "tags", "moved")
        }
        try world.sync("li")
        let first = try Self.step(world, "wang", pull: 100)
        let snapshot = try #require(first.snapshots["C1"])
        #expect(first.ops.isEmpty && snapshot.records.count == 1 && snapshot.next == nil)
        let record = snapshot.records[0]
        #expect(record.counters["visit_count"] == 40)
        #expect(record.registers["phone"]?.heads.map(\.value) == [.text("4")])
        #expect(record.sets["tags"]?.elements.map(\.value) == [.text("elderly")])
        #expect(record.covers == [ReplicaID(high: 1, low: 1).hex: 49])
        try world.sync("wang")
        #expect(try world.replica("wang").digest() == world.hub.replica.digest())
        #expect(try world.replica("wang").operations().isEmpty, "a snapshot brings no history")
        // Every operation the snapshot covers is a duplicate if it ever arrives.
        let history = try world.hub.replica.operations()
        let replay = try world.replica("wang").apply(history)
        #expect(replay.applied == 0 && replay.duplicates == history.count)
        #expect(try world.replica("wang").record("households", id)?["visit_count"] == 40)
    }

    @Test func aSnapshotResumedWhileTheCellChangesCountsEveryOperationOnce() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("wang", cells: ["C1"], index: 2)
        let ids = try world.replica("li").write { tx in
            try (0..<30).map { n in try tx.insert("households", ["cell": "C1", "head_name": .text("h\(n)")]) }
        }
        try world.sync("li")
        // wang takes the first page of the snapshot, then li changes every record.
        let first = try Self.step(world, "wang", pull: 10)
        #expect(first.snapshots["C1"]?.records.count == 10 && first.more)
        try world.replica("li").write { tx in
            for id in ids {
                try tx.increment("households", id, "visit_count", by: 3)
                try tx.update("households", id, ["phone": "new"])
            }
        }
        try world.sync("li")
        // The later pages already reflect li's changes; the log after the snapshot's start brings
        // them again: covered records take them as duplicates, the first page's records apply them.
        try world.sync("wang", pullOpsMax: 10)
        for id in ids {
            let record = try #require(try world.replica("wang").record("households", id))
            #expect(record["visit_count"] == 3 && record["phone"] == "new")
        }
        #expect(try world.replica("wang").digest() == world.hub.replica.digest())
        #expect(try world.replica("wang").nextSyncRequest().snapshots == nil, "the bootstrap is finished")
    }

    @Test func unsyncedWorkOnARecordSurvivesItsSnapshot() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "1"]) }
        try world.sync("li")
        try world.sync("zhao")
        // zhao edits offline; meanwhile li edits too, and zhao's cell is taken away and given back
        // before zhao pushes anything.
        try world.replica("zhao").write { tx in
            try tx.update("households", id, ["phone": "zhao"])
            try tx.increment("households", id, "visit_count", by: 2)
        }
        try world.replica("li").write { try $0.increment("households", id, "visit_count", by: 5) }
        try world.sync("li")
        try world.hub.setCells(device: "zhao", cells: ["C2"], actor: "operator-1")
        _ = try Self.step(world, "zhao", push: 0, pull: 100)
        #expect(try world.replica("zhao").record("households", id) != nil, "a record with unsynced work stays")
        try world.hub.setCells(device: "zhao", cells: ["C1"], actor: "operator-1")
        let back = try Self.step(world, "zhao", push: 0, pull: 100)
        #expect(back.snapshots["C1"]?.records.count == 1)
        // The snapshot took li's increments and kept zhao's unsent edits on top.
        let record = try #require(try world.replica("zhao").record("households", id))
        #expect(record["visit_count"] == 7 && record["phone"] == "zhao")
        #expect(try world.replica("zhao").unsyncedCount() == 2)
        try world.sync("zhao")
        try world.sync("li")
        for name in ["li", "zhao"] {
            #expect(try world.replica(name).digest() == world.hub.replica.digest())
            #expect(try world.replica(name).record("households", id)?["visit_count"] == 7)
        }
    }

    @Test func conflictsArriveInTheSnapshotAndAreResolvedEverywhere() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.enroll("wang", cells: ["C1"], index: 3)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "1"]) }
        try world.sync("li")
        try world.sync("zhao")
        try world.replica("li").write { try $0.update("households", id, ["phone": "li"]) }
        try world.replica("zhao").write { try $0.update("households", id, ["phone": "zhao"]) }
        try world.sync("li")
        try world.sync("zhao")
        try world.sync("wang")
        let conflicts = try world.replica("wang").conflicts()
        #expect(conflicts.count == 1 && conflicts.first?.candidates.count == 2)
        #expect(try world.replica("wang").digest() == world.hub.replica.digest())
        try world.replica("wang").write { try $0.resolve("households", id, "phone", value: "resolved") }
        for name in ["wang", "li", "zhao", "wang"] { try world.sync(name) }
        for name in ["li", "zhao", "wang"] {
            #expect(try world.replica(name).conflicts().isEmpty)
            #expect(try world.replica(name).record("households", id)?["phone"] == "resolved")
        }
    }

    @Test func anOlderBundleNeverTakesACellBack() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "old"]) }
        try world.sync("li")
        try world.sync("zhao")
        let old = try world.hub.exportBundle(device: "zhao", actor: "operator-1")
        try world.replica("li").write { try $0.update("households", id, ["phone": "new"]) }
        try world.sync("li")
        try world.sync("zhao")
        let before = try world.replica("zhao").digest()
        try world.replica("zhao").importBundle(old)
        #expect(try world.replica("zhao").digest() == before)
        #expect(try world.replica("zhao").record("households", id)?["phone"] == "new")
    }

    @Test func aBundleCarriesACellAsASnapshot() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.replica("li").write { tx in for n in 0..<12 { _ = try tx.insert("households", ["cell": "C1", "head_name": .text("h\(n)")]) } }
        try world.sync("li")
        // zhao never had a network: its first bundle binds it, the reply carries the cell.
        let (_, reply) = try world.hub.importBundle(world.replica("zhao").exportBundle(), device: "zhao", actor: "operator-1")
        let report = try world.replica("zhao").importBundle(reply)
        #expect(report.installed == 12 && report.applied == 0)
        #expect(try world.replica("zhao").digest() == world.hub.replica.digest())
        // Importing it again changes nothing.
        try world.replica("zhao").importBundle(reply)
        #expect(try world.replica("zhao").digest() == world.hub.replica.digest())
    }

    @Test func theCompactWireFormRoundTripsEveryPartOfAState() throws {
        let a = OpID(replica: ReplicaID(high: 1, low: 1), seq: 3), b = OpID(replica: ReplicaID(high: 2, low: 2), seq: 9)
        let c = OpID(replica: ReplicaID(high: 3, low: 3), seq: 1)
        let t1 = HLCTimestamp(millis: 1_767_225_600_000, counter: 2), t2 = HLCTimestamp(millis: 1_767_225_600_500, counter: 0)
        let record = SnapshotRecord(
            collection: "households", entity: try EntityID("JXC3BQGWJXBCXFY88R80QZ0Y88"), covers: [a.replica.hex: 3, b.replica.hex: 9],
            exists: .init(heads: [.init(op: b, hlc: t2, value: .bool(true)), .init(op: a, hlc: t1, value: .bool(false))], pending: [c]),
            registers: ["phone": .init(heads: [.init(op: b, hlc: t2, value: "2"), .init(op: a, hlc: t1, value: .null)], pending: nil),
                        "head_name": .init(heads: [], pending: [c])],
            counters: ["visit_count": -4],
            sets: ["tags": .init(elements: [.init(value: "elderly", tags: [a, c])], pending: [.init(value: "moved", tag: c)]),
                   "visit_days": .init(elements: [], pending: [.init(value: "2026-11-30", tag: b)])])
        let data = try SyncProtocol.encode(record)
        #expect(try SyncProtocol.decode(SnapshotRecord.self, from: data) == record)
        #expect(try SyncProtocol.encode(try SyncProtocol.decode(SnapshotRecord.self, from: data)) == data)
        // A head naming a ref that is not listed is refused with a clear message.
        let broken = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"exists\":[[0,", with: "\"exists\":[[7,")
        let error = #expect(throws: SyncError.self) { try SyncProtocol.decode(SnapshotRecord.self, from: Data(broken.utf8)) }
        #expect(error?.message.contains("ref 7 is not in refs") == true)
    }
}
