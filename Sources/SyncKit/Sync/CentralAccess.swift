import Foundation

/// What the central node needs of its replica beyond the public API, inside one write
/// transaction: each pushed operation's outcome, records' cells, and its own tables.
///
///     try replica.centralTransaction { access in
///         let outcome = try access.apply(op)
///         try access.db.cached("INSERT INTO central_log …").run([…])
///     }
package struct CentralAccess {
    let engine: Engine

    /// What happened to one pushed operation.
    package typealias Outcome = RemoteOutcome

    /// The connection, for the central node's own tables (same transaction).
    package var db: Connection { engine.db }

    /// The central node's clock.
    package var nowMillis: Int64 { engine.nowMillis }

    /// A record as loaded for a pushed operation: its cell (as `cell(of:)`), and its state, which
    /// `apply(_:before:)` then merges into without loading it again.
    package struct RecordBefore {
        let loaded: LoadedEntity?
        /// nil: the record is unknown here; "": it has no cell.
        package let cell: String?
        /// The record is live (not deleted, not unknown).
        package var isLive: Bool { loaded?.location == .live }
    }

    package func recordBefore(_ collection: String, _ entity: EntityID) throws -> RecordBefore {
        guard let table = engine.catalog.byName[collection] else { return RecordBefore(loaded: nil, cell: nil) }
        let loaded = try engine.load(table, entity)
        guard let cellID = table.cellFieldID, loaded.location != .none else { return RecordBefore(loaded: loaded, cell: nil) }
        return RecordBefore(loaded: loaded, cell: loaded.values[cellID]?.text ?? "")
    }

    /// Applies one operation (duplicates and quarantine as `Replica.apply`); `before`, when given,
    /// is the record as `recordBefore` loaded it in this transaction, with nothing written since.
    package func apply(_ op: Op, before: RecordBefore? = nil) throws -> Outcome {
        var report = ApplyReport()
        return try engine.applyRemote(op, report: &report, loaded: before?.loaded)
    }

    /// An operation as this node keeps it in its logs: its personal values erased when it does
    /// not descend from every erasure of its record (section 3, "Erasure").
    package func stored(_ op: Op) throws -> Op {
        try engine.storedForm(of: op)
    }

    /// Why a device's operation may not bring the erasures it names, if it may not: an erasure
    /// is an operator's act at the central node, and a device can only have seen the erasures
    /// this node made of that record (another id would erase the record's values everywhere).
    package func erasureProblem(_ op: Op) throws -> String? {
        if op.isErasure {
            return "erases \(op.collection)/\(op.entity): only the central node's operators erase personal data (fieldsync central erase)"
        }
        let listed = op.erasures
        guard !listed.isEmpty else { return nil }
        guard let table = engine.catalog.byName[op.collection] else { return nil }
        let known = try engine.load(table, op.entity).state.erasures
        guard let unknown = listed.first(where: { !known.contains($0) }) else { return nil }
        return "says it saw erasure \(unknown) of \(op.collection)/\(op.entity), which this node did not make"
    }

    /// One batch of the retention pass (`Engine.eraseSupersededValues`): the superseded
    /// personal values of writes made before `cutoffMillis` erased in the node's log, in at most
    /// `limit` operations after the opaque position `after`. Returns the values erased, the
    /// operations changed, and where the next batch starts (nil: done).
    package func eraseSupersededValues(writtenBefore cutoffMillis: Int64, after: (Int64, Int64)?, limit: Int) throws
        -> (examined: Int, valuesErased: Int, changed: [OpID], next: (Int64, Int64)?) {
        let batch = try engine.eraseSupersededValues(writtenBefore: cutoffMillis, after: after.map { (replica: $0.0, seq: $0.1) }, limit: limit)
        return (batch.examined, batch.valuesErased, batch.changed, batch.next.map { ($0.replica, $0.seq) })
    }

    /// An operation as the node's log holds it now.
    package func loggedOperation(_ id: OpID) throws -> Op? {
        try engine.loggedOperation(id)
    }

    /// Holds an operation in quarantine without applying it.
    package func hold(_ op: Op, reason: QuarantineReason, detail: String) throws {
        try engine.quarantine(op, reason, detail)
    }

    /// Whether the log or the quarantine holds an operation with this one's id but other
    /// content; nil when it holds none with that id.
    package func storedDiffers(from op: Op) throws -> Bool? {
        try engine.holdsOtherOperation(than: op)
    }

    /// Runs `body` as a part of this transaction that fails alone: on a throw, what it wrote (in
    /// the file and in the engine's memory) is undone and the error rethrown; the transaction goes
    /// on. Throws `SavepointError` when the undo itself failed: abandon the whole transaction.
    package func part<T>(_ body: () throws -> T) throws -> T {
        try engine.savepoint(body)
    }

    /// The central node's own replica id.
    package var localReplica: ReplicaID { engine.localID }

    /// Whether any operation of this replica reached the node (applied, held, or named by
    /// another operation).
    package func knows(replica id: ReplicaID) throws -> Bool {
        if try engine.directory.existingIndex(of: id) != nil { return true }
        return try engine.db.scalar("SELECT 1 FROM _fs_quarantine WHERE replica = ? LIMIT 1", [.blob(id.bytes)]) != nil
    }

    /// Whether a record is live (in its plain table, not deleted or unknown).
    package func isLive(_ collection: String, _ entity: EntityID) throws -> Bool {
        guard let table = engine.catalog.byName[collection] else { return false }
        return try engine.db.scalar("SELECT 1 FROM \(table.table) WHERE id = ?", [.text(entity.rawValue)]) != nil
    }

    /// The cell field of a collection (nil: a collection without cells, shared by everyone).
    package func cellField(of collection: String) -> String?? {
        guard let table = engine.catalog.byName[collection] else { return nil }
        return .some(table.schema.cellField)
    }

    /// A record's current cell (live or deleted): nil when the record is unknown, "" when it has none.
    package func cell(of collection: String, _ entity: EntityID) throws -> String? {
        guard let table = engine.catalog.byName[collection], let cellID = table.cellFieldID else { return nil }
        let loaded = try engine.load(table, entity)
        guard loaded.location != .none else { return nil }
        // A record without a cell (an edit released without its creation) is logged under the
        // pseudo-cell "": giving it a cell later is a move, whose history the new cell receives.
        return loaded.values[cellID]?.text ?? ""
    }

    /// Runs local writes of the central node's own replica (an operator's resolution) in this
    /// transaction, and returns the operations they wrote, to be logged for the devices (kept as
    /// they are written, not read back from the log).
    package func writeLocal<T>(_ body: (WriteTransaction) throws -> T) throws -> (T, [Op]) {
        let outer = engine.localOpsWritten
        let before = engine.localSeq
        engine.localOpsWritten = []
        defer { engine.localOpsWritten = outer.map { $0 + (engine.localOpsWritten ?? []) } }
        let result = try body(WriteTransaction(engine: engine))
        let ops = engine.localOpsWritten ?? []
        assert(ops.count == Int(engine.localSeq - before) && (try? readBackLocal(after: before)) == ops,
               "the operations a write kept are not those its log holds")
        return (result, ops)
    }

    /// The local operations after sequence number `seq`, as the log holds them (for the paired
    /// assertion of `writeLocal`, in debug builds).
    private func readBackLocal(after seq: UInt64) throws -> [Op] {
        let select = try engine.db.prepare("SELECT seq, hlc, collection, entity, body FROM _fs_op WHERE replica = ? AND seq > ? ORDER BY seq")
        try select.bind([.int(StoreLayout.localReplicaIndex), .int(Int64(seq))])
        var ops: [Op] = []
        while try select.step() {
            ops.append(try engine.operation(fromLogRow: StoreLayout.localReplicaIndex, seq: select.int64(at: 0), hlc: select.int64(at: 1),
                                            collection: select.int64(at: 2), entity: select.text(at: 3), body: select.bytes(at: 4)))
        }
        return ops
    }

    /// Removes an operation from quarantine for good (an operator's discard).
    package func discard(_ id: OpID) throws -> Op {
        try engine.unquarantine(id)
    }

    /// The state digest of one cell (as `Replica.digest(cell:)`).
    package func digest(cell: String) throws -> String {
        try engine.digest(collection: nil, cell: cell)
    }

    /// One page of a cell's snapshot (records in key order after `after`).
    package func snapshotPage(cell: String, after: String?, limit: Int) throws -> (records: [SnapshotRecord], next: String?) {
        try engine.snapshotPage(cell: cell, after: after, limit: limit)
    }

    /// A record as `Replica.record` reads it (for the operators' console, on a reader).
    package func record(_ collection: String, _ id: EntityID, includeDeleted: Bool = false) throws -> Record? {
        try engine.record(collection, id, includeDeleted: includeDeleted)
    }

    /// Live records as `Replica.records` reads them.
    package func records(_ collection: String, cell: String? = nil, after: EntityID? = nil, limit: Int) throws -> [Record] {
        try engine.records(collection, cell: cell, after: after, limit: limit)
    }

    /// The open conflicts of one record.
    package func conflicts(_ collection: String, _ entity: EntityID) throws -> [Conflict] {
        guard engine.catalog.byName[collection] != nil else { return [] }
        return try engine.conflicts(collection: collection, entity: entity)
    }

    /// Operations held in quarantine, oldest first.
    package func quarantined(limit: Int) throws -> [QuarantinedOperation] {
        try engine.quarantined(limit: limit)
    }

    /// Every operation of one record in the log, by (replica, seq).
    package func operations(of collection: String, _ entity: EntityID) throws -> [Op] {
        guard let table = engine.catalog.byName[collection] else { return [] }
        let select = try engine.db.cached("SELECT replica, seq, hlc, collection, entity, body FROM _fs_op WHERE collection = ? AND entity = ?")
        defer { select.reset() }
        try select.bind([.int(table.id), .text(entity.rawValue)])
        var ops: [Op] = []
        while try select.step() {
            ops.append(try engine.operation(fromLogRow: select.int64(at: 0), seq: select.int64(at: 1), hlc: select.int64(at: 2),
                                            collection: select.int64(at: 3), entity: select.text(at: 4), body: select.bytes(at: 5)))
        }
        return ops
    }
}

