/// A field's local number inside one replica file (assigned when the field is first declared).
/// 0 is the existence register.
typealias FieldID = Int

/// An operation with its fields resolved against the stored schema, ready to merge.
struct ResolvedOperation: Sendable {
    struct Item: Sendable {
        var field: FieldID
        var change: Change
    }

    var id: OpID
    var hlc: HLCTimestamp
    var items: [Item]
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

    /// The record exists (its existence register's visible value is `true`).
    var isVisible: Bool { exists.winner?.value == .bool(true) }

    /// Whether anything at all is known about the record.
    var isEmpty: Bool { exists.heads.isEmpty && exists.supersededPending.isEmpty && registers.isEmpty && counters.isEmpty && sets.isEmpty }

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
                sets[item.field, default: SetState()].add(element, tag: op.id)
            case .remove(let element, let tags):
                try sets[item.field, default: SetState()].remove(element, tags: tags, isApplied: isApplied)
            }
        }
    }

    /// The fields in conflict (0 = the existence register).
    func conflictFields() -> Set<FieldID> {
        var result = Set<FieldID>()
        if exists.isConflict { result.insert(0) }
        for (field, register) in registers where register.isConflict { result.insert(field) }
        return result
    }
}
