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
