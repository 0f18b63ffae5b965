/// What the protocol's conformance kit (`fieldsync conformance`, PROTOCOL.md section 15) needs of
/// a replica that plays a scenario's device: its deleted records, its last sequence number, and
/// the scenario's operations taken as its own.
extension Replica {
    /// Every deleted record of a collection (its tombstone's values), by id.
    package func deletedRecords(_ collection: String) throws -> [Record] {
        try withEngine { engine in
            let table = try engine.catalog.table(named: collection)
            let select = try engine.db.prepare("SELECT entity FROM _fs_tombstone WHERE collection = ? ORDER BY entity")
            try select.bind([.int(table.id)])
            var ids: [EntityID] = []
            while try select.step() { ids.append(EntityID(unchecked: select.text(at: 0))) }
            select.reset()
            return try ids.compactMap { try engine.record(collection, $0, includeDeleted: true) }
        }
    }

    /// The highest sequence number this replica has used.
    package var lastWrittenSeq: UInt64 { withEngine { $0.localSeq } }

    /// Takes operations of this very replica, written elsewhere, as its own (the conformance
    /// kit's devices carry a scenario's operations so): merged without the clock drift check
    /// (a device never holds its own writes back) and queued in the outbox to be pushed.
    package func adopt(_ ops: [Op]) throws {
        try withEngineTransaction(origin: .local) { engine in
            var report = ApplyReport()
            for op in ops {
                guard op.id.replica == engine.localID else {
                    throw SyncError(.invalidInput, "operation \(op.id) is not this replica's (\(engine.localID.hex)); only its own operations are adopted")
                }
                try engine.applyRemote(op, report: &report, enforceDrift: false)
            }
        }
    }
}
