import Foundation
import SyncKit

/// The district's retention of superseded personal values, and what its runs did.
public struct RetentionStatus: Sendable, Equatable {
    /// Days a superseded personal value is kept in the central log (nil: kept for good).
    public let days: Int?
    /// When the last run finished (nil: never).
    public let lastRunMillis: Int64?
    /// Values erased by every run so far.
    public let valuesErased: Int64
}

/// What one run of retention did.
public struct RetentionReport: Sendable, Equatable {
    /// Writes made before this instant (node time) were looked at.
    public let cutoffMillis: Int64
    /// Operations of the node's log read.
    public let operationsExamined: Int
    /// Superseded personal values erased.
    public let valuesErased: Int
    /// Entries of the central log rewritten without them.
    public let logEntriesRewritten: Int
}

extension Hub {
    /// The longest window a district may set (100 years).
    public static let retentionDaysMax = 36_500
    /// Operations per transaction of a run: a sync waits for at most one batch.
    static let retentionBatchOpsMax = 2_000
    /// How often `central serve` looks whether a run is due (a run is due a day after the last).
    public static let retentionCheckInterval: Duration = .seconds(3_600)
    static let retentionRunIntervalMillis: Int64 = 86_400_000

    static let retentionDaysKey = "retention_days"
    static let retentionLastRunKey = "retention_last_run_millis"
    static let retentionErasedKey = "retention_values_erased"

    public func retentionStatus() throws -> RetentionStatus {
        try replica.centralRead { try Self.retentionStatus($0) }
    }

    static func retentionStatus(_ access: CentralAccess) throws -> RetentionStatus {
        let store = HubStore(access)
        return RetentionStatus(days: try store.setting(retentionDaysKey).map { Int($0) },
                               lastRunMillis: try store.setting(retentionLastRunKey),
                               valuesErased: try store.setting(retentionErasedKey) ?? 0)
    }

    /// The retention figures as the admin API's overview gives them.
    static func retentionJSON(_ access: CentralAccess) throws -> [String: Any] {
        let status = try retentionStatus(access)
        return ["days": status.days ?? NSNull(), "lastRunMillis": status.lastRunMillis ?? NSNull(), "valuesErased": status.valuesErased]
    }

    /// Sets how many days the central log keeps superseded personal values (nil: for good).
    /// Audited.
    public func setRetention(days: Int?, actor: String) throws {
        if let days, !(1...Self.retentionDaysMax).contains(days) {
            throw SyncError(.invalidInput, "retention is 1 to \(Self.retentionDaysMax) days; got \(days) (or --off to keep superseded values)")
        }
        try replica.centralTransaction { access in
            try HubStore(access).setSetting(Self.retentionDaysKey, days.map(Int64.init))
            try Self.audit(access, actor: actor, action: "retention", detail: days.map { "superseded personal values kept \($0) days" } ?? "superseded personal values kept for good")
        }
    }

    /// Runs retention when the district set it and the last run is a day old (what `central
    /// serve` does every hour); nil when nothing was due.
    public func runRetentionIfDue() throws -> RetentionReport? {
        let status = try retentionStatus()
        guard status.days != nil else { return nil }
        let now = replica.nowMillis()
        if let last = status.lastRunMillis, now - last < Self.retentionRunIntervalMillis, now >= last { return nil }
        return try runRetention()
    }

    /// Erases the personal values of superseded writes older than the district's window
    /// (Design.md section 4, "Retention"): in the node's log, batch by batch, then in the
    /// central log's entries of the operations changed, then the write-ahead log is truncated.
    /// A record's visible values and its conflicts' candidates are never touched.
    @discardableResult
    public func runRetention() throws -> RetentionReport {
        guard let days = try retentionStatus().days else {
            throw SyncError(.invalidInput, "no retention is set; set one with `fieldsync central retention --days N`")
        }
        return try runRetention(cutoffMillis: replica.nowMillis() - Int64(days) * Self.retentionRunIntervalMillis, days: days)
    }

    /// A run with the given cutoff (the benchmark's: every operation old enough).
    @discardableResult
    package func runRetention(cutoffMillis cutoff: Int64, days: Int) throws -> RetentionReport {
        var after: (Int64, Int64)?
        var examined = 0, erased = 0
        var changed = Set<OpID>()
        repeat {
            let batch = try replica.centralTransaction { access in
                try access.eraseSupersededValues(writtenBefore: cutoff, after: after, limit: Self.retentionBatchOpsMax)
            }
            examined += batch.examined
            erased += batch.valuesErased
            changed.formUnion(batch.changed)
            after = batch.next
        } while after != nil
        // The entries devices pull: the whole central log in slices, each entry of a changed
        // operation rewritten as the node's log now holds it.
        var rewritten = 0
        if !changed.isEmpty {
            var cseq: Int64 = 0
            while true {
                let done = try replica.centralTransaction { access -> Bool in
                    let store = HubStore(access)
                    let slice = try store.logSlice(after: cseq, limit: Self.retentionBatchOpsMax)
                    for entry in slice where changed.contains(entry.op) {
                        guard let op = try access.loggedOperation(entry.op) else { continue }
                        try store.replaceLogEntry(cseq: entry.cseq, json: [UInt8](try op.jsonData()))
                        rewritten += 1
                    }
                    cseq = slice.last?.cseq ?? cseq
                    return slice.count < Self.retentionBatchOpsMax
                }
                if done { break }
            }
        }
        let report = RetentionReport(cutoffMillis: cutoff, operationsExamined: examined, valuesErased: erased, logEntriesRewritten: rewritten)
        try replica.centralTransaction { access in
            let store = HubStore(access)
            try store.setSetting(Self.retentionLastRunKey, access.nowMillis)
            try store.setSetting(Self.retentionErasedKey, (try store.setting(Self.retentionErasedKey) ?? 0) + Int64(erased))
            if erased > 0 {
                try Self.audit(access, actor: "retention", action: "retention-run",
                               detail: "\(erased) superseded personal values older than \(days) days erased (\(rewritten) central log entries)")
            }
        }
        if erased > 0 { _ = try? replica.withConnection { try $0.execute("PRAGMA wal_checkpoint(TRUNCATE)") } }
        return report
    }
}
