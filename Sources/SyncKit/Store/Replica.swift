import Foundation

/// A local replica: one SQLite file holding the records of a schema, their merge metadata, the
/// op log, the outbox, conflicts and quarantine.
///
///     let replica = try Replica.open(path: "device.db", schema: schema)
///     let id = try replica.write { try $0.insert("households", ["head_name": "张伟", "cell": "JS-0412"]) }
///     let report = try replica.apply(opsFromCentral)        // idempotent, any order
///     try replica.record("households", id)?["head_name"]
///     try replica.digest(cell: "JS-0412")                   // equal on replicas in the same state
///
/// Thread-safe: one connection, used by one thread at a time (a lock); writes are short
/// synchronous transactions and large remote batches are applied in chunks, so the lock is
/// never held for long.
public final class Replica: @unchecked Sendable {
    // @unchecked: `engine` (a connection and its caches, not Sendable) is only touched inside
    // `lock.withLock`, and `observers` only inside `observerLock.withLock`. The lock is
    // recursive so that a read inside a `write` closure sees the open transaction instead of
    // deadlocking; a nested write fails with SQLite's "transaction within a transaction".
    private let lock = NSRecursiveLock()
    private let engine: Engine
    private let observerLock = NSLock()
    private var observers: [UInt64: @Sendable (ChangeSet) -> Void] = [:]
    private var nextObserver: UInt64 = 0

    /// This replica's id.
    public let id: ReplicaID
    public let schema: Schema

    private init(engine: Engine, schema: Schema) {
        self.engine = engine
        self.id = engine.localID
        self.schema = schema
    }

    /// Opens (or creates) a replica file, reconciling the declared schema with the stored one.
    /// `":memory:"` opens a private in-memory replica.
    public static func open(path: String, schema: Schema, options: ReplicaOptions = ReplicaOptions()) throws -> Replica {
        Replica(engine: try Engine(path: path, schema: schema, options: options), schema: schema)
    }

    // MARK: Writing

