import SyncKit

/// Untimed setup shared by the benchmarks: opening a replica, filling it and the baseline with
/// the same records, and checking afterwards that the timed work really happened.
enum Fixture {
    /// Writes per transaction in the batched benchmarks (both sides).
    static let batchWritesMax = 1_000

    static func openReplica(_ path: String, seed: UInt64, clock: (any PhysicalClock)? = nil) throws -> Replica {
        try Replica.open(path: path, schema: try Households.replicaSchema(), options: Households.options(seed: seed, clock: clock))
    }

    /// Inserts whole records, `batchWritesMax` per transaction, one op each.
    static func insert(_ households: ArraySlice<Household>, into replica: Replica) throws {
        for batch in households.chunks(of: batchWritesMax) {
            try replica.write { tx in
                for household in batch {
                    try tx.insert(Households.collection, id: household.id, household.syncValues, elements: household.syncElements)
                }
            }
        }
    }

    /// Inserts the same rows into the plain table, `batchWritesMax` per transaction.
    static func insert(_ households: ArraySlice<Household>, into baseline: Baseline) throws {
        let insert = try baseline.insertStatement()
        for batch in households.chunks(of: batchWritesMax) {
            try baseline.db.transaction {
                for household in batch { try baseline.insert(household, with: insert) }
            }
        }
    }

    /// Fails unless the replica shows `expected` in `field` of record `id`.
    static func expect(_ replica: Replica, _ id: EntityID, _ field: String, _ expected: Value) throws {
        let actual = try replica.record(Households.collection, id)?[field]
        guard actual == expected else {
            throw BenchError("replica record \(id) shows \(field) = \(actual.map(String.init(describing:)) ?? "no record"), expected \(expected): the timed writes did not land")
        }
    }

    /// Fails unless the plain table shows `expected` in `field` of row `id`.
    static func expect(_ baseline: Baseline, _ id: EntityID, _ field: String, _ expected: Value) throws {
        let actual = try baseline.db.scalar("SELECT \(Baseline.quoted(field)) FROM \(Baseline.table) WHERE id = ?", [.text(id.rawValue)])
        guard actual == expected else {
            throw BenchError("plain row \(id) shows \(field) = \(actual.map(String.init(describing:)) ?? "no row"), expected \(expected): the timed writes did not land")
        }
    }
}
