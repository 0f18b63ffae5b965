import Foundation

/// The compact form of a snapshot page (`CellSnapshot.form` 2, Design.md "Bootstrap by
/// snapshot"): what every record of a page repeats (collection and field names, replica ids,
/// value type tags) is said once for the page.
///
///     {"cseq":4,"fields":{"households":[["cell","r"],["head_name","r"],["visit_count","c"],["tags","s"]]},
///      "form":2,"records":[[0,"JXC3…",[[0,2,1767225600000,1]],[[0,2]],true,["JS-0412","张伟",1,[["elderly",[0]]]]]],
///      "replicas":["00000000000000010000000000000001"]}
///
/// A record is `[collection, entity, refs, covers, exists, entries]` and, when it has writes
/// superseded before they arrived, a seventh member `{"pending":{field:[op id…]},"setPending":
/// {field:[[value, op id]…]}}`. `collection` indexes the page's collections in name order; a ref
/// is `[replica, seq, millis, counter]` (replica indexes `replicas`); covers are `[replica, seq]`;
/// `entries` follow the collection's field list, each by its kind: a register (`r`) is `null`
/// (no write), a bare value (one write, by ref 0), `[ref, value]`, or `[[ref, value]…]` (several
/// heads, visible first); a counter (`c`) is its total or `null`; a set (`s`) is `null` or its
/// elements `[[value, [ref…]]…]`. A value is written bare: a string is text, an integer an int, a
/// number with a fraction or exponent a real, true or false a bool, `{"b":"<base64>"}` a blob, and
/// `null` (inside `[ref, value]` or a set element) null.
extension WireJSON {
    enum FieldKind: String { case register = "r", counter = "c", set = "s" }

    /// Field lists per collection, as the page writes them (names in byte order).
    static func compactLayout(_ records: [SnapshotRecord]) -> [String: [(name: String, kind: FieldKind)]] {
        var kinds: [String: [String: FieldKind]] = [:]
        for record in records {
            var fields = kinds[record.collection] ?? [:]
            for name in record.registers.keys { fields[name] = .register }
            for name in record.counters.keys { fields[name] = .counter }
            for name in record.sets.keys { fields[name] = .set }
            kinds[record.collection] = fields
        }
        return kinds.mapValues { fields in
            fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { ($0, fields[$0]!) }
        }
    }

    /// Whether a page can be written compact: its covers name replicas by valid ids, and no
    /// field is a register in one record and a counter or set in another.
    static func fitsCompact(_ records: [SnapshotRecord]) -> Bool {
        var kinds: [String: FieldKind] = [:]
        for record in records {
            guard record.covers.keys.allSatisfy({ ReplicaID(hex: $0) != nil }) else { return false }
            for (names, kind) in [(Array(record.registers.keys), FieldKind.register), (Array(record.counters.keys), .counter), (Array(record.sets.keys), .set)] {
                for name in names {
                    let key = record.collection + "/" + name
                    if let known = kinds[key], known != kind { return false }
                    kinds[key] = kind
                }
            }
        }
        return true
    }

    static func writeCompact(_ snapshot: CellSnapshot, _ w: inout JSONWriter) {
        let layout = compactLayout(snapshot.records)
        let collections = layout.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let collectionIndex = Dictionary(uniqueKeysWithValues: collections.enumerated().map { ($1, $0) })
        var replicas: [ReplicaID] = []
        var replicaIndex: [ReplicaID: Int] = [:]
        func replica(_ id: ReplicaID) -> Int {
            if let known = replicaIndex[id] { return known }
            replicaIndex[id] = replicas.count
            replicas.append(id)
            return replicas.count - 1
        }
        // Records first (they assign replica numbers), then the page's members in key order.
        var body = JSONWriter(reserving: snapshot.records.count * 256)
        body.array(snapshot.records) { w, record in
            writeCompact(record, fields: layout[record.collection] ?? [], collection: collectionIndex[record.collection] ?? 0,
                         replica: replica, &w)
        }
        w.object { o in
            o.field("cseq") { $0.uint(snapshot.cseq) }
            o.field("fields") {
                $0.object { o in
                    for name in collections {
                        o.field(name) { $0.array(layout[name]!) { w, field in w.array([0, 1]) { w, part in w.string(part == 0 ? field.name : field.kind.rawValue) } } }
                    }
                }
            }
            o.field("form") { $0.int(2) }
            if let next = snapshot.next { o.field("next") { $0.string(next) } }
            o.field("records") { $0.bytes.append(contentsOf: body.bytes) }
            o.field("replicas") { $0.array(replicas) { $0.string($1.hex) } }
        }
    }

