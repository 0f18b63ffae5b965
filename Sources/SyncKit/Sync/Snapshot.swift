/// One record's complete merge state on the wire: what a device needs to continue merging
/// operations on it without the history that produced it (Design.md, "Bootstrap by snapshot").
///
/// In memory it is the merge state spelled out; on the wire it is compact, since a cell's
/// snapshot is the largest message there is: the operations the state refers to are listed once
/// in `refs` (`[op id, clock reading]`), and heads and tags name them by index.
///
///     {"collection":"households","entity":"JXC3BQGWJXBCXFY88R80QZ0Y88",
///      "covers":{"00000000000000010000000000000001":2},
///      "refs":[["00000000000000010000000000000001.1","1767225600000.0"],["…2","1767225600000.1"]],
///      "exists":[[1,{"bool":true}],[0,{"bool":true}]],
///      "registers":{"head_name":[[0,{"text":"张伟"}]],"phone":[[1,{"text":"139…"}],[0,{"text":"138…"}]]},
///      "counters":{"visit_count":3},"sets":{"tags":[[{"text":"elderly"},[1]]]}}
///
/// A register is its heads, visible one first, as `[ref, value]`; `pending` lists, per field
/// (`_exists` for the existence register), writes superseded before they arrived. A set is its
/// present elements as `[value, [tag refs]]`; `setPending` lists removals seen before their add
/// as `[value, op id]`. `covers` names, per replica, the highest sequence number of that
/// replica's operations on this record that the state already reflects: a device that later
/// receives one of them (a record moving back into its cells, an older bundle) recognizes it as
/// a duplicate.
public struct SnapshotRecord: Codable, Sendable, Equatable {
    public struct Head: Sendable, Equatable {
        public var op: OpID
        public var hlc: HLCTimestamp
        public var value: Value
    }

    /// A register's heads (visible one first) and the writes superseded before they arrived.
    public struct Register: Sendable, Equatable {
        public var heads: [Head]
        public var pending: [OpID]?
    }

    public struct Element: Sendable, Equatable {
        public var value: Value
        public var tags: [OpID]
    }

    public struct Removal: Sendable, Equatable {
        public var value: Value
        public var tag: OpID
    }

    /// An add-wins set: present elements with their live tags, and removals seen before their add.
    public struct SetField: Sendable, Equatable {
        public var elements: [Element]
        public var pending: [Removal]?
    }

    public var collection: String
    public var entity: EntityID
    /// Replica id (hex) → highest sequence number reflected.
    public var covers: [String: UInt64]
    public var exists: Register
    public var registers: [String: Register]
    public var counters: [String: Int64]
    public var sets: [String: SetField]

    /// The key that orders a cell's snapshot and resumes it: `collection/entity`.
    public var key: String { collection + "/" + entity.rawValue }

    /// Refs a record may list (a bound on what a damaged or hostile message can allocate).
    static let refsMax = 100_000

    /// Why a `refs` list is refused when it names an operation twice (an operation has one clock
    /// reading; two would make the record's state ambiguous, and its re-encoding differ), or nil.
    static func repeatedRef(_ ops: [OpID]) -> String? {
        var seen = Set<OpID>()
        for (index, op) in ops.enumerated() where !seen.insert(op).inserted {
            return "ref \(index) repeats operation \(op): refs list each operation once, with its one clock reading"
        }
        return nil
    }

    private enum Key: String, CodingKey { case collection, entity, covers, refs, exists, registers, pending, counters, sets, setPending }

