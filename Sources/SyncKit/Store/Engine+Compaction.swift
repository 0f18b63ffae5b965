import Foundation

/// What one compaction did.
public struct CompactionReport: Sendable, Equatable {
    /// Operations dropped from the log.
    public var opsDropped = 0
    /// Operations the log still holds (unacknowledged, on records with open conflicts or held by
    /// the central node, the newest local one, or beyond this pass's budget).
    public var opsKept = 0
    /// The pass stopped at its budget: more may be dropped by the next one.
    public var more = false

    public init() {}
}

/// Compaction of the op log (Design.md section 4, "Compaction"): operations whose effect is in
/// the records' merge state and that nothing on this device will need again leave the log; what
/// merging needs of them, to recognize them as duplicates if they come again and to know them
/// when a later `prev` or set removal names them, stays as covers: per record and replica, the
/// highest sequence number the record's state reflects (`_fs_cover`, the same summary a snapshot
/// installs). Deleted records keep their tombstones, so a deleted record never comes back.
extension Engine {
    /// State key: set once this replica has taken remote operations through `Replica.apply`
    /// (peers, any order), after which only its own operations are compacted.
    static let unorderedRemoteKey = "remote_unordered"
    /// State key: 1 when the last reply taken left this device caught up with every cell it
    /// serves (no more pages, no snapshot part way, no cell to take again); 0 after a reply
    /// with more to come.
    static let caughtUpKey = "caught_up"

    /// Drops compactable operations, looking at about `opsMax` operations per replica at most.
    func compact(opsMax: Int) throws -> CompactionReport {
        precondition(db.isInTransaction, "compaction runs inside a write transaction")
        if try db.scalar("SELECT 1 FROM sqlite_master WHERE name = 'central_log'") != nil {
            throw SyncError(.invalidInput, "this is a central node's file: its log is the district's history, served to devices, and is never compacted. Compact a device's file (--db DEVICE.db)")
        }
        let local = StoreLayout.localReplicaIndex
        let acked = try state("acked_seq") ?? 0
        // Other replicas' operations are compacted only while this device is caught up: then,
        // for every record it holds, it has applied every operation of each replica on it up to
        // the highest one it has, so a cover (the highest) is exact. Part way through the log, a
        // record that moved into a cell brings its history after the move, out of each replica's
        // order: a cover taken then would call the older operations still to come duplicates.
        // Peers (`Replica.apply`) give no order at all.
        let remoteToo = try state(Self.unorderedRemoteKey) == nil && state(Self.caughtUpKey) == 1
        // Records whose history is still needed: unsent work (pushed again, and kept through a
        // cell's eviction), open conflicts (the office reviews their candidates), and this
        // device's operations the central node holds (it reflects them in no state it sends, so
        // a snapshot installed later re-merges them from here).
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS _fs_keep(collection INTEGER NOT NULL, entity TEXT NOT NULL, PRIMARY KEY(collection, entity)) WITHOUT ROWID;
            DELETE FROM temp._fs_keep;
            INSERT OR IGNORE INTO temp._fs_keep SELECT collection, entity FROM _fs_conflict;
            INSERT OR IGNORE INTO temp._fs_keep SELECT o.collection, o.entity FROM _fs_held h JOIN _fs_op o ON o.replica = 1 AND o.seq = h.seq;
            """)
        try db.cached("INSERT OR IGNORE INTO temp._fs_keep SELECT collection, entity FROM _fs_op WHERE replica = ? AND seq > ?").run([.int(local), .int(acked)])
        // A replica whose operations wait in this device's quarantine keeps its log: once one of
        // them is applied, a cover past it would have called it a duplicate.
        var quarantined = Set<Int64>()
        let held = try db.cached("SELECT DISTINCT replica FROM _fs_quarantine")
        do {
            defer { held.reset() }
            while try held.step() {
                if let replica = ReplicaID(bytes: held.bytes(at: 0)), let index = try directory.existingIndex(of: replica) { quarantined.insert(index) }
            }
        }
        var replicas: [Int64] = []
        let list = try db.cached("SELECT idx FROM _fs_replica ORDER BY idx")
        do {
            defer { list.reset() }
            while try list.step() { replicas.append(list.int64(at: 0)) }
        }
        // The newest local operation stays: it restores the sequence number and the clock on open.
        let newestLocal = try db.scalar("SELECT max(seq) FROM _fs_op WHERE replica = ?", [.int(local)])?.int ?? 0
        var report = CompactionReport()
        for replica in replicas where !quarantined.contains(replica) && (remoteToo || replica == local) {
            var bound = replica == local ? min(acked, newestLocal - 1) : Int64.max
            guard bound > 0 else { continue }
            if let nth = try db.scalar("SELECT seq FROM _fs_op WHERE replica = ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?",
                                       [.int(replica), .int(bound), .int(Int64(max(1, opsMax) - 1))])?.int {
                bound = nth
                report.more = true
            }
            try db.cached("""
                INSERT INTO _fs_cover(collection, entity, replica, seq)
                SELECT collection, entity, ?1, max(seq) FROM _fs_op
                WHERE replica = ?1 AND seq <= ?2 AND (collection, entity) NOT IN (SELECT collection, entity FROM temp._fs_keep)
                GROUP BY collection, entity
                ON CONFLICT(collection, entity, replica) DO UPDATE SET seq = max(seq, excluded.seq)
                """).run([.int(replica), .int(bound)])
            try db.cached("""
                DELETE FROM _fs_op WHERE replica = ?1 AND seq <= ?2 AND (collection, entity) NOT IN (SELECT collection, entity FROM temp._fs_keep)
                """).run([.int(replica), .int(bound)])
            report.opsDropped += db.changes
        }
        try db.execute("DELETE FROM temp._fs_keep")
        coverCount = Int(try db.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0)
        report.opsKept = Int(try db.scalar("SELECT count(*) FROM _fs_op")?.int ?? 0)
        if report.opsDropped == 0 { report.more = false }
        return report
    }
}

extension Replica {
    /// Drops from the op log the operations this device will not need again (Design.md
    /// section 4, "Compaction"), at most about `opsMax` per replica in one transaction; call it
    /// again while `more` says so. A sync does this on its own once it has caught up
    /// (`ReplicaOptions.compactOpsPerSyncMax`); `fieldsync device compact` does it whole.
    @discardableResult
    public func compact(opsMax: Int = 100_000) throws -> CompactionReport {
        try withEngineTransaction(origin: .local) { try $0.compact(opsMax: opsMax) }
    }

    /// Gives the file's free pages back to the file system (`VACUUM`): compaction frees pages
    /// that later writes reuse, so the file stops growing; this shrinks it. It rewrites the whole
    /// file, so it is for an explicit command, not for every sync.
    public func vacuum() throws {
        try withEngine { engine in
            try engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try engine.db.execute("VACUUM")
            try engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}