    private static func writeCompact(_ record: SnapshotRecord, fields: [(name: String, kind: FieldKind)], collection: Int,
                                     replica: (ReplicaID) -> Int, _ w: inout JSONWriter) {
        var table = RefTable()
        func ref(_ op: OpID, _ hlc: HLCTimestamp) -> Int { table.index(op, hlc) }
        // Heads first, so a ref shared by a head and a tag carries the head's clock (as form 1).
        let exists = record.exists.heads.map { (ref($0.op, $0.hlc), $0.value) }
        var registers: [String: [(Int, Value)]] = [:]
        for name in record.registers.keys.sorted() {
            registers[name] = record.registers[name]!.heads.map { (ref($0.op, $0.hlc), $0.value) }
        }
        var sets: [String: [(Value, [Int])]] = [:]
        for name in record.sets.keys.sorted() {
            sets[name] = record.sets[name]!.elements.map { ($0.value, $0.tags.map { ref($0, .zero) }) }
        }
        var pending: [String: [OpID]] = [:]
        if let superseded = record.exists.pending, !superseded.isEmpty { pending[Assignment.existenceField] = superseded }
        for (name, register) in record.registers { if let superseded = register.pending, !superseded.isEmpty { pending[name] = superseded } }
        var setPending: [String: [SnapshotRecord.Removal]] = [:]
        for (name, set) in record.sets { if let removals = set.pending, !removals.isEmpty { setPending[name] = removals } }
        let covers = record.covers.compactMap { key, seq in ReplicaID(hex: key).map { ($0, seq) } }
            .sorted { $0.0.hex.utf8.lexicographicallyPrecedes($1.0.hex.utf8) }

        let erasures = record.erasures ?? []
        w.array(0..<(pending.isEmpty && setPending.isEmpty && erasures.isEmpty ? 6 : 7)) { w, part in
            switch part {
            case 0: w.int(Int64(collection))
            case 1: w.string(record.entity.rawValue)
            case 2:
                w.array(table.refs) { w, r in
                    w.array(0..<4) { w, i in
                        switch i {
                        case 0: w.int(Int64(replica(r.0.replica)))
                        case 1: w.uint(r.0.seq)
                        case 2: w.uint(r.1.millis)
                        default: w.uint(r.1.counter)
                        }
                    }
                }
            case 3: w.array(covers) { w, cover in w.array([0, 1]) { w, i in i == 0 ? w.int(Int64(replica(cover.0))) : w.uint(cover.1) } }
            case 4: writeCompactRegister(exists, &w)
            case 5:
                w.array(fields) { w, field in
                    switch field.kind {
                    case .register:
                        if let heads = registers[field.name] { writeCompactRegister(heads, &w) } else { w.null() }
                    case .counter:
                        if let total = record.counters[field.name] { w.int(total) } else { w.null() }
                    case .set:
                        guard let elements = sets[field.name] else { return w.null() }
                        w.array(elements) { w, element in
                            w.array([0, 1]) { w, i in i == 0 ? writeBare(element.0, &w) : w.array(element.1) { $0.int(Int64($1)) } }
                        }
                    }
                }
            default:
                w.object { o in
                    if !erasures.isEmpty { o.field("erasures") { $0.array(erasures) { $0.string($1.description) } } }
                    if !pending.isEmpty { o.field("pending") { $0.dictionary(pending) { $0.array($1) { $0.string($1.description) } } } }
                    if !setPending.isEmpty {
                        o.field("setPending") {
                            $0.dictionary(setPending) { w, removals in
                                w.array(removals) { w, removal in w.array([0, 1]) { w, i in i == 0 ? writeBare(removal.value, &w) : w.string(removal.tag.description) } }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func writeCompactRegister(_ heads: [(Int, Value)], _ w: inout JSONWriter) {
        func head(_ h: (Int, Value), _ w: inout JSONWriter) {
            w.array([0, 1]) { w, i in i == 0 ? w.int(Int64(h.0)) : writeBare(h.1, &w) }
        }
        switch heads.count {
        case 0: w.null()
        case 1 where heads[0].0 == 0 && heads[0].1 != .null: writeBare(heads[0].1, &w)
        case 1: head(heads[0], &w)
        default: w.array(heads) { head($1, &$0) }
        }
    }

    /// A value without its type tag; its JSON type says it (`{"b":…}` for a blob).
    static func writeBare(_ value: Value, _ w: inout JSONWriter) {
        switch value {
        case .null: w.null()
        case .int(let v): w.int(v)
        case .real(let v):
            // Always with a fraction or an exponent, so that it never reads back as an int.
            let text = "\(v)"
            w.bytes.append(contentsOf: text.utf8)
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { w.bytes.append(contentsOf: ".0".utf8) }
        case .text(let v): w.string(v)
        case .bool(let v): w.bool(v)
        case .blob(let v): w.object { o in o.field("b") { $0.string(Data(v).base64EncodedString()) } }
        }
    }

    // MARK: Reading

    static func compactSnapshot(_ f: JSONField) throws -> CellSnapshot {
        let replicasField = try f.key("replicas")
        let replicas = try replicasField.array().map(replica)
        guard Set(replicas).count == replicas.count else { throw replicasField.fail("lists a replica twice") }
        var collections: [(name: String, fields: [(name: String, kind: FieldKind)])] = []
        for (name, list) in try f.key("fields").members() {
            let fields = try list.array().map { entry -> (name: String, kind: FieldKind) in
                let (fieldName, kind) = try entry.pair("a field is [name, kind]")
                guard let parsed = FieldKind(rawValue: try kind.string()) else { throw kind.fail("a field kind is r, c or s") }
                return (try fieldName.string(), parsed)
            }
            guard Set(fields.map { $0.name }).count == fields.count else { throw list.fail("lists a field twice") }
            collections.append((name, fields))
        }
        collections.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let records = try f.key("records").array().map { try compactRecord($0, collections: collections, replicas: replicas) }
        var snapshot = CellSnapshot(cseq: try f.key("cseq").uint64(), records: records, next: try f.optionalKey("next")?.string())
        snapshot.form = 2
        return snapshot
    }

    private static func compactRecord(_ f: JSONField, collections: [(name: String, fields: [(name: String, kind: FieldKind)])],
                                      replicas: [ReplicaID]) throws -> SnapshotRecord {
        let parts = try f.array()
        guard parts.count == 6 || parts.count == 7 else { throw f.fail("a record is [collection, entity, refs, covers, exists, entries] and its pending writes") }
        let c = try parts[0].int()
        guard collections.indices.contains(c) else { throw parts[0].fail("collection \(c) is not in the page's fields") }
        let (collection, fields) = collections[c]
        func replicaAt(_ r: JSONField) throws -> ReplicaID {
            let i = try r.int()
            guard replicas.indices.contains(i) else { throw r.fail("replica \(i) is not in replicas (\(replicas.count) listed)") }
            return replicas[i]
        }
        let refs = try parts[2].array().map { r -> (OpID, HLCTimestamp) in
            let items = try r.array()
            guard items.count == 4 else { throw r.fail("a ref is [replica, seq, millis, counter]") }
            let seq = try items[1].uint64(), millis = try items[2].uint64(), counter = try items[3].uint64()
            guard seq >= 1 else { throw items[1].fail("a sequence number is 1 or more") }
            guard millis <= HLCTimestamp.millisMax, counter <= HLCTimestamp.counterMax else { throw r.fail("clock \(millis).\(counter) is out of range") }
            return (OpID(replica: try replicaAt(items[0]), seq: seq), HLCTimestamp(millis: millis, counter: counter))
        }
        guard refs.count <= SnapshotRecord.refsMax else { throw parts[2].fail("lists \(refs.count) refs; at most \(SnapshotRecord.refsMax)") }
        if let repeated = SnapshotRecord.repeatedRef(refs.map(\.0)) { throw parts[2].fail(repeated) }
        func ref(_ r: JSONField) throws -> (OpID, HLCTimestamp) {
            let i = try r.int()
            guard refs.indices.contains(i) else { throw r.fail("ref \(i) is not in refs (\(refs.count) listed)") }
            return refs[i]
        }
        func head(_ h: JSONField) throws -> SnapshotRecord.Head {
            let (r, value) = try h.pair("a head is [ref, value]")
            let (op, clock) = try ref(r)
            return SnapshotRecord.Head(op: op, hlc: clock, value: try bare(value))
        }
        func register(_ e: JSONField) throws -> [SnapshotRecord.Head]? {
            if e.isNull { return nil }
            if case .array(let items) = e.node {
                if case .array = items.first { return try e.array().map(head) }
                return [try head(e)]
            }
            guard !refs.isEmpty else { throw e.fail("a bare value names ref 0, and the record lists no refs") }
            return [SnapshotRecord.Head(op: refs[0].0, hlc: refs[0].1, value: try bare(e))]
        }
        var covers: [String: UInt64] = [:]
        for cover in try parts[3].array() {
            let (r, seq) = try cover.pair("a cover is [replica, seq]")
            covers[try replicaAt(r).hex] = try seq.uint64()
        }
        let entries = try parts[5].array()
        guard entries.count == fields.count else { throw parts[5].fail("has \(entries.count) entries for the \(fields.count) fields of \(collection)") }
        var pending: [String: [OpID]] = [:]
        var setPending: [String: [SnapshotRecord.Removal]] = [:]
        var erasures: [OpID]?
        if parts.count == 7 {
            if let list = try parts[6].optionalKey("erasures") { erasures = try opIDs(list) }
            for (name, list) in try parts[6].optionalKey("pending")?.members() ?? [] { pending[name] = try opIDs(list) }
            for (name, list) in try parts[6].optionalKey("setPending")?.members() ?? [] {
                setPending[name] = try list.array().map { r in
                    let (removed, tag) = try r.pair("a pending removal is [value, op id]")
                    return SnapshotRecord.Removal(value: try bare(removed), tag: try opID(tag))
                }
            }
        }
        var registers: [String: SnapshotRecord.Register] = [:]
        var counters: [String: Int64] = [:]
        var sets: [String: SnapshotRecord.SetField] = [:]
        for (field, entry) in zip(fields, entries) {
            switch field.kind {
            case .register:
                if let heads = try register(entry) { registers[field.name] = SnapshotRecord.Register(heads: heads, pending: pending[field.name]) }
            case .counter:
                if !entry.isNull { counters[field.name] = try entry.int64() }
            case .set:
                guard !entry.isNull else { continue }
                let elements = try entry.array().map { e -> SnapshotRecord.Element in
                    let (element, tags) = try e.pair("a set element is [value, [ref, …]]")
                    return SnapshotRecord.Element(value: try bare(element), tags: try tags.array().map { try ref($0).0 })
                }
                sets[field.name] = SnapshotRecord.SetField(elements: elements, pending: setPending[field.name])
            }
        }
        for name in pending.keys where name != Assignment.existenceField && registers[name] == nil {
            registers[name] = SnapshotRecord.Register(heads: [], pending: pending[name])
        }
        for (name, removals) in setPending where sets[name] == nil { sets[name] = SnapshotRecord.SetField(elements: [], pending: removals) }
        return SnapshotRecord(collection: collection, entity: try entity(parts[1]), covers: covers,
                              exists: SnapshotRecord.Register(heads: try register(parts[4]) ?? [], pending: pending[Assignment.existenceField]),
                              registers: registers, counters: counters, sets: sets, erasures: erasures)
    }

    /// A value written bare (`writeBare`).
    static func bare(_ f: JSONField) throws -> Value {
        switch f.node {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .string(let v): return .text(v)
        case .number(let text):
            if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .real(try f.double()) }
            guard let v = Int64(text) else { throw f.fail("expected a 64-bit integer, got \(text.prefix(40))") }
            return .int(v)
        case .object:
            let members = try f.members()
            guard members.count == 1, members[0].0 == "b" else { throw f.fail("a value object is {\"b\": base64} (a blob)") }
            guard let data = Data(base64Encoded: try members[0].1.string()) else { throw members[0].1.fail("blob is not valid base64") }
            return .blob([UInt8](data))
        case .array: throw f.fail("a value is a string, number, true, false, null or {\"b\": base64}")
        }
    }
}
