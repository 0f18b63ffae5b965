import Foundation
import Synchronization
import Testing
@testable import SyncKit

/// Throws at the n-th time a chosen fault point is reached.
final class FaultPlan: Sendable {
    private let state: Mutex<(point: FaultPoint?, remaining: Int)>
    init() { state = Mutex((nil, 0)) }

    func arm(_ point: FaultPoint, after hits: Int) { state.withLock { $0 = (point, hits) } }
    func disarm() { state.withLock { $0 = (nil, 0) } }

    func hit(_ point: FaultPoint) throws {
        let fire = state.withLock { s -> Bool in
            guard s.point == point else { return false }
            if s.remaining == 0 { s.point = nil; return true }
            s.remaining -= 1
            return false
        }
        if fire { throw SyncError(.injectedFault, "injected fault at \(point)") }
    }
}

struct CrashAtomicityTests {
    struct Observed: Equatable {
        var digest: String
        var ops: Int
        var outbox: Int
        var conflicts: [Conflict]
        var clock: HLCTimestamp

        init(_ replica: Replica) throws {
            digest = try replica.digest()
            ops = try replica.operations().count
            outbox = try replica.unsyncedCount()
            conflicts = try replica.conflicts()
            clock = replica.clock
        }
    }

    /// Each fault point, reached after a number of earlier passes (a transaction reaches
    /// `beforeCommit` once, the others once per operation).
    static let faults: [(FaultPoint, Int)] = [
        (.afterEntitySave, 0), (.afterEntitySave, 1), (.afterEntitySave, 3),
        (.afterLogInsert, 0), (.afterLogInsert, 2), (.beforeCommit, 0),
    ]

    private func withFileReplica(_ body: (Replica, FaultPlan, String) throws -> Void) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = FaultPlan()
        let path = dir.appendingPathComponent("r.db").path
        let (replica, _) = try makeReplica(1, path: path) { $0.faultInjector = { try plan.hit($0) } }
        try body(replica, plan, path)
    }

    @Test(arguments: faults)
    func localWriteFailingHalfWayLeavesNoPartialState(point: FaultPoint, hits: Int) throws {
        try withFileReplica { replica, plan, path in
            let id = try replica.write { try $0.insert("items", ["cell": "C1", "name": "before"], elements: ["tags": ["a"]]) }
            let before = try Observed(replica)
            plan.arm(point, after: hits)
            #expect(throws: SyncError.self) {
                try replica.write { tx in
                    try tx.update("items", id, ["name": "after", "size": 3])
                    try tx.increment("items", id, "visits")
                    try tx.add("items", id, "tags", "b")
                    try tx.insert("items", ["cell": "C2", "name": "new"])
                    try tx.delete("items", id)
                }
            }
            plan.disarm()
            #expect(try Observed(replica) == before)
            // The next write continues the sequence without a gap.
            try replica.write { try $0.update("items", id, ["name": "later"]) }
            let seqs = try replica.operations().map(\.id.seq)
            #expect(seqs == Array(1...UInt64(seqs.count)))
            // And the file agrees after reopening.
            let reopened = try makeReplica(1, path: path).0
            #expect(try reopened.record("items", id)?["name"] == "later")
            #expect(try reopened.digest() == replica.digest())
        }
    }

    /// A replica that created 5 records and then counted a visit on each: 10 operations.
    static func fiveRecordsWrittenTwice() throws -> (Replica, [Op]) {
        let (source, clock) = try makeReplica(2)
        var ids: [EntityID] = []
        for n in 0..<5 {
            clock.advance(byMillis: 1)
            ids.append(try source.write { try $0.insert("items", ["cell": "C1", "name": .text("n\(n)")]) })
        }
        for id in ids { try source.write { try $0.increment("items", id, "visits") } }
        return (source, try source.operations())
    }

    /// A remote batch writes each record once: 10 operations on 5 records are 10 log inserts
    /// but 5 record saves (a sixth save point is never reached).
    @Test func aRemoteBatchWritesEachRecordOnce() throws {
        let (source, ops) = try Self.fiveRecordsWrittenTwice()
        try withFileReplica { replica, plan, _ in
            plan.arm(.afterEntitySave, after: 5)
            let applied = try replica.apply(ops).applied
            #expect(applied == 10)
            plan.disarm()
            #expect(try replica.digest() == source.digest())
        }
    }

    // The 5th record save (`afterEntitySave` after 4) is the last of a batch of 10 operations on
    // 5 records, each record written once; the 10th log insert the last operation's.
    @Test(arguments: faults + [(.afterEntitySave, 4), (.afterLogInsert, 9)])
    func remoteBatchFailingHalfWayLeavesNoPartialState(point: FaultPoint, hits: Int) throws {
        let (source, ops) = try Self.fiveRecordsWrittenTwice()
        try withFileReplica { replica, plan, _ in
            try replica.write { try $0.insert("items", ["cell": "C9", "name": "local"]) }
            let before = try Observed(replica)
            plan.arm(point, after: hits)
            #expect(throws: SyncError.self) { try replica.apply(ops) }
            plan.disarm()
            #expect(try Observed(replica) == before)
            // Retrying the same batch applies all of it exactly once.
            let report = try replica.apply(ops)
            #expect(report.applied == ops.count)
            try deliver(replica, to: source)
            #expect(try replica.digest() == source.digest())
        }
    }
}
