import Foundation
import SyncKit

/// The review queue: what the merge decided by itself and people should look at. Every
/// resolution is an ordinary operation (it reaches the devices at their next sync) and an audit
/// entry (who, when, what: never the field values).
///
///     for item in try hub.reviewItems(kind: .conflict) { … }
///     try hub.resolve(item.id, pick: item.candidates[1].op, actor: "operator-li")
extension Hub {
    public enum ReviewKind: String, Sendable, CaseIterable {
        /// A field whose concurrent values differ (review fields, and edit-versus-delete).
        case conflict
        /// An operation held back (a clock far ahead).
        case quarantine
    }

    /// One item of the queue. Conflict ids are `collection/record/field`; quarantine ids are op ids.
    public struct ReviewItem: Sendable, Equatable {
        public let id: String
        public let kind: ReviewKind
        public let cell: String?
        public let summary: String
        public let conflict: Conflict?
        public let held: QuarantinedOperation?
    }

    /// Open items, conflicts first (by collection, record, field), then held operations.
    public func reviewItems(kind: ReviewKind? = nil, cell: String? = nil) throws -> [ReviewItem] {
        var items: [ReviewItem] = []
        if kind == nil || kind == .conflict {
            for conflict in try replica.conflicts() where conflict.review {
                let recordCell = try replica.record(conflict.collection, conflict.entity, includeDeleted: true)?["cell"].text
                if let cell, recordCell != cell { continue }
                items.append(ReviewItem(id: "\(conflict.collection)/\(conflict.entity)/\(conflict.field)", kind: .conflict, cell: recordCell,
                                        summary: "\(conflict.collection) \(conflict.entity) \(conflict.field): \(conflict.candidates.count) concurrent values",
                                        conflict: conflict, held: nil))
            }
        }
        if kind == nil || kind == .quarantine {
            for held in try replica.quarantined() {
                let opCell = held.operation.assignments.first { $0.field == "cell" }.flatMap { a -> String? in
                    if case .set(.text(let c), _) = a.change { return c }
                    return nil
                }
                if let cell, opCell != nil, opCell != cell { continue }
                items.append(ReviewItem(id: held.operation.id.description, kind: .quarantine, cell: opCell,
                                        summary: "\(held.reason.rawValue): \(held.detail)", conflict: nil, held: held))
            }
        }
        return items
    }

    /// Resolves a conflict by picking a candidate (`pick`) or writing a new value.
    public func resolve(_ itemID: String, pick: OpID? = nil, value: Value? = nil, actor: String) throws {
        let parts = itemID.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let entity = try? EntityID(parts[1]) else {
            throw SyncError(.invalidInput, "\"\(itemID)\" is not a conflict id (collection/record/field); `review list` shows them")
        }
        guard (pick == nil) != (value == nil) else {
            throw SyncError(.invalidInput, "resolve with exactly one of --pick OPID (a candidate) or --value V")
        }
        try replica.centralTransaction { access in
            let cellBefore = try access.cell(of: parts[0], entity)
            let (_, ops) = try access.writeLocal { tx in
                if let pick { try tx.resolve(parts[0], entity, parts[2], pick: pick) } else { try tx.resolve(parts[0], entity, parts[2], value: value!) }
            }
            for op in ops { try Self.log(op, before: cellBefore, assignsCell: parts[2] == "cell", access: access) }
            try Self.audit(access, actor: actor, action: "resolve", detail: "\(itemID) by \(pick.map { "picking \($0)" } ?? "a new value")")
        }
    }

    /// Releases a held operation: its changes are written again as a new operation of the central
    /// node, stamped with the node's clock and superseding what the node holds (a resolution in
    /// effect), so the far-ahead clock never wins a merge and every device accepts the result.
    /// The held original leaves the quarantine; the audit names it.
    public func release(_ opID: OpID, actor: String) throws {
        try replica.centralTransaction { access in
            let held = try access.discard(opID)
            let cellBefore = try access.cell(of: held.collection, held.entity)
            let (_, ops) = try access.writeLocal { try $0.restamp(held) }
            let assignsCell = held.assignments.contains { $0.field == "cell" }
            for op in ops { try Self.log(op, before: cellBefore, assignsCell: assignsCell, access: access) }
            try Self.audit(access, actor: actor, action: "release", detail: "operation \(opID), written again as \(ops.map(\.id.description).joined(separator: ", "))")
        }
    }

    /// Removes a held operation for good.
    public func discard(_ opID: OpID, actor: String) throws {
        try replica.centralTransaction { access in
            _ = try access.discard(opID)
            try Self.audit(access, actor: actor, action: "discard", detail: "operation \(opID)")
        }
    }
}

