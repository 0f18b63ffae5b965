import Foundation

/// Why a remote operation was held back instead of applied.
public enum QuarantineReason: String, Sendable, Codable, CaseIterable {
    /// Stamped further ahead of local time than `driftMillisMax`: applying it would let a wrong
    /// clock win every later merge.
    case clockDrift
    /// Names a collection or field this schema lacks (a newer app wrote it): applied after an
    /// upgrade, by `retryQuarantined()`.
    case unknownSchema
    /// Breaks the schema or a limit (a value of the wrong type, an unknown state).
    case invalid
    /// Pushed to the central node by a device for a cell it never served.
    case outOfScope
}

/// What one `apply` did.
public struct ApplyReport: Sendable, Equatable {
    public var applied = 0
    public var duplicates = 0
    public var quarantined = 0
    /// Records installed from a snapshot (bootstrap of a cell).
    public var installed = 0
    public init() {}

    static func + (a: ApplyReport, b: ApplyReport) -> ApplyReport {
        var sum = a
        sum.applied += b.applied
        sum.duplicates += b.duplicates
        sum.quarantined += b.quarantined
        sum.installed += b.installed
        return sum
    }
}

/// A remote operation held in quarantine: never applied, never dropped, listed for people.
public struct QuarantinedOperation: Sendable, Equatable {
    public let operation: Op
    public let reason: QuarantineReason
    public let detail: String
    public let receivedMillis: Int64
}

extension Engine {
    private struct Refusal: Error {
        var reason: QuarantineReason
        var detail: String
    }

    /// Applies one remote operation and says what became of it (also counted in `report`): a
    /// duplicate is a no-op, an operation that fails checks or the drift bound goes to
    /// quarantine, anything else merges. `loaded`: the record as the caller just loaded it in
    /// this transaction (the central node reads it for its scope check first), so that it is not
    /// read and decoded twice.
    @discardableResult
    func applyRemote(_ op: Op, report: inout ApplyReport, enforceDrift: Bool = true, loaded: LoadedEntity? = nil) throws -> RemoteOutcome {
        let outcome = try applyRemote(op, enforceDrift: enforceDrift, loaded: loaded)
        switch outcome {
        case .applied: report.applied += 1
        case .duplicate: report.duplicates += 1
        case .quarantined: report.quarantined += 1
        }
        return outcome
    }

    private func applyRemote(_ op: Op, enforceDrift: Bool, loaded: LoadedEntity?) throws -> RemoteOutcome {
        let table: CollectionTable, resolved: ResolvedOperation, now: Int64
        switch try admit(op, enforceDrift: enforceDrift) {
        case .settled(let outcome): return outcome
        case .ready(let t, let r, _, let n): (table, resolved, now) = (t, r, n)
        }
        // A duplicate changes nothing, not even the clock.
        guard try merge(resolved, table: table, entity: op.entity, loaded: loaded) else { return .duplicate }
        if enforceDrift { clock.receive(op.hlc, nowMillis: now) }
        noteRemoteSeq(op.id)
        return .applied
    }

    /// What the checks before merging decided about a remote operation.
    private enum Admission {
        /// To merge: its table, its resolved form, its record's covers, and the time judged at.
        case ready(CollectionTable, ResolvedOperation, covers: [Int64: UInt64], now: Int64)
        /// Nothing to merge: a duplicate, or held in quarantine (already written there).
        case settled(RemoteOutcome)
    }

    /// The checks every remote operation passes before it merges, in this order: already in
    /// quarantine (a duplicate), against the schema and limits (else quarantined), covered by a
    /// snapshot or compaction (a duplicate), within the clock drift bound (else quarantined).
    private func admit(_ op: Op, enforceDrift: Bool) throws -> Admission {
        if quarantineCount > 0, try isQuarantined(op.id) { return .settled(.duplicate) }
        let table: CollectionTable, resolved: ResolvedOperation
        do {
            (table, resolved) = try resolve(op)
        } catch let refusal as Refusal {
            try quarantine(op, refusal.reason, refusal.detail)
            return .settled(.quarantined(refusal.reason, detail: refusal.detail))
        }
        let covers = coverCount > 0 ? try self.covers(table, op.entity) : [:]
        if try isCovered(op.id, in: covers) { return .settled(.duplicate) }
        let now = nowMillis
        if enforceDrift, HybridLogicalClock.isBeyondDrift(op.hlc, nowMillis: now, driftMillisMax: options.driftMillisMax) {
            // Against the clamped physical time: `now` may be far out of range (a device clock
            // offset from a damaged reply), and the difference must not overflow.
            let ahead = Int64(op.hlc.millis) - Int64(HybridLogicalClock.clampMillis(now))
            let detail = "stamped \(ahead / 1000) s ahead of this device's clock (bound \(options.driftMillisMax / 1000) s)"
            try quarantine(op, .clockDrift, detail)
            return .settled(.quarantined(.clockDrift, detail: detail))
        }
        return .ready(table, resolved, covers: covers, now: now)
    }

