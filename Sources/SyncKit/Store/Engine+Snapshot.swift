import Foundation

/// Bootstrap by snapshot (Design.md, "Bootstrap by snapshot"): the central node sends a cell as
/// its records' merge states instead of their history; a device installs them and records, per
/// record, which operations they already reflect (`_fs_cover`), so that those operations are
/// duplicates if they ever arrive.
extension Engine {
    // MARK: Covers

    /// Per local replica number, the highest sequence number a snapshot said this record's
    /// state reflects (empty for records never installed from a snapshot).
    func covers(_ table: CollectionTable, _ entity: EntityID) throws -> [Int64: UInt64] {
        guard coverCount > 0 else { return [:] }
        let select = try db.cached("SELECT replica, seq FROM _fs_cover WHERE collection = ? AND entity = ?")
        defer { select.reset() }
        try select.bind([.int(table.id), .text(entity.rawValue)])
        var result: [Int64: UInt64] = [:]
        while try select.step() { result[select.int64(at: 0)] = UInt64(bitPattern: select.int64(at: 1)) }
        return result
    }

    func isCovered(_ id: OpID, in covers: [Int64: UInt64]) throws -> Bool {
        guard !covers.isEmpty, let index = try directory.existingIndex(of: id.replica), let seq = covers[index] else { return false }
        return id.seq <= seq
    }

    func deleteCovers(_ table: CollectionTable, _ entity: EntityID) throws {
        guard coverCount > 0 else { return }
        try db.cached("DELETE FROM _fs_cover WHERE collection = ? AND entity = ?").run([.int(table.id), .text(entity.rawValue)])
        coverCount -= db.changes
    }

    // MARK: Central side: taking a snapshot

    /// Up to `limit` records of one cell (live and deleted), in key order after `after`
    /// (`collection/entity`), with the key to resume from when the page is full. The cell `""`
    /// holds the collections without a cell field, and records whose cell is empty.
    func snapshotPage(cell: String, after: String?, limit: Int) throws -> (records: [SnapshotRecord], next: String?) {
        var afterCollection = "", afterEntity = ""
        if let after {
            guard let slash = after.firstIndex(of: "/") else {
                throw SyncError(.invalidInput, "snapshot key \"\(after.prefix(80))\" is not collection/entity; send back the key the central node gave")
            }
            afterCollection = String(after[..<slash])
            afterEntity = String(after[after.index(after: slash)...])
        }
        var records: [SnapshotRecord] = []
        for table in catalog.byName.values.sorted(by: { $0.schema.name < $1.schema.name }) {
            guard records.count < limit else { break }
            let name = table.schema.name
            guard name >= afterCollection else { continue }
            guard cell.isEmpty || table.cellFieldID != nil else { continue }
            let lowest = name == afterCollection ? afterEntity : ""
            // Every branch is a range of an index (the cell column's, `_fs_tombstone_cell`), so a
            // page costs what it returns, not the district: the pseudo-cell "" (no cell, or an
            // empty one) is two ranges, `= ''` and `IS NULL`, never a scan of `coalesce(…)`.
            let sql: String
            if let cellField = table.schema.cellField {
                let column = StoreLayout.quoted(cellField)
                var branches = ["SELECT id FROM \(table.table) WHERE \(column) = ?1 AND id > ?2",
                                "SELECT entity FROM _fs_tombstone WHERE collection = ?3 AND cell = ?1 AND entity > ?2"]
                if cell.isEmpty {
                    branches += ["SELECT id FROM \(table.table) WHERE \(column) IS NULL AND id > ?2",
                                 "SELECT entity FROM _fs_tombstone WHERE collection = ?3 AND cell IS NULL AND entity > ?2"]
                }
                sql = branches.joined(separator: " UNION ALL ") + " ORDER BY 1 LIMIT ?4"
            } else {
                sql = """
                    SELECT id FROM \(table.table) WHERE ?1 = ?1 AND id > ?2
                    UNION ALL SELECT entity FROM _fs_tombstone WHERE collection = ?3 AND entity > ?2
                    ORDER BY 1 LIMIT ?4
                    """
            }
            let select = try db.cached(sql)
            var ids: [String] = []
            do {
                defer { select.reset() }
                try select.bind([.text(cell), .text(lowest), .int(table.id), .int(Int64(limit - records.count))])
                while try select.step() { ids.append(select.text(at: 0)) }
            }
            for id in ids {
                let entity = EntityID(unchecked: id)
                let loaded = try load(table, entity)
                records.append(try snapshotRecord(table, entity, state: loaded.state))
            }
        }
        return (records, records.count == limit ? records.last?.key : nil)
    }

