import Foundation
import Testing
@testable import SyncKit

/// A schema that exercises every merge policy.
enum TestSchema {
    static let status = try! Lifecycle(
        initial: ["open"],
        transitions: ["open": ["assigned", "cancelled"], "assigned": ["in_progress", "open", "cancelled"],
                      "in_progress": ["done", "assigned", "cancelled"], "done": ["verified", "in_progress"]],
        precedence: ["open", "assigned", "in_progress", "cancelled", "done", "verified"])

    static let items = CollectionSchema("items", cellField: "cell", fields: [
        .text("cell"), .text("name", review: true, personal: true), .int("size"), .real("weight"), .bool("flag"),
        .blob("photo", personal: true), .counter("visits"), .set("tags", personal: true), .lifecycle("status", status),
    ])

    static let plates = CollectionSchema("plates", cellField: "cell", naturalKey: NaturalKey(fields: ["code"]),
                                         fields: [.text("code"), .text("cell"), .text("street"), .int("number")])

    static let schema = try! Schema([items, plates])
}

/// Seconds-resolution test time: 2026-01-01.
let testEpochMillis: Int64 = 1_767_225_600_000

/// A replica in memory with a manual clock and a fixed id.
func makeReplica(_ index: UInt64, clock: ManualClock? = nil, schema: Schema = TestSchema.schema,
                 path: String = ":memory:", configure: (inout ReplicaOptions) -> Void = { _ in }) throws -> (Replica, ManualClock) {
    let clock = clock ?? ManualClock(millis: testEpochMillis)
    var options = ReplicaOptions()
    options.clock = clock
    options.replicaID = ReplicaID(high: index, low: index &* 0x9E37_79B9)
    options.randomSeed = index &+ 1000
    configure(&options)
    return (try Replica.open(path: path, schema: schema, options: options), clock)
}

/// A fresh temporary directory, removed by the caller with `cleanup`.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Everything a replica shows, for comparing two replicas: every live and deleted record with its
/// values and set elements, and every conflict with its candidate values.
struct ReplicaSnapshot: Equatable, CustomStringConvertible {
    var records: [String: [String: String]] = [:]
    var conflicts: [String] = []
    var digest = ""

    init(_ replica: Replica) throws {
        for collection in replica.schema.collections {
            for record in try replica.records(collection.name, limit: Int.max) {
                let fields = record.values.keys.sorted().map { "\($0)=\(String(reflecting: record.values[$0]!))" }
                records["\(collection.name)/\(record.id)"] = ["values": fields.joined(separator: " "),
                                                               "sets": record.sets.keys.sorted().map { "\($0)=\(record.sets[$0]!)" }.joined(separator: " ")]
            }
        }
        conflicts = try replica.conflicts().map { c in
            "\(c.collection)/\(c.entity).\(c.field) review=\(c.review) " + c.candidates.map { "\($0.op)=\(String(reflecting: $0.value))" }.joined(separator: ",")
        }
        digest = try replica.digest()
    }

    var description: String {
        records.keys.sorted().map { "\($0): \(records[$0]!["values"]!) \(records[$0]!["sets"]!)" }.joined(separator: "\n")
            + "\nconflicts:\n" + conflicts.joined(separator: "\n") + "\ndigest \(digest)"
    }
}

/// The seed of a property test: `FIELDSYNC_SEED` reruns one, else one per case from a base.
enum PropertySeeds {
    static var fixed: UInt64? { ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } }

    static func cases(default count: Int) -> Int {
        ProcessInfo.processInfo.environment["FIELDSYNC_CASES"].flatMap { Int($0) } ?? count
    }

    static func seeds(base: UInt64, default count: Int) -> [UInt64] {
        if let fixed { return [fixed] }
        return (0..<UInt64(cases(default: count))).map { base &+ $0 }
    }
}

/// Runs long CPU-bound test work on a thread of its own. Swift Testing runs test functions on
/// the cooperative pool, which has one thread per core: long synchronous tests there starve
/// every async test (an HTTP request waiting for its reply) until they finish.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
