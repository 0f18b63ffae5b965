import Foundation
import Testing
@testable import SyncKit

/// Seeded property tests: replicas make random writes of every policy while exchanging random,
/// shuffled, duplicated subsets of each other's operations; then every replica receives every
/// operation in its own random order, with duplicates. Now and then a replica compacts its op log
/// (its own acknowledged operations leave it, as covers). All must end identical, and equal to
/// the reference model. A failure prints the seed; `FIELDSYNC_SEED=<seed> make test` reruns it.
struct ConvergencePropertyTests {
    struct Scenario {
        var replicaCount: ClosedRange<Int>
        var actions: ClosedRange<Int>
        var entityPool: Int
    }

    static let tagPool: [Value] = ["a", "b", "c", "老人"]
    static let namePool: [Value] = ["张伟", "王芳", "李娜", "x", .null]
    static let platePool = ["P-1", "P-2", "p-1", "P-3"]

    @Test func fewReplicasManyConflictsConverge() async throws {
        try await offPool { try Self().run(base: 1_000_000, count: 1_500, scenario: Scenario(replicaCount: 3...4, actions: 20...60, entityPool: 3)) }
    }

    @Test func manyReplicasConverge() async throws {
        try await offPool { try Self().run(base: 2_000_000, count: 600, scenario: Scenario(replicaCount: 5...10, actions: 30...90, entityPool: 6)) }
    }

    @Test func longHistoriesConverge() async throws {
        try await offPool { try Self().run(base: 3_000_000, count: 200, scenario: Scenario(replicaCount: 3...6, actions: 150...250, entityPool: 8)) }
    }

    private func run(base: UInt64, count: Int, scenario: Scenario) throws {
        for seed in PropertySeeds.seeds(base: base, default: count) {
            let problems = try Self.check(seed: seed, scenario: scenario)
            if !problems.isEmpty {
                let report: String = problems.prefix(20).joined(separator: "\n")
                Issue.record("convergence failed; reproduce with FIELDSYNC_SEED=\(seed) swift test --filter ConvergencePropertyTests\n\(report)")
                return
            }
        }
    }

    /// One case: returns what went wrong (nothing when every replica converged on the model).
    static func check(seed: UInt64, scenario: Scenario) throws -> [String] {
        var rng = SplitMix64(seed: seed)
        let count = Int.random(in: scenario.replicaCount, using: &rng)
        var replicas: [Replica] = []
        var clocks: [ManualClock] = []
        for index in 0..<count {
            // Clocks skewed by up to a minute, well inside the drift bound.
            let clock = ManualClock(millis: testEpochMillis + Int64.random(in: -60_000...60_000, using: &rng))
            replicas.append(try makeReplica(UInt64(index + 1) &* 7919 &+ seed, clock: clock).0)
            clocks.append(clock)
        }
        let actions = Int.random(in: scenario.actions, using: &rng)
        // Every operation ever logged: compaction drops operations from a replica's log.
        var union: [OpID: Op] = [:]
        var compacted = Set<Int>()
        for _ in 0..<actions {
            let r = Int.random(in: 0..<count, using: &rng)
            if Int.random(in: 0..<12, using: &rng) == 0 {
                // Compaction at a random moment: the node acknowledged some of this replica's
                // operations (peers' operations came in any order, so only its own may go).
                for op in try replicas[r].operations() { union[op.id] = op }
                let written = try replicas[r].operations().filter { $0.id.replica == replicas[r].id }.map(\.id.seq).max() ?? 0
                if written > 0 { try replicas[r].acknowledge(through: UInt64.random(in: 1...written, using: &rng)) }
                if try replicas[r].compact(opsMax: Int.random(in: 1...50, using: &rng)).opsDropped > 0 { compacted.insert(r) }
                continue
            }
            try randomAction(replica: replicas[r], clock: clocks[r], others: replicas, scenario: scenario, rng: &rng)
        }
        // Final delivery: every replica gets the union, shuffled, with duplicates, in chunks.
        for replica in replicas { for op in try replica.operations() { union[op.id] = op } }
        let all = Array(union.values).sorted { $0.id < $1.id }
        for replica in replicas {
            var delivery = all + (0..<(all.count / 3)).compactMap { _ in all.randomElement(using: &rng) }
            delivery.shuffle(using: &rng)
            var start = 0
            while start < delivery.count {
                let size = Int.random(in: 1...max(1, delivery.count / 2), using: &rng)
                try replica.apply(Array(delivery[start..<min(start + size, delivery.count)]))
                start += size
            }
        }
        var problems: [String] = []
        let model = ReferenceModel(ops: all, schema: TestSchema.schema)
        let first = try ReplicaSnapshot(replicas[0])
        for (index, replica) in replicas.enumerated() {
            let logged = try replica.operations()
            if !compacted.contains(index) && logged.count != all.count { problems.append("replica \(index) holds \(logged.count) ops of \(all.count)") }
            // Each operation as written, or as erased by the erasures of its record (section 3).
            if let stranger = logged.first(where: { union[$0.id].map(model.stored) != $0 }) {
                problems.append("replica \(index) logs \(stranger), which no replica wrote, or not erased as \(union[stranger.id].map(model.stored).map(String.init(describing:)) ?? "-")")
            }
            if try !replica.quarantined().isEmpty { problems.append("replica \(index) quarantined ops") }
            let snapshot = try ReplicaSnapshot(replica)
            if snapshot != first { problems.append("replica \(index) differs from replica 0:\n\(snapshot)\n--- replica 0:\n\(first)") }
            problems += try model.differences(replica).map { "replica \(index): \($0)" }
        }
        return problems
    }

