import Foundation
import SyncKit

/// The central node's own tables (devices, their cells, the central log, the audit), reached
/// through typed calls inside a transaction of the node's replica: the one place that holds their
/// SQL, so that the hub's logic names what it stores, not how, and the store could later live
/// elsewhere (PostgreSQL) behind the same calls. The replica's own state is reached through
/// `CentralAccess` (SyncKit).
///
///     try replica.centralTransaction { access in
///         let store = HubStore(access)
///         try store.appendLog(cell: "JS-0412", op: op.id, json: bytes)
///     }
struct HubStore {
    let access: CentralAccess

    init(_ access: CentralAccess) { self.access = access }

    private var db: Connection { access.db }

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
        -- The district's settings (retention) and the figures of the node's scheduled work.
        CREATE TABLE IF NOT EXISTS central_setting(key TEXT PRIMARY KEY NOT NULL, value INTEGER) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS central_audit(
            id INTEGER PRIMARY KEY, at_millis INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS central_audit_actor ON central_audit(actor, id);
        CREATE INDEX IF NOT EXISTS central_audit_action ON central_audit(action, id);
        -- Operators of the console and the admin API: Argon2id hashes in libargon2's encoded form.
        CREATE TABLE IF NOT EXISTS central_operator(
            name TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0, created_millis INTEGER NOT NULL, password_changed_millis INTEGER NOT NULL) WITHOUT ROWID;
        """

    /// Indexes of the console's searches and lists, on FieldKit's collections (a node that holds
    /// them): households by matching name key, phone and doorplate; doorplates by code; tasks by
    /// target; review items by status and cell; operations by clock (operations per day).
    static let createConsoleIndexes = """
        CREATE INDEX IF NOT EXISTS central_households_name ON households(head_name_key);
        CREATE INDEX IF NOT EXISTS central_households_phone ON households(phone);
        CREATE INDEX IF NOT EXISTS central_households_doorplate ON households(doorplate);
        CREATE INDEX IF NOT EXISTS central_doorplates_code ON doorplates(code);
        CREATE INDEX IF NOT EXISTS central_tasks_target ON tasks(target);
        CREATE INDEX IF NOT EXISTS central_review_items_status ON review_items(status, cell);
        CREATE INDEX IF NOT EXISTS central_op_hlc ON _fs_op(hlc);
        """

    /// Adds what later versions store to a node's file an earlier version made: the devices'
    /// hints (Step 9), wipes of lost devices (Step 10). Idempotent.
    static func upgrade(_ db: Connection) throws {
        var columns: Set<String> = []
        let info = try db.prepare("PRAGMA table_info(central_device)")
        while try info.step() { columns.insert(info.text(at: 1)) }
        let added = [("unsynced_hint", "INTEGER"), ("clock_offset_millis", "INTEGER"), ("hint_millis", "INTEGER"),
                     ("wipe_requested_millis", "INTEGER"), ("wipe_reason", "TEXT"), ("wiped_millis", "INTEGER")]
        for (column, type) in added where !columns.contains(column) {
            try db.execute("ALTER TABLE central_device ADD COLUMN \(column) \(type)")
        }
    }

    // MARK: Devices

    /// A device as its token finds it: name, bound replica, revoked, and the stored token hash.
    struct TokenRow {
        var name: String
        var replica: ReplicaID?
        var revoked: Bool
        var tokenHash: [UInt8]
        /// An operator asked the device to erase its data (lost or stolen): the reason.
        var wipeReason: String? = nil
        /// When the device said it had.
        var wipedMillis: Int64? = nil
    }

    func device(byTokenHash hash: [UInt8]) throws -> TokenRow? {
        let select = try db.cached("""
            SELECT name, replica, revoked, token_hash, CASE WHEN wipe_requested_millis IS NULL THEN NULL ELSE coalesce(wipe_reason, 'lost') END, wiped_millis
            FROM central_device WHERE token_hash = ?
            """)
        defer { select.reset() }
        try select.bind([.blob(hash)])
        guard try select.step() else { return nil }
        return TokenRow(name: select.text(at: 0), replica: select.isNull(at: 1) ? nil : ReplicaID(bytes: select.bytes(at: 1)),
                        revoked: select.int64(at: 2) != 0, tokenHash: select.bytes(at: 3),
                        wipeReason: select.isNull(at: 4) ? nil : select.text(at: 4), wipedMillis: select.isNull(at: 5) ? nil : select.int64(at: 5))
    }

    /// Revokes a device and asks it to erase its data at its next contact; false when there is
    /// no device of that name.
    func requestWipe(_ name: String, reason: String, atMillis: Int64) throws -> Bool {
        try db.cached("UPDATE central_device SET revoked = 1, wipe_requested_millis = coalesce(wipe_requested_millis, ?), wipe_reason = ? WHERE name = ?")
            .run([.int(atMillis), .text(reason), .text(name)])
        return db.changes == 1
    }

    /// The device erased its data (kept at the first time it said so).
    func confirmWipe(_ name: String, atMillis: Int64) throws {
        try db.cached("UPDATE central_device SET wiped_millis = coalesce(wiped_millis, ?) WHERE name = ?").run([.int(atMillis), .text(name)])
    }

    func deviceExists(_ name: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM central_device WHERE name = ?", [.text(name)]) != nil
    }

    /// The device a replica id is bound to, if any.
    func deviceName(boundTo replica: ReplicaID) throws -> String? {
        try db.scalar("SELECT name FROM central_device WHERE replica = ?", [.blob(replica.bytes)])?.text
    }

    /// A device's bound replica: nil when there is no such device, `.some(nil)` when it has
    /// never synced.
    func boundReplica(of name: String) throws -> ReplicaID?? {
        guard let row = try db.scalar("SELECT replica FROM central_device WHERE name = ?", [.text(name)]) else { return nil }
        return .some(row.blob.flatMap(ReplicaID.init(bytes:)))
    }

    func isRevoked(_ name: String) throws -> Bool {
        (try db.scalar("SELECT revoked FROM central_device WHERE name = ?", [.text(name)])?.int ?? 0) != 0
    }

    /// The highest of the device's sequence numbers through which the node stores every one.
    func acceptedSeq(of name: String) throws -> UInt64 {
        UInt64(try db.scalar("SELECT accepted_seq FROM central_device WHERE name = ?", [.text(name)])?.int ?? 0)
    }

    /// The cells a device serves now, and every cell it ever served.
    func cells(of name: String) throws -> (current: Set<String>, ever: Set<String>) {
        var current = Set<String>(), ever = Set<String>()
        let select = try db.cached("SELECT cell, current FROM central_device_cell WHERE name = ?")
        defer { select.reset() }
        try select.bind([.text(name)])
        while try select.step() {
            ever.insert(select.text(at: 0))
            if select.int64(at: 1) != 0 { current.insert(select.text(at: 0)) }
        }
        return (current, ever)
    }

    func insertDevice(_ name: String, tokenHash: [UInt8], enrolledMillis: Int64) throws {
        try db.cached("INSERT INTO central_device(name, token_hash, enrolled_millis) VALUES (?, ?, ?)")
            .run([.text(name), .blob(tokenHash), .int(enrolledMillis)])
    }

    /// Revokes a device; false when there is none of that name.
    func revoke(_ name: String) throws -> Bool {
        try db.cached("UPDATE central_device SET revoked = 1 WHERE name = ?").run([.text(name)])
        return db.changes == 1
    }

    /// Makes `cells` the device's current cells; the others it served stay, as served before.
    func setCells(_ cells: [String], of name: String) throws {
        try db.cached("UPDATE central_device_cell SET current = 0 WHERE name = ?").run([.text(name)])
        for cell in cells {
            try db.cached("INSERT INTO central_device_cell(name, cell, current) VALUES (?, ?, 1) ON CONFLICT(name, cell) DO UPDATE SET current = 1")
                .run([.text(name), .text(cell)])
        }
    }

    func bind(_ replica: ReplicaID, to name: String) throws {
        try db.cached("UPDATE central_device SET replica = ? WHERE name = ?").run([.blob(replica.bytes), .text(name)])
    }

    /// After a push: the device's accepted sequence number, and when it was seen.
    func recordPush(of name: String, acceptedSeq: UInt64, seenMillis: Int64) throws {
        try db.cached("UPDATE central_device SET accepted_seq = ?, last_seen_millis = ? WHERE name = ?")
            .run([.int(Int64(acceptedSeq)), .int(seenMillis), .text(name)])
    }

    /// A device's hints of its last exchange (kept if a later one is stored).
    func setHint(_ hint: DeviceHint, of name: String) throws {
        try db.cached("""
            UPDATE central_device SET unsynced_hint = ?, clock_offset_millis = ?, hint_millis = ?
            WHERE name = ? AND coalesce(hint_millis, 0) <= ?
            """).run([hint.unsynced.map { .int(Int64($0)) } ?? .null, hint.clockOffsetMillis.map(Value.int) ?? .null,
                      .int(hint.atMillis), .text(name), .int(hint.atMillis)])
    }

    /// A device seen at `millis` (kept if it was seen later).
    func noteSeen(_ name: String, atMillis millis: Int64) throws {
        try db.cached("UPDATE central_device SET last_seen_millis = max(coalesce(last_seen_millis, 0), ?) WHERE name = ?")
            .run([.int(millis), .text(name)])
    }

    /// Every device by name, with its current cells.
    func devices() throws -> [DeviceInfo] {
        let select = try db.prepare("""
            SELECT name, replica, revoked, enrolled_millis, last_seen_millis,
                   (SELECT group_concat(cell, ',') FROM (SELECT cell FROM central_device_cell c WHERE c.name = d.name AND current = 1 ORDER BY cell)),
                   unsynced_hint, clock_offset_millis, hint_millis, wipe_requested_millis, wipe_reason, wiped_millis
            FROM central_device d ORDER BY name
            """)
        var result: [DeviceInfo] = []
        while try select.step() {
            result.append(DeviceInfo(name: select.text(at: 0), replica: select.isNull(at: 1) ? nil : ReplicaID(bytes: select.bytes(at: 1)),
                                     cells: select.isNull(at: 5) ? [] : select.text(at: 5).split(separator: ",").map(String.init),
                                     revoked: select.int64(at: 2) != 0, enrolledMillis: select.int64(at: 3),
                                     lastSeenMillis: select.isNull(at: 4) ? nil : select.int64(at: 4),
                                     hint: select.isNull(at: 8) ? nil : DeviceHint(
                                        unsynced: select.isNull(at: 6) ? nil : Int(select.int64(at: 6)),
                                        clockOffsetMillis: select.isNull(at: 7) ? nil : select.int64(at: 7), atMillis: select.int64(at: 8)),
                                     wipe: select.isNull(at: 9) ? nil : DeviceWipe(requestedMillis: select.int64(at: 9),
                                        reason: select.isNull(at: 10) ? "lost" : select.text(at: 10), wipedMillis: select.isNull(at: 11) ? nil : select.int64(at: 11))))
        }
        return result
    }

    // MARK: The central log

    /// The newest central sequence number (0 for an empty log).
    func maxCseq() throws -> UInt64 {
        UInt64(try db.scalar("SELECT coalesce(max(cseq), 0) FROM central_log")?.int ?? 0)
    }

    /// Logs an operation's canonical bytes under a cell; it gets the next central sequence number.
    func appendLog(cell: String, op: OpID, json: [UInt8]) throws {
        try db.cached("INSERT INTO central_log(cell, replica, seq, op) VALUES (?, ?, ?, ?)")
            .run([.text(cell), .blob(op.replica.bytes), .int(Int64(bitPattern: op.seq)), .blob(json)])
    }

    /// One entry of a cell's log.
    struct LogEntry {
        var cseq: UInt64
        var op: OpID
        var json: [UInt8]
    }

    /// A cell's log after `cseq`, in order, at most `limit` entries, leaving out the operations
    /// of `replica` with sequence numbers in `excluded` (what the asking device just pushed).
    func log(cell: String, after cseq: UInt64, excluding replica: ReplicaID, seqs excluded: ClosedRange<UInt64>?, limit: Int) throws -> [LogEntry] {
        let select = try db.cached("""
            SELECT cseq, op, replica, seq FROM central_log WHERE cell = ? AND cseq > ? AND (replica != ? OR seq NOT BETWEEN ? AND ?) ORDER BY cseq LIMIT ?
            """)
        defer { select.reset() }
        let range = excluded.map { (Int64(bitPattern: $0.lowerBound), Int64(bitPattern: $0.upperBound)) } ?? (1, 0)
        try select.bind([.text(cell), .int(Int64(cseq)), .blob(replica.bytes), .int(range.0), .int(range.1), .int(Int64(limit))])
        var entries: [LogEntry] = []
        while try select.step() {
            guard let replica = ReplicaID(bytes: select.bytes(at: 2)) else {
                throw SyncError(.corrupt, "central log entry \(select.int64(at: 0)) names no replica")
            }
            entries.append(LogEntry(cseq: UInt64(select.int64(at: 0)), op: OpID(replica: replica, seq: UInt64(bitPattern: select.int64(at: 3))),
                                    json: select.bytes(at: 1)))
        }
        return entries
    }

    /// The entries of a cell's log that carry one of `ops` (an erased record's operations): the
    /// cell's entries are read through its index, the others skipped without their JSON.
    func logEntries(cell: String, of ops: Set<OpID>) throws -> [(cseq: Int64, op: OpID, json: [UInt8])] {
        let select = try db.prepare("SELECT cseq, replica, seq FROM central_log WHERE cell = ? ORDER BY cseq")
        try select.bind([.text(cell)])
        var found: [(Int64, OpID)] = []
        while try select.step() {
            guard let replica = ReplicaID(bytes: select.bytes(at: 1)) else { continue }
            let op = OpID(replica: replica, seq: UInt64(bitPattern: select.int64(at: 2)))
            if ops.contains(op) { found.append((select.int64(at: 0), op)) }
        }
        return try found.map { cseq, op in
            (cseq, op, try db.scalar("SELECT op FROM central_log WHERE cseq = ?", [.int(cseq)])?.blob ?? [])
        }
    }

    /// A setting or figure of the node (nil: never set).
    func setting(_ key: String) throws -> Int64? {
        try db.scalar("SELECT value FROM central_setting WHERE key = ?", [.text(key)])?.int
    }

    func setSetting(_ key: String, _ value: Int64?) throws {
        if let value {
            try db.cached("INSERT INTO central_setting(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run([.text(key), .int(value)])
        } else {
            try db.cached("DELETE FROM central_setting WHERE key = ?").run([.text(key)])
        }
    }

    /// Entries of the whole central log after `cseq`, in order, at most `limit`, as (cseq, op):
    /// the retention pass reads the log in slices without its JSON.
    func logSlice(after cseq: Int64, limit: Int) throws -> [(cseq: Int64, op: OpID)] {
        let select = try db.cached("SELECT cseq, replica, seq FROM central_log WHERE cseq > ? ORDER BY cseq LIMIT ?")
        defer { select.reset() }
        try select.bind([.int(cseq), .int(Int64(limit))])
        var slice: [(Int64, OpID)] = []
        while try select.step() {
            guard let replica = ReplicaID(bytes: select.bytes(at: 1)) else { continue }
            slice.append((select.int64(at: 0), OpID(replica: replica, seq: UInt64(bitPattern: select.int64(at: 2)))))
        }
        return slice
    }

    /// Replaces the operation an entry of the central log carries (its erased form).
    func replaceLogEntry(cseq: Int64, json: [UInt8]) throws {
        try db.cached("UPDATE central_log SET op = ? WHERE cseq = ?").run([.blob(json), .int(cseq)])
    }

    /// Cells with a log (the pseudo-cell "" aside) or a device serving them, in order.
    func knownCells() throws -> [String] {
        let select = try db.prepare("""
            SELECT DISTINCT cell FROM central_log WHERE cell <> ''
            UNION SELECT cell FROM central_device_cell WHERE current = 1 ORDER BY 1
            """)
        var cells: [String] = []
        while try select.step() { cells.append(select.text(at: 0)) }
        return cells
    }

    /// Distinct logged operations per day (days since 1970, UTC, from their clock readings).
    func operationsPerDay() throws -> [(dayNumber: Int64, operations: Int)] {
        // One row per distinct operation (a move logs an operation under two cells); the day
        // is the millisecond part of its clock reading ("<millis>.<counter>").
        let select = try db.prepare("""
            SELECT CAST(substr(hlc, 1, instr(hlc, '.') - 1) AS INTEGER) / \(HubStats.millisPerDay) AS day, count(*)
            FROM (SELECT json_extract(CAST(op AS TEXT), '$.hlc') AS hlc FROM central_log GROUP BY replica, seq)
            WHERE hlc IS NOT NULL GROUP BY day ORDER BY day
            """)
        var rows: [(dayNumber: Int64, operations: Int)] = []
        while try select.step() { rows.append((select.int64(at: 0), Int(select.int64(at: 1)))) }
        return rows
    }

    // MARK: Operators

    func operatorExists(_ name: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM central_operator WHERE name = ?", [.text(name)]) != nil
    }

    func insertOperator(_ name: String, role: OperatorRole, passwordHash: String, atMillis: Int64) throws {
        try db.cached("INSERT INTO central_operator(name, role, password_hash, created_millis, password_changed_millis) VALUES (?, ?, ?, ?, ?)")
            .run([.text(name), .text(role.rawValue), .text(passwordHash), .int(atMillis), .int(atMillis)])
    }

    /// An operator's role, stored hash and whether it is disabled; nil when there is none.
    func credentials(of name: String) throws -> (role: OperatorRole, passwordHash: String, disabled: Bool)? {
        let select = try db.cached("SELECT role, password_hash, disabled FROM central_operator WHERE name = ?")
        defer { select.reset() }
        try select.bind([.text(name)])
        guard try select.step(), let role = OperatorRole(rawValue: select.text(at: 0)) else { return nil }
        return (role, select.text(at: 1), select.int64(at: 2) != 0)
    }

    /// Sets an operator's disabled flag; false when there is none of that name.
    func setOperatorDisabled(_ name: String, _ disabled: Bool) throws -> Bool {
        try db.cached("UPDATE central_operator SET disabled = ? WHERE name = ?").run([.bool(disabled), .text(name)])
        return db.changes == 1
    }

    /// Replaces an operator's password (and enables it again); false when there is none.
    func setPassword(of name: String, hash: String, atMillis: Int64) throws -> Bool {
        try db.cached("UPDATE central_operator SET password_hash = ?, password_changed_millis = ?, disabled = 0 WHERE name = ?")
            .run([.text(hash), .int(atMillis), .text(name)])
        return db.changes == 1
    }

    func setRole(of name: String, _ role: OperatorRole) throws -> Bool {
        try db.cached("UPDATE central_operator SET role = ? WHERE name = ?").run([.text(role.rawValue), .text(name)])
        return db.changes == 1
    }

    func operators() throws -> [OperatorInfo] {
        let select = try db.prepare("SELECT name, role, disabled, created_millis, password_changed_millis FROM central_operator ORDER BY name")
        var result: [OperatorInfo] = []
        while try select.step() {
            result.append(OperatorInfo(name: select.text(at: 0), role: OperatorRole(rawValue: select.text(at: 1)) ?? .viewer,
                                       disabled: select.int64(at: 2) != 0, createdMillis: select.int64(at: 3),
                                       passwordChangedMillis: select.int64(at: 4)))
        }
        return result
    }

    // MARK: The audit

    func appendAudit(atMillis: Int64, actor: String, action: String, detail: String) throws {
        try db.cached("INSERT INTO central_audit(at_millis, actor, action, detail) VALUES (?, ?, ?, ?)")
            .run([.int(atMillis), .text(actor), .text(action), .text(detail)])
    }

    /// The newest `limit` entries, oldest first.
    func audit(limit: Int) throws -> [(atMillis: Int64, actor: String, action: String, detail: String)] {
        let select = try db.prepare("SELECT at_millis, actor, action, detail FROM central_audit ORDER BY id DESC LIMIT ?")
        try select.bind([.int(Int64(limit))])
        var rows: [(Int64, String, String, String)] = []
        while try select.step() { rows.append((select.int64(at: 0), select.text(at: 1), select.text(at: 2), select.text(at: 3))) }
        return rows.reversed().map { (atMillis: $0.0, actor: $0.1, action: $0.2, detail: $0.3) }
    }
}