    /// `[op id, clock reading]`.
    private struct Ref: Codable, Equatable {
        var op: OpID
        var hlc: HLCTimestamp
        init(op: OpID, hlc: HLCTimestamp) { self.op = op; self.hlc = hlc }
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            op = try c.decode(OpID.self)
            hlc = try c.decode(HLCTimestamp.self)
            guard c.isAtEnd else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "a ref is [op id, clock reading]") }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(op)
            try c.encode(hlc)
        }
    }

    /// `[ref index, value]`.
    private struct HeadRef: Codable {
        var ref: Int
        var value: Value
        init(ref: Int, value: Value) { self.ref = ref; self.value = value }
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            ref = try c.decode(Int.self)
            value = try c.decodeNil() ? .null : try c.decode(Value.self)
            guard c.isAtEnd else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "a head is [ref, value]") }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(ref)
            try c.encode(value)
        }
    }

    /// `[value, [ref indexes]]` (a set element) or `[value, op id]` (a pending removal).
    private struct Pair<Second: Codable>: Codable {
        var value: Value
        var second: Second
        init(_ value: Value, _ second: Second) { self.value = value; self.second = second }
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            value = try c.decode(Value.self)
            second = try c.decode(Second.self)
            guard c.isAtEnd else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a pair [value, …]") }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(value)
            try c.encode(second)
        }
    }

    public init(collection: String, entity: EntityID, covers: [String: UInt64], exists: Register,
                registers: [String: Register], counters: [String: Int64], sets: [String: SetField]) {
        self.collection = collection
        self.entity = entity
        self.covers = covers
        self.exists = exists
        self.registers = registers
        self.counters = counters
        self.sets = sets
    }

    public func encode(to encoder: any Encoder) throws {
        var refs: [Ref] = []
        var index: [OpID: Int] = [:]
        func ref(_ op: OpID, _ hlc: HLCTimestamp) -> Int {
            if let known = index[op] { return known }
            index[op] = refs.count
            refs.append(Ref(op: op, hlc: hlc))
            return refs.count - 1
        }
        // Heads first, so a ref shared by a head and a tag carries the head's clock.
        let exists = self.exists.heads.map { HeadRef(ref: ref($0.op, $0.hlc), value: $0.value) }
        var registers: [String: [HeadRef]] = [:]
        var pending: [String: [OpID]] = [:]
        if let superseded = self.exists.pending, !superseded.isEmpty { pending[Assignment.existenceField] = superseded }
        for name in self.registers.keys.sorted() {
            let register = self.registers[name]!
            registers[name] = register.heads.map { HeadRef(ref: ref($0.op, $0.hlc), value: $0.value) }
            if let superseded = register.pending, !superseded.isEmpty { pending[name] = superseded }
        }
        var sets: [String: [Pair<[Int]>]] = [:]
        var setPending: [String: [Pair<OpID>]] = [:]
        for name in self.sets.keys.sorted() {
            let set = self.sets[name]!
            sets[name] = set.elements.map { Pair($0.value, $0.tags.map { ref($0, .zero) }) }
            if let removals = set.pending, !removals.isEmpty { setPending[name] = removals.map { Pair($0.value, $0.tag) } }
        }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(collection, forKey: .collection)
        try c.encode(entity, forKey: .entity)
        try c.encode(covers, forKey: .covers)
        try c.encode(refs, forKey: .refs)
        try c.encode(exists, forKey: .exists)
        if !registers.isEmpty { try c.encode(registers, forKey: .registers) }
        if !pending.isEmpty { try c.encode(pending, forKey: .pending) }
        if !counters.isEmpty { try c.encode(counters, forKey: .counters) }
        if !sets.isEmpty { try c.encode(sets, forKey: .sets) }
        if !setPending.isEmpty { try c.encode(setPending, forKey: .setPending) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        collection = try c.decode(String.self, forKey: .collection)
        entity = try c.decode(EntityID.self, forKey: .entity)
        covers = try c.decode([String: UInt64].self, forKey: .covers)
        let refs = try c.decode([Ref].self, forKey: .refs)
        guard refs.count <= Self.refsMax else {
            throw DecodingError.dataCorruptedError(forKey: .refs, in: c, debugDescription: "lists \(refs.count) refs; at most \(Self.refsMax)")
        }
        if let repeated = Self.repeatedRef(refs.map(\.op)) {
            throw DecodingError.dataCorruptedError(forKey: .refs, in: c, debugDescription: repeated)
        }
        func resolve(_ i: Int, _ key: Key) throws -> Ref {
            guard refs.indices.contains(i) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "ref \(i) is not in refs (\(refs.count) listed)")
            }
            return refs[i]
        }
        func heads(_ list: [HeadRef], _ key: Key) throws -> [Head] {
            try list.map { let r = try resolve($0.ref, key); return Head(op: r.op, hlc: r.hlc, value: $0.value) }
        }
        let pending = try c.decodeIfPresent([String: [OpID]].self, forKey: .pending) ?? [:]
        exists = Register(heads: try heads(try c.decode([HeadRef].self, forKey: .exists), .exists), pending: pending[Assignment.existenceField])
        var registers: [String: Register] = [:]
        for (name, list) in try c.decodeIfPresent([String: [HeadRef]].self, forKey: .registers) ?? [:] {
            registers[name] = Register(heads: try heads(list, .registers), pending: pending[name])
        }
        for name in pending.keys where name != Assignment.existenceField && registers[name] == nil {
            registers[name] = Register(heads: [], pending: pending[name])
        }
        self.registers = registers
        counters = try c.decodeIfPresent([String: Int64].self, forKey: .counters) ?? [:]
        let setPending = try c.decodeIfPresent([String: [Pair<OpID>]].self, forKey: .setPending) ?? [:]
        var sets: [String: SetField] = [:]
        for (name, list) in try c.decodeIfPresent([String: [Pair<[Int]>]].self, forKey: .sets) ?? [:] {
            let elements = try list.map { Element(value: $0.value, tags: try $0.second.map { try resolve($0, .sets).op }) }
            sets[name] = SetField(elements: elements, pending: setPending[name].map { $0.map { Removal(value: $0.value, tag: $0.second) } })
        }
        for (name, removals) in setPending where sets[name] == nil {
            sets[name] = SetField(elements: [], pending: removals.map { Removal(value: $0.value, tag: $0.second) })
        }
        self.sets = sets
    }
}

/// One page of one cell's snapshot, in a `SyncResponse`.
///
///     {"cseq":4812,"records":[…],"next":"households/JXC3BQGWJXBCXFY88R80QZ0Y88"}
///
/// `cseq` is the central sequence number the snapshot starts from: once the last page is in,
/// the device pulls the cell's log after it. Records sent on later pages may already reflect
/// operations logged after `cseq`; their `covers` make those operations duplicates when the log
/// brings them. `next` is present while more pages follow: the device sends it back in
/// `SyncRequest.snapshots` to resume after that key.
public struct CellSnapshot: Codable, Sendable, Equatable {
    public var cseq: UInt64
    public var records: [SnapshotRecord]
    public var next: String?
    /// How the page is written on the wire: 1, each record spelled out (above); 2, compact
    /// (`SnapshotForm.compact`: names, replica ids and value types said once per page), sent
    /// to a device that asks for it (`SyncRequest.snapshotForm`). The records are the same.
    public var form: Int = SnapshotForm.spelledOut

    public init(cseq: UInt64, records: [SnapshotRecord], next: String?, form: Int = SnapshotForm.spelledOut) {
        self.cseq = cseq
        self.records = records
        self.next = next
        self.form = form
    }

    // Foundation's coders know form 1 only (the hand-written codec, `WireJSON`, knows both).
    private enum CodingKeys: String, CodingKey { case cseq, records, next }
}

/// The forms a snapshot page is written in.
public enum SnapshotForm {
    public static let spelledOut = 1
    public static let compact = 2
    /// The newest form this build reads and writes.
    public static let newest = compact
}
