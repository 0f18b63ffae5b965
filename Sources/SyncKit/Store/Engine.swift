import Foundation

/// Points between the statements of a write where a test can inject a failure, to prove that a
/// write or a batch that fails half way leaves no partial state.
package enum FaultPoint: Sendable, Equatable {
    case afterEntitySave
    case afterLogInsert
    case beforeCommit
}

/// A record's stored state as loaded: where it lives, its merge state and its visible values.
struct LoadedEntity {
    enum Location { case none, live, tombstone }
    var location: Location
    var state: EntityState
    var values: FieldMap<Value>
}

/// The single owner of a replica's connection: every read and write of the file goes through
/// it, under `Replica`'s lock. Not Sendable by design.
final class Engine {
    let db: Connection
    let catalog: Catalog
    let directory: ReplicaDirectory
    let codec: MetaCodec
    let options: ReplicaOptions
    let localID: ReplicaID
    private(set) var localSeq: UInt64
    var clock: HybridLogicalClock
    /// The clock bound stored in the file: every stamp issued is below it, so a restarted
    /// replica resumes from it and never reissues a stamp. It is moved `hlcLeaseMillis` ahead
    /// at a time, so most commits need not write it.
    private var persistedHLC: HLCTimestamp
    static let hlcLeaseMillis: UInt64 = 10_000
    /// Rows in `_fs_quarantine`, so that the common case (none) needs no lookup per operation.
    var quarantineCount = 0
    /// Rows in `_fs_cover`, so that a replica never bootstrapped by snapshot needs no lookup.
    var coverCount = 0
    var rng: SplitMix64
    /// When set, every local operation written is appended here too, in the form the log reads
    /// back (`CentralAccess.writeLocal` returns them without reading the log).
    var localOpsWritten: [Op]?
    /// The record the open write transaction last loaded or saved, as it now stands: a record
    /// changed several times in a row (a form saved as an update, a visit counted and a tag
    /// added; the CLI's insert-or-update check and then the update) is read and decoded once.
    /// Write-through: the file always holds the record as saved, so every read in the
    /// transaction sees it. One entry, not a map of every record the transaction touched: on
    /// writes to random records that map cost a tenth of a write (hashing, growing, freeing; a
    /// ring of four still 8%) and never hit (`local_write_batched`, 2026-12-07).
    var lastRecord: (key: RecordKey, record: LoadedEntity)?
    /// A write transaction is open (the last record is kept only then).
    var inWriteTransaction = false

    struct RecordKey: Hashable {
        let collection: Int64
        let entity: String
    }

    /// Records touched by the open transaction, reported to observers after commit (appended
    /// per write, grouped once per commit by `changedRecords`).
    var touched: [(collection: String, entity: EntityID)] = []
    /// Records left this replica since the write-ahead log was last truncated (`evict`).
    var recordsLeft = false
    /// The replica was wiped at the central node's request (`Replica.wipe`): it takes no writes.
    var wipedMillis: Int64?

    /// The records the open transaction changed, by collection.
    var changedRecords: [String: Set<EntityID>] {
        var grouped: [String: Set<EntityID>] = [:]
        for (collection, entity) in touched { grouped[collection, default: []].insert(entity) }
        return grouped
    }

    /// A read-only engine on a file another engine (the writer) has opened: the catalog and the
    /// replica directory as stored, no writes. For the central node's pool of readers.
    init(readerOf path: String, schema: Schema, options: ReplicaOptions) throws {
        let db = try Connection(path: path, readOnly: true, key: options.encryptionKey)
        self.db = db
        self.options = options
        rng = SplitMix64(seed: 0)
        let (catalog, directory, localID) = try db.read { () throws -> (Catalog, ReplicaDirectory, ReplicaID) in
            guard let stored = try db.scalar("SELECT value FROM _fs_state WHERE key = 'replica'")?.blob, let id = ReplicaID(bytes: stored) else {
                throw SyncError(.corrupt, "replica file \(path) has no replica id; open it for writing first")
            }
            return (try Catalog(db: db, schema: schema), try ReplicaDirectory(db: db), id)
        }
        self.catalog = catalog
        self.directory = directory
        self.codec = MetaCodec(directory: directory)
        self.localID = localID
        localSeq = 0
        clock = HybridLogicalClock(last: .zero)
        persistedHLC = .zero
        coverCount = Int(try db.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0)
        quarantineCount = Int(try db.scalar("SELECT count(*) FROM _fs_quarantine")?.int ?? 0)
        dataVersion = try db.scalar("PRAGMA data_version")?.int ?? 0
    }