    /// Runs local writes in one transaction: all of them are kept, or (on a throw) none.
    /// Observers hear of the changes after the commit. Called inside another write on the same
    /// thread, it joins that transaction (a throw must then abort the outer one too).
    @discardableResult
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        try withEngineTransaction(origin: .local) { engine in
            if let wiped = engine.wipedMillis {
                throw SyncError(.invalidInput, "this device's data was erased at the office's request (reported lost or stolen, \(Date(timeIntervalSince1970: Double(wiped) / 1000).formatted(.iso8601))); it takes no more work: enroll it again to use it")
            }
            return try body(WriteTransaction(engine: engine))
        }
    }

    /// Applies operations from other replicas, in any order, with duplicates: idempotent,
    /// commutative, associative. Applied in transactions of `applyChunkOpsMax` operations.
    /// Operations beyond the clock drift bound, or that this schema cannot take, are quarantined.
    @discardableResult
    public func apply(_ ops: [Op]) throws -> ApplyReport {
        let limits = engine.options.limits
        guard ops.count <= limits.applyBatchOpsMax else {
            throw SyncError(.limitExceeded, "one apply takes at most \(limits.applyBatchOpsMax) operations; got \(ops.count). Split the batch")
        }
        var report = ApplyReport()
        var start = 0
        let chunk = max(1, engine.options.applyChunkOpsMax)
        while start < ops.count {
            let slice = ops[start..<min(start + chunk, ops.count)]
            report = report + (try withEngineTransaction(origin: .remote) { engine in
                // Operations from peers may come in any order: from now on, compaction keeps
                // other replicas' operations (their covers would not be exact).
                if slice.contains(where: { $0.id.replica != engine.localID }), try engine.state(Engine.unorderedRemoteKey) == nil {
                    try engine.setState(Engine.unorderedRemoteKey, 1)
                }
                var part = ApplyReport()
                try engine.applyRemote(batch: slice, report: &part)
                return part
            })
            start += chunk
        }
        // An erasure among them leaves the erased values in no page of the write-ahead log.
        truncateLogIfRecordsLeft()
        return report
    }

    /// Runs `body` with the engine, under the lock (for extensions in this module).
    func withEngine<T>(_ body: (Engine) throws -> T) rethrows -> T {
        try lock.withLock { try body(engine) }
    }

    /// Runs `body` in one write transaction and tells observers what changed.
    func withEngineTransaction<T>(origin: ChangeSet.Origin, _ body: (Engine) throws -> T) throws -> T {
        let nested: T? = try lock.withLock {
            // A write inside a write on this thread (the central node running FieldKit's
            // operations within its own transaction) joins the outer transaction: it commits
            // or rolls back with it, and observers hear of it at the outer commit.
            guard engine.db.isInTransaction else { return nil }
            return try body(engine)
        }
        if let nested { return nested }
        let (result, changes): (T, [String: Set<EntityID>]) = try lock.withLock {
            let result = try engine.transaction { try body(engine) }
            engine.committed()
            defer { engine.touched = [] }
            return (result, engine.changedRecords)
        }
        notify(ChangeSet(origin: origin, records: changes))
        return result
    }

    // MARK: Reading

    /// A live record, or nil (a deleted one too, unless `includeDeleted`).
    public func record(_ collection: String, _ id: EntityID, includeDeleted: Bool = false) throws -> Record? {
        try lock.withLock { try engine.record(collection, id, includeDeleted: includeDeleted) }
    }

    /// Live records ordered by id: of one grid cell if given, after `after` for paging.
    public func records(_ collection: String, cell: String? = nil, after: EntityID? = nil, limit: Int = 1_000) throws -> [Record] {
        try lock.withLock { try engine.records(collection, cell: cell, after: after, limit: limit) }
    }

    /// Every open conflict (of one collection if given).
    public func conflicts(collection: String? = nil) throws -> [Conflict] {
        try lock.withLock { try engine.conflicts(collection: collection) }
    }

    /// A hex SHA-256 of the visible state (of one collection, of one grid cell): equal on two
    /// replicas exactly when they show the same records, values and conflicts.
    public func digest(collection: String? = nil, cell: String? = nil) throws -> String {
        try lock.withLock { try engine.digest(collection: collection, cell: cell) }
    }

    /// The id a record with these natural-key values has (or would have).
    public func naturalID(_ collection: String, _ values: [String: Value]) throws -> EntityID {
        try lock.withLock {
            let table = try engine.catalog.table(named: collection)
            guard table.schema.naturalKey != nil else { throw SyncError(.invalidInput, "\(collection) has no natural key") }
            return try engine.entityID(for: table, values: values, given: nil)
        }
    }

    // MARK: Outbox and log

    /// Local operations not yet acknowledged, oldest first: what the next sync pushes.
    public func outbox(limit: Int = 1_000) throws -> [Op] {
        try lock.withLock { try engine.outbox(limit: limit) }
    }

    /// Number of local operations not yet acknowledged.
    public func unsyncedCount() throws -> Int {
        try lock.withLock { Int(try engine.db.scalar("SELECT count(*) FROM _fs_outbox")?.int ?? 0) }
    }

    /// Marks local operations up to `seq` as acknowledged by the central node.
    public func acknowledge(through seq: UInt64) throws {
        try lock.withLock {
            try engine.db.transaction {
                let current = try engine.ackedSeq
                guard seq > current else { return }
                guard seq <= engine.localSeq else {
                    throw SyncError(.invalidInput, "cannot acknowledge operation \(seq): this replica has written only \(engine.localSeq)")
                }
                try engine.db.cached("INSERT OR REPLACE INTO _fs_state(key, value) VALUES ('acked_seq', ?)").run([.int(Int64(seq))])
            }
        }
    }

    /// Operations in the log (compaction drops those the central node holds).
    public func loggedCount() throws -> Int {
        try lock.withLock { Int(try engine.db.scalar("SELECT count(*) FROM _fs_op")?.int ?? 0) }
    }

    /// Every operation in the log (local and remote), by replica and sequence.
    public func operations(limit: Int = 1_000_000) throws -> [Op] {
        try lock.withLock { try engine.allOperations(limit: limit) }
    }

    /// The current hybrid logical clock reading.
    public var clock: HLCTimestamp { lock.withLock { engine.clock.last } }

    // MARK: Quarantine

    /// Operations held in quarantine, oldest first.
    public func quarantined(limit: Int = 1_000) throws -> [QuarantinedOperation] {
        try lock.withLock { try engine.quarantined(limit: limit) }
    }

    /// Tries every quarantined operation again (the clock caught up, the schema was upgraded):
    /// those that now pass are applied, the rest stay.
    @discardableResult
    public func retryQuarantined() throws -> ApplyReport {
        try lock.withLock {
            var report = ApplyReport()
            try engine.transaction {
                for held in try engine.quarantined(limit: Int.max) {
                    _ = try engine.unquarantine(held.operation.id)
                    try engine.applyRemote(held.operation, report: &report)
                }
            }
            engine.committed()
            engine.touched = []
            return report
        }
    }

    /// Applies one quarantined operation although its clock is beyond the drift bound: an
    /// operator's decision. The local clock does not jump to its stamp.
    public func release(_ op: OpID) throws {
        try lock.withLock {
            try engine.transaction {
                let held = try engine.unquarantine(op)
                var report = ApplyReport()
                try engine.applyRemote(held, report: &report, enforceDrift: false)
                if report.applied != 1 {
                    throw SyncError(.invalidInput, "operation \(op) cannot be applied even when released: it breaks this schema")
                }
            }
            engine.committed()
            engine.touched = []
        }
    }

    /// Removes one quarantined operation for good: an operator's decision.
    public func discard(_ op: OpID) throws {
        try lock.withLock { _ = try engine.transaction { try engine.unquarantine(op) } }
    }

    // MARK: Observing

    /// Calls `handler` after every commit that changed records. Keep the token: observation
    /// stops when it is cancelled.
    public func observe(_ handler: @escaping @Sendable (ChangeSet) -> Void) -> Observation {
        let key: UInt64 = observerLock.withLock {
            nextObserver += 1
            observers[nextObserver] = handler
            return nextObserver
        }
        return Observation { [weak self] in
            guard let self else { return }
            self.observerLock.withLock { _ = self.observers.removeValue(forKey: key) }
        }
    }

    private func notify(_ changes: ChangeSet) {
        guard !changes.records.isEmpty else { return }
        let handlers = observerLock.withLock { Array(observers.values) }
        for handler in handlers { handler(changes) }
    }
}

/// Keeps an observation alive until cancelled.
public final class Observation: Sendable {
    private let cancelAction: @Sendable () -> Void
    init(cancel: @escaping @Sendable () -> Void) { cancelAction = cancel }
    public func cancel() { cancelAction() }
}
