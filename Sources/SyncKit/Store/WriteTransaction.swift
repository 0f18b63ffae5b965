/// Local writes, inside one SQLite transaction: each call is one operation, applied to the plain
/// table and appended to the op log together, so a crash leaves both or neither.
///
///     let id = try replica.write { tx in
///         let id = try tx.insert("households", ["head_name": "张伟", "cell": "JS-0412", "members": 3])
///         try tx.increment("households", id, "visit_count")
///         try tx.add("households", id, "tags", "elderly")
///         return id
///     }
///
/// Values are checked against the schema and the limits; a lifecycle field only moves along a
/// legal transition. Every write supersedes the heads it saw, so writing a conflicted field
/// resolves the conflict.
public final class WriteTransaction {
    let engine: Engine

    init(engine: Engine) { self.engine = engine }

    /// Creates a record and returns its id: derived from the natural key when the collection
    /// declares one, else `id`, else random. `elements` gives set fields their first elements.
    @discardableResult
    public func insert(_ collection: String, id: EntityID? = nil, _ values: [String: Value],
                       elements: [String: [Value]] = [:]) throws -> EntityID {
        let table = try engine.catalog.table(named: collection)
        let entity = try engine.entityID(for: table, values: values, given: id)
        let loaded = try engine.load(table, entity)
        guard !loaded.state.isVisible else {
            let how = table.schema.naturalKey != nil ? "with this natural key (\(table.schema.naturalKey!.fields.joined(separator: ", ")))" : "with id \(entity)"
            throw SyncError(.alreadyExists, "a \(collection) record \(how) already exists (id \(entity)); update it instead")
        }
        var items = [ResolvedOperation.Item(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs))]
        items += try engine.assignments(table, loaded: loaded, values: values, creating: true)
        items += try engine.elementAdds(table, elements)
        try engine.writeLocal(table, entity, loaded: loaded, items: items)
        return entity
    }

    /// Sets register and lifecycle fields of an existing record, in one operation.
    public func update(_ collection: String, _ id: EntityID, _ values: [String: Value]) throws {
        let (table, loaded) = try existing(collection, id)
        var items = [ResolvedOperation.Item(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs))]
        items += try engine.assignments(table, loaded: loaded, values: values, creating: false)
        try engine.writeLocal(table, id, loaded: loaded, items: items)
    }

    /// Adds `delta` to a counter field.
    public func increment(_ collection: String, _ id: EntityID, _ field: String, by delta: Int64 = 1) throws {
        let (table, loaded) = try existing(collection, id)
        let fid = try engine.field(table, field, policy: "counter")
        guard delta != 0, delta.magnitude <= engine.options.limits.counterDeltaMax.magnitude else {   // abs(Int64.min) traps
            throw SyncError(.invalidInput, "increment of \(collection).\(field) must be non-zero and at most \(engine.options.limits.counterDeltaMax) in size; got \(delta)")
        }
        try engine.writeLocal(table, id, loaded: loaded, items: [
            .init(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs)),
            .init(field: fid, change: .increment(delta)),
        ])
    }

    /// Adds an element to a set field.
    public func add(_ collection: String, _ id: EntityID, _ field: String, _ element: Value) throws {
        let (table, loaded) = try existing(collection, id)
        let fid = try engine.field(table, field, policy: "set")
        let checked = try engine.checkValue(element, for: table.field(fid)!, collection: collection, allowNull: false)
        var items: [ResolvedOperation.Item] = [.init(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs))]
        // Adding an element already present replaces the tags seen here with this add's own (a
        // remove of them in the same operation): the element stays present everywhere exactly as
        // with the tags kept (add-wins: a concurrent remove saw none of this add's tag), but its
        // tags no longer pile up, one per add, for as long as the record lives.
        if let seen = loaded.state.sets[fid]?.elements[checked], !seen.isEmpty { items.append(.init(field: fid, change: .remove(checked, tags: seen))) }
        items.append(.init(field: fid, change: .add(checked)))
        try engine.writeLocal(table, id, loaded: loaded, items: items)
    }

    /// Removes an element from a set field: the adds seen here are removed; a concurrent add
    /// elsewhere survives (add-wins). Removing an absent element does nothing.
    public func remove(_ collection: String, _ id: EntityID, _ field: String, _ element: Value) throws {
        let (table, loaded) = try existing(collection, id)
        let fid = try engine.field(table, field, policy: "set")
        guard let tags = loaded.state.sets[fid]?.elements[element], !tags.isEmpty else { return }
        try engine.writeLocal(table, id, loaded: loaded, items: [
            .init(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs)),
            .init(field: fid, change: .remove(element, tags: tags)),
        ])
    }

    /// Deletes a record. Its values are kept in a tombstone: an edit made concurrently elsewhere
    /// brings it back as a visible conflict instead of being lost.
    public func delete(_ collection: String, _ id: EntityID) throws {
        let (table, loaded) = try existing(collection, id)
        try engine.writeLocal(table, id, loaded: loaded, items: [
            .init(field: 0, change: .set(.bool(false), prev: loaded.state.exists.headIDs)),
        ])
    }

    /// Resolves a conflict by picking one of the candidates (a head's op id, see
    /// `Replica.conflicts`). `field` may be `Assignment.existenceField` (keep or delete).
    public func resolve(_ collection: String, _ id: EntityID, _ field: String, pick op: OpID) throws {
        let table = try engine.catalog.table(named: collection)
        let loaded = try engine.load(table, id)
        let (fid, register) = try engine.register(table, loaded, field)
        guard let head = register.heads.first(where: { $0.op == op }) else {
            throw SyncError(.notFound, "\(op) is not a current value of \(collection).\(field) on record \(id); list the candidates again")
        }
        try engine.writeLocal(table, id, loaded: loaded, items: engine.resolution(fid, head.value, loaded))
    }

    /// Resolves a conflict with a new value (checked like any write, except that a lifecycle
    /// field may take any of its states).
    public func resolve(_ collection: String, _ id: EntityID, _ field: String, value: Value) throws {
        let table = try engine.catalog.table(named: collection)
        let loaded = try engine.load(table, id)
        let (fid, _) = try engine.register(table, loaded, field)
        let checked = fid == 0 ? value : try engine.checkValue(value, for: table.field(fid)!, collection: collection, allowNull: true)
        if fid == 0, checked.bool == nil {
            throw SyncError(.invalidInput, "the existence of a record is resolved with true (keep) or false (delete)")
        }
        try engine.writeLocal(table, id, loaded: loaded, items: engine.resolution(fid, checked, loaded))
    }

    /// Erases the personal values of a record (section 3, "Erasure"): one operation, `_erase`
    /// set to true over the erasures seen, which every replica merges by nulling every personal
    /// value of the record that a write not descending from it holds, in its state, log and
    /// quarantine. The central node's operators erase; a device's erasure is held there.
    package func erase(_ collection: String, _ id: EntityID) throws {
        let table = try engine.catalog.table(named: collection)
        guard !table.personalFieldIDs.isEmpty else {
            throw SyncError(.invalidInput, "\(collection) declares no personal field: there is nothing to erase")
        }
        let loaded = try engine.load(table, id)
        guard loaded.location != .none else { throw SyncError(.notFound, "no \(collection) record with id \(id)") }
        try engine.writeLocal(table, id, loaded: loaded, items: [
            .init(field: .erasure, change: .set(.bool(true), prev: loaded.state.erasures)),
        ])
    }

    /// Writes the changes of another replica's operation as a new local operation, stamped with
    /// this replica's clock and superseding the heads seen here: how an operator releases an
    /// operation held for a clock far ahead without letting that clock win.
    package func restamp(_ op: Op) throws {
        let table = try engine.catalog.table(named: op.collection)
        let loaded = try engine.load(table, op.entity)
        guard !op.isErasure else {
            throw SyncError(.invalidInput, "operation \(op.id) is an erasure from a device, which is not written again; erase the record with `fieldsync central erase`")
        }
        // Written before an erasure it did not see: its personal values were erased, and are not
        // written again (null) over what was written since.
        let erased = loaded.state.erasures.contains { !op.erasures.contains($0) }
        var items: [ResolvedOperation.Item] = []
        for assignment in op.assignments {
            // This write lists the erasures it sees itself (`writeLocal`).
            if assignment.field == Assignment.erasureField { continue }
            if erased && table.personalFieldNames.contains(assignment.field) { continue }
            if assignment.field == Assignment.existenceField {
                guard case .set(.bool(let exists), _) = assignment.change else {
                    throw SyncError(.invalidInput, "the existence register takes true or false")
                }
                items.append(.init(field: 0, change: .set(.bool(exists), prev: loaded.state.exists.headIDs)))
                continue
            }
            guard let fid = table.fieldIDs[assignment.field], let field = table.field(fid) else {
                throw SyncError(.invalidInput, "\(op.collection) has no field \"\(assignment.field.prefix(64))\"")
            }
            switch assignment.change {
            case .set(let value, _):
                let checked = try engine.checkValue(value, for: field, collection: op.collection, allowNull: true)
                items.append(.init(field: fid, change: .set(checked, prev: loaded.state.registers[fid]?.headIDs ?? [])))
            case .increment(let delta):
                items.append(.init(field: fid, change: .increment(delta)))
            case .add(let element):
                items.append(.init(field: fid, change: .add(try engine.checkValue(element, for: field, collection: op.collection, allowNull: false))))
            case .remove(let element, _):
                items.append(.init(field: fid, change: .remove(element, tags: loaded.state.sets[fid]?.elements[element] ?? [])))
            }
        }
        if let problem = engine.naturalKeyProblem(table, op.entity, items) {
            throw SyncError(.invalidInput, "operation \(op.id) cannot be written again: it \(problem)")
        }
        try engine.writeLocal(table, op.entity, loaded: loaded, items: items)
    }

    /// Reads a record as this transaction sees it (its own writes included).
    public func record(_ collection: String, _ id: EntityID, includeDeleted: Bool = false) throws -> Record? {
        try engine.record(collection, id, includeDeleted: includeDeleted)
    }

    private func existing(_ collection: String, _ id: EntityID) throws -> (CollectionTable, LoadedEntity) {
        let table = try engine.catalog.table(named: collection)
        let loaded = try engine.load(table, id)
        switch loaded.location {
        case .live: return (table, loaded)
        case .tombstone: throw SyncError(.notFound, "\(collection) record \(id) was deleted; insert it again to restore it")
        case .none: throw SyncError(.notFound, "no \(collection) record with id \(id)")
        }
    }
}