    init(path: String, schema: Schema, options: ReplicaOptions) throws {
        let db = try Connection(path: path, key: options.encryptionKey)
        self.db = db
        self.options = options
        var generator = SplitMix64(seed: options.randomSeed ?? UInt64.random(in: .min ... .max))
        let version = try db.scalar("PRAGMA user_version")?.int ?? 0
        guard version == 0 || StoreLayout.readableFormats.contains(version) else {
            throw SyncError(.schemaMismatch, "replica file \(path) has format \(version); this build reads formats \(StoreLayout.readableFormats.sorted().map(String.init).joined(separator: ", ")). Upgrade the app")
        }
        let (catalog, directory, localID) = try db.transaction { () throws -> (Catalog, ReplicaDirectory, ReplicaID) in
            try db.execute(StoreLayout.createInternalTables)
            try db.execute("PRAGMA user_version = \(StoreLayout.formatVersion)")
            let localID = try Self.localReplica(db: db, path: path, wanted: options.replicaID, generator: &generator)
            return (try Catalog(db: db, schema: schema), try ReplicaDirectory(db: db), localID)
        }
        rng = generator
        self.catalog = catalog
        self.directory = directory
        self.codec = MetaCodec(directory: directory)
        self.localID = localID
        // Acknowledged operations may have left the log (their records left the device's
        // cells): the acknowledged number still counts, so no sequence number is ever reused.
        localSeq = UInt64(max(try db.scalar("SELECT max(seq) FROM _fs_op WHERE replica = ?", [.int(StoreLayout.localReplicaIndex)])?.int ?? 0,
                              try db.scalar("SELECT value FROM _fs_state WHERE key = 'acked_seq'")?.int ?? 0))
        if let seed = options.randomSeed, localSeq > 0 {
            // A seeded replica that is reopened must not draw the same record ids again.
            rng = SplitMix64(seed: seed ^ (localSeq &* 0x9E37_79B9_7F4A_7C15))
        }
        // The stored bound is `hlcLeaseMillis` ahead of the reading it was written at: every
        // stamp issued since lies between the two. Resume from the last stamp actually issued
        // (the newest local operation), or from the start of the lease: resuming from the bound
        // itself moved a replica's clock 10 s ahead at every open, and a device driven by one
        // short command after another ended up beyond the central node's drift bound.
        let bound = HLCTimestamp(rawValue: UInt64(bitPattern: try db.scalar("SELECT value FROM _fs_state WHERE key = 'hlc'")?.int ?? 0))
        let leaseStart = HLCTimestamp(millis: bound.millis >= Self.hlcLeaseMillis ? bound.millis - Self.hlcLeaseMillis : 0, counter: 0)
        let lastLocal = HLCTimestamp(rawValue: UInt64(bitPattern: try db.scalar(
            "SELECT hlc FROM _fs_op WHERE replica = ? ORDER BY seq DESC LIMIT 1", [.int(StoreLayout.localReplicaIndex)])?.int ?? 0))
        clock = HybridLogicalClock(last: bound == .zero ? .zero : max(leaseStart, lastLocal))
        persistedHLC = bound
        clockOffsetMillis = try db.scalar("SELECT value FROM _fs_state WHERE key = 'clock_offset'")?.int ?? 0
        wipedMillis = try db.scalar("SELECT value FROM _fs_state WHERE key = 'wiped_millis'")?.int
        quarantineCount = Int(try db.scalar("SELECT count(*) FROM _fs_quarantine")?.int ?? 0)
        coverCount = Int(try db.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0)
        dataVersion = try db.scalar("PRAGMA data_version")?.int ?? 0
    }

    /// `PRAGMA data_version` when this connection last looked: it changes when another
    /// connection (another process: `central import-csv` while `central serve` runs) commits.
    private var dataVersion: Int64 = 0

