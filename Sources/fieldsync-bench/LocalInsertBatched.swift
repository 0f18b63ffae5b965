import SyncKit

/// `local_insert_batched`: 100,000 new whole records (every field set, one op each), 1,000 per
/// transaction, against a plain INSERT of the same rows batched the same way.
enum LocalInsertBatched {
    static let name = "local_insert_batched"
    static let recordCount = 100_000
    static let seed: UInt64 = 0x10CA1_0003

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        var generator = HouseholdGenerator(seed: seed)
        let households = (0..<recordCount).map { _ in generator.household() }
        let scratch = settings.scratch

        let (ours, plain) = try PairedRuns(timedRuns: settings.timedRuns, label: name).measure(
            ours: {
                let path = scratch.newPath("ours")
                defer { scratch.remove(path) }
                return try oursTrial(path: path, households: households)
            },
            baseline: {
                let path = scratch.newPath("plain")
                defer { scratch.remove(path) }
                return try baselineTrial(path: path, households: households)
            })
        var report = BenchmarkReport(benchmark: name, unit: "records/s")
        report.compare(ours: ours, baseline: plain, ops: recordCount)
        report.extras["writes_per_txn"] = .int(Fixture.batchWritesMax)
        report.extras["fields_per_record"] = .int(Households.schema.fields.count)
        return report
    }

    static func oursTrial(path: String, households: [Household]) throws -> Duration {
        let replica = try Fixture.openReplica(path, seed: seed)
        let elapsed = try Measurement.time { try Fixture.insert(households[...], into: replica) }
        if let last = households.last { try Fixture.expect(replica, last.id, "head_name", .text(last.headName)) }
        return elapsed
    }

    static func baselineTrial(path: String, households: [Household]) throws -> Duration {
        let plain = try Baseline(path: path, schema: Households.schema)
        let elapsed = try Measurement.time { try Fixture.insert(households[...], into: plain) }
        if let last = households.last { try Fixture.expect(plain, last.id, "head_name", .text(last.headName)) }
        return elapsed
    }
}
