/// A field's local number inside one replica file (assigned when the field is first declared).
/// 0 is the existence register.
typealias FieldID = Int

extension FieldID {
    /// The reserved field `_erase` (`Assignment.erasureField`) inside a replica: never a column.
    static let erasure: FieldID = -1
}

/// An operation with its fields resolved against the stored schema, ready to merge.
struct ResolvedOperation: Sendable {
    struct Item: Sendable, Equatable {
        var field: FieldID
        var change: Change
    }

    var id: OpID
    var hlc: HLCTimestamp
    var items: [Item]

    /// The erasures this operation descends from (Design.md section 3, "Erasure"): the ids its
    /// `_erase` assignment lists, and its own id when it is an erasure itself.
    var erasures: [OpID] {
        ErasureRule.listed(by: items.first { $0.field == .erasure }?.change, id: id)
    }

    /// The operation as a replica that knows `known` erasures of its record applies and stores
    /// it: unless it descends from every one of them, its personal fields' values are null (a
    /// register write keeps its `prev`; a set add or remove of null changes nothing).
    func scrubbed(knowing known: [OpID], personal: (FieldID) -> Bool) -> ResolvedOperation {
        guard !known.isEmpty, ErasureRule.erases(known: known, listed: erasures) else { return self }
        var copy = self
        for index in copy.items.indices where personal(copy.items[index].field) {
            copy.items[index].change = copy.items[index].change.erased
        }
        return copy
    }
}

/// The complete merge state of one record: what the plain table shows, and the metadata that
/// decides it. Pure value: the store loads it, applies operations, and saves it.
///
///     var state = EntityState()
///     try state.apply(op, policies: policies) { id in try log.contains(id) }
///     state.isVisible   // the existence register's winner is `true`
struct EntityState: Sendable, Equatable {
    var exists = RegisterState()
    var registers: FieldMap<RegisterState> = [:]
    var counters: FieldMap<Int64> = [:]
    var sets: FieldMap<SetState> = [:]
    /// The erasures of this record known here (applied, or listed by an operation applied),
    /// ascending: an operation that does not list them all has its personal values nulled.
    var erasures: [OpID] = []

    /// The record exists (its existence register's visible value is `true`).
    var isVisible: Bool { exists.winner?.value == .bool(true) }

    /// Whether anything at all is known about the record.
    var isEmpty: Bool { exists.heads.isEmpty && exists.supersededPending.isEmpty && registers.isEmpty && counters.isEmpty && sets.isEmpty && erasures.isEmpty }

    /// Applies every assignment of one operation. Fields are resolved; `order` gives each
    /// register field's head order, `isApplied` whether an op id is already in the log.
    mutating func apply(_ op: ResolvedOperation, order: (FieldID) -> HeadOrder?,
                        isApplied: (OpID) throws -> Bool) rethrows {
        for item in op.items {
            switch item.change {
            case .set(let value, let prev):
                if item.field == 0 {
                    try exists.write(op: op.id, hlc: op.hlc, value: value, prev: prev, order: .existence, isApplied: isApplied)
                } else if let headOrder = order(item.field) {
                    try registers[item.field, default: RegisterState()]
                        .write(op: op.id, hlc: op.hlc, value: value, prev: prev, order: headOrder, isApplied: isApplied)
                }
            case .increment(let delta):
                // Wrapping addition is commutative and associative, so the sum never depends
                // on order even at the edge of the range (local increments are bounded far below it).
                counters[item.field, default: 0] &+= delta
            case .add(let element):
                // Null: an erased element (`ResolvedOperation.scrubbed`), which adds nothing.
                guard element != .null else { continue }
                sets[item.field, default: SetState()].add(element, tag: op.id)
            case .remove(let element, let tags):
                guard element != .null else { continue }
                try sets[item.field, default: SetState()].remove(element, tags: tags, isApplied: isApplied)
            }
        }
    }

    /// Takes in the erasures an operation (already scrubbed) descends from; returns those new
    /// here. A new erasure is listed by no operation this state reflects (else it would be
    /// known), so every personal value held is erased: registers keep their heads (who
    /// superseded whom) with null values; sets lose their elements and pending removals.
    mutating func learnErasures(_ listed: [OpID], personal: [FieldID], order: (FieldID) -> HeadOrder?) -> [OpID] {
        let new = listed.filter { !erasures.contains($0) }
        guard !new.isEmpty else { return [] }
        erasures = (erasures + new).sorted()
        for field in personal {
            if var register = registers[field] {
                for index in register.heads.indices { register.heads[index].value = .null }
                if let headOrder = order(field) { register.heads.sort { headOrder.precedes($0, $1) } }
                registers[field] = register
            }
            if sets[field] != nil { sets[field] = nil }
        }
        return new
    }

    /// The fields in conflict (0 = the existence register).
    func conflictFields() -> Set<FieldID> {
        var result = Set<FieldID>()
        if exists.isConflict { result.insert(0) }
        for (field, register) in registers where register.isConflict { result.insert(field) }
        return result
    }
}
