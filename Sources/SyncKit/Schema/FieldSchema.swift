/// One field of a collection: its name, value type, merge policy, whether its conflicts go
/// to the operators' review queue, and whether it holds personal data.
///
///     FieldSchema.text("head_name", review: true, personal: true)
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
    /// The field holds personal data about someone (a name, a phone number, a family's size,
    /// free notes): what an erasure removes (Design.md section 4, "Personal data in the files").
    /// A declaration of the schema, like `review`, shared by every replica.
    public let personal: Bool

    public init(name: String, type: FieldType, policy: MergePolicy = .register, review: Bool = false, personal: Bool = false) {
        self.name = name
        self.type = type
        self.policy = policy
        self.review = review
        self.personal = personal
    }

    public static func text(_ name: String, review: Bool = false, personal: Bool = false) -> FieldSchema {
        .init(name: name, type: .text, review: review, personal: personal)
    }
    public static func int(_ name: String, review: Bool = false, personal: Bool = false) -> FieldSchema {
        .init(name: name, type: .int, review: review, personal: personal)
    }
    public static func real(_ name: String, review: Bool = false, personal: Bool = false) -> FieldSchema {
        .init(name: name, type: .real, review: review, personal: personal)
    }
    public static func bool(_ name: String, review: Bool = false) -> FieldSchema { .init(name: name, type: .bool, review: review) }
    public static func blob(_ name: String, review: Bool = false, personal: Bool = false) -> FieldSchema {
        .init(name: name, type: .blob, review: review, personal: personal)
    }
    public static func counter(_ name: String) -> FieldSchema { .init(name: name, type: .int, policy: .counter) }
    public static func set(_ name: String, of elementType: FieldType = .text, personal: Bool = false) -> FieldSchema {
        .init(name: name, type: elementType, policy: .set, personal: personal)
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