    /// Applies a batch of remote operations, each as `applyRemote` would, but record by record:
    /// a record's operations in the batch are merged into its state in memory and the record is
    /// written once (its log entries one by one, each insert still the duplicate check). Merging
    /// is order-free, so grouping changes no result; within a record the batch's order is kept.
    func applyRemote(batch ops: ArraySlice<Op>, report: inout ApplyReport) throws {
        struct Pending {
            var table: CollectionTable
            var entity: EntityID
            var loaded: LoadedEntity
            var state: EntityState
            var fields: [FieldID]
        }
        var pending: [RecordKey: Int] = [:]
        var records: [Pending] = []
        // The batch holds each record once itself: the last record would only be copied for
        // nothing (and is stale after it).
        let remembering = inWriteTransaction
        (inWriteTransaction, lastRecord) = (false, nil)
        defer { inWriteTransaction = remembering }
        for op in ops {
            let table: CollectionTable, resolved: ResolvedOperation, covers: [Int64: UInt64], now: Int64
            switch try admit(op, enforceDrift: true) {
            case .settled(.duplicate): report.duplicates += 1; continue
            case .settled(.quarantined): report.quarantined += 1; continue
            case .settled(.applied): preconditionFailure("admission never applies")
            case .ready(let t, let r, let c, let n): (table, resolved, covers, now) = (t, r, c, n)
            }
        guard try insertLog(resolved, table: table, entity: op.entity) else { report.duplicates += 1; continue }
            try fault(.afterLogInsert)
            let key = RecordKey(collection: table.id, entity: op.entity.rawValue)
            let index: Int
            if let known = pending[key] {
                index = known
            } else {
                let loaded = try load(table, op.entity)
                records.append(Pending(table: table, entity: op.entity, loaded: loaded, state: loaded.state, fields: []))
                index = records.count - 1
                pending[key] = index
            }
            try apply(resolved, to: &records[index].state, table: table, entity: op.entity, covers: covers)
            records[index].fields += resolved.items.map(\.field)
            clock.receive(op.hlc, nowMillis: now)
            noteRemoteSeq(op.id)
            report.applied += 1
        }
        for record in records {
            try save(record.table, record.entity, from: record.loaded, to: record.state, fields: record.fields)
            // An operation of the record held in quarantine after its erasure arrived in this
            // batch was stored before the record's new state was: erased now.
            if record.state.erasures != record.loaded.state.erasures, quarantineCount > 0 {
                try eraseHistory(record.table, record.entity, knowing: record.state.erasures)
            }
        }
    }

    /// Whether this replica holds an operation with `op`'s id but other content (nil: it holds
    /// none with that id). The central node refuses such a push: a replica that reuses a
    /// sequence number (a restored or copied file, a faulty client) must hear of it.
    func holdsOtherOperation(than op: Op) throws -> Bool? {
        let key: [Value] = [.blob(op.id.replica.bytes), .int(Int64(bitPattern: op.id.seq))]
        let personal = catalog.byName[op.collection]?.personalFieldNames ?? []
        if let held = try db.scalar("SELECT op FROM _fs_quarantine WHERE replica = ? AND seq = ?", key)?.blob {
            guard let stored = try? SyncProtocol.decode(Op.self, from: Data(held)) else { return true }
            return !stored.isErasedForm(of: op, personal: personal)
        }
        guard let index = try directory.existingIndex(of: op.id.replica) else { return nil }
        let select = try db.cached("SELECT hlc, collection, entity, body FROM _fs_op WHERE replica = ? AND seq = ?")
        defer { select.reset() }
        try select.bind([.int(index), .int(Int64(bitPattern: op.id.seq))])
        guard try select.step() else { return nil }
        let stored = try operation(fromLogRow: index, seq: Int64(bitPattern: op.id.seq), hlc: select.int64(at: 0),
                                   collection: select.int64(at: 1), entity: select.text(at: 2), body: select.bytes(at: 3))
        // Compared in the form the log keeps (values checked as when the operation was applied).
        let table: CollectionTable, resolved: ResolvedOperation
        do { (table, resolved) = try resolve(op) } catch is Refusal { return true }
        // An operation whose values this node erased (an erasure, retention) is the same one.
        let checked = Op(id: op.id, hlc: op.hlc, collection: table.schema.name, entity: op.entity, assignments: try table.assignments(resolved.items))
        return !stored.isErasedForm(of: checked, personal: personal)
    }