    /// Reloads what this engine caches of the file when another connection has committed since
    /// it last looked: the replica directory (an imported bundle registers new replicas), the
    /// quarantine and cover counts (fast paths that skip a lookup when zero), the clock (the
    /// other process may have stamped operations of this replica) and the clock offset. Called
    /// at the start of every transaction, under the write lock. (Reads outside a transaction
    /// need only the directory, which looks up what it does not know.)
    func refreshIfChangedElsewhere() throws {
        let version = try db.scalar("PRAGMA data_version")?.int ?? 0
        guard version != dataVersion else { return }
        dataVersion = version
        try directory.reload()
        quarantineCount = Int(try db.scalar("SELECT count(*) FROM _fs_quarantine")?.int ?? 0)
        coverCount = Int(try db.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0)
        clockOffsetMillis = try db.scalar("SELECT value FROM _fs_state WHERE key = 'clock_offset'")?.int ?? clockOffsetMillis
        // Never behind a stamp another process issued for this replica: its stamps keep increasing.
        let lastLocal = HLCTimestamp(rawValue: UInt64(bitPattern: try db.scalar(
            "SELECT hlc FROM _fs_op WHERE replica = ? ORDER BY seq DESC LIMIT 1", [.int(StoreLayout.localReplicaIndex)])?.int ?? 0))
        if lastLocal > clock.last { clock = HybridLogicalClock(last: lastLocal) }
        let bound = HLCTimestamp(rawValue: UInt64(bitPattern: try db.scalar("SELECT value FROM _fs_state WHERE key = 'hlc'")?.int ?? 0))
        if bound > persistedHLC { persistedHLC = bound }
    }

    func state(_ key: String) throws -> Int64? {
        try db.scalar("SELECT value FROM _fs_state WHERE key = ?", [.text(key)])?.int
    }

    func setState(_ key: String, _ value: Int64) throws {
        try db.cached("INSERT OR REPLACE INTO _fs_state(key, value) VALUES (?, ?)").run([.text(key), .int(value)])
    }

    /// The file's own replica id, created (entry 1 of `_fs_replica`) for a new file.
    private static func localReplica(db: Connection, path: String, wanted: ReplicaID?, generator: inout SplitMix64) throws -> ReplicaID {
        if let stored = try db.scalar("SELECT value FROM _fs_state WHERE key = 'replica'")?.blob {
            guard let id = ReplicaID(bytes: stored) else { throw SyncError(.corrupt, "stored replica id is not 16 bytes") }
            if let wanted, wanted != id {
                throw SyncError(.invalidInput, "replica file \(path) belongs to replica \(id.hex), not \(wanted.hex)")
            }
            return id
        }
        let id = wanted ?? ReplicaID(using: &generator)
        try db.cached("INSERT INTO _fs_state(key, value) VALUES ('replica', ?)").run([.blob(id.bytes)])
        try db.cached("INSERT INTO _fs_replica(idx, id) VALUES (?, ?)").run([.int(StoreLayout.localReplicaIndex), .blob(id.bytes)])
        return id
    }

    /// The device's physical clock corrected by the offset learnt from the central node.
    var nowMillis: Int64 { options.clock.nowMillis() &+ clockOffsetMillis }
    /// Central time minus local physical time, as last measured (0 before any sync).
    var clockOffsetMillis: Int64 = 0

    func fault(_ point: FaultPoint) throws {
        try options.faultInjector?(point)
    }

    // MARK: Transactions

