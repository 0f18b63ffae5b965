import Foundation

/// A collection of records (a table), declared in Swift.
///
///     let doorplates = CollectionSchema("doorplates", cellField: "cell",
///         naturalKey: NaturalKey(fields: ["code"]),
///         fields: [.text("code"), .text("cell"), .text("street"), .lifecycle("status", plateStatus)])
///
/// `cellField` names the text field that holds the record's grid cell: digests and (later)
/// replication scopes filter on it. A `naturalKey` derives the record id from the normalized key.
public struct CollectionSchema: Sendable {
    public let name: String
    public let fields: [FieldSchema]
    public let cellField: String?
    public let naturalKey: NaturalKey?

    public init(_ name: String, cellField: String? = nil, naturalKey: NaturalKey? = nil, fields: [FieldSchema]) {
        self.name = name
        self.fields = fields
        self.cellField = cellField
        self.naturalKey = naturalKey
    }

    public func field(named name: String) -> FieldSchema? { fields.first { $0.name == name } }
}

/// The fields whose normalized values identify a record, and how each is normalized.
///
///     NaturalKey(fields: ["code"]) { $0.uppercased() }
public struct NaturalKey: Sendable {
    public let fields: [String]
    public let normalize: @Sendable (String) -> String
    /// The normalizer's name, for clients in other languages (PROTOCOL.md, "Natural keys"):
    /// "default" is `defaultNormalize`; any other names a rule the schema's owner documents.
    public let normalizer: String

    public init(fields: [String], normalizer: String = "default", normalize: @escaping @Sendable (String) -> String = NaturalKey.defaultNormalize) {
        self.fields = fields
        self.normalize = normalize
        self.normalizer = normalizer
    }

    /// NFKC (full-width letters and digits become ASCII), lower case, trimmed, inner
    /// whitespace collapsed to one space.
    public static func defaultNormalize(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The normalized key parts for a set of values, or nil if a key field is missing.
    func parts(from values: [String: Value]) -> [String]? {
        var parts: [String] = []
        for field in fields {
            switch values[field] {
            case .text(let text)?: parts.append(normalize(text))
            case .int(let number)?: parts.append(String(number))
            default: return nil
            }
        }
        return parts
    }
}
