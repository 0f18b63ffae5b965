import SyncKit

/// `local_write_batched`: 100,000 single-field writes (`phone`) to random records among 10,000,
/// 1,000 per transaction, against `UPDATE t SET phone = ? WHERE id = ?` batched the same way.
enum LocalWriteBatched {
    static let name = "local_write_batched"
    static let recordCount = 10_000
    static let writeCount = 100_000
    static let seed: UInt64 = 0x10CA1_0001

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        var generator = HouseholdGenerator(seed: seed)
        let households = (0..<recordCount).map { _ in generator.household() }
        let writes = (0..<writeCount).map { _ in PhoneWrite(id: generator.pick(households).id, phone: generator.phone()) }
        let scratch = settings.scratch

        let (ours, plain) = try PairedRuns(timedRuns: settings.timedRuns, label: name).measure(
            ours: {
                let path = scratch.newPath("ours")
                defer { scratch.remove(path) }
                return try oursTrial(path: path, households: households, writes: writes)
            },
            baseline: {
                let path = scratch.newPath("plain")
                defer { scratch.remove(path) }
                return try baselineTrial(path: path, households: households, writes: writes)
            })
        var report = BenchmarkReport(benchmark: name, unit: "writes/s")
        report.compare(ours: ours, baseline: plain, ops: writeCount)
        report.extras["records"] = .int(recordCount)
        report.extras["writes_per_txn"] = .int(Fixture.batchWritesMax)
        return report
    }

    static func oursTrial(path: String, households: [Household], writes: [PhoneWrite]) throws -> Duration {
        let replica = try Fixture.openReplica(path, seed: seed)
        try Fixture.insert(households[...], into: replica)
        let elapsed = try Measurement.time {
            for batch in writes.chunks(of: Fixture.batchWritesMax) {
                try replica.write { tx in
                    for write in batch { try tx.update(Households.collection, write.id, ["phone": .text(write.phone)]) }
                }
            }
        }
        if let last = writes.last { try Fixture.expect(replica, last.id, "phone", .text(last.phone)) }
        return elapsed
    }

    static func baselineTrial(path: String, households: [Household], writes: [PhoneWrite]) throws -> Duration {
        let plain = try Baseline(path: path, schema: Households.schema)
        try Fixture.insert(households[...], into: plain)
        let update = try plain.updateStatement(setting: "phone")
        let elapsed = try Measurement.time {
            for batch in writes.chunks(of: Fixture.batchWritesMax) {
                try plain.db.transaction {
                    for write in batch { try plain.run(update, [.text(write.phone), .text(write.id.rawValue)]) }
                }
            }
        }
        if let last = writes.last { try Fixture.expect(plain, last.id, "phone", .text(last.phone)) }
        return elapsed
    }
}
