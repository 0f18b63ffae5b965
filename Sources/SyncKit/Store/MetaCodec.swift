/// The binary forms of merge metadata, tombstone values and op-log bodies (Design.md,
/// "Storage layout"). Replica ids are stored as local numbers from `ReplicaDirectory`.
///
/// Metadata (`_fs_meta`, `_fs_tombstone.meta`), version 1:
///
///     u8 1 | refs: n × (replica varint, seq varint, hlc u64be)
///     existence register (values included) | registers: n × (field varint, register, winner value elided)
///     sets: n × (field varint, set)
///     version 2 only: erasures: n × (replica varint, seq varint)
///
/// A register is its heads (ref index + value, the first head's value elided when the plain
/// column holds it) and its pending superseded ids; a set is its elements with their tag refs,
/// and its pending removals.
struct MetaCodec {
    let directory: ReplicaDirectory

    static let version: UInt8 = 1
    /// Version 2 is version 1 followed by the record's known erasures (written only when it has
    /// some, so that every other record keeps version 1's bytes).
    static let versionWithErasures: UInt8 = 2
    /// Bounds on decoded counts, so a damaged blob cannot allocate without limit.
    static let countMax = 1 << 20

    // MARK: Entity metadata

    /// The distinct ops a record's metadata refers to, in first-seen order. A record has few
    /// (often one or two), so a linear search beats hashing.
    private struct RefTable {
        var ids: [OpID] = []
        var clocks: [HLCTimestamp] = []

        mutating func index(_ op: OpID, _ hlc: HLCTimestamp) -> Int {
            if let index = ids.firstIndex(of: op) { return index }
            ids.append(op)
            clocks.append(hlc)
            return ids.count - 1
        }

        func index(of op: OpID) -> Int { ids.firstIndex(of: op)! }
    }

    func encode(_ state: EntityState) throws -> [UInt8] {
        var refs = RefTable()
        refs.ids.reserveCapacity(4)
        refs.clocks.reserveCapacity(4)
        // Heads first, so a ref shared by a head and a tag keeps the head's clock (tags need none).
        for head in state.exists.heads { _ = refs.index(head.op, head.hlc) }
        // FieldMaps iterate in field order: no sorting, no lookups.
        let registers = state.registers.filter { !($0.value.heads.isEmpty && $0.value.supersededPending.isEmpty) }
        for (_, register) in registers { for head in register.heads { _ = refs.index(head.op, head.hlc) } }
        let sets = state.sets.filter { !($0.value.elements.isEmpty && $0.value.removedPending.isEmpty) }
        for (_, set) in sets {
            for element in set.visible { for tag in set.elements[element]! { _ = refs.index(tag, .zero) } }
        }

        var writer = ByteWriter()
        writer.write(byte: state.erasures.isEmpty ? Self.version : Self.versionWithErasures)
        writer.writeVarint(UInt64(refs.ids.count))
        for (op, hlc) in zip(refs.ids, refs.clocks) {
            writer.writeVarint(UInt64(try directory.index(of: op.replica)))
            writer.writeVarint(op.seq)
            writer.writeFixed64(hlc.rawValue)
        }
        try encode(state.exists, elideWinner: false, refs: refs, into: &writer)
        writer.writeVarint(UInt64(registers.count))
        for (field, register) in registers {
            writer.writeVarint(UInt64(field))
            try encode(register, elideWinner: true, refs: refs, into: &writer)
        }
        writer.writeVarint(UInt64(sets.count))
        for (field, set) in sets {
            writer.writeVarint(UInt64(field))
            let elements = set.visible
            writer.writeVarint(UInt64(elements.count))
            for element in elements {
                writer.write(element)
                let tags = set.elements[element]!
                writer.writeVarint(UInt64(tags.count))
                for tag in tags { writer.writeVarint(UInt64(refs.index(of: tag))) }
            }
            writer.writeVarint(UInt64(set.removedPending.count))
            for pending in set.removedPending {
                writer.writeVarint(UInt64(try directory.index(of: pending.op.replica)))
                writer.writeVarint(pending.op.seq)
                writer.write(pending.element)
            }
        }
        if !state.erasures.isEmpty {
            writer.writeVarint(UInt64(state.erasures.count))
            for erasure in state.erasures {
                writer.writeVarint(UInt64(try directory.index(of: erasure.replica)))
                writer.writeVarint(erasure.seq)
            }
        }
        return writer.bytes
    }

