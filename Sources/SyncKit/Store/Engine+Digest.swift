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
        // Fields by name bytes, each with its column in the plain table's select below.
        let byName = table.fields.enumerated().map { (column: $0.offset, id: $0.element.id, schema: $0.element.schema) }
            .sorted { $0.schema.name.utf8.lexicographicallyPrecedes($1.schema.name.utf8) }
        // The conflicts of this cell's records only (found through the records, by the cell's
        // index), not of the whole collection: a digest costs what its cell holds.
        var conflicted: [String: [FieldID]] = [:]
        let conflicts: Statement
        if let cell, let cellField = table.schema.cellField {
            conflicts = try db.cached("""
                SELECT c.entity, c.field FROM \(table.table) t JOIN _fs_conflict c ON c.collection = ?1 AND c.entity = t.id WHERE t.\(StoreLayout.quoted(cellField)) = ?2
                UNION ALL SELECT c.entity, c.field FROM _fs_tombstone b JOIN _fs_conflict c ON c.collection = b.collection AND c.entity = b.entity
                WHERE b.collection = ?1 AND b.cell = ?2
                """)
            try conflicts.bind([.int(table.id), .text(cell)])
        } else {
            conflicts = try db.cached("SELECT entity, field FROM _fs_conflict WHERE collection = ?")
            try conflicts.bind([.int(table.id)])
        }
        while try conflicts.step() { conflicted[conflicts.text(at: 0), default: []].append(FieldID(conflicts.int64(at: 1))) }
        conflicts.reset()

        var entries: [(id: String, hash: [UInt8])] = []
        var writer = ByteWriter()
        func add(id: String, exists: Bool, value: (Int, FieldID, FieldSchema) throws -> Value) throws {
            writer.removeAll()
            writer.write(id)
            writer.write(byte: exists ? 1 : 0)
            for field in byName {
                writer.write(field.schema.name)
                writer.write(try value(field.column, field.id, field.schema))
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
        let live = try db.cached(sql)
        defer { live.reset() }
        try live.bind(binds)
        while try live.step() {
            try add(id: live.text(at: 0), exists: true) { column, _, field in
                live.value(at: Int32(column + 1), as: field.policy == .set ? .text : field.type)
            }
        }

        var tombSQL = "SELECT entity, fields FROM _fs_tombstone WHERE collection = ?"
        var tombBinds: [Value] = [.int(table.id)]
        if let cell { tombSQL += " AND cell = ?"; tombBinds.append(.text(cell)) }
        let tombs = try db.cached(tombSQL)
        defer { tombs.reset() }
        try tombs.bind(tombBinds)
        while try tombs.step() {
            let values = try MetaCodec.decodeValues(tombs.bytes(at: 1))
            try add(id: tombs.text(at: 0), exists: false) { _, id, field in values[id] ?? defaultValue(field) }
        }

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