    private static func knownIDs(_ replica: Replica, _ collection: String) throws -> [EntityID] {
        try replica.records(collection, limit: Int.max).map(\.id)
    }

    /// One random local action; with `peers`, sometimes a partial sync from another replica.
    static func randomAction(replica: Replica, clock: ManualClock, others: [Replica], scenario: Scenario, peers: Bool = true,
                             rng: inout SplitMix64) throws {
        // Time moves on, now and then backwards.
        clock.advance(byMillis: Int64.random(in: -2_000...5_000, using: &rng))
        let items = try knownIDs(replica, "items")
        let roll = Int.random(in: 0..<100, using: &rng)
        do {
            switch roll {
            case 0..<8 where items.count < scenario.entityPool:
                try replica.write { tx in
                    try tx.insert("items", ["cell": "C1", "name": namePool.randomElement(using: &rng)!, "status": "open",
                                            "visits": .int(Int64.random(in: 0...3, using: &rng))],
                                  elements: ["tags": [tagPool.randomElement(using: &rng)!]])
                }
            case 0..<12:
                let code = platePool.randomElement(using: &rng)!
                let id = try replica.naturalID("plates", ["code": .text(code)])
                try replica.write { tx in
                    if try tx.record("plates", id) == nil {
                        try tx.insert("plates", ["code": .text(code), "cell": "C1", "number": .int(Int64.random(in: 1...3, using: &rng))])
                    } else {
                        try tx.update("plates", id, ["street": namePool.randomElement(using: &rng)!])
                    }
                }
            case 12..<35:
                guard let id = items.randomElement(using: &rng) else { return }
                var values: [String: Value] = [:]
                if Bool.random(using: &rng) { values["name"] = namePool.randomElement(using: &rng)! }
                if Bool.random(using: &rng) { values["size"] = .int(Int64.random(in: 1...3, using: &rng)) }
                if Bool.random(using: &rng) { values["flag"] = .bool(Bool.random(using: &rng)) }
                if Int.random(in: 0..<4, using: &rng) == 0 { values["weight"] = [.real(1.5), .real(-0.0), .real(2)].randomElement(using: &rng)! }
                if Int.random(in: 0..<6, using: &rng) == 0 { values["photo"] = .blob([UInt8(Int.random(in: 0...2, using: &rng))]) }
                try replica.write { try $0.update("items", id, values) }
            case 35..<43:
                guard let id = items.randomElement(using: &rng) else { return }
                try replica.write { try $0.increment("items", id, "visits", by: Int64.random(in: -2...5, using: &rng) | 1) }
            case 43..<53:
                guard let id = items.randomElement(using: &rng) else { return }
                let tag = tagPool.randomElement(using: &rng)!
                try replica.write { tx in
                    if Bool.random(using: &rng) { try tx.add("items", id, "tags", tag) } else { try tx.remove("items", id, "tags", tag) }
                }
            case 53..<61:
                guard let id = items.randomElement(using: &rng), let record = try replica.record("items", id) else { return }
                let from = record["status"].text
                let targets = from.flatMap { TestSchema.status.transitions[$0] }.map { Array($0).sorted() } ?? []
                guard let to = targets.randomElement(using: &rng) else { return }
                try replica.write { try $0.update("items", id, ["status": .text(to)]) }
            case 61..<65:
                guard let id = items.randomElement(using: &rng) else { return }
                try replica.write { try $0.delete("items", id) }
            case 72..<75:
                // An erasure (the central node's in the product; the rule is the same anywhere).
                guard let id = items.randomElement(using: &rng) else { return }
                try replica.write { try $0.erase("items", id) }
            case 65..<72:
                guard let conflict = try replica.conflicts().randomElement(using: &rng),
                      let pick = conflict.candidates.randomElement(using: &rng) else { return }
                try replica.write { try $0.resolve(conflict.collection, conflict.entity, conflict.field, pick: pick.op) }
            default:
                guard peers else { return }
                // Partial sync: a random, shuffled, duplicated subset of another replica's log.
                let source = others.randomElement(using: &rng)!
                guard source !== replica else { return }
                var ops = try source.operations().filter { _ in Int.random(in: 0..<3, using: &rng) != 0 }
                ops += ops.prefix(Int.random(in: 0...3, using: &rng))
                ops.shuffle(using: &rng)
                try replica.apply(ops)
            }
        } catch let error as SyncError where error.code == .notFound || error.code == .alreadyExists || error.code == .illegalTransition {
            // A write the local state refuses (a record deleted meanwhile): part of the game.
        }
    }
}
