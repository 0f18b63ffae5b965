import Foundation

/// The protocol's messages written and read by hand (`JSONWriter`, `JSONNode`; Design.md
/// sections 5 and 13): the protocol's one codec. Golden fixtures in
/// `Fixtures/protocol/` hold its bytes; seeded tests round-trip random messages through it.
enum WireJSON {
    // MARK: Writing

    static func write(_ value: Value, _ w: inout JSONWriter) {
        switch value {
        case .null: w.null()
        case .int(let v): w.object { $0.field("int") { $0.int(v) } }
        case .real(let v): w.object { $0.field("real") { $0.double(v) } }
        case .text(let v): w.object { $0.field("text") { $0.string(v) } }
        case .bool(let v): w.object { $0.field("bool") { $0.bool(v) } }
        case .blob(let v): w.object { $0.field("blob") { $0.string(Data(v).base64EncodedString()) } }
        }
    }

    static func write(_ ids: [OpID], _ w: inout JSONWriter) {
        w.array(ids) { $0.string($1.description) }
    }

    static func write(_ assignment: Assignment, _ w: inout JSONWriter) {
        w.object { o in
            switch assignment.change {
            case .set(let value, let prev):
                o.field("field") { $0.string(assignment.field) }
                o.field("prev") { write(prev, &$0) }
                o.field("set") { write(value, &$0) }
            case .increment(let delta):
                o.field("field") { $0.string(assignment.field) }
                o.field("increment") { $0.int(delta) }
            case .add(let element):
                o.field("add") { write(element, &$0) }
                o.field("field") { $0.string(assignment.field) }
            case .remove(let element, let tags):
                o.field("field") { $0.string(assignment.field) }
                o.field("remove") { write(element, &$0) }
                o.field("tags") { write(tags, &$0) }
            }
        }
    }

    static func write(_ op: Op, _ w: inout JSONWriter) {
        w.object { o in
            o.field("assignments") { $0.array(op.assignments) { write($1, &$0) } }
            o.field("collection") { $0.string(op.collection) }
            o.field("entity") { $0.string(op.entity.rawValue) }
            o.field("hlc") { $0.string(op.hlc.description) }
            o.field("id") { $0.string(op.id.description) }
        }
    }

    static func write(_ request: SyncRequest, _ w: inout JSONWriter) {
        w.object { o in
            if let clock = request.clockMillis { o.field("clockMillis") { $0.int(clock) } }
            o.field("cursors") { $0.dictionary(request.cursors) { $0.uint($1) } }
            o.field("device") { $0.string(request.device.hex) }
            if let digests = request.digests { o.field("digests") { $0.dictionary(digests) { $0.string($1) } } }
            o.field("protocol") { $0.int(Int64(request.protocolVersion)) }
            o.field("pullOpsMax") { $0.int(Int64(request.pullOpsMax)) }
            o.field("push") { $0.array(request.push) { write($1, &$0) } }
            if let form = request.snapshotForm { o.field("snapshotForm") { $0.int(Int64(form)) } }
            if let snapshots = request.snapshots { o.field("snapshots") { $0.dictionary(snapshots) { $0.string($1) } } }
            if let unsynced = request.unsynced { o.field("unsynced") { $0.int(Int64(unsynced)) } }
            if request.wiped { o.field("wiped") { $0.bool(true) } }
        }
    }

    static func write(_ response: SyncResponse, _ w: inout JSONWriter) {
        write(response, &w) { w in w.array(response.ops) { write($1, &$0) } }
    }

