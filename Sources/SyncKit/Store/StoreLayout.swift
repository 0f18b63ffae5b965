/// The SQLite layout of a replica file (Design.md, "Storage layout"). Internal tables start
/// with `_fs_`; each collection is a plain table named after it.
enum StoreLayout {
    /// `PRAGMA user_version` of a replica file written by this version.
    static let formatVersion: Int64 = 2
    /// Formats this version opens (and upgrades to `formatVersion` on open: format 2 added
    /// `_fs_cover` and `_fs_bootstrap`, created empty).
    static let readableFormats: Set<Int64> = [1, 2]

    /// The local replica is always entry 1 of `_fs_replica`.
    static let localReplicaIndex: Int64 = 1

    static let createInternalTables = """
        CREATE TABLE IF NOT EXISTS _fs_state(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_replica(idx INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS _fs_collection(
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, cell_field TEXT, natural_key TEXT);
        CREATE TABLE IF NOT EXISTS _fs_field(
            collection INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
            policy TEXT NOT NULL, review INTEGER NOT NULL, precedence TEXT,
            PRIMARY KEY(collection, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_op(
            replica INTEGER NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,
            collection INTEGER NOT NULL, entity TEXT NOT NULL, body BLOB NOT NULL,
            PRIMARY KEY(replica, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_tombstone(
            collection INTEGER NOT NULL, entity TEXT NOT NULL, cell TEXT,
            fields BLOB NOT NULL, meta BLOB NOT NULL, PRIMARY KEY(collection, entity)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _fs_tombstone_cell ON _fs_tombstone(collection, cell, entity);
        CREATE TABLE IF NOT EXISTS _fs_conflict(
            collection INTEGER NOT NULL, entity TEXT NOT NULL, field INTEGER NOT NULL, review INTEGER NOT NULL,
            PRIMARY KEY(collection, entity, field)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_quarantine(
            replica BLOB NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
            received_millis INTEGER NOT NULL, op BLOB NOT NULL, PRIMARY KEY(replica, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_cursor(cell TEXT PRIMARY KEY NOT NULL, cseq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_bootstrap(cell TEXT PRIMARY KEY NOT NULL, after TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_cover(
            collection INTEGER NOT NULL, entity TEXT NOT NULL, replica INTEGER NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY(collection, entity, replica)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _fs_held(
            seq INTEGER PRIMARY KEY, reason TEXT NOT NULL, detail TEXT, held_millis INTEGER NOT NULL);
        CREATE VIEW IF NOT EXISTS _fs_outbox AS
            SELECT seq, hlc, collection, entity, body FROM _fs_op
            WHERE replica = 1 AND seq > coalesce((SELECT value FROM _fs_state WHERE key = 'acked_seq'), 0);
        """

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