    func isQuarantined(_ id: OpID) throws -> Bool {
        let select = try db.cached("SELECT 1 FROM _fs_quarantine WHERE replica = ? AND seq = ?")
        defer { select.reset() }
        try select.bind([.blob(id.replica.bytes), .int(Int64(bitPattern: id.seq))])
        return try select.step()
    }

    func quarantine(_ op: Op, _ reason: QuarantineReason, _ detail: String) throws {
        try db.cached("INSERT OR IGNORE INTO _fs_quarantine(replica, seq, reason, detail, received_millis, op) VALUES (?, ?, ?, ?, ?, ?)")
            .run([.blob(op.id.replica.bytes), .int(Int64(bitPattern: op.id.seq)), .text(reason.rawValue), .text(detail),
                  .int(nowMillis), .blob([UInt8](try storedForm(of: op).jsonData()))])
        quarantineCount += db.changes
    }

    /// Checks a remote operation against the schema and the limits, resolving its fields.
    private func resolve(_ op: Op) throws -> (CollectionTable, ResolvedOperation) {
        let limits = options.limits
        guard op.id.seq >= 1, op.id.seq <= UInt64(Int64.max) else { throw Refusal(reason: .invalid, detail: "sequence number \(op.id.seq) is out of range") }
        guard !op.assignments.isEmpty, op.assignments.count <= limits.assignmentsPerOpMax else {
            throw Refusal(reason: .invalid, detail: "has \(op.assignments.count) assignments; 1 to \(limits.assignmentsPerOpMax) allowed")
        }
        guard let table = catalog.byName[op.collection] else {
            throw Refusal(reason: .unknownSchema, detail: "collection \"\(op.collection.prefix(64))\" is not in this schema")
        }
        var registersSeen = Set<FieldID>()
        var items: [ResolvedOperation.Item] = []
        for assignment in op.assignments {
            let fid: FieldID
            if assignment.field == Assignment.existenceField {
                guard case .set(.bool, _) = assignment.change else {
                    throw Refusal(reason: .invalid, detail: "the existence register takes true or false")
                }
                fid = 0
            } else if assignment.field == Assignment.erasureField {
                guard case .set(.bool, _) = assignment.change else {
                    throw Refusal(reason: .invalid, detail: "_erase takes true (an erasure) or false, with the erasures seen as prev")
                }
                fid = .erasure
            } else {
                guard let known = table.fieldIDs[assignment.field] else {
                    throw Refusal(reason: .unknownSchema, detail: "field \"\(op.collection).\(assignment.field.prefix(64))\" is not in this schema")
                }
                fid = known
            }
            var change = assignment.change
            let field = fid == 0 ? nil : table.field(fid)
            do {
                switch (change, field?.policy) {
                case (.set(let value, let prev), nil):
                    guard prev.count <= limits.idsPerAssignmentMax else { throw Refusal(reason: .invalid, detail: "prev lists \(prev.count) ids; at most \(limits.idsPerAssignmentMax)") }
                    change = .set(value, prev: prev)
                case (.set(let value, let prev), .register?), (.set(let value, let prev), .lifecycle?):
                    guard prev.count <= limits.idsPerAssignmentMax else { throw Refusal(reason: .invalid, detail: "prev lists \(prev.count) ids; at most \(limits.idsPerAssignmentMax)") }
                    change = .set(try checkValue(value, for: field!, collection: table.schema.name, allowNull: true), prev: prev)
                case (.increment(let delta), .counter?):
                    // `magnitude`, not `abs`: abs(Int64.min) traps (found by the fuzzer).
                    guard delta.magnitude <= limits.counterDeltaMax.magnitude else { throw Refusal(reason: .invalid, detail: "counter increment \(delta) is beyond \(limits.counterDeltaMax)") }
                case (.add(let element), .set?):
                    // Null only as an erased element of a personal field (section 3, "Erasure").
                    change = .add(try checkValue(element, for: field!, collection: table.schema.name, allowNull: field!.personal))
                case (.remove(let element, let tags), .set?):
                    guard tags.count <= limits.idsPerAssignmentMax else { throw Refusal(reason: .invalid, detail: "remove lists \(tags.count) tags; at most \(limits.idsPerAssignmentMax)") }
                    change = .remove(try checkValue(element, for: field!, collection: table.schema.name, allowNull: field!.personal), tags: tags)
                default:
                    throw Refusal(reason: .invalid, detail: "\(op.collection).\(assignment.field) is a \(field?.policy.name ?? "existence") field; this change does not apply to it")
                }
            } catch let error as SyncError {
                throw Refusal(reason: .invalid, detail: error.message)
            }
            if case .set = change {
                guard registersSeen.insert(fid).inserted else {
                    throw Refusal(reason: .invalid, detail: "assigns \(assignment.field) twice")
                }
            }
            items.append(.init(field: fid, change: change))
        }
        if let problem = naturalKeyProblem(table, op.entity, items) { throw Refusal(reason: .invalid, detail: problem) }
        return (table, ResolvedOperation(id: op.id, hlc: op.hlc, items: items))
    }