    /// A response whose `ops` member `ops` writes (the central node splices the operations'
    /// canonical bytes as its log keeps them).
    static func write(_ response: SyncResponse, _ w: inout JSONWriter, ops: (inout JSONWriter) -> Void) {
        w.object { o in
            o.field("acceptedThroughSeq") { $0.uint(response.acceptedThroughSeq) }
            o.field("cells") { $0.array(response.cells) { $0.string($1) } }
            o.field("cursors") { $0.dictionary(response.cursors) { $0.uint($1) } }
            o.field("held") {
                $0.array(response.held) { w, held in
                    w.object { o in
                        if let detail = held.detail { o.field("detail") { $0.string(detail) } }
                        o.field("op") { $0.string(held.op.description) }
                        o.field("reason") { $0.string(held.reason) }
                    }
                }
            }
            o.field("more") { $0.bool(response.more) }
            o.field("ops") { ops(&$0) }
            o.field("protocol") { $0.int(Int64(response.protocolVersion)) }
            o.field("resync") { $0.array(response.resync) { $0.string($1) } }
            o.field("serverTimeMillis") { $0.int(response.serverTimeMillis) }
            o.field("snapshots") { $0.dictionary(response.snapshots) { write($1, &$0) } }
        }
    }

    static func write(_ snapshot: CellSnapshot, _ w: inout JSONWriter) {
        if snapshot.form == SnapshotForm.compact, fitsCompact(snapshot.records) { return writeCompact(snapshot, &w) }
        w.object { o in
            o.field("cseq") { $0.uint(snapshot.cseq) }
            if let next = snapshot.next { o.field("next") { $0.string(next) } }
            o.field("records") { $0.array(snapshot.records) { write($1, &$0) } }
        }
    }

    /// The compact form documented on `SnapshotRecord`.
    static func write(_ record: SnapshotRecord, _ w: inout JSONWriter) {
        var table = RefTable()
        func ref(_ op: OpID, _ hlc: HLCTimestamp) -> Int { table.index(op, hlc) }
        // Heads first, so a ref shared by a head and a tag carries the head's clock.
        let exists = record.exists.heads.map { (ref($0.op, $0.hlc), $0.value) }
        let registerNames = record.registers.keys.sorted()
        var registers: [String: [(Int, Value)]] = [:]
        var pending: [String: [OpID]] = [:]
        if let superseded = record.exists.pending, !superseded.isEmpty { pending[Assignment.existenceField] = superseded }
        for name in registerNames {
            let register = record.registers[name]!
            registers[name] = register.heads.map { (ref($0.op, $0.hlc), $0.value) }
            if let superseded = register.pending, !superseded.isEmpty { pending[name] = superseded }
        }
        var sets: [String: [(Value, [Int])]] = [:]
        var setPending: [String: [SnapshotRecord.Removal]] = [:]
        for name in record.sets.keys.sorted() {
            let set = record.sets[name]!
            sets[name] = set.elements.map { ($0.value, $0.tags.map { ref($0, .zero) }) }
            if let removals = set.pending, !removals.isEmpty { setPending[name] = removals }
        }
        func heads(_ list: [(Int, Value)], _ w: inout JSONWriter) {
            w.array(list) { w, head in w.array([0, 1]) { w, part in part == 0 ? w.int(Int64(head.0)) : write(head.1, &w) } }
        }
        w.object { o in
            o.field("collection") { $0.string(record.collection) }
            if !record.counters.isEmpty { o.field("counters") { $0.dictionary(record.counters) { $0.int($1) } } }
            o.field("covers") { $0.dictionary(record.covers) { $0.uint($1) } }
            o.field("entity") { $0.string(record.entity.rawValue) }
            if let erasures = record.erasures, !erasures.isEmpty { o.field("erasures") { write(erasures, &$0) } }
            o.field("exists") { heads(exists, &$0) }
            if !pending.isEmpty { o.field("pending") { $0.dictionary(pending) { write($1, &$0) } } }
            o.field("refs") {
                $0.array(table.refs) { w, ref in w.array([0, 1]) { w, part in w.string(part == 0 ? ref.0.description : ref.1.description) } }
            }
            if !registers.isEmpty { o.field("registers") { $0.dictionary(registers) { heads($1, &$0) } } }
            if !setPending.isEmpty {
                o.field("setPending") {
                    $0.dictionary(setPending) { w, removals in
                        w.array(removals) { w, removal in w.array([0, 1]) { w, part in part == 0 ? write(removal.value, &w) : w.string(removal.tag.description) } }
                    }
                }
            }
            if !sets.isEmpty {
                o.field("sets") {
                    $0.dictionary(sets) { w, elements in
                        w.array(elements) { w, element in
                            w.array([0, 1]) { w, part in
                                if part == 0 { write(element.0, &w) } else { w.array(element.1) { $0.int(Int64($1)) } }
                            }
                        }
                    }
                }
            }
        }
    }