    /// A record's merge state in wire form, with the operations it reflects.
    func snapshotRecord(_ table: CollectionTable, _ entity: EntityID, state: EntityState) throws -> SnapshotRecord {
        func register(_ r: RegisterState) -> SnapshotRecord.Register {
            .init(heads: r.heads.map { .init(op: $0.op, hlc: $0.hlc, value: $0.value) },
                  pending: r.supersededPending.isEmpty ? nil : r.supersededPending.sorted())
        }
        var registers: [String: SnapshotRecord.Register] = [:]
        for (field, r) in state.registers where !(r.heads.isEmpty && r.supersededPending.isEmpty) {
            registers[table.field(field)!.name] = register(r)
        }
        var counters: [String: Int64] = [:]
        for (field, total) in state.counters where total != 0 { counters[table.field(field)!.name] = total }
        var sets: [String: SnapshotRecord.SetField] = [:]
        for (field, set) in state.sets where !(set.elements.isEmpty && set.removedPending.isEmpty) {
            let pending = set.removedPending.sorted { ($0.element, $0.op) < ($1.element, $1.op) }.map { SnapshotRecord.Removal(value: $0.element, tag: $0.op) }
            sets[table.field(field)!.name] = .init(elements: set.visible.map { .init(value: $0, tags: set.elements[$0]!) },
                                                   pending: pending.isEmpty ? nil : pending)
        }
        var covers: [String: UInt64] = [:]
        let select = try db.cached("""
            SELECT replica, max(seq) FROM (SELECT replica, seq FROM _fs_op WHERE collection = ?1 AND entity = ?2
                                           UNION ALL SELECT replica, seq FROM _fs_cover WHERE collection = ?1 AND entity = ?2)
            GROUP BY replica
            """)
        defer { select.reset() }
        try select.bind([.int(table.id), .text(entity.rawValue)])
        while try select.step() {
            covers[try directory.replica(at: select.int64(at: 0)).hex] = UInt64(bitPattern: select.int64(at: 1))
        }
        return SnapshotRecord(collection: table.schema.name, entity: entity, covers: covers, exists: register(state.exists),
                              registers: registers, counters: counters, sets: sets, erasures: state.erasures.isEmpty ? nil : state.erasures)
    }

    // MARK: Device side: installing a snapshot

    /// Replaces a record's state with the central node's, then merges again this device's own
    /// operations on it that the snapshot does not reflect, acknowledged or not: nothing typed on
    /// the device is lost, and everything the central node knew is taken. (An acknowledged
    /// operation may be one the central node holds for an operator, in no state it sends.)
    func install(_ record: SnapshotRecord) throws {
        guard let table = catalog.byName[record.collection] else {
            throw SyncError(.schemaMismatch, "the central node sent collection \"\(record.collection.prefix(64))\", which this app's schema lacks: update the app, then sync again")
        }
        var state = try entityState(from: record, table: table)
        var covers: [Int64: UInt64] = [:]
        for (hex, seq) in record.covers {
            guard let replica = ReplicaID(hex: hex), seq >= 1, seq <= UInt64(Int64.max) else {
                throw SyncError(.invalidInput, "snapshot of \(record.key) covers \"\(hex.prefix(40))\" through \(seq): not a replica id and a sequence number")
            }
            covers[try directory.index(of: replica)] = seq
        }
        let loaded = try load(table, record.entity)
        try deleteCovers(table, record.entity)
        for (index, seq) in covers.sorted(by: { $0.key < $1.key }) {
            try db.cached("INSERT INTO _fs_cover(collection, entity, replica, seq) VALUES (?, ?, ?, ?)")
                .run([.int(table.id), .text(record.entity.rawValue), .int(index), .int(Int64(seq))])
            coverCount += 1
        }
        if loaded.location != .none {
            // From the snapshot's cover of this device on, not from the acknowledged sequence
            // number: the central node acknowledges the operations it holds (clock drift, an edit
            // of a record whose creation it holds) without applying them.
            let own = try db.cached("""
                SELECT seq, hlc, body FROM _fs_op WHERE replica = ? AND seq > ? AND collection = ? AND entity = ? ORDER BY seq
                """)
            defer { own.reset() }
            let ownCovered = covers[StoreLayout.localReplicaIndex] ?? 0
            try own.bind([.int(StoreLayout.localReplicaIndex), .int(Int64(ownCovered)), .int(table.id), .text(record.entity.rawValue)])
            while try own.step() {
                let op = ResolvedOperation(id: OpID(replica: localID, seq: UInt64(bitPattern: own.int64(at: 0))),
                                           hlc: HLCTimestamp(rawValue: UInt64(bitPattern: own.int64(at: 1))),
                                           items: try codec.decodeBody(own.bytes(at: 2)))
                guard try !isCovered(op.id, in: covers) else { continue }
                try apply(op, to: &state, table: table, entity: record.entity, covers: covers)
            }
        }
        try save(table, record.entity, from: loaded, to: state)
        // Erasures this device had not seen: what its log and quarantine still hold of the
        // record's personal values goes too (the operations the snapshot covers are not merged
        // again, so nothing above erased them).
        if state.erasures.contains(where: { !loaded.state.erasures.contains($0) }) {
            try eraseHistory(table, record.entity, knowing: state.erasures)
        }
    }

