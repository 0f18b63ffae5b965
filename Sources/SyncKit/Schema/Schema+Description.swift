/// The schema as data: what `GET /v1/schema` serves and `fieldsync schema --json` prints
/// (PROTOCOL.md, "Schema"), so that a client in another language knows every collection, field,
/// policy, lifecycle and natural key without reading Swift, and a hash that changes whenever
/// any of it does.
///
///     {"collections":[{"cellField":"cell","fields":[{"name":"code","personal":false,
///       "policy":"register","review":false,"type":"text"},…],"name":"doorplates",
///       "naturalKey":["code"],"naturalKeyNormalizer":"doorplate-code"},…],
///      "hash":"<64 hex digits>","protocol":1}
extension Schema {
    /// The canonical JSON of the collections (keys in byte order, no whitespace, collections and
    /// fields in declared order): the bytes the hash is taken over.
    public var collectionsJSON: [UInt8] {
        var w = JSONWriter(reserving: 4_096)
        w.array(collections) { w, collection in
            w.object { o in
                if let cell = collection.cellField { o.field("cellField") { $0.string(cell) } }
                o.field("fields") { $0.array(collection.fields) { Self.write($1, &$0) } }
                o.field("name") { $0.string(collection.name) }
                if let key = collection.naturalKey {
                    o.field("naturalKey") { $0.array(key.fields) { $0.string($1) } }
                    o.field("naturalKeyNormalizer") { $0.string(key.normalizer) }
                }
            }
        }
        return w.bytes
    }

    /// SHA-256 of `collectionsJSON`, in lower-case hex: the schema's version.
    public var hash: String { Hex.encode(SHA256.hash(collectionsJSON)) }

    /// `{"collections":…,"hash":…,"protocol":…}`, as served.
    public var descriptionJSON: [UInt8] {
        var w = JSONWriter(reserving: 4_096)
        w.object { o in
            o.field("collections") { $0.bytes += collectionsJSON }
            o.field("hash") { $0.string(hash) }
            o.field("protocol") { $0.int(Int64(SyncProtocol.version)) }
        }
        return w.bytes
    }

    private static func write(_ field: FieldSchema, _ w: inout JSONWriter) {
        w.object { o in
            if case .lifecycle(let lifecycle) = field.policy {
                o.field("lifecycle") {
                    $0.object { l in
                        l.field("initial") { $0.array(lifecycle.initial.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { $0.string($1) } }
                        l.field("precedence") { $0.array(lifecycle.precedence) { $0.string($1) } }
                        l.field("transitions") {
                            $0.dictionary(lifecycle.transitions) { w, targets in
                                w.array(targets.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { $0.string($1) }
                            }
                        }
                    }
                }
            }
            o.field("name") { $0.string(field.name) }
            o.field("personal") { $0.bool(field.personal) }
            o.field("policy") { $0.string(field.policy.name) }
            o.field("review") { $0.bool(field.review) }
            o.field("type") { $0.string(field.type.rawValue) }
        }
    }
}
