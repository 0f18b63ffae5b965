/// The data model of a replica: its collections. Checked when declared, and against the schema
/// stored in the replica when opened (fields may be added; a field's type or policy may not
/// change, since old operations must keep their meaning).
///
///     let schema = try Schema([households, doorplates, tasks])
public struct Schema: Sendable {
    public let collections: [CollectionSchema]
    private let index: [String: Int]

    /// Limits on a schema's size.
    public static let collectionsMax = 64
    public static let fieldsPerCollectionMax = 200

    public init(_ collections: [CollectionSchema]) throws {
        guard collections.count <= Self.collectionsMax else {
            throw SyncError(.limitExceeded, "a schema holds at most \(Self.collectionsMax) collections; got \(collections.count)")
        }
        var index: [String: Int] = [:]
        for (position, collection) in collections.enumerated() {
            try Self.checkName(collection.name, what: "collection")
            guard index[collection.name] == nil else {
                throw SyncError(.invalidInput, "collection \"\(collection.name)\" is declared twice")
            }
            index[collection.name] = position
            try Self.check(collection)
        }
        self.collections = collections
        self.index = index
    }

    public func collection(named name: String) -> CollectionSchema? {
        index[name].map { collections[$0] }
    }

    static func checkName(_ name: String, what: String) throws {
        let utf8 = Array(name.utf8)
        let valid = (1...63).contains(utf8.count)
            && (0x61...0x7A).contains(utf8[0])
            && utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        guard valid else {
            throw SyncError(.invalidInput,
                "\(what) name \"\(name)\" is not valid: use 1 to 63 characters a-z 0-9 _, starting with a letter")
        }
        guard name != "id" else { throw SyncError(.invalidInput, "\(what) name \"id\" is reserved for the record id") }
    }

    private static func check(_ collection: CollectionSchema) throws {
        guard collection.fields.count <= fieldsPerCollectionMax else {
            throw SyncError(.limitExceeded, "collection \"\(collection.name)\" has \(collection.fields.count) fields; at most \(fieldsPerCollectionMax)")
        }
        var seen = Set<String>()
        for field in collection.fields {
            try checkName(field.name, what: "field")
            guard seen.insert(field.name).inserted else {
                throw SyncError(.invalidInput, "field \"\(field.name)\" is declared twice in \"\(collection.name)\"")
            }
        }
        for field in collection.fields where field.personal {
            // An erasure nulls a personal register and empties a personal set; a counter's sum,
            // the cell (where the record is served) and a natural key (its id) cannot be erased.
            guard field.policy != .counter, field.name != collection.cellField, !(collection.naturalKey?.fields.contains(field.name) ?? false) else {
                throw SyncError(.invalidInput, "field \"\(field.name)\" of \"\(collection.name)\" cannot be personal: an erasure removes register and set values, not a counter, the cell field or a natural key field")
            }
        }
        if let cell = collection.cellField {
            guard let field = collection.field(named: cell), field.type == .text, field.policy == .register else {
                throw SyncError(.invalidInput, "cell field \"\(cell)\" of \"\(collection.name)\" must be a text register field")
            }
        }
        if let key = collection.naturalKey {
            guard !key.fields.isEmpty else { throw SyncError(.invalidInput, "natural key of \"\(collection.name)\" names no field") }
            for name in key.fields {
                guard let field = collection.field(named: name), field.policy == .register,
                      field.type == .text || field.type == .int else {
                    throw SyncError(.invalidInput, "natural key field \"\(name)\" of \"\(collection.name)\" must be a text or int register field")
                }
            }
        }
    }
}
