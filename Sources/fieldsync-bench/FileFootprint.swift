import SyncKit

/// The bytes a closed database file occupies, measured after folding its WAL into it: the file
/// size (page_count × page_size) and, where SQLite has the `dbstat` table, the bytes of each
/// table and index.
///
///     let footprint = try FileFootprint(path: "replica.db")
///     footprint.fileBytes                    // 21_434_368
///     footprint.objectBytes?["_fs_op"]       // 9_371_648
struct FileFootprint {
    let fileBytes: Int
    let freelistPages: Int
    /// Bytes of the pages of each table and index by name; nil when `dbstat` is missing.
    let objectBytes: [String: Int]?

    /// Opens `path` with a fresh connection (the writer must be closed), checkpoints it with
    /// TRUNCATE, and measures it. `inspect` runs further queries on the same connection.
    init(path: String, inspect: (Connection) throws -> Void = { _ in }) throws {
        let db = try Connection(path: path)
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let pageCount = try db.scalar("PRAGMA page_count")?.int ?? 0
        let pageSize = try db.scalar("PRAGMA page_size")?.int ?? 0
        fileBytes = Int(pageCount * pageSize)
        freelistPages = Int(try db.scalar("PRAGMA freelist_count")?.int ?? 0)
        var objects: [String: Int]? = nil
        if let select = try? db.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name") {
            var bytes: [String: Int] = [:]
            while try select.step() { bytes[select.text(at: 0)] = Int(select.int64(at: 1)) }
            objects = bytes
        }
        objectBytes = objects
        try inspect(db)
    }

    var objectBytesJSON: JSONValue {
        .object((objectBytes ?? [:]).mapValues { .int($0) })
    }
}
