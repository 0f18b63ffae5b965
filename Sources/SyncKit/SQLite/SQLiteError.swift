import CSQLite

/// An error reported by SQLite: the extended result code, SQLite's message and the SQL text.
///
/// Bound values are never part of the error: they may be personal data (a household's phone).
///
///     do { try db.execute("INSERT INTO t VALUES (1)") }
///     catch let error as SQLiteError where error.primaryCode == SQLITE_CONSTRAINT { ... }
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's extended result code (e.g. 2067 for SQLITE_CONSTRAINT_UNIQUE).
    public let extendedCode: Int32
    /// SQLite's own message for the failure.
    public let message: String
    /// The statement that failed, if any. Contains placeholders, never bound values.
    public let sql: String?

    /// The primary result code (the low byte of the extended one).
    public var primaryCode: Int32 { extendedCode & 0xFF }

    package init(extendedCode: Int32, message: String, sql: String? = nil) {
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
    }

    package init(code: Int32, db: OpaquePointer?, sql: String? = nil) {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? code
        let text = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
        self.init(extendedCode: extended == 0 ? code : extended, message: text, sql: sql)
    }

    public var description: String {
        var text = "SQLite error \(extendedCode): \(message)"
        if let sql { text += " (in: \(sql))" }
        return text
    }

    /// True when the database file is locked by another connection past the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
}
