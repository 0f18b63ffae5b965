/// A collection as stored in one replica file: its table id, the local number of each field,
/// and the SQL that reads and writes its plain table.
final class CollectionTable {
    let id: Int64
    let schema: CollectionSchema
    /// Fields in column order, with their local numbers (1...).
    let fields: [(id: FieldID, schema: FieldSchema)]
    let fieldIDs: [String: FieldID]
    private let fieldsByID: [FieldID: FieldSchema]
    let table: String
    let cellFieldID: FieldID?
    /// The personal fields (what an erasure removes), by local number and by name.
    let personalFieldIDs: [FieldID]
    let personalFieldNames: Set<String>

    let selectSQL: String
    let insertSQL: String
    let deleteSQL: String
    private var updateSQLs: [[FieldID]: String] = [:]

    init(id: Int64, schema: CollectionSchema, fieldIDs: [String: FieldID]) {
        self.id = id
        self.schema = schema
        self.fieldIDs = fieldIDs
        self.fields = schema.fields.map { (fieldIDs[$0.name]!, $0) }
        var byID: [FieldID: FieldSchema] = [:]
        for (fid, field) in fields { byID[fid] = field }
        self.fieldsByID = byID
        self.table = StoreLayout.quoted(schema.name)
        self.cellFieldID = schema.cellField.flatMap { fieldIDs[$0] }
        self.personalFieldIDs = fields.filter { $0.schema.personal }.map(\.id)
        self.personalFieldNames = Set(schema.fields.filter(\.personal).map(\.name))
        let columns = fields.map { StoreLayout.quoted($0.schema.name) }
        selectSQL = "SELECT " + (columns + ["_fs_meta"]).joined(separator: ", ") + " FROM \(table) WHERE id = ?"
        insertSQL = "INSERT INTO \(table)(id, " + (columns + ["_fs_meta"]).joined(separator: ", ") + ") VALUES ("
            + Array(repeating: "?", count: columns.count + 2).joined(separator: ", ") + ")"
        deleteSQL = "DELETE FROM \(table) WHERE id = ?"
    }

    func field(_ id: FieldID) -> FieldSchema? { fieldsByID[id] }

    /// An operation's changes by field name, as an `Op` carries them (0 is the existence field).
    func assignments(_ items: [ResolvedOperation.Item]) throws -> [Assignment] {
        try items.map { item in
            if item.field == 0 { return Assignment(field: Assignment.existenceField, change: item.change) }
            if item.field == .erasure { return Assignment(field: Assignment.erasureField, change: item.change) }
            guard let field = fieldsByID[item.field] else { throw SyncError(.corrupt, "\(schema.name) has no field numbered \(item.field)") }
            return Assignment(field: field.name, change: item.change)
        }
    }

    func isPersonal(_ id: FieldID) -> Bool { personalFieldIDs.contains(id) }

    func headOrder(_ id: FieldID) -> HeadOrder? {
        switch fieldsByID[id]?.policy {
        case .register?: return .stamp
        case .lifecycle(let lifecycle)?: return .precedence(lifecycle)
        default: return nil
        }
    }

    /// `UPDATE t SET <changed columns>, _fs_meta = ? WHERE id = ?`, one cached text per column set.
    func updateSQL(changing changed: [FieldID]) -> String {
        if let sql = updateSQLs[changed] { return sql }
        let sets = changed.map { StoreLayout.quoted(fieldsByID[$0]!.name) + " = ?" } + ["_fs_meta = ?"]
        let sql = "UPDATE \(table) SET " + sets.joined(separator: ", ") + " WHERE id = ?"
        updateSQLs[changed] = sql
        return sql
    }
}
