import Foundation
import Testing
@testable import SyncKit

/// Golden fixtures: op sets with their expected final tables, conflicts and digest, checked in
/// under Fixtures/golden. Merge results must not drift between releases (old devices keep
/// syncing), so a change of outcome fails here. `FIELDSYNC_WRITE_GOLDEN=1` rewrites the files
/// from the scenarios below; do that only for a deliberate, documented format change.
struct GoldenFixtureTests {
    struct Golden: Equatable {
        var description: String
        var ops: [Op]
        var records: [String: [String: Value]]
        var deleted: [String]
        var conflicts: [String: [Value]]
        var digest: String

        init(description: String, ops: [Op], records: [String: [String: Value]], deleted: [String], conflicts: [String: [Value]], digest: String) {
            (self.description, self.ops, self.records, self.deleted, self.conflicts, self.digest) = (description, ops, records, deleted, conflicts, digest)
        }

        /// A fixture file: operations and values in their wire form, read by the one codec.
        init(json data: Data) throws {
            let f = JSONField(try JSONNode.parse(data))
            description = try f.key("description").string()
            ops = try f.key("ops").array().map(WireJSON.op)
            var records: [String: [String: Value]] = [:]
            for (key, record) in try f.key("records").members() {
                records[key] = try Dictionary(uniqueKeysWithValues: record.members().map { ($0.0, try WireJSON.value($0.1)) })
            }
            self.records = records
            deleted = try f.key("deleted").strings()
            conflicts = try Dictionary(uniqueKeysWithValues: f.key("conflicts").members().map { ($0.0, try $0.1.array().map(WireJSON.value)) })
            digest = try f.key("digest").string()
        }

        var json: Data {
            var w = JSONWriter()
            w.object { o in
                o.field("conflicts") { $0.dictionary(conflicts) { w, values in w.array(values) { WireJSON.write($1, &$0) } } }
                o.field("deleted") { $0.array(deleted) { $0.string($1) } }
                o.field("description") { $0.string(description) }
                o.field("digest") { $0.string(digest) }
                o.field("ops") { $0.array(ops) { WireJSON.write($1, &$0) } }
                o.field("records") { $0.dictionary(records) { w, record in w.dictionary(record) { WireJSON.write($1, &$0) } } }
            }
            return w.data
        }
    }

    static var fixturesURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/golden")
    }

    /// Deterministic scenarios: fixed replica ids, manual clocks, seeded ids.
    static let scenarios: [(String, String, @Sendable () throws -> [Op])] = [
        ("register-conflicts", "Concurrent register writes, a conflict resolved, one left open, equal clocks ordered by replica id", {
            let clock = ManualClock(millis: testEpochMillis)
            let (a, _) = try makeReplica(11, clock: clock), (b, _) = try makeReplica(12, clock: clock), (c, _) = try makeReplica(13, clock: clock)
            let id = try a.write { try $0.insert("items", ["cell": "C1", "name": "王芳", "size": 1]) }
            try deliver(a, to: b); try deliver(a, to: c)
            clock.advance(byMillis: 1_000)
            try b.write { try $0.update("items", id, ["name": "王芳芳", "size": 2]) }
            try c.write { try $0.update("items", id, ["name": "王 芳", "size": 3]) }
            try deliver(b, to: a); try deliver(c, to: a)
            let conflict = try a.conflicts().first { $0.field == "size" }!
            try a.write { try $0.resolve("items", id, "size", pick: conflict.candidates.last!.op) }
            return try a.operations()
        }),
        ("delete-counter-set", "A delete concurrent with an edit, counters under concurrency, add-wins sets", {
            let clock = ManualClock(millis: testEpochMillis)
            let (a, _) = try makeReplica(21, clock: clock), (b, _) = try makeReplica(22, clock: clock)
            let (keep, gone) = try a.write { tx in
                (try tx.insert("items", ["cell": "C1", "name": "kept", "visits": 1], elements: ["tags": ["x", "y"]]),
                 try tx.insert("items", ["cell": "C2", "name": "gone"]))
            }
            try deliver(a, to: b)
            clock.advance(byMillis: 500)
            try a.write { tx in try tx.delete("items", keep); try tx.remove("items", gone, "tags", "x"); try tx.increment("items", gone, "visits", by: 2) }
            try b.write { tx in
                try tx.update("items", keep, ["flag": true]); try tx.add("items", gone, "tags", "x")
                try tx.increment("items", gone, "visits", by: 5); try tx.delete("items", gone)
            }
            try deliver(b, to: a)
            return try a.operations()
        }),
        ("lifecycle-natural-keys", "Concurrent lifecycle transitions ordered by precedence; one plate created on two devices", {
            let clock = ManualClock(millis: testEpochMillis)
            let (a, _) = try makeReplica(31, clock: clock), (b, _) = try makeReplica(32, clock: clock)
            let task = try a.write { tx in
                let id = try tx.insert("items", ["cell": "C1", "status": "open"])
                try tx.update("items", id, ["status": "assigned"])
                return id
            }
            try deliver(a, to: b)
            try a.write { try $0.update("items", task, ["status": "cancelled"]) }
            clock.advance(byMillis: 90_000)
            try b.write { tx in try tx.update("items", task, ["status": "in_progress"]); try tx.update("items", task, ["status": "done"]) }
            try a.write { try $0.insert("plates", ["code": "JS0412-00088", "cell": "C1", "street": "幸福路", "number": 88]) }
            try b.write { try $0.insert("plates", ["code": "js0412-00088", "cell": "C1", "street": "幸福路", "number": 86]) }
            try deliver(b, to: a)
            return try a.operations()
        }),
    ]

    static func outcome(of ops: [Op], description: String) throws -> Golden {
        let (replica, _) = try makeReplica(99)
        try replica.apply(ops)
        var records: [String: [String: Value]] = [:]
        var deleted: [String] = []
        for op in ops {
            let key = "\(op.collection)/\(op.entity)"
            guard let record = try replica.record(op.collection, op.entity, includeDeleted: true) else { continue }
            records[key] = record.values
            if record.isDeleted { deleted.append(key) }
        }
        var conflicts: [String: [Value]] = [:]
        for c in try replica.conflicts() { conflicts["\(c.collection)/\(c.entity).\(c.field)"] = c.candidates.map(\.value) }
        return Golden(description: description, ops: ops, records: records, deleted: Array(Set(deleted)).sorted(),
                      conflicts: conflicts, digest: try replica.digest())
    }

    @Test(arguments: scenarios.map(\.0))
    func goldenOpSetStillMergesToTheRecordedOutcome(name: String) throws {
        let url = Self.fixturesURL.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["FIELDSYNC_WRITE_GOLDEN"] == "1" {
            let scenario = Self.scenarios.first { $0.0 == name }!
            try Self.outcome(of: try scenario.2(), description: scenario.1).json.write(to: url)
        }
        let golden = try Golden(json: Data(contentsOf: url))
        // The recorded ops, applied in the recorded order, reversed, and shuffled, give the
        // recorded outcome.
        var rng = SplitMix64(seed: 7)
        for ops in [golden.ops, golden.ops.reversed(), golden.ops.shuffled(using: &rng)] {
            let outcome = try Self.outcome(of: ops, description: golden.description)
            #expect(outcome.records == golden.records)
            #expect(outcome.deleted == golden.deleted)
            #expect(outcome.conflicts == golden.conflicts)
            #expect(outcome.digest == golden.digest)
        }
        // The scenario, replayed by today's code, still writes the same ops.
        let scenario = try #require(Self.scenarios.first { $0.0 == name })
        #expect(try scenario.2() == golden.ops)
    }
}