extension Engine {
    func writeLocal(_ table: CollectionTable, _ entity: EntityID, loaded: LoadedEntity, items: [ResolvedOperation.Item]) throws {
        var items = items
        // A write on a record with erasures says it saw them, so that its values are new data
        // everywhere (section 3, "Erasure"); an erasure lists them itself.
        if !loaded.state.erasures.isEmpty, !items.contains(where: { $0.field == .erasure }) {
            items.append(.init(field: .erasure, change: .set(.bool(false), prev: loaded.state.erasures)))
        }
        guard items.count <= options.limits.assignmentsPerOpMax else {
            throw SyncError(.limitExceeded, "one write may change at most \(options.limits.assignmentsPerOpMax) fields; got \(items.count)")
        }
        let (id, hlc) = try nextLocalStamp()
        guard try merge(ResolvedOperation(id: id, hlc: hlc, items: items), table: table, entity: entity, loaded: loaded) else {
            // A local operation is never a duplicate, unless another process wrote to this
            // replica file as the same replica: refuse rather than lose the write.
            throw SyncError(.corrupt, "operation \(id) is already in the log: another process is writing to this replica file; close it and retry")
        }
        if localOpsWritten != nil {
            localOpsWritten!.append(Op(id: id, hlc: hlc, collection: table.schema.name, entity: entity, assignments: try table.assignments(items)))
        }
    }