    private func encode(_ register: RegisterState, elideWinner: Bool, refs: RefTable, into writer: inout ByteWriter) throws {
        writer.writeVarint(UInt64(register.heads.count))
        for (position, head) in register.heads.enumerated() {
            writer.writeVarint(UInt64(refs.index(of: head.op)))
            if !(elideWinner && position == 0) { writer.write(head.value) }
        }
        writer.writeVarint(UInt64(register.supersededPending.count))
        for op in register.supersededPending {
            writer.writeVarint(UInt64(try directory.index(of: op.replica)))
            writer.writeVarint(op.seq)
        }
    }

    /// Decodes metadata; `winners` supplies each register field's visible value (the plain
    /// column, or the tombstone's values), and counters come from there too.
    func decode(_ bytes: [UInt8], winners: FieldMap<Value>, counterFields: [FieldID]) throws -> EntityState {
        var reader = ByteReader(bytes)
        let version = try reader.readByte()
        guard version == Self.version || version == Self.versionWithErasures else {
            throw SyncError(.corrupt, "merge metadata has version \(version); this build reads versions \(Self.version) and \(Self.versionWithErasures). Upgrade the app")
        }
        var refs: [(OpID, HLCTimestamp)] = []
        let refCount = try reader.readCount(limit: Self.countMax)
        refs.reserveCapacity(refCount)
        for _ in 0..<refCount {
            let replica = try directory.replica(at: Int64(bitPattern: try reader.readVarint()))
            let seq = try reader.readVarint()
            let hlc = HLCTimestamp(rawValue: try reader.readFixed64())
            refs.append((OpID(replica: replica, seq: seq), hlc))
        }
        var state = EntityState()
        state.exists = try decodeRegister(&reader, refs: refs, winner: nil)
        let registerCount = try reader.readCount(limit: Self.countMax)
        state.registers.reserveCapacity(registerCount)
        for _ in 0..<registerCount {
            let field = FieldID(try reader.readVarint())
            state.registers[field] = try decodeRegister(&reader, refs: refs, winner: winners[field] ?? .null)
        }
        for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
            let field = FieldID(try reader.readVarint())
            var set = SetState()
            for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
                let element = try reader.readValue()
                var tags: [OpID] = []
                for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
                    tags.append(try refAt(try reader.readVarint(), refs).0)
                }
                set.elements[element] = tags
            }
            for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
                let replica = try directory.replica(at: Int64(bitPattern: try reader.readVarint()))
                let op = OpID(replica: replica, seq: try reader.readVarint())
                set.removedPending.append(.init(op: op, element: try reader.readValue()))
            }
            state.sets[field] = set
        }
        if version == Self.versionWithErasures {
            for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
                let replica = try directory.replica(at: Int64(bitPattern: try reader.readVarint()))
                state.erasures.append(OpID(replica: replica, seq: try reader.readVarint()))
            }
        }
        guard reader.isAtEnd else { throw SyncError(.corrupt, "merge metadata has trailing bytes") }
        for field in counterFields {
            if case .int(let sum)? = winners[field], sum != 0 { state.counters[field] = sum }
        }
        return state
    }

    private func refAt(_ index: UInt64, _ refs: [(OpID, HLCTimestamp)]) throws -> (OpID, HLCTimestamp) {
        guard index < UInt64(refs.count) else { throw SyncError(.corrupt, "merge metadata names reference \(index) of \(refs.count)") }
        return refs[Int(index)]
    }

    private func decodeRegister(_ reader: inout ByteReader, refs: [(OpID, HLCTimestamp)], winner: Value?) throws -> RegisterState {
        var register = RegisterState()
        let headCount = try reader.readCount(limit: Self.countMax)
        for position in 0..<headCount {
            let (op, hlc) = try refAt(try reader.readVarint(), refs)
            let value: Value
            if position == 0, let winner { value = winner } else { value = try reader.readValue() }
            register.heads.append(Head(op: op, hlc: hlc, value: value))
        }
        for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
            let replica = try directory.replica(at: Int64(bitPattern: try reader.readVarint()))
            register.supersededPending.append(OpID(replica: replica, seq: try reader.readVarint()))
        }
        return register
    }

    // MARK: Tombstone values

    static func encodeValues(_ values: FieldMap<Value>) -> [UInt8] {
        var writer = ByteWriter()
        let present = values.keys.sorted().filter { !values[$0]!.isNull }
        writer.writeVarint(UInt64(present.count))
        for field in present {
            writer.writeVarint(UInt64(field))
            writer.write(values[field]!)
        }
        return writer.bytes
    }

    static func decodeValues(_ bytes: [UInt8]) throws -> FieldMap<Value> {
        var reader = ByteReader(bytes)
        var values: FieldMap<Value> = [:]
        for _ in 0..<(try reader.readCount(limit: countMax)) {
            let field = FieldID(try reader.readVarint())
            values[field] = try reader.readValue()
        }
        return values
    }

    // MARK: Op-log bodies

    /// `n × (field varint, kind u8, payload)`: kind 0 set (value, prev ids), 1 increment
    /// (signed varint), 2 add (value), 3 remove (value, tag ids), 4 the `_erase` list (value, ids;
    /// field number 0); ids as (replica varint, seq varint).
    func encodeBody(_ items: [ResolvedOperation.Item]) throws -> [UInt8] {
        var writer = ByteWriter()
        writer.writeVarint(UInt64(items.count))
        func ids(_ list: [OpID]) throws {
            writer.writeVarint(UInt64(list.count))
            for id in list {
                writer.writeVarint(UInt64(try directory.index(of: id.replica)))
                writer.writeVarint(id.seq)
            }
        }
        for item in items {
            writer.writeVarint(UInt64(max(item.field, 0)))
            switch item.change {
            case .set(let value, let prev) where item.field == .erasure:
                // Kind 4 (field number 0): the `_erase` list, which has no field number.
                writer.write(byte: 4); writer.write(value); try ids(prev)
            case .set(let value, let prev): writer.write(byte: 0); writer.write(value); try ids(prev)
            case .increment(let delta): writer.write(byte: 1); writer.writeSignedVarint(delta)
            case .add(let element): writer.write(byte: 2); writer.write(element)
            case .remove(let element, let tags): writer.write(byte: 3); writer.write(element); try ids(tags)
            }
        }
        return writer.bytes
    }

    func decodeBody(_ bytes: [UInt8]) throws -> [ResolvedOperation.Item] {
        var reader = ByteReader(bytes)
        func ids() throws -> [OpID] {
            var list: [OpID] = []
            for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
                let replica = try directory.replica(at: Int64(bitPattern: try reader.readVarint()))
                list.append(OpID(replica: replica, seq: try reader.readVarint()))
            }
            return list
        }
        var items: [ResolvedOperation.Item] = []
        for _ in 0..<(try reader.readCount(limit: Self.countMax)) {
            var field = FieldID(try reader.readVarint())
            let change: Change
            switch try reader.readByte() {
            case 4: field = .erasure; let value = try reader.readValue(); change = .set(value, prev: try ids())
            case 0: let value = try reader.readValue(); change = .set(value, prev: try ids())
            case 1: change = .increment(try reader.readSignedVarint())
            case 2: change = .add(try reader.readValue())
            case 3: let element = try reader.readValue(); change = .remove(element, tags: try ids())
            case let kind: throw SyncError(.corrupt, "op-log body has unknown change kind \(kind)")
            }
            items.append(.init(field: field, change: change))
        }
        return items
    }
}
