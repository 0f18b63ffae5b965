import SyncKit

/// Households: capture with duplicate suspicion, edit, visits, reads.
extension FieldStore {
    /// Households on this device that a new household described by `draft` may duplicate:
    /// same doorplate with the same unit and room, or the same head name in the same cell
    /// (both after normalization). A cell holds a few hundred households, read through
    /// SyncKit's cell index; the keys compared were computed when each household was written.
    public func suspectedDuplicates(of draft: HouseholdDraft) throws -> [DuplicateSuspect] {
        try suspects(of: try Self.validated(draft), excluding: nil)
    }

    /// Creates a household, unless it looks like one already on this device: then, with the
    /// default `.stop`, nothing is written and the suspects come back so the collector can pick
    /// the existing record. Creating it anyway is the explicit `.createAnyway`.
    public func addHousehold(_ draft: HouseholdDraft, ifSuspected policy: HouseholdCapture.SuspectPolicy = .stop) throws -> HouseholdCapture {
        let checked = try Self.validated(draft)
        let created: EntityID? = try replica.write { tx in
            let suspects = try suspects(of: checked, excluding: nil)
            if !suspects.isEmpty, policy == .stop { return nil }
            let distinct = suspects.prefix(FieldRules.distinctFromMax).map { Value.text($0.household.id.rawValue) }
            let id = try tx.insert(FieldModel.households, Self.values(of: checked).filter { !$0.value.isNull },
                                   elements: ["tags": checked.tags.sorted().map(Value.text), "distinct_from": Array(distinct)])
            return id
        }
        guard let id = created else { return .suspects(try suspects(of: checked, excluding: nil)) }
        return .created(try requireHousehold(id))
    }

    /// Edits a household: `edit` changes a copy of its details; only changed fields are written
    /// (tags as adds and removes, so a tag added elsewhere meanwhile survives).
    ///
    ///     try store.updateHousehold(id) { $0.memberCount = 4; $0.tags.insert("elderly") }
    @discardableResult
    public func updateHousehold(_ id: EntityID, _ edit: (inout HouseholdDraft) throws -> Void) throws -> Household {
        try replica.write { tx in
            guard let record = try tx.record(FieldModel.households, id) else { throw Self.unknownHousehold(id) }
            let current = try Self.household(from: record, conflicts: [])
            var draft = current.details
            try edit(&draft)
            let checked = try Self.validated(draft)
            let changed = Self.changes(from: Self.values(of: current.details), to: Self.values(of: checked))
            if !changed.isEmpty { try tx.update(FieldModel.households, id, changed) }
            for tag in checked.tags.subtracting(current.details.tags).sorted() {
                try tx.add(FieldModel.households, id, "tags", .text(tag))
            }
            for tag in current.details.tags.subtracting(checked.tags).sorted() {
                try tx.remove(FieldModel.households, id, "tags", .text(tag))
            }
        }
        return try requireHousehold(id)
    }

    /// The fields `updateHousehold(_:setting:)` takes, by their stored names.
    public static let householdEditableFields = ["doorplate", "unit", "room", "head_name", "member_count", "phone", "status", "tags", "notes"]

    /// Edits a household from field names and typed text, as a form or the command line gives
    /// them. Each value is parsed and validated as `addHousehold` validates it (phone to digits,
    /// member count 0…99, name not empty, …); empty text clears an optional field; `tags` is a
    /// `;`-separated list that replaces the tags. Fields the store computes (`cell`, keys) or
    /// counts (`visit_count`) are refused with what to do instead; any other name is refused
    /// with the list of fields that can be updated. Nothing is written unless every value is valid.
    ///
    ///     try store.updateHousehold(id, setting: ["member_count": "4", "phone": "139 0000 0000"])
    @discardableResult
    public func updateHousehold(_ id: EntityID, setting fields: [String: String]) throws -> Household {
        try Self.checkEditable(fields, allowed: Self.householdEditableFields, refused: Self.householdRefusedFields, what: "a household")
        return try updateHousehold(id) { draft in
            for (name, text) in fields.sorted(by: { $0.key < $1.key }) {
                try Self.set(name, text, in: &draft)
            }
        }
    }

    /// Counts a visit (visits from every device add up) and records its day; the last visit is
    /// the latest day recorded anywhere.
    @discardableResult
    public func recordVisit(_ id: EntityID, on day: CalendarDay) throws -> Household {
        try replica.write { tx in
            guard try tx.record(FieldModel.households, id) != nil else { throw Self.unknownHousehold(id) }
            try tx.increment(FieldModel.households, id, "visit_count")
            try tx.add(FieldModel.households, id, "visit_days", .text(day.description))
        }
        return try requireHousehold(id)
    }

