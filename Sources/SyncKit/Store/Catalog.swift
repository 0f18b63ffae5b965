/// The schema as stored in a replica file, reconciled with the declared one at open: new
/// collections get their table, new fields are added with `ALTER TABLE ADD COLUMN` (constant
/// time in SQLite), and a change to an existing field's type or policy is refused.
final class Catalog {
    private(set) var byName: [String: CollectionTable] = [:]
    private(set) var byID: [Int64: CollectionTable] = [:]

    init(db: Connection, schema: Schema) throws {
        for collection in schema.collections {
            let table = try Self.reconcile(db: db, collection: collection)
            byName[collection.name] = table
            byID[table.id] = table
        }
    }

    func table(named name: String) throws -> CollectionTable {
        guard let table = byName[name] else {
            throw SyncError(.invalidInput, "unknown collection \"\(name.prefix(64))\"; the schema has: \(byName.keys.sorted().joined(separator: ", "))")
        }
        return table
    }

    private static func reconcile(db: Connection, collection: CollectionSchema) throws -> CollectionTable {
        let name = collection.name
        let keySpec = collection.naturalKey?.fields.joined(separator: ",")
        var collectionID: Int64
        if let existing = try db.scalar("SELECT id FROM _fs_collection WHERE name = ?", [.text(name)])?.int {
            collectionID = existing
            let stored = try db.prepare("SELECT cell_field, natural_key FROM _fs_collection WHERE id = ?")
            try stored.bind([.int(existing)])
            _ = try stored.step()
            let storedCell = stored.isNull(at: 0) ? nil : stored.text(at: 0)
            let storedKey = stored.isNull(at: 1) ? nil : stored.text(at: 1)
            guard storedCell == collection.cellField, storedKey == keySpec else {
                throw SyncError(.schemaMismatch,
                    "collection \"\(name)\" was stored with cell field \(storedCell ?? "none") and natural key \(storedKey ?? "none"); the declared schema says \(collection.cellField ?? "none") and \(keySpec ?? "none"). These cannot change in an existing replica")
            }
        } else {
            try db.cached("INSERT INTO _fs_collection(name, cell_field, natural_key) VALUES (?, ?, ?)")
                .run([.text(name), collection.cellField.map(Value.text) ?? .null, keySpec.map(Value.text) ?? .null])
            collectionID = try db.scalar("SELECT id FROM _fs_collection WHERE name = ?", [.text(name)])!.int!
            try db.execute("CREATE TABLE \(StoreLayout.quoted(name))(id TEXT PRIMARY KEY NOT NULL, _fs_meta BLOB NOT NULL) WITHOUT ROWID")
        }

        var stored: [String: (id: FieldID, type: String, policy: String, review: Bool, precedence: String?)] = [:]
        let select = try db.prepare("SELECT id, name, type, policy, review, precedence FROM _fs_field WHERE collection = ?")
        try select.bind([.int(collectionID)])
        var nextID = 1
        while try select.step() {
            let fid = Int(select.int64(at: 0))
            stored[select.text(at: 1)] = (fid, select.text(at: 2), select.text(at: 3), select.int64(at: 4) != 0,
                                          select.isNull(at: 5) ? nil : select.text(at: 5))
            nextID = max(nextID, fid + 1)
        }
        var fieldIDs: [String: FieldID] = [:]
        for field in collection.fields {
            let precedence: String? = {
                if case .lifecycle(let lifecycle) = field.policy { return lifecycle.precedence.joined(separator: ",") }
                return nil
            }()
            if let old = stored[field.name] {
                guard old.type == field.type.rawValue, old.policy == field.policy.name, old.precedence == precedence else {
                    throw SyncError(.schemaMismatch,
                        "field \"\(name).\(field.name)\" is stored as \(old.type) \(old.policy)\(old.precedence.map { " (\($0))" } ?? "") but declared as \(field.type.rawValue) \(field.policy.name)\(precedence.map { " (\($0))" } ?? ""); a field's type, policy and precedence cannot change: add a new field instead")
                }
                if old.review != field.review {
                    try db.cached("UPDATE _fs_field SET review = ? WHERE collection = ? AND id = ?")
                        .run([.bool(field.review), .int(collectionID), .int(Int64(old.id))])
                }
                fieldIDs[field.name] = old.id
            } else {
                let fid = nextID
                nextID += 1
                try db.cached("INSERT INTO _fs_field(collection, id, name, type, policy, review, precedence) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    .run([.int(collectionID), .int(Int64(fid)), .text(field.name), .text(field.type.rawValue),
                          .text(field.policy.name), .bool(field.review), precedence.map(Value.text) ?? .null])
                let defaultClause = field.policy == .counter ? " NOT NULL DEFAULT 0" : ""
                try db.execute("ALTER TABLE \(StoreLayout.quoted(name)) ADD COLUMN \(StoreLayout.quoted(field.name)) \(field.columnType)\(defaultClause)")
                if field.name == collection.cellField {
                    try db.execute("CREATE INDEX IF NOT EXISTS \(StoreLayout.quoted("_fs_\(name)_cell")) ON \(StoreLayout.quoted(name))(\(StoreLayout.quoted(field.name)))")
                }
                fieldIDs[field.name] = fid
            }
        }
        let missing = Set(stored.keys).subtracting(fieldIDs.keys)
        guard missing.isEmpty else {
            throw SyncError(.schemaMismatch,
                "the replica stores field(s) \(missing.sorted().map { "\(name).\($0)" }.joined(separator: ", ")) that the declared schema lacks; fields cannot be removed (keep declaring them)")
        }
        return CollectionTable(id: collectionID, schema: collection, fieldIDs: fieldIDs)
    }
}
