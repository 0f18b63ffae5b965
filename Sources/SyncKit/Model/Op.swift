/// One change to one record, as every replica sees it: the unit of sync and of merge.
///
///     Op(id: OpID(replica: r, seq: 7), hlc: t, collection: "households", entity: id,
///               assignments: [Assignment(field: "phone", change: .set("138...", prev: [head]))])
///
/// A saved form or a new record is one operation with many assignments, not one per field.
/// Every local write also carries an assignment to the record's existence register
/// (`Assignment.existenceField`), so an edit concurrent with a delete is a visible conflict.
public struct Op: Sendable, Hashable {
    public let id: OpID
    public let hlc: HLCTimestamp
    public let collection: String
    public let entity: EntityID
    public let assignments: [Assignment]

    public init(id: OpID, hlc: HLCTimestamp, collection: String, entity: EntityID, assignments: [Assignment]) {
        self.id = id
        self.hlc = hlc
        self.collection = collection
        self.entity = entity
        self.assignments = assignments
    }

    public var stamp: Stamp { Stamp(hlc: hlc, op: id) }
}

/// One field's change inside an operation.
public struct Assignment: Sendable, Hashable {
    /// The reserved field name of a record's existence register (true: exists, false: deleted).
    public static let existenceField = "_exists"
    /// The reserved field of erasures (Design.md section 3, "Erasure"): `set(true, prev: E)` is
    /// an erasure of the record's personal values (made by the central node only), which
    /// descends from the earlier erasures `E`; `set(false, prev: E)`, carried by every later write
    /// of a record with erasures, says the writer had seen the erasures `E`.
    public static let erasureField = "_erase"

    public let field: String
    public let change: Change

    public init(field: String, change: Change) {
        self.field = field
        self.change = change
    }
}

/// What an assignment does, by merge policy.
public enum Change: Sendable, Hashable {
    /// A register or lifecycle write (and the existence register): the new value, and the heads
    /// the writer saw (`prev`), which this write supersedes.
    case set(Value, prev: [OpID])
    /// A counter increment (may be negative).
    case increment(Int64)
    /// A set add. The element's tag is the operation's id.
    case add(Value)
    /// A set remove of the tags of `element` the writer had seen (add-wins: tags it had not seen
    /// survive).
    case remove(Value, tags: [OpID])
}

extension Change {
    /// The change with its value erased: a register write of null that keeps its `prev`, a set
    /// add or remove of null (which changes nothing). A counter's increment is never personal.
    var erased: Change {
        switch self {
        case .set(_, let prev): return .set(.null, prev: prev)
        case .add: return .add(.null)
        case .remove(_, let tags): return .remove(.null, tags: tags)
        case .increment: return self
        }
    }
}

/// The erasure rule's two questions (Design.md section 3, "Erasure"), asked of an operation in
/// either form (`Op` on the wire, `ResolvedOperation` in a replica).
enum ErasureRule {
    /// The erasures an operation descends from, given its `_erase` change (nil: it has none):
    /// the ids it lists, and its own id when it is an erasure itself.
    static func listed(by change: Change?, id: OpID) -> [OpID] {
        guard case .set(let value, let prev)? = change else { return [] }
        return value == .bool(true) ? prev + [id] : prev
    }

    /// Whether an operation that descends from `listed` is stored with its personal values
    /// erased by a replica that knows the erasures `known`: unless it descends from them all.
    static func erases(known: [OpID], listed: [OpID]) -> Bool {
        known.contains { !listed.contains($0) }
    }
}

extension Op {
    /// The erasures this operation descends from (its `_erase` list, and itself if it is one).
    public var erasures: [OpID] {
        ErasureRule.listed(by: assignments.first { $0.field == Assignment.erasureField }?.change, id: id)
    }

    /// Whether this is an erasure (`_erase` set to true).
    public var isErasure: Bool {
        assignments.contains { assignment in
            guard assignment.field == Assignment.erasureField, case .set(.bool(true), _) = assignment.change else { return false }
            return true
        }
    }

    /// Whether this operation is `original`, or `original` with values of `personal` fields
    /// erased (by an erasure or by retention): the same operation for every duplicate check.
    public func isErasedForm(of original: Op, personal: Set<String>) -> Bool {
        guard id == original.id, hlc == original.hlc, collection == original.collection, entity == original.entity,
              assignments.count == original.assignments.count else { return false }
        return zip(assignments, original.assignments).allSatisfy { mine, theirs in
            mine == theirs || (mine.field == theirs.field && personal.contains(mine.field) && mine.change == theirs.change.erased)
        }
    }

    /// The operation as a replica that knows the erasures `known` of its record stores it: the
    /// values of `personal` fields nulled unless it descends from every one of them.
    public func scrubbed(knowing known: [OpID], personal: Set<String>) -> Op {
        guard !known.isEmpty, ErasureRule.erases(known: known, listed: erasures) else { return self }
        return Op(id: id, hlc: hlc, collection: collection, entity: entity, assignments: assignments.map {
            personal.contains($0.field) ? Assignment(field: $0.field, change: $0.change.erased) : $0
        })
    }
}
