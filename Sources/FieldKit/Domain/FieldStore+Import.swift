import SyncKit

/// Bulk loading: a district's doorplates and households in one transaction.
extension FieldStore {
    /// Visit days one imported household may carry.
    static let importVisitDaysMax = 100

    /// Writes doorplates and households in one local transaction: all of them, or (on any
    /// error) none. Households keep their ids, visit counts and days, tags and distinct-from
    /// lists, so an export imported into a fresh replica exports identically. No duplicate
    /// suspicion is raised here: run `detectDuplicates()` after an import if wanted.
    public func importRecords(doorplates: [DoorplateDraft], households: [Household]) throws {
        let checked = try Self.checkedImport(doorplates: doorplates, households: households)
        try replica.write { tx in try Self.insert(checked.doorplates, checked.households, in: tx, progress: nil) }
    }

    /// `importRecords` inside a caller's write transaction: the central node writes an import as
    /// its own local operations and logs the operations it gets back for the devices.
    /// `progress` hears how many records are written, every `importProgressRecords`.
    package static func writeImport(doorplates: [DoorplateDraft], households: [Household], in tx: WriteTransaction,
                                    progress: ((Int) -> Void)? = nil) throws {
        let checked = try checkedImport(doorplates: doorplates, households: households)
        try insert(checked.doorplates, checked.households, in: tx, progress: progress)
    }

    package static let importProgressRecords = 10_000

    private static func checkedImport(doorplates: [DoorplateDraft], households: [Household]) throws
        -> (doorplates: [DoorplateDraft], households: [Household]) {
        let checkedPlates = try doorplates.map(Self.validated)
        let checkedHouseholds = try households.map { household -> Household in
            var checked = household
            checked.details = try Self.validated(household.details)
            guard household.visitCount >= 0, household.visitDays.count <= Self.importVisitDaysMax,
                  household.distinctFrom.count <= FieldRules.distinctFromMax else {
                throw FieldError(.invalidValue, field: "visit_count",
                    "household \(household.id) has a negative visit count, more than \(Self.importVisitDaysMax) visit days or more than \(FieldRules.distinctFromMax) distinct-from ids")
            }
            return checked
        }
        return (checkedPlates, checkedHouseholds)
    }

    private static func insert(_ checkedPlates: [DoorplateDraft], _ checkedHouseholds: [Household], in tx: WriteTransaction,
                               progress: ((Int) -> Void)?) throws {
        let memo = AddressNormalizer.PartKeyMemo()
        var written = 0
        func wrote() {
            written += 1
            if written % importProgressRecords == 0 { progress?(written) }
        }
        for plate in checkedPlates {
            try tx.insert(FieldModel.doorplates, Self.values(of: plate, memo: memo).filter { !$0.value.isNull })
            wrote()
        }
        for household in checkedHouseholds {
            var values = Self.values(of: household.details).filter { !$0.value.isNull }
            if household.visitCount != 0 { values["visit_count"] = .int(Int64(household.visitCount)) }
            try tx.insert(FieldModel.households, id: household.id, values, elements: [
                "tags": household.details.tags.map(Value.text).sorted(),
                "visit_days": household.visitDays.map { .text($0.description) },
                "distinct_from": household.distinctFrom.map { .text($0.rawValue) }.sorted(),
            ])
            wrote()
        }
    }
}