    func entityID(for table: CollectionTable, values: [String: Value], given: EntityID?) throws -> EntityID {
        guard let key = table.schema.naturalKey else {
            if let given { return given }
            return EntityID.random(using: &rng)
        }
        guard let parts = key.parts(from: values) else {
            throw SyncError(.invalidInput, "a new \(table.schema.name) record needs its natural key field(s) \(key.fields.joined(separator: ", ")) as non-empty values")
        }
        let derived = EntityID.naturalKey(collection: table.schema.name, key: parts)
        if let given, given != derived {
            throw SyncError(.invalidInput, "id \(given) does not match the natural key of this \(table.schema.name) record (\(derived)); omit the id")
        }
        return derived
    }

    func field(_ table: CollectionTable, _ name: String, policy: String) throws -> FieldID {
        guard let fid = table.fieldIDs[name], let field = table.field(fid) else {
            throw SyncError(.invalidInput, "\(table.schema.name) has no field \"\(name.prefix(64))\"; fields: \(table.fields.map(\.schema.name).joined(separator: ", "))")
        }
        guard field.policy.name == policy else {
            throw SyncError(.invalidInput, "\(table.schema.name).\(name) is a \(field.policy.name) field, not a \(policy)")
        }
        return fid
    }

    func register(_ table: CollectionTable, _ loaded: LoadedEntity, _ name: String) throws -> (FieldID, RegisterState) {
        guard loaded.location != .none else { throw SyncError(.notFound, "no \(table.schema.name) record with that id") }
        if name == Assignment.existenceField { return (0, loaded.state.exists) }
        guard let fid = table.fieldIDs[name], table.field(fid)!.policy.isRegister else {
            throw SyncError(.invalidInput, "\(table.schema.name) has no register or lifecycle field \"\(name.prefix(64))\"")
        }
        return (fid, loaded.state.registers[fid] ?? RegisterState())
    }

