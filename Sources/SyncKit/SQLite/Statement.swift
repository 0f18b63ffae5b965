import CSQLite

/// A prepared SQLite statement that owns its handle: finalized when released.
///
///     let select = try connection.prepare("SELECT name FROM t WHERE id = ?")
///     try select.bind(.text("a"), at: 1)
///     while try select.step() { print(select.text(at: 0)) }
///
/// Not Sendable: a statement belongs to its connection, which belongs to one owner.
package final class Statement {
    let handle: OpaquePointer
    let db: OpaquePointer
    package let sql: String

    init(db: OpaquePointer, sql: String, persistent: Bool) throws {
        var stmt: OpaquePointer?
        let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(db, sql, -1, flags, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            sqlite3_finalize(stmt)
            throw SQLiteError(code: rc, db: db, sql: sql)
        }
        self.handle = stmt
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: Binding (1-based indexes, as SQLite counts)

    package func bind(_ value: Value, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .real(let v): rc = sqlite3_bind_double(handle, index, v)
        case .bool(let v): rc = sqlite3_bind_int64(handle, index, v ? 1 : 0)
        case .text(let v):
            // By byte count, not up to the first NUL: a text holding U+0000 is stored whole.
            var text = v
            rc = text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { chars in
                    guard let base = chars.baseAddress, chars.count > 0 else {
                        return sqlite3_bind_text(handle, index, "", 0, fieldsync_sqlite_transient())
                    }
                    return sqlite3_bind_text(handle, index, base, Int32(chars.count), fieldsync_sqlite_transient())
                }
            }
        case .blob(let v):
            rc = v.withUnsafeBytes { raw in
                sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), fieldsync_sqlite_transient())
            }
        }
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, db: db, sql: sql) }
    }

    package func bind(_ values: [Value]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    package func bind(_ value: Int64, at index: Int32) throws {
        let rc = sqlite3_bind_int64(handle, index, value)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, db: db, sql: sql) }
    }

    package func bind(_ value: String, at index: Int32) throws {
        try bind(.text(value), at: index)
    }

    package func bind(_ bytes: [UInt8], at index: Int32) throws {
        try bind(.blob(bytes), at: index)
    }

    // MARK: Stepping

    /// Advances the statement. Returns true when a row is available.
    @discardableResult
    package func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: rc, db: db, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Resets the statement and clears its bindings, ready for reuse.
    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds, runs to completion, and resets.
    package func run(_ values: [Value] = []) throws {
        defer { reset() }
        try bind(values)
        while try step() {}
    }

    // MARK: Columns (0-based indexes)

    package func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
    package func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    package func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }

    package func text(at index: Int32) -> String {
        guard let cString = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: cString, count: count), as: UTF8.self)
    }

    package func bytes(at index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let pointer = sqlite3_column_blob(handle, index) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column's value read as the given field type (NULL stays `.null`).
    package func value(at index: Int32, as type: FieldType) -> Value {
        if isNull(at: index) { return .null }
        switch type {
        case .int: return .int(int64(at: index))
        case .real: return .real(double(at: index))
        case .text: return .text(text(at: index))
        case .bool: return .bool(int64(at: index) != 0)
        case .blob: return .blob(bytes(at: index))
        }
    }

    /// The column's value by SQLite's own storage class.
    package func storedValue(at index: Int32) -> Value {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_BLOB: return .blob(bytes(at: index))
        default: return .text(text(at: index))
        }
    }

    package var columnCount: Int32 { sqlite3_column_count(handle) }
    package func columnName(at index: Int32) -> String { String(cString: sqlite3_column_name(handle, index)) }
}
