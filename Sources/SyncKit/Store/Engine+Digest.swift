/// State digests: SHA-256 over a canonical form of the visible state (Design.md, "Digest").
extension Engine {
    /// For each collection (by name), each record (by id bytes, live and deleted): the id, whether
    /// it exists, every field's visible value (by field name), and for each conflicted field
    /// its distinct head values in canonical order.
    func digest(collection: String?, cell: String?) throws -> String {
        let tables = try (collection.map { [try catalog.table(named: $0)] } ?? Array(catalog.byName.values))
            .sorted { $0.schema.name.utf8.lexicographicallyPrecedes($1.schema.name.utf8) }
        var total = SHA256()
        for table in tables {
            if cell != nil && table.schema.cellField == nil { continue }
            total.update(try collectionDigest(table, cell: cell))
        }
        return Hex.encode(total.finalize())
    }

    private func collectionDigest(_ table: CollectionTable, cell: String?) throws -> [UInt8] {
        let byName = table.fields.sorted { $0.schema.name.utf8.lexicographicallyPrecedes($1.schema.name.utf8) }
        var conflicted: [String: [FieldID]] = [:]
        let conflicts = try db.cached("SELECT entity, field FROM _fs_conflict WHERE collection = ?")
        try conflicts.bind([.int(table.id)])
        while try conflicts.step() { conflicted[conflicts.text(at: 0), default: []].append(FieldID(conflicts.int64(at: 1))) }
        conflicts.reset()

        var entries: [(id: String, hash: [UInt8])] = []
        func add(id: String, exists: Bool, values: [FieldID: Value]) throws {
            var writer = ByteWriter()
            writer.write(id)
            writer.write(byte: exists ? 1 : 0)
            for (fid, field) in byName {
                writer.write(field.name)
                writer.write(values[fid] ?? defaultValue(field))
            }
            if let fields = conflicted[id] {
                let state = try load(table, EntityID(unchecked: id)).state
                let named = fields.map { ($0 == 0 ? Assignment.existenceField : table.field($0)?.name ?? "?", $0) }
                    .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
                for (name, fid) in named {
                    let register = fid == 0 ? state.exists : (state.registers[fid] ?? RegisterState())
                    let distinct = Array(Set(register.heads.map(\.value))).sorted()
                    writer.write(name)
                    writer.writeVarint(UInt64(distinct.count))
                    for value in distinct { writer.write(value) }
                }
            }
            entries.append((id, SHA256.hash(writer.bytes)))
        }

        var sql = "SELECT id, " + table.fields.map { StoreLayout.quoted($0.schema.name) }.joined(separator: ", ") + " FROM \(table.table)"
        var binds: [Value] = []
        if let cell, let cellField = table.schema.cellField {
            sql += " WHERE \(StoreLayout.quoted(cellField)) = ?"
            binds.append(.text(cell))
        }
        let live = try db.prepare(sql)
        try live.bind(binds)
        var rows: [(String, [FieldID: Value])] = []
        while try live.step() {
            var values: [FieldID: Value] = [:]
            for (column, field) in table.fields.enumerated() {
                values[field.id] = live.value(at: Int32(column + 1), as: field.schema.policy == .set ? .text : field.schema.type)
            }
            rows.append((live.text(at: 0), values))
        }
        for (id, values) in rows { try add(id: id, exists: true, values: values) }

        var tombSQL = "SELECT entity, fields FROM _fs_tombstone WHERE collection = ?"
        var tombBinds: [Value] = [.int(table.id)]
        if let cell { tombSQL += " AND cell = ?"; tombBinds.append(.text(cell)) }
        let tombs = try db.prepare(tombSQL)
        try tombs.bind(tombBinds)
        var deleted: [(String, [FieldID: Value])] = []
        while try tombs.step() { deleted.append((tombs.text(at: 0), try MetaCodec.decodeValues(tombs.bytes(at: 1)))) }
        for (id, values) in deleted { try add(id: id, exists: false, values: values) }

        entries.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        var hasher = SHA256()
        var header = ByteWriter()
        header.write(table.schema.name)
        header.writeVarint(UInt64(entries.count))
        hasher.update(header.bytes)
        for entry in entries { hasher.update(entry.hash) }
        return hasher.finalize()
    }
}
