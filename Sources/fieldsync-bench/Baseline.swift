import Foundation
import SyncKit

/// Plain SQLite holding the same rows as SyncKit's plain table, with none of the sync
/// machinery: the yardstick every ratio is measured against.
///
///     let plain = try Baseline(path: path, schema: Households.schema)
///     let update = try plain.updateStatement(setting: "phone")
///     try plain.db.transaction { try plain.run(update, [.text("13800138000"), .text(id)]) }
///
/// The table has SyncKit's shape (`id TEXT PRIMARY KEY NOT NULL`, the same columns with the
/// same types, a counter `NOT NULL DEFAULT 0`, `WITHOUT ROWID`, the index on the cell column)
/// and the connection SyncKit's `Connection` opens (WAL, synchronous=NORMAL, the same pragmas).
final class Baseline {
    static let table = "t"

    let db: Connection
    let schema: CollectionSchema

    init(path: String, schema: CollectionSchema) throws {
        db = try Connection(path: path)
        self.schema = schema
        let columns = schema.fields.map { field in
            "\(Self.quoted(field.name)) \(Self.columnType(field))\(field.policy == .counter ? " NOT NULL DEFAULT 0" : "")"
        }
        try db.execute("CREATE TABLE \(Self.table)(id TEXT PRIMARY KEY NOT NULL, \(columns.joined(separator: ", "))) WITHOUT ROWID")
        if let cell = schema.cellField {
            // SyncKit indexes the cell column of every plain table; so does an app that lists a cell.
            try db.execute("CREATE INDEX \(Self.table)_cell ON \(Self.table)(\(Self.quoted(cell)))")
        }
    }

    static var libraryVersion: String { Connection.libraryVersion }

    /// `INSERT INTO t(id, <every field>) VALUES (?, ...)`.
    func insertStatement() throws -> Statement {
        let columns = ["id"] + schema.fields.map { Self.quoted($0.name) }
        return try db.prepare("INSERT INTO \(Self.table)(\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))")
    }

    /// `UPDATE t SET <field> = ? WHERE id = ?`.
    func updateStatement(setting field: String) throws -> Statement {
        try db.prepare("UPDATE \(Self.table) SET \(Self.quoted(field)) = ? WHERE id = ?")
    }

    /// Binds `values` to parameters 1..., runs the statement to completion and resets it.
    func run(_ statement: Statement, _ values: [Value]) throws {
        defer { statement.reset() }
        var index: Int32 = 1
        for value in values {
            try statement.bind(value, at: index)
            index += 1
        }
        while try statement.step() {}
    }

    func insert(_ household: Household, with statement: Statement) throws {
        try run(statement, [.text(household.id.rawValue)] + household.plainValues)
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// SyncKit's column type for a field: a set is a JSON array in TEXT.
    static func columnType(_ field: FieldSchema) -> String {
        if field.policy == .set { return "TEXT" }
        switch field.type {
        case .int, .bool: return "INTEGER"
        case .real: return "REAL"
        case .text: return "TEXT"
        case .blob: return "BLOB"
        }
    }
}
