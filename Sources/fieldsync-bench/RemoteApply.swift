import SyncKit

/// `remote_apply`: `Replica.apply` of 100,000 shuffled operations from 4 other replicas on a
/// fresh replica (chunked by `apply` itself), against plain SQLite upserting each op's values
/// in transactions of `applyChunkOpsMax` (2,000).
enum RemoteApply {
    static let name = "remote_apply"
    static let seed: UInt64 = 0x2E307E_0004

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        let scratch = settings.scratch
        Console.error("[\(name)] writing the workload with \(RemoteWorkload.writerCount) replicas (untimed)")
        let workload = try RemoteWorkload.build(scratch: scratch, seed: seed)
        let chunkOpsMax = ReplicaOptions().applyChunkOpsMax
        var conflicts = 0, touchedRecords = 0

        let (ours, plain) = try PairedRuns(timedRuns: settings.timedRuns, label: name).measure(
            ours: {
                let path = scratch.newPath("ours")
                defer { scratch.remove(path) }
                let replica = try Fixture.openReplica(path, seed: seed)
                var report = ApplyReport()
                let elapsed = try Measurement.time { report = try replica.apply(workload.ops) }
                guard report.applied == workload.ops.count else {
                    throw BenchError("apply took \(report.applied) of \(workload.ops.count) operations (\(report.duplicates) duplicates, \(report.quarantined) quarantined)")
                }
                conflicts = try replica.conflicts().count
                return elapsed
            },
            baseline: {
                let path = scratch.newPath("plain")
                defer { scratch.remove(path) }
                let plain = try Baseline(path: path, schema: Households.schema)
                let upserter = try PlainUpserter(baseline: plain)
                let elapsed = try Measurement.time {
                    for chunk in workload.ops.chunks(of: chunkOpsMax) {
                        try plain.db.transaction { for op in chunk { try upserter.upsert(op) } }
                    }
                }
                touchedRecords = Int(try plain.db.scalar("SELECT count(*) FROM \(Baseline.table)")?.int ?? 0)
                return elapsed
            })
        var report = BenchmarkReport(benchmark: name, unit: "ops/s")
        report.compare(ours: ours, baseline: plain, ops: workload.ops.count)
        report.extras["writers"] = .int(RemoteWorkload.writerCount)
        report.extras["ops_inserts"] = .int(workload.insertCount)
        report.extras["ops_updates"] = .int(workload.updateCount)
        report.extras["records"] = .int(touchedRecords)
        report.extras["conflicts_after"] = .int(conflicts)
        report.extras["ops_per_txn"] = .int(chunkOpsMax)
        return report
    }
}
