import Foundation
import SyncKit

/// What one erasure did.
public struct ErasureResult: Sendable, Equatable {
    /// The erasure's operation id.
    public let op: OpID
    /// Entries of the central log rewritten without the record's personal values.
    public let logEntriesErased: Int
    /// The write-ahead log was truncated (false: a reader held it; SQLite's next checkpoint
    /// removes the old pages, and `erase` may be run again to force it).
    public let walTruncated: Bool
}

extension Hub {
    /// Longest reason an operator may give (it is kept in the audit).
    public static let erasureReasonMax = 500

    /// Erases a record's personal values everywhere (Design.md section 3, "Erasure"; section 4,
    /// "Personal data in the files"): one erasure operation of the node, merged here and sent to
    /// every device that holds the record's cell; the node's state, its operation log, the
    /// central log devices pull from and the quarantine keep no personal value of the record
    /// written before it, and the write-ahead log is truncated. The record, its id, its other
    /// fields and its history of operations (ids, clocks, covers) stay, so devices still
    /// recognize duplicates and digests still agree. Audited with the reason.
    ///
    /// A write made before the erasure and arriving later (an offline tablet, a bundle) is erased
    /// on arrival; a write made after a device received it is new data.
    @discardableResult
    public func erase(_ collection: String, _ id: EntityID, reason: String, actor: String) throws -> ErasureResult {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= Self.erasureReasonMax else {
            throw SyncError(.invalidInput, "give the erasure's reason (1 to \(Self.erasureReasonMax) characters, for the audit; for example \"erasure request of 2026-12-07, ticket 118\"), without the person's details")
        }
        let result = try replica.centralTransaction { access -> ErasureResult in
            guard let cell = try access.cell(of: collection, id) else {
                throw SyncError(.notFound, "no \(collection) record with id \(id) on this node; `fieldsync central export-csv` or the console's records page lists them")
            }
            let (_, ops) = try access.writeLocal { try $0.erase(collection, id) }
            for op in ops { try Self.log(op, before: cell, assignsCell: false, access: access) }
            let erased = try Self.eraseCentralLog(collection, id, currentCell: cell, access: access)
            try Self.audit(access, actor: actor, action: "erase", detail: "\(collection)/\(id): \(reason)")
            return ErasureResult(op: ops[0].id, logEntriesErased: erased, walTruncated: false)
        }
        let truncated = (try? replica.withConnection { db -> Bool in
            // (busy, log frames, checkpointed): busy 0 means the log was emptied and truncated.
            try db.scalar("PRAGMA wal_checkpoint(TRUNCATE)")?.int == 0
        }) ?? false
        return ErasureResult(op: result.op, logEntriesErased: result.logEntriesErased, walTruncated: truncated)
    }

    /// Rewrites the record's entries in the central log as the node's log now holds its
    /// operations (erased). The record's entries are under the cells it has been in: the cells
    /// its operations wrote, its current one, and "" (no cell); each is read through its index.
    static func eraseCentralLog(_ collection: String, _ id: EntityID, currentCell: String, access: CentralAccess) throws -> Int {
        let ops = try access.operations(of: collection, id)
        var byID: [OpID: [UInt8]] = [:]
        for op in ops { byID[op.id] = [UInt8](try op.jsonData()) }
        var cells: Set<String> = [currentCell, ""]
        if case .some(.some(let cellField)) = access.cellField(of: collection) {
            for op in ops {
                for assignment in op.assignments where assignment.field == cellField {
                    if case .set(.text(let cell), _) = assignment.change { cells.insert(cell) }
                }
            }
        }
        let store = HubStore(access)
        var rewritten = 0
        for cell in cells.sorted() {
            for (cseq, op, json) in try store.logEntries(cell: cell, of: Set(byID.keys)) where json != byID[op] {
                try store.replaceLogEntry(cseq: cseq, json: byID[op]!)
                rewritten += 1
            }
        }
        return rewritten
    }
}