    static func write(_ reply: SyncErrorReply, _ w: inout JSONWriter) {
        w.object { o in
            o.field("code") { $0.string(reply.code) }
            o.field("message") { $0.string(reply.message) }
            o.field("protocol") { $0.int(Int64(reply.protocolVersion)) }
        }
    }

    // MARK: Reading

    static func value(_ f: JSONField) throws -> Value {
        if f.isNull { return .null }
        let members = try f.object()
        guard members.count == 1, let key = members.first?.key else {
            throw f.fail("a value is null or an object with exactly one of int, real, text, bool, blob")
        }
        let inner = try f.key(key)
        switch key {
        case "int": return .int(try inner.int64())
        case "real": return .real(try inner.double())
        case "text": return .text(try inner.string())
        case "bool": return .bool(try inner.bool())
        case "blob":
            guard let data = Data(base64Encoded: try inner.string()) else { throw inner.fail("blob is not valid base64") }
            return .blob([UInt8](data))
        default: throw f.fail("a value is null or an object with exactly one of int, real, text, bool, blob")
        }
    }

    static func opID(_ f: JSONField) throws -> OpID {
        let text = try f.string()
        guard let id = OpID(text) else { throw f.fail("op id \"\(text.prefix(80))\" is not <32 hex digits>.<sequence number ≥ 1>") }
        return id
    }

    static func hlc(_ f: JSONField) throws -> HLCTimestamp {
        let text = try f.string()
        guard let value = HLCTimestamp(text: text) else { throw f.fail("clock \"\(text.prefix(40))\" is not <milliseconds>.<counter>") }
        return value
    }

    static func entity(_ f: JSONField) throws -> EntityID {
        let text = try f.string()
        do { return try EntityID(text) } catch let error as SyncError { throw f.fail(error.message) }
    }

    static func replica(_ f: JSONField) throws -> ReplicaID {
        let text = try f.string()
        guard let id = ReplicaID(hex: text) else { throw f.fail("replica id \"\(text.prefix(40))\" is not 32 hex digits") }
        return id
    }

    static func opIDs(_ f: JSONField) throws -> [OpID] { try f.array().map(opID) }

    static func assignment(_ f: JSONField) throws -> Assignment {
        let field = try f.key("field").string()
        let change: Change
        if try f.has("set") {
            change = .set(try value(try f.key("set")), prev: try f.optionalKey("prev").map(opIDs) ?? [])
        } else if try f.has("increment") {
            change = .increment(try f.key("increment").int64())
        } else if try f.has("add") {
            change = .add(try value(try f.key("add")))
        } else if try f.has("remove") {
            change = .remove(try value(try f.key("remove")), tags: try f.optionalKey("tags").map(opIDs) ?? [])
        } else {
            throw f.fail("assignment to \"\(field.prefix(64))\" has none of set, increment, add, remove")
        }
        return Assignment(field: field, change: change)
    }

    static func op(_ f: JSONField) throws -> Op {
        Op(id: try opID(try f.key("id")), hlc: try hlc(try f.key("hlc")), collection: try f.key("collection").string(),
           entity: try entity(try f.key("entity")), assignments: try f.key("assignments").array().map(assignment))
    }

    static func version(_ f: JSONField) throws -> Int {
        let version = try f.key("protocol").int()
        guard version == SyncProtocol.version else {
            throw JSONShapeError(message: "message uses protocol version \(version); this build speaks version \(SyncProtocol.version). Update the older side")
        }
        return version
    }

