import Foundation
import FieldKit
import SyncKit

/// One simulated collector's device: a FieldKit store on a real SQLite file, its own manual
/// clock (the hub's time plus a skew that lies), a crash switch, and what the simulator knows
/// about it to check the invariants (what it wrote, what the hub acknowledged, its cells).
final class SimDevice {
    let index: Int
    let name: String
    let path: String
    let replicaID: ReplicaID
    let clock: ManualClock
    let crash = FaultSwitch()
    let token: String
    private(set) var store: FieldStore

    /// Device clock = hub time + skew (may be days off, or send the device back to 1970).
    var skewMillis: Int64
    /// Steps until which the device cannot reach the hub (bundles still travel).
    var partitionedUntilStep = -1
    /// Set when an operator revoked it; `revokedAfterSeq` is the last operation it had written then.
    var revoked = false
    var revokedAfterSeq: UInt64 = 0
    /// Revoked with a wipe (reported lost or stolen): at its next contact it erases everything.
    var wipeRequested = false

    /// Cells the device knows it serves, from the newest reply it took (`cellsOrder`: the order
    /// in which the hub produced that reply).
    var cells: [String]
    var cellsOrder = 0
    /// Highest sequence number written and committed on the device (it writes 1, 2, 3, …).
    var lastSeq: UInt64 = 0
    /// Highest sequence number the hub acknowledged in a reply the device took.
    var ackedSeq: UInt64 = 0
    /// Visits (counter increments) the device wrote: sequence number → household.
    var visits: [UInt64: EntityID] = [:]
    /// Records (collection/id) the device had unsent work on when it took their cell whole from
    /// a snapshot: it keeps them as it has them, so one that had left the cell meanwhile stays,
    /// stale, until verification pulls the cell again (a known limit, Design.md "Simulation").
    var keptAside: Set<String> = []
    /// The last refusal the hub gave it (for failure reports).
    var lastRefusal: String?

    var replica: Replica { store.replica }

    init(index: Int, name: String, path: String, token: String, cells: [String], skewMillis: Int64, hubMillis: Int64) throws {
        self.index = index
        self.name = name
        self.path = path
        self.token = token
        self.cells = cells
        self.skewMillis = skewMillis
        replicaID = ReplicaID(high: 0xD0_0000 + UInt64(index), low: UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        clock = ManualClock(millis: max(0, hubMillis &+ skewMillis))
        store = try Self.open(path: path, replicaID: replicaID, clock: clock, crash: crash, index: index)
    }

    private static func open(path: String, replicaID: ReplicaID, clock: ManualClock, crash: FaultSwitch, index: Int) throws -> FieldStore {
        var options = ReplicaOptions()
        // Compaction at the end of a sync: never, in tiny steps, or as shipped.
        options.compactOpsPerSyncMax = [0, 3, 50, 10_000][index % 4]
        options.clock = clock
        options.replicaID = replicaID
        options.randomSeed = 0xDE71_CE00 + UInt64(index)
        options.faultInjector = { try crash.hit($0) }
        return try FieldStore.open(path: path, options: options)
    }

    /// The process died: everything in memory is gone; the file is opened again.
    func restart() throws {
        crash.disarm()
        store = try Self.open(path: path, replicaID: replicaID, clock: clock, crash: crash, index: index)
    }

    /// The device clock follows the hub's time with its skew (never before 1970).
    func setTime(hubMillis: Int64) {
        clock.set(millis: max(0, hubMillis &+ skewMillis))
    }

    /// The highest local sequence number in the file (written, or acknowledged and let go).
    func storedSeq() throws -> UInt64 {
        try replica.withConnection { db in
            let logged = try db.scalar("SELECT max(seq) FROM _fs_op WHERE replica = 1")?.int ?? 0
            let acked = try db.scalar("SELECT value FROM _fs_state WHERE key = 'acked_seq'")?.int ?? 0
            return UInt64(max(logged, acked))
        }
    }

    /// Records (collection/id) with local operations not yet acknowledged: they stay on the
    /// device whatever its cells, until pushed.
    func recordsWithUnsentWork() throws -> Set<String> {
        try replica.withConnection { db in
            let select = try db.prepare("""
                SELECT DISTINCT c.name, o.entity FROM _fs_op o JOIN _fs_collection c ON c.id = o.collection
                WHERE o.replica = 1 AND o.seq > coalesce((SELECT value FROM _fs_state WHERE key = 'acked_seq'), 0)
                """)
            var keys = Set<String>()
            while try select.step() { keys.insert(select.text(at: 0) + "/" + select.text(at: 1)) }
            return keys
        }
    }

}

extension Replica {
    /// Every record held (live and deleted) with its cell: collection/id → cell.
    func heldRecordCells() throws -> [String: String] {
        try withConnection { db in
            var result: [String: String] = [:]
            for collection in schema.collections {
                guard let cellField = collection.cellField else { continue }
                let select = try db.prepare("SELECT id, \"\(cellField)\" FROM \"\(collection.name)\"")
                while try select.step() { result[collection.name + "/" + select.text(at: 0)] = select.isNull(at: 1) ? "" : select.text(at: 1) }
            }
            let tombs = try db.prepare("SELECT c.name, t.entity, coalesce(t.cell, '') FROM _fs_tombstone t JOIN _fs_collection c ON c.id = t.collection")
            while try tombs.step() { result[tombs.text(at: 0) + "/" + tombs.text(at: 1)] = tombs.text(at: 2) }
            return result
        }
    }

    /// Sequence numbers of one replica's operations in this replica's log.
    func loggedSeqs(of replica: ReplicaID) throws -> Set<UInt64> {
        try withConnection { db in
            let select = try db.prepare("SELECT o.seq FROM _fs_op o JOIN _fs_replica r ON r.idx = o.replica WHERE r.id = ?")
            try select.bind([.blob(replica.bytes)])
            var seqs = Set<UInt64>()
            while try select.step() { seqs.insert(UInt64(select.int64(at: 0))) }
            return seqs
        }
    }

    /// Sequence numbers of one replica's operations held in this replica's quarantine.
    func quarantinedSeqs(of replica: ReplicaID) throws -> Set<UInt64> {
        try withConnection { db in
            let select = try db.prepare("SELECT seq FROM _fs_quarantine WHERE replica = ?")
            try select.bind([.blob(replica.bytes)])
            var seqs = Set<UInt64>()
            while try select.step() { seqs.insert(UInt64(select.int64(at: 0))) }
            return seqs
        }
    }
}