    func resolution(_ fid: FieldID, _ value: Value, _ loaded: LoadedEntity) -> [ResolvedOperation.Item] {
        if fid == 0 { return [.init(field: 0, change: .set(value, prev: loaded.state.exists.headIDs))] }
        return [
            .init(field: 0, change: .set(.bool(true), prev: loaded.state.exists.headIDs)),
            .init(field: fid, change: .set(value, prev: loaded.state.registers[fid]?.headIDs ?? [])),
        ]
    }

    /// Register, lifecycle and counter assignments for `insert`/`update`, in field order.
    func assignments(_ table: CollectionTable, loaded: LoadedEntity, values: [String: Value], creating: Bool) throws -> [ResolvedOperation.Item] {
        var items: [ResolvedOperation.Item] = []
        for name in values.keys.sorted() {
            let value = values[name]!
            guard let fid = table.fieldIDs[name], let field = table.field(fid) else {
                throw SyncError(.invalidInput, "\(table.schema.name) has no field \"\(name.prefix(64))\"; fields: \(table.fields.map(\.schema.name).joined(separator: ", "))")
            }
            let checked = try checkValue(value, for: field, collection: table.schema.name, allowNull: true)
            let current = loaded.state.registers[fid]
            switch field.policy {
            case .register:
                if !creating, let key = table.schema.naturalKey, key.fields.contains(name) {
                    let old = current?.winner?.value ?? .null
                    if key.parts(from: [name: old]) != key.parts(from: [name: checked]) {
                        throw SyncError(.invalidInput, "\(table.schema.name).\(name) is part of the natural key and cannot change; create a new record instead")
                    }
                    // The same key again writes nothing: a key is written whole, at creation
                    // (remote replicas refuse an operation that writes part of one).
                    continue
                }
                if name == table.schema.cellField, checked.isNull {
                    throw SyncError(.invalidInput, "\(table.schema.name).\(name) is the record's grid cell and cannot be empty")
                }
                items.append(.init(field: fid, change: .set(checked, prev: current?.headIDs ?? [])))
            case .lifecycle(let lifecycle):
                let from = creating ? nil : current?.winner?.value.text
                if case .text(let to) = checked, !lifecycle.allows(from: from, to: to) {
                    let legal = from.map { lifecycle.transitions[$0].map { $0.sorted().joined(separator: ", ") } ?? "none" }
                        ?? lifecycle.initial.sorted().joined(separator: ", ")
                    throw SyncError(.illegalTransition, "\(table.schema.name).\(name) cannot go from \(from ?? "(new)") to \(to); allowed: \(legal)")
                }
                if checked.isNull, !creating || !lifecycle.initial.isEmpty {
                    throw SyncError(.invalidInput, "\(table.schema.name).\(name) needs one of its states: \(lifecycle.precedence.joined(separator: ", "))")
                }
                items.append(.init(field: fid, change: .set(checked, prev: current?.headIDs ?? [])))
            case .counter:
                guard case .int(let delta) = checked else {
                    throw SyncError(.invalidInput, "counter \(table.schema.name).\(name) starts from a whole number")
                }
                guard creating else {
                    throw SyncError(.invalidInput, "\(table.schema.name).\(name) is a counter: use increment, not update")
                }
                guard delta.magnitude <= options.limits.counterDeltaMax.magnitude else {   // abs(Int64.min) traps
                    throw SyncError(.limitExceeded, "counter \(table.schema.name).\(name) may start at most at \(options.limits.counterDeltaMax)")
                }
                if delta != 0 { items.append(.init(field: fid, change: .increment(delta))) }
            case .set:
                throw SyncError(.invalidInput, "\(table.schema.name).\(name) is a set: use add/remove (or `elements:` when inserting)")
            }
        }
        if creating, let cell = table.schema.cellField, values[cell] == nil || values[cell]!.isNull {
            throw SyncError(.invalidInput, "a new \(table.schema.name) record needs its grid cell (field \(cell))")
        }
        return items
    }

