import CSQLite

/// One SQLite connection: opened in WAL mode with extended result codes, a busy timeout and
/// `synchronous=NORMAL`, with a map of cached prepared statements.
///
///     let db = try Connection(path: "replica.db")
///     try db.transaction { try db.execute("INSERT INTO t VALUES (1)") }
///
/// A database file is created owner-only (0600) before SQLite opens it, and one found open to
/// other users is made owner-only (`OwnerOnlyFile.prepareDatabase`): it holds personal data.
/// ':memory:', '' (a private temporary database) and `file:` URIs are left to SQLite.
///
/// Not Sendable: exactly one owner (the replica's lock) uses a connection.
package final class Connection {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    package let path: String

    /// How long a writer waits for another connection's lock before SQLITE_BUSY.
    package static let busyTimeoutMillis: Int32 = 5_000
    /// The page cache of one connection. SQLite's default (2 MiB) makes a batch that touches
    /// records scattered by random ids go to the kernel for most pages.
    package static let cacheKiB = 32 * 1024

    /// `key`: the database is encrypted with it (SQLCipher's interface); refused with a clear
    /// error when this SQLite cannot encrypt. Debian's SQLite cannot.
    package init(path: String, readOnly: Bool = false, key: DatabaseKey? = nil) throws {
        if Self.isFilePath(path) {
            try OwnerOnlyFile.prepareDatabase(atPath: path, creating: !readOnly)
        }
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(code: rc, db: db, sql: nil)
            sqlite3_close_v2(db)  // the handle must be closed even when open fails
            throw error
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Self.busyTimeoutMillis)
        do {
            // The key goes first: with SQLCipher nothing of the file can be read before it.
            if let key { try Self.applyKey(key, to: self) }
            if !readOnly && path != ":memory:" && !path.hasPrefix("file::memory:") {
                try execute("PRAGMA journal_mode=WAL")
            }
            try execute("PRAGMA synchronous=NORMAL")
            try execute("PRAGMA cache_size=-\(Self.cacheKiB)")
            // Sorts, and the sub-journal of a savepoint (the central node commits several
            // devices' pushes together, each in a savepoint), in memory rather than in a file.
            try execute("PRAGMA temp_store=MEMORY")
            try execute("PRAGMA foreign_keys=ON")
            // Deleted content is zeroed, not left in free space: a record that leaves a device
            // (with its operations) is not in the file's bytes any more once the write-ahead log
            // is truncated (Design.md section 4, "Personal data in the files").
            try execute("PRAGMA secure_delete=ON")
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
    }

    /// Gives the connection its key, and checks that it took: a SQLite without encryption
    /// ignores `PRAGMA key` silently, and answers `PRAGMA cipher_version` with nothing.
    private static func applyKey(_ key: DatabaseKey, to connection: Connection) throws {
        try connection.execute(key.pragma)
        guard let version = try connection.scalar("PRAGMA cipher_version")?.text, !version.isEmpty else {
            throw SyncError(.invalidInput, "this build's SQLite (\(String(cString: sqlite3_libversion()))) cannot encrypt a database, so the replica would be stored in plain text; link SyncKit with SQLCipher to use an encryption key, or open the replica without one (README, \"Encryption at rest\")")
        }
        // A wrong key shows at the first read of the file.
        do {
            _ = try connection.scalar("SELECT count(*) FROM sqlite_master")
        } catch {
            throw SyncError(.invalidInput, "the encryption key does not open this replica file (or the file is not a database); nothing was changed")
        }
    }

    /// Whether SQLite reads `path` as a file name (not an in-memory, temporary or URI database).
    static func isFilePath(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters.
    package func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw SQLiteError(extendedCode: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// A fresh statement, finalized when released.
    package func prepare(_ sql: String) throws -> Statement {
        try Statement(db: handle, sql: sql, persistent: false)
    }

    /// A statement kept for the connection's lifetime, reset and ready for use.
    package func cached(_ sql: String) throws -> Statement {
        if let statement = cache[sql] { return statement }
        let statement = try Statement(db: handle, sql: sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`; on a throw, rolls back and rethrows the
    /// first error. The body is synchronous, so nothing can await while the write lock is held.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try within("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` inside `BEGIN ... COMMIT` (a deferred, read transaction): every statement of
    /// it sees one snapshot of the database (WAL), whatever writers commit meanwhile.
    package func read<T>(_ body: () throws -> T) throws -> T {
        try within("BEGIN", body)
    }

    private func within<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(handle)) }

    package var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs a query and returns the first column of the first row, if any.
    package func scalar(_ sql: String, _ values: [Value] = []) throws -> Value? {
        let statement = try cached(sql)
        defer { statement.reset() }
        try statement.bind(values)
        guard try statement.step() else { return nil }
        return statement.storedValue(at: 0)
    }

    package static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