    /// A write transaction: on any throw, the file and the in-memory state (sequence number,
    /// clock, offset, caches) roll back together. The caller calls `committed()` after it.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        let seqBefore = localSeq, clockBefore = clock, offsetBefore = clockOffsetMillis
        inWriteTransaction = true
        lastRecord = nil
        defer {
            inWriteTransaction = false
            lastRecord = nil
        }
        do {
            return try db.transaction {
                try refreshIfChangedElsewhere()
                // Another process may have written local operations to this file since this one
                // last looked (`fieldsync record set` while `fieldsync sync` runs): continue after
                // them. One index seek; the write lock is held, so the number cannot move.
                let stored = UInt64(try db.scalar("SELECT max(seq) FROM _fs_op WHERE replica = ?", [.int(StoreLayout.localReplicaIndex)])?.int ?? 0)
                if stored > localSeq { localSeq = stored }
                let result = try body()
                if clock.last >= persistedHLC {
                    let bound = HLCTimestamp(millis: min(clock.last.millis + Self.hlcLeaseMillis, HLCTimestamp.millisMax), counter: 0)
                    try db.cached("INSERT OR REPLACE INTO _fs_state(key, value) VALUES ('hlc', ?)")
                        .run([.int(Int64(bitPattern: bound.rawValue))])
                    pendingHLC = bound
                }
                try fault(.beforeCommit)
                return result
            }
        } catch {
            localSeq = seqBefore
            clock = clockBefore
            clockOffsetMillis = offsetBefore
            touched = []
            pendingHLC = nil
            try? reloadRolledBackRows()
            throw error
        }
    }

    private var pendingHLC: HLCTimestamp?

    /// A part of the open write transaction that can fail alone (one device's push among those
    /// the central node commits together): on a throw, the file and the in-memory state roll back
    /// to where they were before `body`, and the transaction goes on. A rollback that itself
    /// fails throws `SavepointError`, and the caller must abandon the whole transaction.
    func savepoint<T>(_ body: () throws -> T) throws -> T {
        precondition(db.isInTransaction, "a savepoint runs inside a write transaction")
        let seqBefore = localSeq, clockBefore = clock, offsetBefore = clockOffsetMillis, rngBefore = rng
        let touchedBefore = touched.count
        try db.execute("SAVEPOINT fs_part")
        do {
            let result = try body()
            try db.execute("RELEASE fs_part")
            return result
        } catch {
            do {
                try db.execute("ROLLBACK TO fs_part")
                try db.execute("RELEASE fs_part")
                localSeq = seqBefore
                clock = clockBefore
                clockOffsetMillis = offsetBefore
                rng = rngBefore
                touched.removeSubrange(touchedBefore...)
                lastRecord = nil
                try reloadRolledBackRows()
            } catch let rollback {
                throw SavepointError(underlying: rollback)
            }
            throw error
        }
    }

    /// After a rollback, what this engine caches of rows the rolled-back writes may have added (a
    /// new replica in the directory, a quarantined or covered operation) is read again.
    private func reloadRolledBackRows() throws {
        try directory.reload()
        quarantineCount = Int(try db.scalar("SELECT count(*) FROM _fs_quarantine")?.int ?? 0)
        coverCount = Int(try db.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0)
    }

    /// Called after a successful commit.
    func committed() {
        if let pendingHLC { persistedHLC = pendingHLC }
        pendingHLC = nil
    }

    // MARK: Op log

    func isApplied(_ id: OpID) throws -> Bool {
        guard let index = try directory.existingIndex(of: id.replica) else { return false }
        let select = try db.cached("SELECT 1 FROM _fs_op WHERE replica = ? AND seq = ?")
        defer { select.reset() }
        try select.bind([.int(index), .int(Int64(bitPattern: id.seq))])
        return try select.step()
    }

    /// Appends an operation to the log; false when the log already holds it (a duplicate:
    /// the one lookup that makes apply idempotent is this insert itself).
    func insertLog(_ op: ResolvedOperation, table: CollectionTable, entity: EntityID) throws -> Bool {
        try db.cached("INSERT OR IGNORE INTO _fs_op(replica, seq, hlc, collection, entity, body) VALUES (?, ?, ?, ?, ?, ?)")
            .run([.int(try directory.index(of: op.id.replica)), .int(Int64(bitPattern: op.id.seq)),
                  .int(Int64(bitPattern: op.hlc.rawValue)), .int(table.id), .text(entity.rawValue),
                  .blob(try codec.encodeBody(op.items))])
        return db.changes == 1
    }

    /// Reads operations back from the log as portable operations.
    func operation(fromLogRow replicaIndex: Int64, seq: Int64, hlc: Int64, collection: Int64, entity: String, body: [UInt8]) throws -> Op {
        guard let table = catalog.byID[collection] else { throw SyncError(.corrupt, "op log names unknown collection \(collection)") }
        let assignments = try table.assignments(try codec.decodeBody(body))
        return Op(id: OpID(replica: try directory.replica(at: replicaIndex), seq: UInt64(bitPattern: seq)),
                         hlc: HLCTimestamp(rawValue: UInt64(bitPattern: hlc)), collection: table.schema.name,
                         entity: EntityID(unchecked: entity), assignments: assignments)
    }

    // MARK: Records

    func load(_ table: CollectionTable, _ entity: EntityID) throws -> LoadedEntity {
        guard inWriteTransaction else { return try loadFromFile(table, entity) }
        if let lastRecord, lastRecord.key.collection == table.id, lastRecord.key.entity == entity.rawValue { return lastRecord.record }
        let loaded = try loadFromFile(table, entity)
        lastRecord = (RecordKey(collection: table.id, entity: entity.rawValue), loaded)
        return loaded
    }

    private func loadFromFile(_ table: CollectionTable, _ entity: EntityID) throws -> LoadedEntity {
        let select = try db.cached(table.selectSQL)
        defer { select.reset() }
        try select.bind(.text(entity.rawValue), at: 1)
        var values: FieldMap<Value> = [:]
        values.reserveCapacity(table.fields.count)
        if try select.step() {
            for (column, field) in table.fields.enumerated() {
                let type: FieldType = field.schema.policy == .set ? .text : field.schema.type
                values[field.id] = select.value(at: Int32(column), as: type)
            }
            let meta = select.bytes(at: Int32(table.fields.count))
            let state = try decodeState(meta, values: values, table: table)
            return LoadedEntity(location: .live, state: state, values: values)
        }
        let tomb = try db.cached("SELECT fields, meta FROM _fs_tombstone WHERE collection = ? AND entity = ?")
        defer { tomb.reset() }
        try tomb.bind([.int(table.id), .text(entity.rawValue)])
        if try tomb.step() {
            let stored = try MetaCodec.decodeValues(tomb.bytes(at: 0))
            for field in table.fields { values[field.id] = stored[field.id] ?? defaultValue(field.schema) }
            let state = try decodeState(tomb.bytes(at: 1), values: values, table: table)
            return LoadedEntity(location: .tombstone, state: state, values: values)
        }
        return LoadedEntity(location: .none, state: EntityState(), values: [:])
    }

    private func decodeState(_ meta: [UInt8], values: FieldMap<Value>, table: CollectionTable) throws -> EntityState {
        let counters = table.fields.filter { $0.schema.policy == .counter }.map(\.id)
        return try codec.decode(meta, winners: values, counterFields: counters)
    }

    func defaultValue(_ field: FieldSchema) -> Value {
        field.policy == .counter ? .int(0) : .null
    }

    /// The plain-table values a merge state shows.
    func visibleValues(_ state: EntityState, table: CollectionTable) -> FieldMap<Value> {
        var values: FieldMap<Value> = [:]
        values.reserveCapacity(table.fields.count)
        for (id, _) in table.fields { values[id] = visibleValue(state, field: id, table: table) }
        return values
    }

    /// The plain-table value of one field.
    func visibleValue(_ state: EntityState, field id: FieldID, table: CollectionTable) -> Value {
        switch table.field(id)?.policy {
        case .register?, .lifecycle?: return state.registers[id]?.winner?.value ?? .null
        case .counter?: return .int(state.counters[id] ?? 0)
        case .set?:
            let elements = state.sets[id]?.visible ?? []
            return elements.isEmpty ? .null : .text(JSONText.array(elements))
        case nil: return .null
        }
    }

    /// Saves a record's new state. `fields` are the fields the operation touched (nil: any):
    /// on a live record only their columns, and their conflict status, can change.
    func save(_ table: CollectionTable, _ entity: EntityID, from loaded: LoadedEntity, to state: EntityState, fields: [FieldID]? = nil) throws {
        // A new erasure changed every personal field, whichever the operation named.
        let fields = state.erasures == loaded.state.erasures ? fields : nil
        let meta = try codec.encode(state)
        var after = LoadedEntity(location: state.isVisible ? .live : .tombstone, state: state, values: loaded.values)
        if state.isVisible, loaded.location == .live {
            // Field numbers of columns only: not 0 (existence) nor `.erasure`.
            let candidates = fields.map { Self.sortedUnique($0.filter { $0 > 0 }) } ?? table.fields.map(\.id)
            var changed: [FieldID] = []
            var newValues: [Value] = []
            for field in candidates {
                let value = visibleValue(state, field: field, table: table)
                if value != loaded.values[field] {
                    changed.append(field)
                    newValues.append(value)
                    after.values[field] = value
                }
            }
            let update = try db.cached(table.updateSQL(changing: changed))
            defer { update.reset() }
            var index: Int32 = 1
            for value in newValues { try update.bind(value, at: index); index += 1 }
            try update.bind(.blob(meta), at: index)
            try update.bind(.text(entity.rawValue), at: index + 1)
            while try update.step() {}
        } else {
            let values = visibleValues(state, table: table)
            after.values = values
            if state.isVisible {
                if loaded.location == .tombstone {
                    try db.cached("DELETE FROM _fs_tombstone WHERE collection = ? AND entity = ?").run([.int(table.id), .text(entity.rawValue)])
                }
                try db.cached(table.insertSQL).run([.text(entity.rawValue)] + table.fields.map { values[$0.id]! } + [.blob(meta)])
            } else {
                if loaded.location == .live { try db.cached(table.deleteSQL).run([.text(entity.rawValue)]) }
                let cell = table.cellFieldID.flatMap { values[$0] } ?? .null
                try db.cached("INSERT OR REPLACE INTO _fs_tombstone(collection, entity, cell, fields, meta) VALUES (?, ?, ?, ?, ?)")
                    .run([.int(table.id), .text(entity.rawValue), cell, .blob(MetaCodec.encodeValues(values)), .blob(meta)])
            }
        }
        try updateConflicts(table, entity, before: loaded.state, after: state, fields: fields)
        touched.append((table.schema.name, entity))
        if inWriteTransaction { lastRecord = (RecordKey(collection: table.id, entity: entity.rawValue), after) }
        try fault(.afterEntitySave)
    }

    /// Ascending, each once (a handful of field numbers: no hashing).
    static func sortedUnique(_ fields: [FieldID]) -> [FieldID] {
        var result = fields.sorted()
        var last: FieldID?
        result.removeAll { field in
            defer { last = field }
            return field == last
        }
        return result
    }

    /// Keeps `_fs_conflict` in step with the registers whose conflict status changed.
    private func updateConflicts(_ table: CollectionTable, _ entity: EntityID, before: EntityState, after: EntityState, fields: [FieldID]?) throws {
        func isConflict(_ state: EntityState, _ field: FieldID) -> Bool {
            field == 0 ? state.exists.isConflict : (state.registers[field]?.isConflict ?? false)
        }
        let candidates: [FieldID] = fields.map { Self.sortedUnique($0 + [0]) }
            ?? Array(before.conflictFields().union(after.conflictFields()))
        for field in candidates {
            let was = isConflict(before, field), now = isConflict(after, field)
            guard was != now else { continue }
            if now {
                let review = field == 0 || (table.field(field)?.review ?? false)
                try db.cached("INSERT OR REPLACE INTO _fs_conflict(collection, entity, field, review) VALUES (?, ?, ?, ?)")
                    .run([.int(table.id), .text(entity.rawValue), .int(Int64(field)), .bool(review)])
            } else {
                try db.cached("DELETE FROM _fs_conflict WHERE collection = ? AND entity = ? AND field = ?")
                    .run([.int(table.id), .text(entity.rawValue), .int(Int64(field))])
            }
        }
    }

    /// Appends one resolved operation to the log and merges it into its record. Returns false,
    /// changing nothing, when the log already holds it.
    @discardableResult
    func merge(_ op: ResolvedOperation, table: CollectionTable, entity: EntityID, loaded: LoadedEntity? = nil) throws -> Bool {
        // A record installed from a snapshot reflects operations its log lacks (`_fs_cover`).
        let covers = try self.covers(table, entity)
        guard try !isCovered(op.id, in: covers), try insertLog(op, table: table, entity: entity) else { return false }
        try fault(.afterLogInsert)
        let before = try loaded ?? load(table, entity)
        var state = before.state
        try apply(op, to: &state, table: table, entity: entity, covers: covers)
        try save(table, entity, from: before, to: state, fields: op.items.map(\.field))
        return true
    }

    /// Merges one resolved operation into a record's state: an id the record's covers name (a
    /// snapshot's or compaction's) counts as applied, as one in the log does.
    ///
    /// Erasures (section 3): the operation is merged (and its log entry kept) as a replica that
    /// knows the record's erasures stores it, its personal values nulled unless it descends from
    /// all of them; an erasure it brings that was not known here erases every personal value
    /// the record holds, in its state, in its operations in the log and in quarantine.
    func apply(_ op: ResolvedOperation, to state: inout EntityState, table: CollectionTable, entity: EntityID, covers: [Int64: UInt64]) throws {
        var op = op
        if !state.erasures.isEmpty, !table.personalFieldIDs.isEmpty {
            let scrubbed = op.scrubbed(knowing: state.erasures, personal: table.isPersonal)
            if scrubbed.items != op.items {
                op = scrubbed
                try rewriteLogBody(op)
            }
        }
        let listed = op.erasures
        if !listed.isEmpty, !state.learnErasures(listed, personal: table.personalFieldIDs, order: table.headOrder).isEmpty {
            try eraseHistory(table, entity, knowing: state.erasures)
        }
        if covers.isEmpty {
            try state.apply(op, order: table.headOrder, isApplied: isApplied)
        } else {
            try state.apply(op, order: table.headOrder) { id in try self.isCovered(id, in: covers) || self.isApplied(id) }
        }
    }

    /// Replaces the body of an operation in the log (its erased form).
    private func rewriteLogBody(_ op: ResolvedOperation) throws {
        try db.cached("UPDATE _fs_op SET body = ? WHERE replica = ? AND seq = ?")
            .run([.blob(try codec.encodeBody(op.items)), .int(try directory.index(of: op.id.replica)), .int(Int64(bitPattern: op.id.seq))])
    }

    /// Erases the personal values of a record's operations in the log and in quarantine that do
    /// not descend from every erasure `known` (ids, clocks and everything else kept), and marks
    /// the write-ahead log for truncation after the transaction.
    func eraseHistory(_ table: CollectionTable, _ entity: EntityID, knowing known: [OpID]) throws {
        recordsLeft = true
        guard !table.personalFieldIDs.isEmpty else { return }
        let select = try db.prepare("SELECT replica, seq, body FROM _fs_op WHERE collection = ? AND entity = ?")
        try select.bind([.int(table.id), .text(entity.rawValue)])
        var rewritten: [ResolvedOperation] = []
        while try select.step() {
            let op = ResolvedOperation(id: OpID(replica: try directory.replica(at: select.int64(at: 0)), seq: UInt64(bitPattern: select.int64(at: 1))),
                                       hlc: .zero, items: try codec.decodeBody(select.bytes(at: 2)))
            let scrubbed = op.scrubbed(knowing: known, personal: table.isPersonal)
            if scrubbed.items != op.items { rewritten.append(scrubbed) }
        }
        select.reset()
        for op in rewritten { try rewriteLogBody(op) }
        guard quarantineCount > 0 else { return }
        let held = try db.prepare("SELECT replica, seq, op FROM _fs_quarantine")
        var heldRewritten: [(replica: [UInt8], seq: Int64, json: [UInt8])] = []
        while try held.step() {
            guard let op = try? SyncProtocol.decode(Op.self, from: Data(held.bytes(at: 2))),
                  op.collection == table.schema.name, op.entity == entity else { continue }
            let scrubbed = op.scrubbed(knowing: known, personal: table.personalFieldNames)
            if scrubbed != op { heldRewritten.append((held.bytes(at: 0), held.int64(at: 1), [UInt8](try scrubbed.jsonData()))) }
        }
        held.reset()
        for row in heldRewritten {
            try db.cached("UPDATE _fs_quarantine SET op = ? WHERE replica = ? AND seq = ?").run([.blob(row.json), .blob(row.replica), .int(row.seq)])
        }
    }

    /// The operation as this replica stores it: its personal values erased when it does not
    /// descend from every erasure its record has here (what the central node logs for devices).
    func storedForm(of op: Op) throws -> Op {
        guard let table = catalog.byName[op.collection], !table.personalFieldIDs.isEmpty else { return op }
        let known = try load(table, op.entity).state.erasures
        return op.scrubbed(knowing: known, personal: table.personalFieldNames)
    }

    /// The next local operation id and clock reading.
    func nextLocalStamp() throws -> (OpID, HLCTimestamp) {
        // Sequence numbers are SQLite integers: one past Int64.max would be stored negative.
        guard localSeq < UInt64(Int64.max) else {
            throw SyncError(.limitExceeded, "this replica has used every sequence number (\(localSeq)); it cannot write more operations. Start a new replica file")
        }
        localSeq += 1
        return (OpID(replica: localID, seq: localSeq), clock.tick(nowMillis: nowMillis))
    }

    /// After a remote op from this very replica id (a restored backup), never reuse its numbers.
    func noteRemoteSeq(_ id: OpID) {
        if id.replica == localID { localSeq = max(localSeq, id.seq) }
    }
}

/// A savepoint could not be rolled back: the transaction around it must be abandoned whole.
package struct SavepointError: Error {
    package let underlying: any Error
}