    func elementAdds(_ table: CollectionTable, _ elements: [String: [Value]]) throws -> [ResolvedOperation.Item] {
        var items: [ResolvedOperation.Item] = []
        for name in elements.keys.sorted() {
            let fid = try field(table, name, policy: "set")
            var seen = Set<Value>()
            for element in elements[name]! where seen.insert(element).inserted {
                let checked = try checkValue(element, for: table.field(fid)!, collection: table.schema.name, allowNull: false)
                items.append(.init(field: fid, change: .add(checked)))
            }
        }
        return items
    }

    /// Checks a value against its field's type and the limits; returns it in canonical form
    /// (a real's -0.0 becomes 0.0).
    func checkValue(_ value: Value, for field: FieldSchema, collection: String, allowNull: Bool) throws -> Value {
        let name = "\(collection).\(field.name)"
        switch value {
        case .null:
            guard allowNull else { throw SyncError(.invalidInput, "\(name) takes no null elements") }
            return value
        case .real(let real):
            guard field.type == .real else { break }
            guard real.isFinite else { throw SyncError(.invalidInput, "\(name) must be a finite number") }
            return .real(real == 0 ? 0 : real)
        case .text(let text):
            guard field.type == .text else { break }
            guard text.utf8.count <= options.limits.textBytesMax else {
                throw SyncError(.limitExceeded, "\(name) is \(text.utf8.count) bytes long; at most \(options.limits.textBytesMax)")
            }
            if case .lifecycle(let lifecycle) = field.policy, !lifecycle.isState(text) {
                throw SyncError(.invalidInput, "\(name) has no state \"\(text.prefix(64))\"; states: \(lifecycle.precedence.joined(separator: ", "))")
            }
            return value
        case .blob(let bytes):
            guard field.type == .blob else { break }
            guard bytes.count <= options.limits.blobBytesMax else {
                throw SyncError(.limitExceeded, "\(name) is \(bytes.count) bytes; at most \(options.limits.blobBytesMax)")
            }
            return value
        case .int:
            guard field.type == .int else { break }
            return value
        case .bool:
            guard field.type == .bool else { break }
            return value
        }
        throw SyncError(.invalidInput, "\(name) takes \(field.type.rawValue) values, not \(value.type!.rawValue)")
    }
}