    /// The household with this id, or nil.
    /// A household by id. A household merged into another (a redirect tombstone) gives the one
    /// it was merged into, so ids kept elsewhere (a task, a note on paper) still lead somewhere.
    public func household(_ id: EntityID) throws -> Household? {
        var current = id
        for _ in 0..<Self.redirectHopsMax {
            if let record = try replica.record(FieldModel.households, current) {
                return try Self.household(from: record, conflicts: conflictedFields(FieldModel.households, current))
            }
            guard let tombstone = try replica.record(FieldModel.households, current, includeDeleted: true),
                  let next = tombstone["merged_into"].text.flatMap({ try? EntityID($0) }) else { return nil }
            current = next
        }
        return nil
    }

    /// Households (of one cell), by doorplate, then unit and room, then id.
    public func households(cell: GridCell? = nil) throws -> [Household] {
        let conflicts = try conflictedFields(FieldModel.households)
        var result: [Household] = []
        try forEachRecord(FieldModel.households, cell: cell) { record in
            result.append(try Self.household(from: record, conflicts: conflicts[record.id] ?? []))
        }
        return result.sorted(by: Self.householdOrder)
    }

    /// Households behind one doorplate.
    public func households(at code: DoorplateCode) throws -> [Household] {
        let conflicts = try conflictedFields(FieldModel.households)
        var result: [Household] = []
        try forEachRecord(FieldModel.households, cell: GridCell(of: code)) { record in
            guard record["doorplate"].text == code.canonical else { return }
            result.append(try Self.household(from: record, conflicts: conflicts[record.id] ?? []))
        }
        return result.sorted(by: Self.householdOrder)
    }

    // MARK: Duplicates at capture

    func suspects(of draft: HouseholdDraft, excluding: EntityID?) throws -> [DuplicateSuspect] {
        let dwelling = Self.dwellingKey(draft)
        let nameKey = TextNormalizer.normalizedName(draft.headName)
        var found: [DuplicateSuspect] = []
        try forEachRecord(FieldModel.households, cell: draft.cell) { record in
            guard record.id != excluding else { return }
            var reasons: [DuplicateSuspect.Reason] = []
            if record["dwelling_key"].text == dwelling { reasons.append(.sameDwelling) }
            if !nameKey.isEmpty, record["head_name_key"].text == nameKey { reasons.append(.sameHeadNameInCell) }
            guard !reasons.isEmpty else { return }
            found.append(DuplicateSuspect(household: try Self.household(from: record, conflicts: []), reasons: reasons))
        }
        return found
    }

    // MARK: Edits by field name

    /// Stored fields a person cannot set directly, with what to do instead.
    static let householdRefusedFields: [String: String] = [
        "id": "a household's id cannot change",
        "cell": "a household's cell follows its doorplate; update doorplate instead",
        "dwelling_key": "dwelling_key is computed from doorplate, unit and room; update those instead",
        "head_name_key": "head_name_key is computed from head_name; update head_name instead",
        "visit_count": "visits are counted, not edited (visits from every device add up); record a visit instead",
        "visit_days": "visit days are recorded with each visit, not edited; record a visit instead",
        "distinct_from": "distinct_from is set when a household is created beside suspected duplicates; it cannot be edited",
    ]

    /// Refuses an empty edit, derived or identifying fields, and unknown names (naming the allowed ones).
    static func checkEditable(_ fields: [String: String], allowed: [String], refused: [String: String], what: String) throws {
        guard !fields.isEmpty else {
            throw FieldError(.invalidValue, "nothing to change; give field=value pairs (fields that can be updated: \(allowed.joined(separator: ", ")))")
        }
        for name in fields.keys.sorted() where !allowed.contains(name) {
            if let reason = refused[name] { throw FieldError(.invalidValue, field: name, reason) }
            throw FieldError(.invalidValue, field: name,
                "\(what) has no field “\(name.prefix(40))” that can be updated; the fields that can be updated are: \(allowed.joined(separator: ", "))")
        }
    }

