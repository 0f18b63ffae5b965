/// Retention of superseded personal values (Design.md section 4, "Retention"): the central
/// node erases, in its log, the values of personal register writes that no longer show (a later
/// write superseded them) once they are older than the district's window.
extension Engine {
    /// What one batch of the retention pass did.
    struct RetentionBatch {
        /// Operations read (of any age).
        var examined = 0
        /// Values erased (one per superseded personal register write).
        var valuesErased = 0
        /// The operations whose bodies changed.
        var changed: [OpID] = []
        /// Where the next batch starts (log key: replica number, seq); nil when the log is done.
        var next: (replica: Int64, seq: Int64)?
    }

    /// Erases the personal register values of writes made before `cutoffMillis` (by their clock)
    /// that are no longer heads of their field, in at most `limit` operations of the log after
    /// `after`. The values a record shows, its conflicts' candidates, counters and set elements
    /// are untouched: a superseded write's value is in no state, only in the log, and a device
    /// that receives the erased write later merges the same state (its `prev` is kept, and the
    /// write that superseded it comes after it in every cell's log).
    func eraseSupersededValues(writtenBefore cutoffMillis: Int64, after: (replica: Int64, seq: Int64)?, limit: Int) throws -> RetentionBatch {
        let cutoff = HLCTimestamp(millis: UInt64(max(0, min(cutoffMillis, Int64(HLCTimestamp.millisMax)))), counter: 0).rawValue
        let select = try db.prepare("""
            SELECT replica, seq, hlc, collection, entity, body FROM _fs_op WHERE (replica, seq) > (?, ?) ORDER BY replica, seq LIMIT ?
            """)
        try select.bind([.int(after?.replica ?? 0), .int(after?.seq ?? 0), .int(Int64(limit))])
        var rows: [(replica: Int64, seq: Int64, collection: Int64, entity: String, body: [UInt8])] = []
        var batch = RetentionBatch()
        while try select.step() {
            batch.examined += 1
            batch.next = (select.int64(at: 0), select.int64(at: 1))
            guard UInt64(bitPattern: select.int64(at: 2)) < cutoff else { continue }
            rows.append((select.int64(at: 0), select.int64(at: 1), select.int64(at: 3), select.text(at: 4), select.bytes(at: 5)))
        }
        select.reset()
        if batch.examined < limit { batch.next = nil }
        for row in rows {
            guard let table = catalog.byID[row.collection], !table.personalFieldIDs.isEmpty else { continue }
            var items = try codec.decodeBody(row.body)
            let candidates = items.indices.filter { index in
                guard table.isPersonal(items[index].field), table.headOrder(items[index].field) != nil,
                      case .set(let value, _) = items[index].change else { return false }
                return value != .null
            }
            guard !candidates.isEmpty else { continue }
            let op = OpID(replica: try directory.replica(at: row.replica), seq: UInt64(bitPattern: row.seq))
            let state = try load(table, EntityID(unchecked: row.entity)).state
            var erased = 0
            for index in candidates where !(state.registers[items[index].field]?.heads.contains { $0.op == op } ?? false) {
                items[index].change = items[index].change.erased
                erased += 1
            }
            guard erased > 0 else { continue }
            try db.cached("UPDATE _fs_op SET body = ? WHERE replica = ? AND seq = ?").run([.blob(try codec.encodeBody(items)), .int(row.replica), .int(row.seq)])
            batch.valuesErased += erased
            batch.changed.append(op)
        }
        if batch.valuesErased > 0 { recordsLeft = true }
        return batch
    }

    /// An operation as the log holds it now (nil: not in the log).
    func loggedOperation(_ id: OpID) throws -> Op? {
        guard let index = try directory.existingIndex(of: id.replica) else { return nil }
        let select = try db.cached("SELECT hlc, collection, entity, body FROM _fs_op WHERE replica = ? AND seq = ?")
        defer { select.reset() }
        try select.bind([.int(index), .int(Int64(bitPattern: id.seq))])
        guard try select.step() else { return nil }
        return try operation(fromLogRow: index, seq: Int64(bitPattern: id.seq), hlc: select.int64(at: 0),
                             collection: select.int64(at: 1), entity: select.text(at: 2), body: select.bytes(at: 3))
    }
}
