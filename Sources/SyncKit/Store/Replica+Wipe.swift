import Foundation

extension Replica {
    /// Erases everything this replica holds (records, tombstones, conflicts, the op log, covers,
    /// quarantine, cursors), at the central node's request for a device reported lost or stolen
    /// (Design.md section 4, "Personal data in the files"); then the write-ahead log is truncated
    /// and the file rebuilt (VACUUM) with deleted content zeroed (`secure_delete`), so that no
    /// byte of a record is left in the files. The replica keeps only its id, its clock and the
    /// time it was wiped, and takes no more writes. `SyncSession` calls it when the node answers
    /// `wipe`, and then tells the node it is done.
    ///
    ///     try replica.wipe()
    ///     replica.wipedMillis   // when
    public func wipe() throws {
        try withEngine { engine in
            try engine.db.transaction {
                for table in engine.catalog.byName.values { try engine.db.execute("DELETE FROM \(table.table)") }
                try engine.db.execute("""
                    DELETE FROM _fs_op; DELETE FROM _fs_tombstone; DELETE FROM _fs_conflict; DELETE FROM _fs_quarantine;
                    DELETE FROM _fs_cursor; DELETE FROM _fs_bootstrap; DELETE FROM _fs_cover; DELETE FROM _fs_held;
                    """)
                // Nothing is left to send: the outbox is empty, and stays so.
                try engine.setState("acked_seq", Int64(engine.localSeq))
                try engine.setState("wiped_millis", engine.wipedMillis ?? engine.nowMillis)
            }
            engine.wipedMillis = try engine.state("wiped_millis")
            engine.lastRecord = nil
            engine.coverCount = 0
            engine.quarantineCount = 0
            try engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try engine.db.execute("VACUUM")
            try engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// When this replica was wiped at the central node's request, or nil.
    public var wipedMillis: Int64? { withEngine { $0.wipedMillis } }
}