    /// Parses one typed value into a household draft (validation of the whole draft follows).
    static func set(_ name: String, _ text: String, in draft: inout HouseholdDraft) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        try naming(name) {
            switch name {
            case "doorplate": draft.doorplate = try DistrictCSV.parseCode(text)
            case "unit": draft.unit = trimmed.isEmpty ? nil : text
            case "room": draft.room = trimmed.isEmpty ? nil : text
            case "head_name": draft.headName = text
            case "member_count":
                guard let count = Int(trimmed) else {
                    throw FieldError(.invalidValue,
                        "member count must be a whole number \(FieldRules.memberCountRange.lowerBound) to \(FieldRules.memberCountRange.upperBound); got “\(text.prefix(12))”")
                }
                draft.memberCount = count
            case "phone": draft.phone = trimmed.isEmpty ? nil : text
            case "status": draft.status = try DistrictCSV.parseEnum(text, HouseholdStatus.self, what: "household status")
            case "tags": draft.tags = Set(DistrictCSV.split(text))
            case "notes": draft.notes = text
            default: preconditionFailure("household field \(name) is editable but has no parser")
            }
        }
    }

    /// Runs `body`, naming `field` in a `FieldError` that names none (a parse error of that field).
    static func naming(_ field: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as FieldError where error.field == nil {
            throw FieldError(error.code, field: field, error.message)
        } catch let error as DoorplateError {
            throw FieldError(.invalidValue, field: field, error.message)
        }
    }

    // MARK: Mapping

    func requireHousehold(_ id: EntityID) throws -> Household {
        guard let household = try household(id) else { throw Self.unknownHousehold(id) }
        return household
    }

    static func unknownHousehold(_ id: EntityID) -> FieldError {
        FieldError(.notFound, "household \(id) is not on this device; sync, or search for it by doorplate")
    }

    static func householdOrder(_ a: Household, _ b: Household) -> Bool {
        let ka = (a.doorplate.canonical, a.details.unit ?? "", a.details.room ?? "", a.id.rawValue)
        let kb = (b.doorplate.canonical, b.details.unit ?? "", b.details.room ?? "", b.id.rawValue)
        return ka < kb
    }

    /// The matching key of a dwelling: the canonical doorplate code and the unit and room keys.
    static func dwellingKey(_ draft: HouseholdDraft) -> String {
        let parts = AddressNormalizer.normalized(Address(unit: draft.unit, room: draft.room))
        return [draft.doorplate.canonical, parts.unit ?? "", parts.room ?? ""].joined(separator: "|")
    }

    static func validated(_ draft: HouseholdDraft) throws -> HouseholdDraft {
        var checked = draft
        checked.unit = try FieldRules.optionalPart(draft.unit, field: "unit", what: "unit")
        checked.room = try FieldRules.optionalPart(draft.room, field: "room", what: "room")
        checked.headName = try FieldRules.name(draft.headName)
        checked.memberCount = try FieldRules.memberCount(draft.memberCount)
        if let phone = draft.phone, !phone.isBlank {
            checked.phone = try FieldRules.phoneDigits(phone)
        } else {
            checked.phone = nil
        }
        checked.tags = try FieldRules.tags(draft.tags)
        checked.notes = try FieldRules.notes(draft.notes)
        return checked
    }

    /// Register values of a validated draft (sets and the counter are written separately).
    static func values(of draft: HouseholdDraft) -> [String: Value] {
        [
            "cell": .text(draft.cell.id), "doorplate": .text(draft.doorplate.canonical),
            "unit": text(draft.unit), "room": text(draft.room), "dwelling_key": .text(dwellingKey(draft)),
            "head_name": .text(draft.headName), "head_name_key": .text(TextNormalizer.normalizedName(draft.headName)),
            "member_count": .int(Int64(draft.memberCount)), "phone": text(draft.phone),
            "status": .text(draft.status.rawValue), "notes": text(draft.notes),
        ]
    }

    static func household(from record: Record, conflicts: [String]) throws -> Household {
        let fields = RecordFields(record)
        // An erased household has no head name or member count, unless written again since.
        let draft = HouseholdDraft(
            doorplate: try fields.code("doorplate"), unit: fields.text("unit"), room: fields.text("room"),
            headName: record.isErased ? fields.text("head_name") ?? "" : try fields.requiredText("head_name"),
            memberCount: record.isErased ? (try? fields.int("member_count")) ?? 0 : try fields.int("member_count"),
            phone: fields.text("phone"), status: try fields.enumeration("status", HouseholdStatus.self),
            tags: Set(fields.elements("tags")), notes: fields.text("notes") ?? "")
        var household = Household(
            id: record.id, details: draft, visitCount: (try? fields.int("visit_count")) ?? 0,
            visitDays: try fields.elements("visit_days").map { text in
                do { return try CalendarDay(parsing: text) } catch { throw fields.invalid("visit_days", text) }
            },
            distinctFrom: Set(fields.elements("distinct_from").compactMap { try? EntityID($0) }),
            conflictedFields: conflicts.sorted())
        household.isErased = record.isErased
        return household
    }
}
