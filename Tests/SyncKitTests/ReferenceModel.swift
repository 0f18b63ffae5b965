@testable import SyncKit

/// The merge semantics of Design.md computed directly from a set of operations, independently
/// of the store: the property tests hold every replica to it.
struct ReferenceModel {
    struct EntityKey: Hashable { var collection: String; var entity: EntityID }
    struct Expected: Equatable {
        var exists: Bool
        var values: [String: Value]
        var sets: [String: [Value]]
        var conflicts: [String: Set<Value>]
    }

    private(set) var entities: [EntityKey: Expected] = [:]
    /// Each record's erasures and personal fields, for `stored`.
    private var erasures: [EntityKey: [OpID]] = [:]
    private let personal: [String: Set<String>]

    init(ops: [Op], schema: Schema) {
        personal = Dictionary(uniqueKeysWithValues: schema.collections.map { ($0.name, Set($0.fields.filter(\.personal).map(\.name))) })
        var byEntity: [EntityKey: [Op]] = [:]
        var seen = Set<OpID>()
        for op in ops where seen.insert(op.id).inserted {
            byEntity[EntityKey(collection: op.collection, entity: op.entity), default: []].append(op)
        }
        for (key, ops) in byEntity {
            guard let collection = schema.collection(named: key.collection) else { continue }
            entities[key] = Self.expected(ops, collection)
            erasures[key] = Set(ops.flatMap(\.erasures)).sorted()
        }
    }

    /// An operation as a replica holding every operation keeps it in its log.
    func stored(_ op: Op) -> Op {
        op.scrubbed(knowing: erasures[EntityKey(collection: op.collection, entity: op.entity)] ?? [], personal: personal[op.collection] ?? [])
    }

    private static func heads(_ ops: [Op], field: String) -> [Head] {
        var writes: [Head] = []
        var superseded = Set<OpID>()
        for op in ops {
            for assignment in op.assignments where assignment.field == field {
                if case .set(let value, let prev) = assignment.change {
                    writes.append(Head(op: op.id, hlc: op.hlc, value: value))
                    superseded.formUnion(prev.filter { $0 != op.id })
                }
            }
        }
        return writes.filter { !superseded.contains($0.op) }
    }

    private static func winner(_ heads: [Head], _ order: HeadOrder) -> Head? {
        heads.min { order.precedes($0, $1) }
    }

    /// The operations as every replica that has them all merges them (section 3, "Erasure"):
    /// the record's erasures are every id any operation lists as one (and every erasure itself);
    /// an operation that does not list them all has its personal values null.
    static func erased(_ ops: [Op], _ collection: CollectionSchema) -> [Op] {
        let known = Set(ops.flatMap(\.erasures)).sorted()
        let personal = Set(collection.fields.filter(\.personal).map(\.name))
        return ops.map { $0.scrubbed(knowing: known, personal: personal) }
    }

    private static func expected(_ ops: [Op], _ collection: CollectionSchema) -> Expected {
        let ops = erased(ops, collection)
        var result = Expected(exists: false, values: [:], sets: [:], conflicts: [:])
        let existence = heads(ops, field: Assignment.existenceField)
        result.exists = winner(existence, .existence)?.value == .bool(true)
        if Set(existence.map(\.value)).count > 1 { result.conflicts[Assignment.existenceField] = Set(existence.map(\.value)) }
        for field in collection.fields {
            switch field.policy {
            case .register, .lifecycle:
                let order: HeadOrder
                if case .lifecycle(let lifecycle) = field.policy { order = .precedence(lifecycle) } else { order = .stamp }
                let fieldHeads = heads(ops, field: field.name)
                result.values[field.name] = winner(fieldHeads, order)?.value ?? .null
                let distinct = Set(fieldHeads.map(\.value))
                if distinct.count > 1 { result.conflicts[field.name] = distinct }
            case .counter:
                var sum: Int64 = 0
                for op in ops { for a in op.assignments where a.field == field.name { if case .increment(let d) = a.change { sum &+= d } } }
                result.values[field.name] = .int(sum)
            case .set:
                var adds = Set<SetState.Tag>()
                var removed = Set<SetState.Tag>()
                for op in ops {
                    for a in op.assignments where a.field == field.name {
                        switch a.change {
                        // A null element is an erased one: it adds and removes nothing.
                        case .add(let e) where e != .null: adds.insert(.init(op: op.id, element: e))
                        case .remove(let e, let tags) where e != .null: for t in tags { removed.insert(.init(op: t, element: e)) }
                        default: break
                        }
                    }
                }
                let present = Set(adds.subtracting(removed).map(\.element)).sorted()
                result.sets[field.name] = present
                result.values[field.name] = present.isEmpty ? .null : .text(JSONText.array(present))
            }
        }
        return result
    }

    /// Differences between a replica and the model, as readable lines (empty when equal).
    func differences(_ replica: Replica) throws -> [String] {
        var problems: [String] = []
        var replicaConflicts: [EntityKey: [String: Set<Value>]] = [:]
        for conflict in try replica.conflicts() {
            replicaConflicts[EntityKey(collection: conflict.collection, entity: conflict.entity), default: [:]][conflict.field] = Set(conflict.candidates.map(\.value))
        }
        for (key, expected) in entities {
            guard let record = try replica.record(key.collection, key.entity, includeDeleted: true) else {
                problems.append("\(key.collection)/\(key.entity): missing on replica")
                continue
            }
            if record.isDeleted == expected.exists { problems.append("\(key.collection)/\(key.entity): exists \(!record.isDeleted), expected \(expected.exists)") }
            for (field, value) in expected.values where record[field] != value {
                problems.append("\(key.collection)/\(key.entity).\(field) = \(String(reflecting: record[field])), expected \(String(reflecting: value))")
            }
            for (field, elements) in expected.sets where record.elements(field) != elements {
                problems.append("\(key.collection)/\(key.entity).\(field) elements \(record.elements(field)), expected \(elements)")
            }
            let actual = replicaConflicts[key] ?? [:]
            if actual != expected.conflicts { problems.append("\(key.collection)/\(key.entity) conflicts \(actual), expected \(expected.conflicts)") }
        }
        let live = try replica.schema.collections.reduce(0) { $0 + (try replica.records($1.name, limit: Int.max).count) }
        let expectedLive = entities.values.filter(\.exists).count
        if live != expectedLive { problems.append("replica shows \(live) records, expected \(expectedLive)") }
        return problems
    }
}