    static func uintMap(_ f: JSONField) throws -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for (key, value) in try f.members() { result[key] = try value.uint64() }
        return result
    }

    static func stringMap(_ f: JSONField) throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in try f.members() { result[key] = try value.string() }
        return result
    }

    static func request(_ f: JSONField) throws -> SyncRequest {
        _ = try version(f)
        return SyncRequest(device: try replica(try f.key("device")), cursors: try uintMap(try f.key("cursors")),
                           push: try f.key("push").array().map(op), pullOpsMax: try f.key("pullOpsMax").int(),
                           digests: try f.optionalKey("digests").map(stringMap), snapshots: try f.optionalKey("snapshots").map(stringMap),
                           snapshotForm: try f.optionalKey("snapshotForm")?.int(),
                           clockMillis: try f.optionalKey("clockMillis").flatMap { try hint($0, 0...(Int64(1) << 47)) },
                           unsynced: try f.optionalKey("unsynced").flatMap { try hint($0, 0...Int64(Int32.max)).map(Int.init) },
                           wiped: try f.optionalKey("wiped")?.bool() ?? false)
    }

    /// An integer hint, nil when outside its range: a hint never stops a sync (a device whose
    /// clock reads 1969 must still sync), but a hint that is not an integer is a malformed request.
    static func hint(_ f: JSONField, _ range: ClosedRange<Int64>) throws -> Int64? {
        let value = Int64(try f.int())
        return range.contains(value) ? value : nil
    }

    static func response(_ f: JSONField) throws -> SyncResponse {
        _ = try version(f)
        let held = try f.key("held").array().map { h in SyncResponse.Held(op: try opID(try h.key("op")), reason: try h.key("reason").string(),
                                                                                detail: try h.optionalKey("detail")?.string()) }
        var snapshots: [String: CellSnapshot] = [:]
        for (cell, s) in try f.optionalKey("snapshots")?.members() ?? [] { snapshots[cell] = try snapshot(s) }
        return SyncResponse(serverTimeMillis: try f.key("serverTimeMillis").int64(), acceptedThroughSeq: try f.key("acceptedThroughSeq").uint64(),
                            held: held, ops: try f.key("ops").array().map(op), cursors: try uintMap(try f.key("cursors")),
                            more: try f.key("more").bool(), cells: try f.key("cells").strings(),
                            resync: try f.optionalKey("resync")?.strings() ?? [], snapshots: snapshots)
    }

    static func snapshot(_ f: JSONField) throws -> CellSnapshot {
        if let form = try f.optionalKey("form") {
            guard try form.int() == SnapshotForm.compact else {
                throw form.fail("snapshot form \(try form.int()) is unknown; this build reads forms 1 and 2. Update the older side")
            }
            return try compactSnapshot(f)
        }
        return CellSnapshot(cseq: try f.key("cseq").uint64(), records: try f.key("records").array().map(record),
                     next: try f.optionalKey("next")?.string())
    }

    static func record(_ f: JSONField) throws -> SnapshotRecord {
        let refsField = try f.key("refs")
        let refs = try refsField.array().map { r -> (OpID, HLCTimestamp) in
            let (op, clock) = try r.pair("a ref is [op id, clock reading]")
            return (try opID(op), try hlc(clock))
        }
        guard refs.count <= SnapshotRecord.refsMax else { throw refsField.fail("lists \(refs.count) refs; at most \(SnapshotRecord.refsMax)") }
        if let repeated = SnapshotRecord.repeatedRef(refs.map(\.0)) { throw refsField.fail(repeated) }
        func resolve(_ r: JSONField) throws -> (OpID, HLCTimestamp) {
            let i = try r.int()
            guard refs.indices.contains(i) else { throw r.fail("ref \(i) is not in refs (\(refs.count) listed)") }
            return refs[i]
        }
        func heads(_ list: JSONField) throws -> [SnapshotRecord.Head] {
            try list.array().map { h in
                let (ref, headValue) = try h.pair("a head is [ref, value]")
                let (op, clock) = try resolve(ref)
                return SnapshotRecord.Head(op: op, hlc: clock, value: try value(headValue))
            }
        }
        var pending: [String: [OpID]] = [:]
        for (name, list) in try f.optionalKey("pending")?.members() ?? [] { pending[name] = try opIDs(list) }
        var registers: [String: SnapshotRecord.Register] = [:]
        for (name, list) in try f.optionalKey("registers")?.members() ?? [] {
            registers[name] = SnapshotRecord.Register(heads: try heads(list), pending: pending[name])
        }
        for name in pending.keys where name != Assignment.existenceField && registers[name] == nil {
            registers[name] = SnapshotRecord.Register(heads: [], pending: pending[name])
        }
        var counters: [String: Int64] = [:]
        for (name, total) in try f.optionalKey("counters")?.members() ?? [] { counters[name] = try total.int64() }
        var setPending: [String: [SnapshotRecord.Removal]] = [:]
        for (name, list) in try f.optionalKey("setPending")?.members() ?? [] {
            setPending[name] = try list.array().map { r in
                let (removed, tag) = try r.pair("a pending removal is [value, op id]")
                return SnapshotRecord.Removal(value: try value(removed), tag: try opID(tag))
            }
        }
        var sets: [String: SnapshotRecord.SetField] = [:]
        for (name, list) in try f.optionalKey("sets")?.members() ?? [] {
            let elements = try list.array().map { e -> SnapshotRecord.Element in
                let (element, tags) = try e.pair("a set element is [value, [ref, …]]")
                return SnapshotRecord.Element(value: try value(element), tags: try tags.array().map { try resolve($0).0 })
            }
            sets[name] = SnapshotRecord.SetField(elements: elements, pending: setPending[name])
        }
        for (name, removals) in setPending where sets[name] == nil { sets[name] = SnapshotRecord.SetField(elements: [], pending: removals) }
        var record = SnapshotRecord(collection: try f.key("collection").string(), entity: try entity(try f.key("entity")),
                                    covers: try uintMap(try f.key("covers")),
                                    exists: SnapshotRecord.Register(heads: try heads(try f.key("exists")), pending: pending[Assignment.existenceField]),
                                    registers: registers, counters: counters, sets: sets)
        if let erasures = try f.optionalKey("erasures") { record.erasures = try opIDs(erasures) }
        return record
    }

    static func errorReply(_ f: JSONField) throws -> SyncErrorReply {
        var reply = SyncErrorReply(code: try f.key("code").string(), message: try f.key("message").string())
        reply.protocolVersion = try f.key("protocol").int()
        return reply
    }
}

