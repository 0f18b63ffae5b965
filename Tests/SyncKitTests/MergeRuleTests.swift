import Foundation
import Testing
@testable import SyncKit

/// Delivers every operation `from` holds to `to`.
func deliver(_ from: Replica, to: Replica) throws {
    try to.apply(try from.operations())
}

struct RegisterTests {
    @Test func concurrentWritesToSameFieldBecomeAConflictWithGreatestStampVisible() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "first"]) }
        try deliver(a, to: b)
        clock.advance(byMillis: 10)
        try a.write { try $0.update("items", id, ["name": "from a"]) }
        clock.advance(byMillis: 10)
        try b.write { try $0.update("items", id, ["name": "from b"]) }
        try deliver(a, to: b)
        try deliver(b, to: a)
        for replica in [a, b] {
            #expect(try replica.record("items", id)?["name"] == "from b")
            let conflicts = try replica.conflicts()
            #expect(conflicts.count == 1)
            #expect(conflicts.first?.field == "name")
            #expect(conflicts.first?.review == true)
            #expect(conflicts.first?.candidates.map(\.value) == ["from b", "from a"])
        }
        #expect(try a.digest() == b.digest())
    }

    @Test func equalClockReadingsAreOrderedByReplicaID() throws {
        let clock = ManualClock(millis: testEpochMillis)
        let (a, _) = try makeReplica(1, clock: clock)
        let (b, _) = try makeReplica(2, clock: clock)
        let (c, _) = try makeReplica(3, clock: clock)
        let id = try c.write { try $0.insert("items", ["cell": "C1", "name": "x"]) }
        try deliver(c, to: a)
        try deliver(c, to: b)
        // Same physical time, same clock received from c: a and b stamp the same HLC reading.
        try a.write { try $0.update("items", id, ["size": 1]) }
        try b.write { try $0.update("items", id, ["size": 2]) }
        #expect(try a.operations().last!.hlc == b.operations().last!.hlc)
        try deliver(a, to: c)
        try deliver(b, to: c)
        let winner: Value = a.id > b.id ? 1 : 2
        #expect(try c.record("items", id)?["size"] == winner)
        try deliver(c, to: a)
        try deliver(c, to: b)
        #expect(try a.digest() == c.digest())
        #expect(try b.digest() == c.digest())
    }

    @Test func aWriteThatSawAllHeadsResolvesTheConflict() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "n"]) }
        try deliver(a, to: b)
        try a.write { try $0.update("items", id, ["name": "x"]) }
        try b.write { try $0.update("items", id, ["name": "y"]) }
        try deliver(a, to: b)
        let conflict = try #require(try b.conflicts().first)
        let losing = conflict.candidates[1]
        try b.write { try $0.resolve("items", id, "name", pick: losing.op) }
        #expect(try b.conflicts().isEmpty)
        #expect(try b.record("items", id)?["name"] == losing.value)
        try deliver(b, to: a)
        #expect(try a.conflicts().isEmpty)
        #expect(try a.record("items", id)?["name"] == losing.value)
        #expect(try a.digest() == b.digest())
    }

    @Test func supersedingWriteArrivingFirstStillSupersedes() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "v1"]) }
        clock.advance(byMillis: 5)
        try a.write { try $0.update("items", id, ["name": "v2"]) }
        clock.advance(byMillis: 5)
        try a.write { try $0.update("items", id, ["name": "v3"]) }
        try b.apply(try a.operations().reversed())
        #expect(try b.record("items", id)?["name"] == "v3")
        #expect(try b.conflicts().isEmpty)
        #expect(try a.digest() == b.digest())
    }

    @Test func identicalConcurrentValuesAreNotAConflict() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "n"]) }
        try deliver(a, to: b)
        try a.write { try $0.update("items", id, ["name": "same"]) }
        try b.write { try $0.update("items", id, ["name": "same"]) }
        try deliver(a, to: b)
        #expect(try b.conflicts().isEmpty)
    }
}

struct ExistenceTests {
    @Test func deleteConcurrentWithEditIsAVisibleConflictNotALoss() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "kept"]) }
        try deliver(a, to: b)
        clock.advance(byMillis: 10)
        try a.write { try $0.delete("items", id) }
        try b.write { try $0.update("items", id, ["size": 7]) }
        try deliver(a, to: b)
        try deliver(b, to: a)
        for replica in [a, b] {
            let record = try #require(try replica.record("items", id))
            #expect(record["size"] == 7)
            let conflict = try #require(try replica.conflicts().first)
            #expect(conflict.field == Assignment.existenceField)
            #expect(conflict.review)
            #expect(Set(conflict.candidates.map(\.value)) == [true, false])
        }
        // Resolving by deleting again removes it everywhere.
        try a.write { try $0.resolve("items", id, Assignment.existenceField, value: false) }
        try deliver(a, to: b)
        #expect(try b.record("items", id) == nil)
        #expect(try b.record("items", id, includeDeleted: true)?["size"] == 7)
        #expect(try b.conflicts().isEmpty)
        #expect(try a.digest() == b.digest())
    }

    @Test func deleteAfterSeeingEveryEditRemovesTheRecordEverywhere() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "gone"]) }
        try deliver(a, to: b)
        try b.write { try $0.delete("items", id) }
        try deliver(b, to: a)
        #expect(try a.record("items", id) == nil)
        #expect(try a.records("items").isEmpty)
        #expect(throws: SyncError.self) { try a.write { try $0.update("items", id, ["size": 1]) } }
    }
}