extension Replica {
    /// Runs `body` in one write transaction with central-node access (package use only).
    package func centralTransaction<T>(_ body: (CentralAccess) throws -> T) throws -> T {
        try withEngineTransaction(origin: .remote) { try body(CentralAccess(engine: $0)) }
    }

    /// The replica's clock (physical time corrected by its offset), in milliseconds.
    package func nowMillis() -> Int64 {
        withEngine { $0.nowMillis }
    }

    /// Runs `body` with the connection, outside any transaction unless `body` opens one.
    package func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try withEngine { try body($0.db) }
    }
}

/// Read-only engines on a replica's file, for reads that run beside its one writer (the central
/// node's pulls, snapshot pages and verifications), each in a read transaction that sees one
/// committed state (WAL). At most `countMax` engines, made as needed; a reader waits for a free one,
/// unless `waitingMax` readers already wait: then it is turned away at once (`ReaderPool.Full`).
///
///     let pool = try replica.readerPool(countMax: 4, waitingMax: 256)
///     let page = try pool?.read { access in try access.snapshotPage(cell: "JS-0412", after: nil, limit: 100) }
package final class ReaderPool: @unchecked Sendable {
    // @unchecked: `idle` and `made` are only touched while holding `condition`; an engine is
    // used by the one thread that took it out of `idle` until it puts it back.
    private let condition = NSCondition()
    private var idle: [Engine] = []
    private var made = 0
    private var waiting = 0
    private let countMax: Int
    private let waitingMax: Int
    private let path: String
    private let schema: Schema
    private let options: ReplicaOptions

    init(path: String, schema: Schema, options: ReplicaOptions, countMax: Int, waitingMax: Int) {
        self.path = path
        self.schema = schema
        self.options = options
        self.countMax = max(1, countMax)
        self.waitingMax = max(0, waitingMax)
    }

    /// Every reader is busy and `waitingMax` reads already wait for one.
    package struct Full: Error {
        package let waiting: Int
    }

    /// Runs `body` in a read transaction of a pooled engine. Only CentralAccess's reading calls
    /// may be used: the connection is read-only.
    package func read<T>(_ body: (CentralAccess) throws -> T) throws -> T {
        let engine = try checkOut()
        defer { checkIn(engine) }
        return try engine.db.read { try body(CentralAccess(engine: engine)) }
    }

    private func checkOut() throws -> Engine {
        condition.lock()
        if idle.isEmpty && made >= countMax {
            guard waiting < waitingMax else {
                condition.unlock()
                throw Full(waiting: waiting)
            }
            waiting += 1
            while idle.isEmpty && made >= countMax { condition.wait() }
            waiting -= 1
        }
        if let engine = idle.popLast() {
            condition.unlock()
            return engine
        }
        made += 1
        condition.unlock()
        do {
            return try Engine(readerOf: path, schema: schema, options: options)
        } catch {
            condition.lock()
            made -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkIn(_ engine: Engine) {
        condition.lock()
        idle.append(engine)
        condition.signal()
        condition.unlock()
    }
}

extension Replica {
    /// A pool of read-only engines on this replica's file, or nil when it has none of its own
    /// (an in-memory replica: its reads go through the writer's connection).
    package func readerPool(countMax: Int, waitingMax: Int = .max) -> ReaderPool? {
        withEngine { engine in
            let path = engine.db.path
            guard Connection.isFilePath(path) else { return nil }
            return ReaderPool(path: path, schema: schema, options: engine.options, countMax: countMax, waitingMax: waitingMax)
        }
    }

    /// Runs `body` in a read transaction on the writer's own connection (for replicas without
    /// a reader pool).
    package func centralRead<T>(_ body: (CentralAccess) throws -> T) throws -> T {
        try withEngine { engine in
            guard !engine.db.isInTransaction else { return try body(CentralAccess(engine: engine)) }
            return try engine.db.read { try body(CentralAccess(engine: engine)) }
        }
    }
}
