import SyncKit

/// Duplicate detection after a merge, and the review items it raises.
extension FieldStore {
    /// Households sharing one matching key beyond this many are paired only among the first ones
    /// by id (a data-entry accident, not a duplicate; the operator sees enough of it).
    static let duplicateGroupSizeMax = 16

    /// Finds households that look like one another (same doorplate with the same unit and room,
    /// or same normalized head name in the same cell) and records each pair as a review item,
    /// unless the pair already has one or a collector declared them distinct at capture. Call it
    /// after applying remote operations. The result is a function of the replica's state, and
    /// item ids are derived from the pair, so replicas in the same state raise the same items
    /// and copies raised on several devices merge into one. Returns the items created here.
    @discardableResult
    public func detectDuplicates(cells: [GridCell]? = nil) throws -> [ReviewItem] {
        let created = try replica.write { tx in
            try Self.raiseDuplicates(cells: cells.map { $0.map(Optional.some) } ?? [nil], replica: replica, in: tx)
        }
        return try created.map { id in
            guard let record = try replica.record(FieldModel.reviewItems, id) else { throw FieldError(.notFound, "review item \(id) vanished") }
            return try Self.reviewItem(from: record)
        }
    }

    /// Review items (of one cell), by id.
    public func reviewItems(cell: GridCell? = nil) throws -> [ReviewItem] {
        var result: [ReviewItem] = []
        try forEachRecord(FieldModel.reviewItems, cell: cell) { result.append(try Self.reviewItem(from: $0)) }
        return result
    }

    struct HouseholdPair: Hashable, Comparable {
        var first: EntityID
        var second: EntityID
        var cell: String

        static func < (a: HouseholdPair, b: HouseholdPair) -> Bool { (a.first, a.second) < (b.first, b.second) }
    }

    /// Every suspected pair of one cell (or all), with its reason text, in pair order.
    func duplicatePairs(cell: GridCell?) throws -> [(HouseholdPair, String)] {
        struct Entry { var id: EntityID; var cell: String; var distinctFrom: Set<String> }
        var byDwelling: [String: [Entry]] = [:]
        var byName: [String: [Entry]] = [:]
        try forEachRecord(FieldModel.households, cell: cell) { record in
            guard let cellID = record["cell"].text else { return }
            let entry = Entry(id: record.id, cell: cellID, distinctFrom: Set(record.elements("distinct_from").compactMap(\.text)))
            if let key = record["dwelling_key"].text { byDwelling[key, default: []].append(entry) }
            if let key = record["head_name_key"].text, !key.isEmpty { byName[cellID + "|" + key, default: []].append(entry) }
        }
        var reasons: [HouseholdPair: Set<DuplicateSuspect.Reason>] = [:]
        func pairUp(_ groups: [String: [Entry]], _ reason: DuplicateSuspect.Reason) {
            for group in groups.values where group.count > 1 {
                let members = group.sorted { $0.id < $1.id }.prefix(Self.duplicateGroupSizeMax)
                for (offset, a) in members.enumerated() {
                    for b in members.dropFirst(offset + 1) where a.cell == b.cell {
                        if a.distinctFrom.contains(b.id.rawValue) || b.distinctFrom.contains(a.id.rawValue) { continue }
                        reasons[HouseholdPair(first: a.id, second: b.id, cell: a.cell), default: []].insert(reason)
                    }
                }
            }
        }
        pairUp(byDwelling, .sameDwelling)
        pairUp(byName, .sameHeadNameInCell)
        return reasons.keys.sorted().map { pair in
            let text = DuplicateSuspect.Reason.allCases.filter { reasons[pair]?.contains($0) ?? false }.map { reason in
                switch reason {
                case .sameDwelling: "same doorplate and dwelling (unit and room)"
                case .sameHeadNameInCell: "same head of household name in cell \(pair.cell)"
                }
            }
            return (pair, text.joined(separator: "; "))
        }
    }

    static func reviewItem(from record: Record) throws -> ReviewItem {
        let fields = RecordFields(record)
        guard let cell = try? GridCell(parsing: try fields.requiredText("cell")) else { throw fields.missing("cell") }
        guard let first = try? EntityID(try fields.requiredText("first_id")) else { throw fields.missing("first_id") }
        guard let second = try? EntityID(try fields.requiredText("second_id")) else { throw fields.missing("second_id") }
        return ReviewItem(id: record.id, kind: try fields.requiredText("kind"), firstID: first, secondID: second, cell: cell,
                          reason: fields.text("reason") ?? "", status: fields.text("status") ?? "open")
    }
}