    /// Why an operation's natural-key assignments do not belong to its record, if they do not:
    /// an operation that writes a key field writes all of them, and they derive the record's id.
    /// Judged from the operation alone, so every replica decides alike, in any order. Otherwise
    /// a device could create a second doorplate record for a code that already has one.
    func naturalKeyProblem(_ table: CollectionTable, _ entity: EntityID, _ items: [ResolvedOperation.Item]) -> String? {
        guard let key = table.schema.naturalKey else { return nil }
        var values: [String: Value] = [:]
        for name in key.fields {
            guard let fid = table.fieldIDs[name] else { continue }
            for item in items where item.field == fid {
                if case .set(let value, _) = item.change { values[name] = value }
            }
        }
        guard !values.isEmpty else { return nil }
        let collection = table.schema.name
        guard values.count == key.fields.count, let parts = key.parts(from: values) else {
            return "writes the natural key of \(collection) record \(entity) without all of \(key.fields.joined(separator: ", ")) as values; a key is written whole, when the record is created"
        }
        let derived = EntityID.naturalKey(collection: collection, key: parts)
        guard derived == entity else {
            return "names \(collection) record \(entity.rawValue.prefix(64)), but the record for its natural key (\(key.fields.joined(separator: ", "))) is \(derived): a record's id derives from its key"
        }
        return nil
    }

    func quarantined(limit: Int) throws -> [QuarantinedOperation] {
        let select = try db.cached("SELECT reason, detail, received_millis, op FROM _fs_quarantine ORDER BY received_millis, replica, seq LIMIT ?")
        defer { select.reset() }
        try select.bind([.int(Int64(limit))])
        var result: [QuarantinedOperation] = []
        while try select.step() {
            let op = try SyncProtocol.decode(Op.self, from: Data(select.bytes(at: 3)))
            result.append(QuarantinedOperation(operation: op, reason: QuarantineReason(rawValue: select.text(at: 0)) ?? .invalid,
                                               detail: select.text(at: 1), receivedMillis: select.int64(at: 2)))
        }
        return result
    }

    /// Takes one operation out of quarantine (it must be there).
    func unquarantine(_ id: OpID) throws -> Op {
        let select = try db.cached("SELECT op FROM _fs_quarantine WHERE replica = ? AND seq = ?")
        defer { select.reset() }
        try select.bind([.blob(id.replica.bytes), .int(Int64(bitPattern: id.seq))])
        guard try select.step() else { throw SyncError(.notFound, "operation \(id) is not in quarantine") }
        let op = try SyncProtocol.decode(Op.self, from: Data(select.bytes(at: 0)))
        select.reset()
        try db.cached("DELETE FROM _fs_quarantine WHERE replica = ? AND seq = ?").run([.blob(id.replica.bytes), .int(Int64(bitPattern: id.seq))])
        quarantineCount -= db.changes
        return op
    }
}

/// What became of one operation from another replica.
package enum RemoteOutcome: Equatable, Sendable {
    case applied
    /// Held already, covered by a snapshot, or in the log: nothing changed.
    case duplicate
    /// Held in quarantine, with the reason and its detail for people.
    case quarantined(QuarantineReason, detail: String)
}
