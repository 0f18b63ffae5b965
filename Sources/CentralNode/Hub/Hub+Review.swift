import FieldKit
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
        /// Two households that look like one (FieldKit's duplicate suspicion).
        case duplicate
        /// An operation held back (a clock far ahead).
        case quarantine
    }

    /// One item of the queue. Conflict ids are `collection/record/field`; duplicate ids are the
    /// review item's record id; quarantine ids are op ids.
    public struct ReviewItem: Sendable, Equatable {
        public let id: String
        public let kind: ReviewKind
        public let cell: String?
        public let summary: String
        public let conflict: Conflict?
        public let held: QuarantinedOperation?
        public var duplicate: FieldKit.ReviewItem? = nil
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
        if (kind == nil || kind == .duplicate) && holdsFieldModel {
            for item in try FieldStore(replica: replica).reviewItems(cell: try cell.map { try GridCell(parsing: $0) })
            where item.status == "open" && item.kind == FieldKit.ReviewItem.duplicateHousehold {
                items.append(ReviewItem(id: item.id.rawValue, kind: .duplicate, cell: item.cell.id,
                                        summary: "households \(item.firstID) and \(item.secondID) look alike: \(item.reason)",
                                        conflict: nil, held: nil, duplicate: item))
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
            let fieldModel = holdsFieldModel
            let (_, ops) = try access.writeLocal { tx in
                if let pick { try tx.resolve(parts[0], entity, parts[2], pick: pick) } else { try tx.resolve(parts[0], entity, parts[2], value: value!) }
                // FieldKit's matching keys follow the value kept.
                if fieldModel { try FieldStore.rederiveKeys(parts[0], entity, in: tx) }
            }
            for op in ops { try Self.log(op, before: cellBefore, assignsCell: parts[2] == "cell", access: access) }
            try raiseDuplicates(after: ops, access: access)
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
            try raiseDuplicates(after: ops, access: access)
            try Self.audit(access, actor: actor, action: "release", detail: "operation \(opID), written again as \(ops.map(\.id.description).joined(separator: ", "))")
        }
    }

    /// Merges a suspected duplicate pair into `keep` (FieldKit's `writeMerge`: references move,
    /// the other household becomes a redirect tombstone), as operations every device receives.
    public func mergeDuplicate(_ itemID: String, keep: String, actor: String) throws {
        let item = try Self.duplicateItemID(itemID)
        guard let kept = try? EntityID(keep) else {
            throw SyncError(.invalidInput, "--keep takes a household id (one of the pair `review show` prints); got \"\(keep.prefix(64))\"")
        }
        try writeDuplicateDecision(action: "merge", detail: "item \(itemID): kept household \(keep)", actor: actor) { tx in
            try FieldStore.writeMerge(item: item, keep: kept, replica: replica, in: tx)
        }
    }

    /// Declares a suspected pair two different households (they are not raised again).
    public func dismissDuplicate(_ itemID: String, actor: String) throws {
        let item = try Self.duplicateItemID(itemID)
        try writeDuplicateDecision(action: "dismiss", detail: "item \(itemID): two different households", actor: actor) { tx in
            try FieldStore.writeDismiss(item: item, in: tx)
        }
    }

    private static func duplicateItemID(_ itemID: String) throws -> EntityID {
        guard let item = try? EntityID(itemID) else {
            throw SyncError(.invalidInput, "\"\(itemID.prefix(64))\" is not a duplicate item id; `review list --kind duplicate` shows them")
        }
        return item
    }

    private func writeDuplicateDecision(action: String, detail: String, actor: String, _ body: (WriteTransaction) throws -> Void) throws {
        guard holdsFieldModel else { throw SyncError(.invalidInput, "this central node does not hold FieldKit's households; there are no duplicates to settle") }
        try replica.centralTransaction { access in
            let (_, ops) = try access.writeLocal(body)
            for op in ops {
                let cell = try access.cell(of: op.collection, op.entity)
                try Self.log(op, before: cell, assignsCell: false, access: access)
            }
            try Self.audit(access, actor: actor, action: action, detail: detail)
        }
    }

    /// Whether this node holds FieldKit's collections (duplicate suspicion applies).
    var holdsFieldModel: Bool {
        let names = Set(replica.schema.collections.map(\.name))
        return names.contains(FieldModel.households) && names.contains(FieldModel.reviewItems)
    }

    /// Raises duplicate review items in the cells of the households `ops` wrote (a new household,
    /// or one whose dwelling or name changed, may now look like another), logged for the devices.
    /// Cells where no household changed what duplicate suspicion reads (a visit, a phone) are not
    /// scanned again; `revived` names households an operation brought back from deletion.
    func raiseDuplicates(after ops: [Op], access: CentralAccess, revived: Set<EntityID> = []) throws {
        guard holdsFieldModel else { return }
        var cells: Set<GridCell> = []
        for op in ops where op.collection == FieldModel.households
            && (revived.contains(op.entity) || op.assignments.contains(where: { FieldModel.duplicateMatchingFields.contains($0.field) })) {
            if let text = try access.cell(of: op.collection, op.entity), let cell = try? GridCell(parsing: text) { cells.insert(cell) }
        }
        try raiseDuplicates(inCells: cells, access: access)
    }

    /// Compares the households of each of these cells and queues new suspected pairs, logged for
    /// the cells' devices.
    func raiseDuplicates(inCells cells: Set<GridCell>, access: CentralAccess) throws {
        guard holdsFieldModel, !cells.isEmpty else { return }
        let (_, raised) = try access.writeLocal { tx in try FieldStore.raiseDuplicates(cells: cells.sorted(), replica: replica, in: tx) }
        for op in raised { try Self.log(op, before: nil, assignsCell: true, access: access) }
    }

    /// An operator's own edit (cancelling a task from the office, seeding records), written as
    /// the central node's operations in one transaction, logged for the devices and audited.
    /// `body` may use any write API of the node's replica, FieldKit's `FieldStore(replica:
    /// hub.replica)` included: those writes join this transaction.
    ///
    ///     try hub.write(actor: "office-wu", action: "cancel-task", detail: "task \(id)") {
    ///         try FieldStore(replica: hub.replica).cancelTask(id)
    ///     }
    @discardableResult
    public func write<T>(actor: String, action: String, detail: String, _ body: () throws -> T) throws -> T {
        try replica.centralTransaction { access in
            let (result, ops) = try access.writeLocal { _ in try body() }
            for op in ops {
                let (before, assignsCell) = try Self.cellBefore(op, access: access)
                try Self.log(op, before: before, assignsCell: assignsCell, access: access)
            }
            try raiseDuplicates(after: ops, access: access)
            try Self.audit(access, actor: actor, action: action, detail: "\(detail) (\(ops.count) operations)")
            return result
        }
    }

    /// Where a record was before one of the node's own operations: the operation's `prev` for
    /// the cell field names the write it superseded (none: a new record).
    static func cellBefore(_ op: Op, access: CentralAccess) throws -> (cell: String?, assignsCell: Bool) {
        guard case .some(.some(let cellField)) = access.cellField(of: op.collection),
              let assignment = op.assignments.first(where: { $0.field == cellField }), case .set(_, let prev) = assignment.change else {
            return (try access.cell(of: op.collection, op.entity), false)
        }
        guard !prev.isEmpty else { return (nil, true) }
        for earlier in try access.operations(of: op.collection, op.entity) where prev.contains(earlier.id) {
            for a in earlier.assignments where a.field == cellField {
                if case .set(.text(let cell), _) = a.change { return (cell, true) }
            }
        }
        return (nil, true)
    }

    /// Removes a held operation for good.
    public func discard(_ opID: OpID, actor: String) throws {
        try replica.centralTransaction { access in
            _ = try access.discard(opID)
            try Self.audit(access, actor: actor, action: "discard", detail: "operation \(opID)")
        }
    }
}

