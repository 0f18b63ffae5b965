/// One field of a collection: its name, value type, merge policy, and whether its conflicts go
/// to the operators' review queue.
///
///     FieldSchema.text("head_name", review: true)
///     FieldSchema.counter("visit_count")
///     FieldSchema.set("tags")
///     FieldSchema.lifecycle("status", taskStatus)
public struct FieldSchema: Sendable, Hashable {
    public let name: String
    /// The value type; for a set field, the type of its elements.
    public let type: FieldType
    public let policy: MergePolicy
    /// Conflicts on this field are shown in the central node's review queue.
    public let review: Bool

    public init(name: String, type: FieldType, policy: MergePolicy = .register, review: Bool = false) {
        self.name = name
        self.type = type
        self.policy = policy
        self.review = review
    }

    public static func text(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .text, review: review) }
    public static func int(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .int, review: review) }
    public static func real(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .real, review: review) }
    public static func bool(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .bool, review: review) }
    public static func blob(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .blob, review: review) }
    public static func counter(_ name: String) -> FieldSchema { .init(name: name, type: .int, policy: .counter) }
    public static func set(_ name: String, of elementType: FieldType = .text) -> FieldSchema {
        .init(name: name, type: elementType, policy: .set)
    }
    public static func lifecycle(_ name: String, _ lifecycle: Lifecycle, review: Bool = false) -> FieldSchema {
        .init(name: name, type: .text, policy: .lifecycle(lifecycle), review: review)
    }

    /// The SQLite column type of the field in the plain table (a set is a JSON array in TEXT).
    var columnType: String {
        if case .set = policy { return "TEXT" }
        return type.sqlType
    }
}