/// The operations one snapshot record refers to, each listed once, in order of first use.
struct RefTable {
    private(set) var refs: [(OpID, HLCTimestamp)] = []
    private var positions: [OpID: Int] = [:]

    /// The operation's index, listing it (with this clock reading) when it is new.
    mutating func index(_ op: OpID, _ hlc: HLCTimestamp) -> Int {
        if let known = positions[op] { return known }
        positions[op] = refs.count
        refs.append((op, hlc))
        return refs.count - 1
    }
}

/// A message of the sync protocol (or an operation), written and read by SyncKit's one codec,
/// `WireJSON`, through `SyncProtocol.encode` and `SyncProtocol.decode`. SyncKit's message types
/// conform; the writer and the reader it is handed have no public members.
public protocol WireMessage {
    func writeJSON(_ w: inout JSONWriter)
    static func readJSON(_ f: JSONField) throws -> Self
}

extension Op: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> Op { try WireJSON.op(f) }
}

extension SyncRequest: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> SyncRequest { try WireJSON.request(f) }
}

extension SyncResponse: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> SyncResponse { try WireJSON.response(f) }
}

extension CellSnapshot: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> CellSnapshot { try WireJSON.snapshot(f) }
}

extension SnapshotRecord: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> SnapshotRecord { try WireJSON.record(f) }
}

extension SyncErrorReply: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) { WireJSON.write(self, &w) }
    public static func readJSON(_ f: JSONField) throws -> SyncErrorReply { try WireJSON.errorReply(f) }
}

extension JSONField {
    /// A two-element array, as the compact snapshot form writes its pairs; `shape` says which.
    func pair(_ shape: String) throws -> (JSONField, JSONField) {
        let items = try array()
        guard items.count == 2 else { throw fail(shape) }
        return (items[0], items[1])
    }
}