struct CounterTests {
    @Test func counterSumsIncrementsOnceUnderDuplicateDelivery() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let (c, _) = try makeReplica(3, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "visits": 2]) }
        try deliver(a, to: b)
        try a.write { try $0.increment("items", id, "visits") }
        try b.write { try $0.increment("items", id, "visits", by: 5) }
        try b.write { try $0.increment("items", id, "visits", by: -1) }
        let all = try a.operations() + b.operations()
        let report = try c.apply(all + all.reversed() + all)
        #expect(report.applied == 4)
        #expect(report.duplicates == all.count * 3 - 4)
        #expect(try c.record("items", id)?["visits"] == 7)
        #expect(try c.conflicts().isEmpty)
    }
}

struct SetTests {
    @Test func addConcurrentWithRemoveKeepsTheElement() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { try $0.insert("items", ["cell": "C1"], elements: ["tags": ["elderly", "disabled"]]) }
        try deliver(a, to: b)
        try a.write { try $0.remove("items", id, "tags", "elderly") }
        try b.write { try $0.add("items", id, "tags", "elderly") }
        try deliver(a, to: b)
        try deliver(b, to: a)
        for replica in [a, b] {
            let record = try #require(try replica.record("items", id))
            #expect(record.elements("tags") == ["disabled", "elderly"])
            #expect(record["tags"] == .text(#"["disabled","elderly"]"#))
        }
        #expect(try a.digest() == b.digest())
    }

    @Test func removeArrivingBeforeItsAddStillRemoves() throws {
        let (a, _) = try makeReplica(1)
        let (b, _) = try makeReplica(2)
        let id = try a.write { try $0.insert("items", ["cell": "C1"]) }
        try a.write { try $0.add("items", id, "tags", "x") }
        try a.write { try $0.remove("items", id, "tags", "x") }
        try b.apply(try a.operations().reversed())
        #expect(try b.record("items", id)?.elements("tags") == [])
        #expect(try b.record("items", id)?["tags"] == .null)
        #expect(try a.digest() == b.digest())
    }
}

struct LifecycleTests {
    @Test func illegalTransitionIsRefusedLocally() throws {
        let (a, _) = try makeReplica(1)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "status": "open"]) }
        let error = #expect(throws: SyncError.self) { try a.write { try $0.update("items", id, ["status": "done"]) } }
        #expect(error?.code == .illegalTransition)
        #expect(error?.message.contains("allowed: assigned, cancelled") == true)
        #expect(throws: SyncError.self) { try a.write { try $0.insert("items", ["cell": "C1", "status": "done"]) } }
        #expect(throws: SyncError.self) { try a.write { try $0.update("items", id, ["status": "no such state"]) } }
        try a.write { try $0.update("items", id, ["status": "assigned"]) }
        #expect(try a.record("items", id)?["status"] == "assigned")
    }

    @Test func concurrentTransitionsConvergeToHigherPrecedence() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let id = try a.write { tx in
            let id = try tx.insert("items", ["cell": "C1", "status": "open"])
            try tx.update("items", id, ["status": "assigned"])
            try tx.update("items", id, ["status": "in_progress"])
            return id
        }
        try deliver(a, to: b)
        try a.write { try $0.update("items", id, ["status": "done"]) }
        clock.advance(byMillis: 60_000)   // b's later stamp must not hide finished work
        try b.write { try $0.update("items", id, ["status": "assigned"]) }
        try deliver(a, to: b)
        try deliver(b, to: a)
        for replica in [a, b] {
            #expect(try replica.record("items", id)?["status"] == "done")
            #expect(try replica.conflicts().first?.candidates.map(\.value) == ["done", "assigned"])
        }
    }
}

