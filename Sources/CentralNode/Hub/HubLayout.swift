/// The central node's own tables, beside the replica's (Design.md, "Central node").
enum HubLayout {
    static let createTables = """
        CREATE TABLE IF NOT EXISTS central_device(
            name TEXT PRIMARY KEY NOT NULL, token_hash BLOB NOT NULL UNIQUE, replica BLOB UNIQUE,
            revoked INTEGER NOT NULL DEFAULT 0, enrolled_millis INTEGER NOT NULL, last_seen_millis INTEGER,
            accepted_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS central_device_cell(
            name TEXT NOT NULL, cell TEXT NOT NULL, current INTEGER NOT NULL, PRIMARY KEY(name, cell)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS central_log(
            cseq INTEGER PRIMARY KEY AUTOINCREMENT, cell TEXT NOT NULL, replica BLOB NOT NULL, seq INTEGER NOT NULL, op BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS central_log_cell ON central_log(cell, cseq);
        -- A record's history, for the operations a snapshot covers and for moving records.
        CREATE INDEX IF NOT EXISTS central_op_record ON _fs_op(collection, entity);
        CREATE TABLE IF NOT EXISTS central_audit(
            id INTEGER PRIMARY KEY, at_millis INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
        """
}
