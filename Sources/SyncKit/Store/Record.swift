/// A record as the plain table shows it.
///
///     let household = try replica.record("households", id)
///     household?["head_name"].text   // "张伟"
///     household?.elements("tags")     // ["elderly"]
public struct Record: Sendable, Equatable {
    public let collection: String
    public let id: EntityID
    /// Every declared field's visible value (`.null` when unset); a set field holds its JSON text.
    public let values: [String: Value]
    /// The elements of each set field, in canonical order.
    public let sets: [String: [Value]]
    /// True when read from a tombstone (only with `includeDeleted`).
    public let isDeleted: Bool
    /// An operator erased the record's personal values (Design.md section 3, "Erasure"): its
    /// personal fields are null unless written again since.
    public var isErased: Bool = false

    public subscript(field: String) -> Value { values[field] ?? .null }
    public func elements(_ field: String) -> [Value] { sets[field] ?? [] }
}

/// A field whose current heads hold different values: the merge picked a winner, and people
/// may want to choose.
///
///     for conflict in try replica.conflicts() where conflict.review { ... }
///     try replica.write { try $0.resolve(c.collection, c.entity, c.field, pick: c.candidates[1].op) }
public struct Conflict: Sendable, Equatable, Hashable {
    public struct Candidate: Sendable, Equatable, Hashable {
        public let op: OpID
        public let hlc: HLCTimestamp
        public let value: Value
    }

    public let collection: String
    public let entity: EntityID
    /// The field, or `Assignment.existenceField` for an edit concurrent with a delete.
    public let field: String
    /// Goes to the operators' review queue.
    public let review: Bool
    /// The heads, the visible winner first.
    public let candidates: [Candidate]
}

/// The records that one committed transaction or batch changed.
public struct ChangeSet: Sendable, Equatable {
    public enum Origin: Sendable, Equatable { case local, remote }
    public let origin: Origin
    /// Collection name → ids of changed records.
    public let records: [String: Set<EntityID>]
}
