import SyncKit

/// Settling suspected duplicate households: merge the pair into one (the other becomes a
/// redirect tombstone) or declare them distinct. Both are ordinary writes, so every replica
/// converges on the outcome; the central node's operators run them (`central review merge`).
extension FieldStore {
    /// Redirects followed by `household(_:)` before giving up (a chain of merges).
    static let redirectHopsMax = 8

    /// Merges the pair of a duplicate review item into `keep`, and returns the kept household.
    /// See `writeMerge` for what moves.
    @discardableResult
    public func mergeDuplicate(_ itemID: EntityID, keep: EntityID) throws -> Household {
        try replica.write { tx in try Self.writeMerge(item: itemID, keep: keep, replica: replica, in: tx) }
        guard let kept = try household(keep) else { throw FieldError(.notFound, "household \(keep) vanished during the merge") }
        return kept
    }

    /// Declares the pair of a duplicate review item two different households: the item is
    /// dismissed and each records the other in `distinct_from`, so the pair is not raised again.
    public func dismissDuplicate(_ itemID: EntityID) throws {
        try replica.write { tx in try Self.writeDismiss(item: itemID, in: tx) }
    }

    /// The merge, inside the caller's transaction:
    /// - tasks that target the other household now target the kept one;
    /// - the kept household takes the other's details where its own are empty (phone, member
    ///   count, notes), its tags and visit days, and its visit count (visits happened);
    /// - the other household gets `merged_into` = the kept id, then is deleted: a redirect
    ///   tombstone. A device that still shows it converges at its next sync; one that edited it
    ///   concurrently keeps it visible as an edit-versus-delete conflict, back on the queue;
    /// - the review item is resolved, with `kept_id`.
    package static func writeMerge(item itemID: EntityID, keep: EntityID, replica: Replica, in tx: WriteTransaction) throws {
        let item = try openDuplicate(itemID, in: tx)
        guard keep == item.firstID || keep == item.secondID else {
            throw FieldError(.invalidValue, field: "keep", "keep one of the pair: \(item.firstID) or \(item.secondID)")
        }
        let gone = keep == item.firstID ? item.secondID : item.firstID
        guard let kept = try tx.record(FieldModel.households, keep), let other = try tx.record(FieldModel.households, gone) else {
            throw FieldError(.notFound, "one of the pair was deleted meanwhile; dismiss item \(itemID) instead")
        }
        var fill: [String: Value] = [:]
        for field in ["phone", "member_count", "notes"] where kept[field] == .null && other[field] != .null { fill[field] = other[field] }
        if !fill.isEmpty { try tx.update(FieldModel.households, keep, fill) }
        for field in ["tags", "visit_days"] {
            let present = Set(kept.elements(field))
            for element in other.elements(field) where !present.contains(element) { try tx.add(FieldModel.households, keep, field, element) }
        }
        if let visits = other["visit_count"].int, visits != 0 { try tx.increment(FieldModel.households, keep, "visit_count", by: visits) }
        let goneTarget = TaskTarget.household(gone).storedText
        var after: EntityID?
        while true {
            let page = try replica.records(FieldModel.tasks, cell: item.cell.id, after: after, limit: pageRecordsMax)
            for task in page where task["target"].text == goneTarget {
                try tx.update(FieldModel.tasks, task.id, ["target": .text(TaskTarget.household(keep).storedText)])
            }
            guard page.count == pageRecordsMax, let last = page.last else { break }
            after = last.id
        }
        try tx.update(FieldModel.households, gone, ["merged_into": .text(keep.rawValue)])
        try tx.delete(FieldModel.households, gone)
        try tx.update(FieldModel.reviewItems, itemID, ["status": "resolved", "kept_id": .text(keep.rawValue)])
    }

    package static func writeDismiss(item itemID: EntityID, in tx: WriteTransaction) throws {
        let item = try openDuplicate(itemID, in: tx)
        for (a, b) in [(item.firstID, item.secondID), (item.secondID, item.firstID)] where try tx.record(FieldModel.households, a) != nil {
            try tx.add(FieldModel.households, a, "distinct_from", .text(b.rawValue))
        }
        try tx.update(FieldModel.reviewItems, itemID, ["status": "dismissed"])
    }

    private static func openDuplicate(_ itemID: EntityID, in tx: WriteTransaction) throws -> ReviewItem {
        guard let record = try tx.record(FieldModel.reviewItems, itemID) else {
            throw FieldError(.notFound, "no review item \(itemID); `central review list --kind duplicate` shows them")
        }
        let item = try reviewItem(from: record)
        guard item.kind == ReviewItem.duplicateHousehold else {
            throw FieldError(.invalidValue, "review item \(itemID) is a \(item.kind), not a duplicate pair")
        }
        guard item.status == "open" else {
            throw FieldError(.illegalTransition, "review item \(itemID) is already \(item.status)")
        }
        return item
    }

    /// Writes a record's derived matching keys again from its visible values (after an operator
    /// resolved a conflict on a field they derive from: two concurrent edits also left two keys,
    /// and the key must follow the value kept). A write supersedes every head, so a conflict on a
    /// key closes too. Other collections are left alone.
    package static func rederiveKeys(_ collection: String, _ id: EntityID, in tx: WriteTransaction) throws {
        guard let record = try tx.record(collection, id) else { return }
        switch collection {
        case FieldModel.doorplates:
            let plate = try doorplate(from: record, conflicts: [])
            try tx.update(collection, id, ["address_key": .text(AddressNormalizer.matchingKey(for: plate.address))])
        case FieldModel.households:
            let household = try household(from: record, conflicts: [])
            try tx.update(collection, id, ["dwelling_key": .text(dwellingKey(household.details)),
                                           "head_name_key": .text(TextNormalizer.normalizedName(household.details.headName))])
        default:
            return
        }
    }

    /// Raises duplicate review items for the given cells inside the caller's transaction (the
    /// central node does this after each push); returns the ids created.
    package static func raiseDuplicates(cells: [GridCell?], replica: Replica, in tx: WriteTransaction) throws -> [EntityID] {
        let store = FieldStore(replica: replica)
        var created: [EntityID] = []
        for cell in cells {
            for (pair, reasons) in try store.duplicatePairs(cell: cell) {
                let values: [String: Value] = [
                    "kind": .text(ReviewItem.duplicateHousehold),
                    "first_id": .text(pair.first.rawValue), "second_id": .text(pair.second.rawValue),
                ]
                let id = try replica.naturalID(FieldModel.reviewItems, values)
                guard try tx.record(FieldModel.reviewItems, id, includeDeleted: true) == nil else { continue }
                var all = values
                all["cell"] = .text(pair.cell)
                all["reason"] = .text(reasons)
                all["status"] = "open"
                created.append(try tx.insert(FieldModel.reviewItems, all))
            }
        }
        return created
    }
}
