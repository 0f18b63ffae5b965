import Foundation
import Testing
@testable import SyncKit

/// The erasure rule of Design.md section 3, case by case (the convergence property tests hold
/// it against the reference model over random histories).
struct ErasureRuleTests {
    /// Every personal value of a record (the test schema's `name`, `photo` and `tags`).
    static func personalValues(_ replica: Replica, _ id: EntityID) throws -> [Value] {
        let record = try #require(try replica.record("items", id, includeDeleted: true))
        return [record["name"], record["photo"], record["tags"]]
    }

    /// The values the operations write to personal fields.
    static func personalValues(in ops: [Op]) -> [Value] {
        ops.flatMap { op in
            op.assignments.filter { ["name", "photo", "tags"].contains($0.field) }.compactMap { assignment -> Value? in
                switch assignment.change {
                case .set(let value, _), .add(let value), .remove(let value, _): return value
                case .increment: return nil
                }
            }
        }
    }

    @Test func anErasureNullsEveryPersonalValueAndKeepsTheRest() throws {
        let (a, clock) = try makeReplica(1)
        let id = try a.write {
            try $0.insert("items", ["cell": "C1", "name": "张伟", "size": 3, "photo": .blob([1, 2]), "status": "open"], elements: ["tags": ["老人"]])
        }
        clock.advance(byMillis: 10)
        try a.write { try $0.update("items", id, ["name": "王芳"]) }
        try a.write { try $0.erase("items", id) }
        #expect(try Self.personalValues(a, id) == [.null, .null, .null])
        let record = try #require(try a.record("items", id))
        #expect(record["size"] == 3 && record["status"] == "open" && record["cell"] == "C1")
        // The log keeps every operation, without the values.
        let logged = try a.operations()
        #expect(logged.count == 3)
        #expect(Self.personalValues(in: logged).allSatisfy { $0 == .null })
        #expect(Self.personalValues(in: logged).count == 4)
        // Erased forms cross the wire as JSON and come back the same.
        for op in logged { #expect(try SyncProtocol.decode(Op.self, from: op.jsonData()) == op) }
        // A later write says it saw the erasure, and its value is kept.
        try a.write { try $0.update("items", id, ["name": "new"]) }
        let last = try #require(try a.operations().max { $0.id < $1.id })
        #expect(last.erasures == [logged.first { $0.isErasure }!.id])
        #expect(try a.record("items", id)?["name"] == "new")
    }

    @Test func aConcurrentWriteArrivingAfterTheErasureIsErasedOnArrivalAndALaterOneIsNot() throws {
        let (office, clock) = try makeReplica(1)
        let (tablet, _) = try makeReplica(2, clock: clock)
        let (late, _) = try makeReplica(3, clock: clock)
        let id = try office.write { try $0.insert("items", ["cell": "C1", "name": "张伟"], elements: ["tags": ["a"]]) }
        try deliver(office, to: tablet)
        try deliver(office, to: late)
        // The late tablet writes offline, with a clock far ahead: it still loses to the erasure.
        clock.advance(byMillis: 60_000)
        try late.write { try $0.update("items", id, ["name": "13900000000"]) }
        try late.write { try $0.add("items", id, "tags", "b") }
        clock.advance(byMillis: -59_000)
        try office.write { try $0.erase("items", id) }
        try deliver(office, to: tablet)
        // The tablet saw the erasure: its new value is new data.
        try tablet.write { try $0.update("items", id, ["size": 2]) }
        try tablet.write { try $0.add("items", id, "tags", "c") }
        for (from, to) in [(late, office), (late, tablet), (tablet, office), (office, late), (tablet, late)] { try deliver(from, to: to) }
        for replica in [office, tablet, late] {
            let record = try #require(try replica.record("items", id))
            #expect(record["name"] == .null && record.elements("tags") == ["c"] && record["size"] == 2)
            #expect(try replica.conflicts().isEmpty)
            #expect(try !Self.personalValues(in: replica.operations()).contains("13900000000"))
            #expect(try !Self.personalValues(in: replica.operations()).contains("b"))
        }
        #expect(try office.digest() == tablet.digest() && tablet.digest() == late.digest())
        // Each replica's log holds the late write erased, with its id and clock.
        for replica in [office, tablet, late] {
            let erasedWrite = try #require(try replica.operations().first { $0.id.replica == late.id && $0.assignments.contains { $0.field == "name" } })
            #expect(erasedWrite.assignments.first { $0.field == "name" }?.change == .set(.null, prev: [try office.operations().first!.id]))
        }
    }

    @Test func anOperationNamingAnErasureNotYetArrivedErasesTheRecordAlready() throws {
        // A replica that takes another's operations in any order (peers) learns an erasure from
        // a write that lists it: what it holds from before goes at once, as it will everywhere.
        let (office, clock) = try makeReplica(1)
        let (peer, _) = try makeReplica(2, clock: clock)
        let (third, _) = try makeReplica(3, clock: clock)
        let id = try office.write { try $0.insert("items", ["cell": "C1", "name": "张伟"]) }
        try deliver(office, to: peer)
        try deliver(office, to: third)
        try office.write { try $0.erase("items", id) }
        try deliver(office, to: peer)
        try peer.write { try $0.update("items", id, ["size": 5]) }
        // Third gets the peer's write, not yet the erasure.
        try third.apply(try peer.operations().filter { $0.id.replica == peer.id })
        #expect(try third.record("items", id)?["name"] == .null && third.record("items", id)?["size"] == 5)
        try deliver(office, to: third)
        try deliver(peer, to: office)
        #expect(try third.digest() == office.digest() && peer.digest() == office.digest())
        #expect(try third.record("items", id)?["size"] == 5 && office.record("items", id)?["name"] == .null)
    }

    @Test func erasuresSurviveReopeningTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("a.db").path
        let clock = ManualClock(millis: testEpochMillis)
        var id: EntityID
        do {
            let (a, _) = try makeReplica(1, clock: clock, path: path)
            id = try a.write { try $0.insert("items", ["cell": "C1", "name": "张伟"]) }
            try a.write { try $0.erase("items", id) }
        }
        let (a, _) = try makeReplica(1, clock: clock, path: path)
        try a.write { try $0.update("items", id, ["name": "new"]) }
        let last = try #require(try a.operations().max { $0.id < $1.id })
        #expect(last.erasures.count == 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("张伟".utf8)) == nil)
    }

    @Test func personalFieldsAreRegistersOrSetsOutsideTheKeyAndTheCell() throws {
        for fields: [FieldSchema] in [[.text("cell"), .init(name: "n", type: .int, policy: .counter, personal: true)],
                                       [.text("cell", personal: true)],
                                       [.text("cell"), .text("code", personal: true)]] {
            let error = #expect(throws: SyncError.self) {
                try Schema([CollectionSchema("things", cellField: "cell", naturalKey: NaturalKey(fields: ["code"]), fields: fields + (fields.contains { $0.name == "code" } ? [] : [.text("code")]))])
            }
            #expect(error?.message.contains("cannot be personal") == true)
        }
    }
}