struct DriftTests {
    @Test func opsBeyondDriftBoundAreQuarantinedNotAppliedNotLost() throws {
        let (a, aClock) = try makeReplica(1)
        let bClock = ManualClock(millis: testEpochMillis)
        let (b, _) = try makeReplica(2, clock: bClock)
        aClock.advance(byMillis: 2 * 24 * 3_600_000)   // a's clock is two days fast
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "future"]) }
        let report = try b.apply(try a.operations())
        #expect(report.quarantined == 1 && report.applied == 0)
        #expect(try b.record("items", id) == nil)
        #expect(b.clock.millis < UInt64(testEpochMillis + 1_000))   // b's clock did not jump
        let held = try b.quarantined()
        #expect(held.count == 1 && held[0].reason == .clockDrift)
        #expect(held[0].operation == (try a.operations()[0]))
        // A second delivery is a duplicate, not a second quarantine row.
        #expect(try b.apply(try a.operations()).duplicates == 1)
        // Time catches up: a retry applies it.
        bClock.advance(byMillis: 2 * 24 * 3_600_000)
        #expect(try b.retryQuarantined().applied == 1)
        #expect(try b.quarantined().isEmpty)
        #expect(try b.record("items", id)?["name"] == "future")
    }

    @Test func releasedOpIsAppliedWithoutMovingTheClock() throws {
        let (a, aClock) = try makeReplica(1)
        let (b, _) = try makeReplica(2)
        aClock.advance(byMillis: 3_600_000)
        let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "late"]) }
        try deliver(a, to: b)
        let before = b.clock
        try b.release(try b.quarantined()[0].operation.id)
        #expect(try b.record("items", id)?["name"] == "late")
        #expect(b.clock == before)
    }

    @Test func opsForUnknownFieldsWaitInQuarantineUntilTheSchemaKnowsThem() throws {
        let newer = try Schema([CollectionSchema("items", cellField: "cell", fields: TestSchema.items.fields + [.text("extra")])])
        let older = try Schema([TestSchema.items])
        let (a, _) = try makeReplica(1, schema: newer)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.db").path
        let id = try a.write { try $0.insert("items", ["cell": "C1", "extra": "new"]) }
        do {
            let (b, _) = try makeReplica(2, schema: older, path: path)
            #expect(try b.apply(try a.operations()).quarantined == 1)
            #expect(try b.quarantined()[0].reason == .unknownSchema)
        }
        let (upgraded, _) = try makeReplica(2, schema: newer, path: path)
        #expect(try upgraded.retryQuarantined().applied == 1)
        #expect(try upgraded.record("items", id)?["extra"] == "new")
    }

    @Test func malformedRemoteOpsAreQuarantinedAsInvalid() throws {
        let (b, _) = try makeReplica(2)
        let stranger = ReplicaID(high: 9, low: 9)
        let badType = Op(id: OpID(replica: stranger, seq: 1), hlc: HLCTimestamp(millis: UInt64(testEpochMillis), counter: 0),
                                collection: "items", entity: try EntityID("x1"),
                                assignments: [Assignment(field: "size", change: .set("not a number", prev: []))])
        let badPolicy = Op(id: OpID(replica: stranger, seq: 2), hlc: HLCTimestamp(millis: UInt64(testEpochMillis), counter: 1),
                                  collection: "items", entity: try EntityID("x1"),
                                  assignments: [Assignment(field: "visits", change: .set(3, prev: []))])
        let report = try b.apply([badType, badPolicy])
        #expect(report.quarantined == 2)
        let details = try b.quarantined().map(\.detail)
        #expect(details.contains { $0.contains("items.size takes int values, not text") })
        #expect(details.contains { $0.contains("counter field") })
        #expect(try b.records("items").isEmpty)
    }
}

struct NaturalKeyTests {
    @Test func twoDevicesCreatingTheSamePlateMergeIntoOneRecord() throws {
        let (a, clock) = try makeReplica(1)
        let (b, _) = try makeReplica(2, clock: clock)
        let idA = try a.write { try $0.insert("plates", ["code": "JS0412-00088", "cell": "C1", "street": "幸福路", "number": 88]) }
        clock.advance(byMillis: 1)
        let idB = try b.write { try $0.insert("plates", ["code": " js0412-00088 ", "cell": "C1", "street": "幸福路", "number": 86]) }
        #expect(idA == idB)
        #expect(try a.naturalID("plates", ["code": "ＪＳ0412-00088"]) == idA)
        try deliver(a, to: b)
        try deliver(b, to: a)
        for replica in [a, b] {
            #expect(try replica.records("plates").count == 1)
            let fields = Set(try replica.conflicts().map(\.field))
            #expect(fields == ["code", "number"])   // the typed code differs too; street agrees
        }
        #expect(try a.digest() == b.digest())
    }

    @Test func insertingAnExistingNaturalKeyLocallyIsRefused() throws {
        let (a, _) = try makeReplica(1)
        try a.write { try $0.insert("plates", ["code": "A1", "cell": "C1"]) }
        let error = #expect(throws: SyncError.self) { try a.write { try $0.insert("plates", ["code": "a1", "cell": "C1"]) } }
        #expect(error?.code == .alreadyExists)
    }
}
