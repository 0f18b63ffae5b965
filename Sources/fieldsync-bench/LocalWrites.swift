import SyncKit

/// `local_write_batched` and `local_write_per_txn`: single-field writes (`phone`) to random
/// records among 10,000, `writesPerTransaction` per transaction, against
/// `UPDATE t SET phone = ? WHERE id = ?` in transactions of the same size.
struct LocalWrites {
    let name: String
    let writeCount: Int
    let writesPerTransaction: Int
    let seed: UInt64
    static let recordCount = 10_000

    /// 100,000 writes, 1,000 per transaction (an import, a batch of edits).
    static let batched = LocalWrites(name: "local_write_batched", writeCount: 100_000,
                                     writesPerTransaction: Fixture.batchWritesMax, seed: 0x10CA1_0001)
    /// 5,000 writes, one transaction each (an interactive app saving a form).
    static let perTransaction = LocalWrites(name: "local_write_per_txn", writeCount: 5_000, writesPerTransaction: 1, seed: 0x10CA1_0002)

    func run(_ settings: RunSettings) throws -> BenchmarkReport {
        var generator = HouseholdGenerator(seed: seed)
        let households = (0..<Self.recordCount).map { _ in generator.household() }
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
        report.extras["records"] = .int(Self.recordCount)
        report.extras["writes_per_txn"] = .int(writesPerTransaction)
        return report
    }

    func oursTrial(path: String, households: [Household], writes: [PhoneWrite]) throws -> Duration {
        let replica = try Fixture.openReplica(path, seed: seed)
        try Fixture.insert(households[...], into: replica)
        let elapsed = try Measurement.time {
            for batch in writes.chunks(of: writesPerTransaction) {
                try replica.write { tx in
                    for write in batch { try tx.update(Households.collection, write.id, ["phone": .text(write.phone)]) }
                }
            }
        }
        if let last = writes.last { try Fixture.expect(replica, last.id, "phone", .text(last.phone)) }
        return elapsed
    }

    func baselineTrial(path: String, households: [Household], writes: [PhoneWrite]) throws -> Duration {
        let plain = try Baseline(path: path, schema: Households.schema)
        try Fixture.insert(households[...], into: plain)
        let update = try plain.updateStatement(setting: "phone")
        let elapsed = try Measurement.time {
            for batch in writes.chunks(of: writesPerTransaction) {
                try plain.db.transaction {
                    for write in batch { try plain.run(update, [.text(write.phone), .text(write.id.rawValue)]) }
                }
            }
        }
        if let last = writes.last { try Fixture.expect(plain, last.id, "phone", .text(last.phone)) }
        return elapsed
    }
}
