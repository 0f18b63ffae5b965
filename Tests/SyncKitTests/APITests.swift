import Foundation
import Synchronization
import Testing
@testable import SyncKit

struct APITests {
    @Test func opsRoundTripThroughCanonicalJSON() throws {
        let (a, _) = try makeReplica(1)
        let id = try a.write { tx in
            let id = try tx.insert("items", ["cell": "C1", "name": "张伟 \"quoted\"", "weight": 1.25, "flag": true, "photo": .blob([0, 255, 7]),
                                             "size": .int(Int64.max), "visits": 3, "status": "open"], elements: ["tags": ["x", "老人"]])
            try tx.remove("items", id, "tags", "x")
            try tx.delete("items", id)
            return id
        }
        _ = id
        for op in try a.operations() {
            let data = try op.jsonData()
            let decoded = try SyncProtocol.decode(Op.self, from: data)
            #expect(decoded == op)
            #expect(try decoded.jsonData() == data)
        }
    }

    @Test func malformedJSONOpsAreRejectedWithAReadableReason() {
        let bad = #"{"id":"nothex.1","hlc":"1.0","collection":"items","entity":"x","assignments":[]}"#
        do {
            _ = try SyncProtocol.decode(Op.self, from: Data(bad.utf8))
            Issue.record("decoded an op with a bad id")
        } catch {
            #expect(String(describing: error).contains("is not <32 hex digits>"))
        }
    }

    @Test func localWritesAreCheckedAgainstTheSchemaAndLimits() throws {
        let (a, _) = try makeReplica(1) { $0.limits.textBytesMax = 10 }
        let id = try a.write { try $0.insert("items", ["cell": "C1"]) }
        let cases: [(String, (WriteTransaction) throws -> Void)] = [
            ("takes int values, not text", { try $0.update("items", id, ["size": "big"]) }),
            ("has no field \"nope\"", { try $0.update("items", id, ["nope": 1]) }),
            ("at most 10", { try $0.update("items", id, ["name": "01234567890"]) }),
            ("finite", { try $0.update("items", id, ["weight": .real(.nan)]) }),
            ("use increment", { try $0.update("items", id, ["visits": 4]) }),
            ("use add/remove", { try $0.update("items", id, ["tags": "x"]) }),
            ("needs its grid cell", { try $0.insert("items", ["name": "no cell"]) }),
            ("unknown collection", { try $0.insert("nothing", ["x": 1]) }),
            ("natural key", { try $0.insert("plates", ["cell": "C1"]) }),
        ]
        for (expected, write) in cases {
            let error = #expect(throws: SyncError.self) { try a.write(write) }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error") should say \(expected)")
        }
        #expect(try a.operations().count == 1)
    }

    @Test func observersHearOfCommittedChangesOnly() throws {
        let (a, _) = try makeReplica(1)
        let (b, _) = try makeReplica(2)
        let heard = Mutex<[ChangeSet]>([])
        let token = b.observe { change in heard.withLock { $0.append(change) } }
        let id = try a.write { try $0.insert("items", ["cell": "C1"]) }
        try deliver(a, to: b)
        _ = try? b.write { tx in
            try tx.update("items", id, ["size": 1])
            throw SyncError(.invalidInput, "the user cancelled")
        }
        try b.write { try $0.update("items", id, ["size": 2]) }
        token.cancel()
        try b.write { try $0.update("items", id, ["size": 3]) }
        let changes = heard.withLock { $0 }
        #expect(changes == [ChangeSet(origin: .remote, records: ["items": [id]]), ChangeSet(origin: .local, records: ["items": [id]])])
    }

    @Test func outboxHoldsLocalOpsUntilAcknowledged() throws {
        let (a, _) = try makeReplica(1)
        let (b, _) = try makeReplica(2)
        let id = try b.write { try $0.insert("items", ["cell": "C1"]) }
        try deliver(b, to: a)
        try a.write { tx in for _ in 0..<3 { try tx.increment("items", id, "visits") } }
        #expect(try a.outbox().map(\.id.seq) == [1, 2, 3])
        try a.acknowledge(through: 2)
        #expect(try a.outbox().map(\.id.seq) == [3])
        #expect(try a.unsyncedCount() == 1)
        #expect(throws: SyncError.self) { try a.acknowledge(through: 9) }
    }

    @Test func digestPerCellSeesOnlyThatCell() throws {
        let (a, _) = try makeReplica(1)
        let (b, _) = try makeReplica(2)
        try a.write { tx in
            try tx.insert("items", ["cell": "C1", "name": "one"])
            try tx.insert("items", ["cell": "C2", "name": "two"])
        }
        try b.apply(try a.operations().filter { op in op.assignments.contains { $0.change == .set("C1", prev: []) } })
        #expect(try a.digest(cell: "C1") == b.digest(cell: "C1"))
        #expect(try a.digest(cell: "C2") != b.digest(cell: "C2"))
        #expect(try a.digest() != b.digest())
    }
}
