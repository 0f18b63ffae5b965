/// Reading records, conflicts, the outbox and digests.
extension Engine {
    private func columns(_ table: CollectionTable) -> String {
        table.fields.map { StoreLayout.quoted($0.schema.name) }.joined(separator: ", ")
    }

    private func makeRecord(_ table: CollectionTable, id: EntityID, values: FieldMap<Value>, state: EntityState?, deleted: Bool, erased: Bool) -> Record {
        var named: [String: Value] = [:]
        var sets: [String: [Value]] = [:]
        for (fid, field) in table.fields {
            named[field.name] = values[fid] ?? defaultValue(field)
            if field.policy == .set { sets[field.name] = state?.sets[fid]?.visible ?? [] }
        }
        return Record(collection: table.schema.name, id: id, values: named, sets: sets, isDeleted: deleted, isErased: erased)
    }

    func record(_ collection: String, _ id: EntityID, includeDeleted: Bool) throws -> Record? {
        let table = try catalog.table(named: collection)
        let loaded = try load(table, id)
        switch loaded.location {
        case .none: return nil
        case .tombstone where !includeDeleted: return nil
        default:
            return makeRecord(table, id: id, values: loaded.values, state: loaded.state, deleted: loaded.location == .tombstone,
                              erased: !loaded.state.erasures.isEmpty)
        }
    }

    /// Live records ordered by id, optionally of one cell, after an id (for paging).
    func records(_ collection: String, cell: String?, after: EntityID?, limit: Int) throws -> [Record] {
        let table = try catalog.table(named: collection)
        var sql = "SELECT id, \(columns(table)), _fs_meta FROM \(table.table) WHERE id > ?"
        var binds: [Value] = [.text(after?.rawValue ?? "")]
        if let cell {
            guard let cellField = table.schema.cellField else {
                throw SyncError(.invalidInput, "\(collection) records have no grid cell")
            }
            sql += " AND \(StoreLayout.quoted(cellField)) = ?"
            binds.append(.text(cell))
        }
        sql += " ORDER BY id LIMIT ?"
        binds.append(.int(Int64(limit)))
        let select = try db.cached(sql)
        defer { select.reset() }
        try select.bind(binds)
        let hasSets = table.fields.contains { $0.schema.policy == .set }
        var result: [Record] = []
        while try select.step() {
            var values: FieldMap<Value> = [:]
            for (column, field) in table.fields.enumerated() {
                values[field.id] = select.value(at: Int32(column + 1), as: field.schema.policy == .set ? .text : field.schema.type)
            }
            let meta = select.bytes(at: Int32(table.fields.count + 1))
            let state = hasSets ? try codec.decode(meta, winners: values, counterFields: []) : nil
            // Metadata version 2 is that of a record with erasures (section 4).
            result.append(makeRecord(table, id: EntityID(unchecked: select.text(at: 0)), values: values, state: state, deleted: false,
                                     erased: meta.first == MetaCodec.versionWithErasures))
        }
        return result
    }

    func conflicts(collection: String?, entity: EntityID? = nil) throws -> [Conflict] {
        var sql = "SELECT collection, entity, field, review FROM _fs_conflict"
        var binds: [Value] = []
        if let collection {
            sql += " WHERE collection = ?"
            binds.append(.int(try catalog.table(named: collection).id))
            if let entity {
                sql += " AND entity = ?"
                binds.append(.text(entity.rawValue))
            }
        }
        sql += " ORDER BY collection, entity, field"
        let select = try db.prepare(sql)
        try select.bind(binds)
        var rows: [(Int64, String, FieldID, Bool)] = []
        while try select.step() {
            rows.append((select.int64(at: 0), select.text(at: 1), FieldID(select.int64(at: 2)), select.int64(at: 3) != 0))
        }
        return try rows.compactMap { collectionID, entity, fid, review in
            guard let table = catalog.byID[collectionID] else { return nil }
            let id = EntityID(unchecked: entity)
            let state = try load(table, id).state
            let register = fid == 0 ? state.exists : (state.registers[fid] ?? RegisterState())
            let name = fid == 0 ? Assignment.existenceField : (table.field(fid)?.name ?? "?")
            return Conflict(collection: table.schema.name, entity: id, field: name, review: review,
                            candidates: register.heads.map { .init(op: $0.op, hlc: $0.hlc, value: $0.value) })
        }
    }

    /// Local operations not yet acknowledged by the central node, oldest first.
    func outbox(limit: Int) throws -> [Op] {
        let select = try db.cached("SELECT seq, hlc, collection, entity, body FROM _fs_outbox ORDER BY seq LIMIT ?")
        defer { select.reset() }
        try select.bind([.int(Int64(limit))])
        var ops: [Op] = []
        while try select.step() {
            ops.append(try operation(fromLogRow: StoreLayout.localReplicaIndex, seq: select.int64(at: 0), hlc: select.int64(at: 1),
                                     collection: select.int64(at: 2), entity: select.text(at: 3), body: select.bytes(at: 4)))
        }
        return ops
    }

    var ackedSeq: UInt64 {
        get throws { UInt64(try db.scalar("SELECT value FROM _fs_state WHERE key = 'acked_seq'")?.int ?? 0) }
    }

    /// Every operation in the log, in (replica, seq) order.
    func allOperations(limit: Int) throws -> [Op] {
        let select = try db.prepare("SELECT replica, seq, hlc, collection, entity, body FROM _fs_op ORDER BY replica, seq LIMIT ?")
        try select.bind([.int(Int64(limit))])
        var ops: [Op] = []
        while try select.step() {
            ops.append(try operation(fromLogRow: select.int64(at: 0), seq: select.int64(at: 1), hlc: select.int64(at: 2),
                                     collection: select.int64(at: 3), entity: select.text(at: 4), body: select.bytes(at: 5)))
        }
        return ops
    }
}