    /// The merge state a snapshot record describes, checked against this replica's schema.
    private func entityState(from record: SnapshotRecord, table: CollectionTable) throws -> EntityState {
        let name = record.key
        func field(_ fieldName: String) throws -> (FieldID, FieldSchema) {
            guard let id = table.fieldIDs[fieldName], let schema = table.field(id) else {
                throw SyncError(.schemaMismatch, "the central node's snapshot of \(name) has field \"\(fieldName.prefix(64))\", which this app's schema lacks: update the app, then sync again")
            }
            return (id, schema)
        }
        func register(_ wire: SnapshotRecord.Register, order: HeadOrder, check: (Value) throws -> Value) throws -> RegisterState {
            var register = RegisterState()
            register.heads = try wire.heads.map { Head(op: $0.op, hlc: $0.hlc, value: try check($0.value)) }
            register.heads.sort { order.precedes($0, $1) }
            register.supersededPending = wire.pending ?? []
            guard Set(register.heads.map(\.op)).count == register.heads.count else {
                throw SyncError(.invalidInput, "snapshot of \(name) lists one head twice")
            }
            return register
        }
        var state = EntityState()
        state.exists = try register(record.exists, order: .existence) { value in
            guard case .bool = value else { throw SyncError(.invalidInput, "snapshot of \(name): existence heads hold true or false") }
            return value
        }
        guard state.exists.winner != nil else { throw SyncError(.invalidInput, "snapshot of \(name) has no existence head") }
        for (fieldName, wire) in record.registers {
            let (id, schema) = try field(fieldName)
            guard let order = table.headOrder(id) else {
                throw SyncError(.schemaMismatch, "snapshot of \(name) sends \(fieldName) as a register; this app declares it \(schema.policy.name)")
            }
            state.registers[id] = try register(wire, order: order) { try checkValue($0, for: schema, collection: table.schema.name, allowNull: true) }
        }
        for (fieldName, total) in record.counters {
            let (id, schema) = try field(fieldName)
            guard schema.policy == .counter else {
                throw SyncError(.schemaMismatch, "snapshot of \(name) sends \(fieldName) as a counter; this app declares it \(schema.policy.name)")
            }
            state.counters[id] = total
        }
        for (fieldName, wire) in record.sets {
            let (id, schema) = try field(fieldName)
            guard schema.policy == .set else {
                throw SyncError(.schemaMismatch, "snapshot of \(name) sends \(fieldName) as a set; this app declares it \(schema.policy.name)")
            }
            var set = SetState()
            for element in wire.elements where !element.tags.isEmpty {
                set.elements[try checkValue(element.value, for: schema, collection: table.schema.name, allowNull: false)] = element.tags.sorted()
            }
            set.removedPending = (wire.pending ?? []).map { SetState.Tag(op: $0.tag, element: $0.value) }
            state.sets[id] = set
        }
        let erasures = record.erasures ?? []
        guard erasures.count <= options.limits.idsPerAssignmentMax, Set(erasures).count == erasures.count else {
            throw SyncError(.invalidInput, "snapshot of \(name) lists \(erasures.count) erasures, or one twice; at most \(options.limits.idsPerAssignmentMax), each once")
        }
        state.erasures = erasures.sorted()
        return state
    }
}
