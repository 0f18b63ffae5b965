import SyncKit

/// Doorplates: add, edit, read, scan.
extension FieldStore {
    /// Registers a new doorplate. Two devices that register the same code offline create one
    /// record: their details merge, and details that differ become conflicts for review.
    @discardableResult
    public func addDoorplate(_ draft: DoorplateDraft) throws -> Doorplate {
        let checked = try Self.validated(draft)
        try replica.write { tx in
            let id = try replica.naturalID(FieldModel.doorplates, ["code": .text(checked.code.canonical)])
            if try tx.record(FieldModel.doorplates, id) != nil {
                throw FieldError(.alreadyExists, field: "code",
                    "doorplate \(checked.code.canonical) is already registered; open it and edit it instead")
            }
            // Unset fields are not written: a detail only one device filled in is not a conflict.
            try tx.insert(FieldModel.doorplates, Self.values(of: checked).filter { !$0.value.isNull })
        }
        return try requireDoorplate(checked.code)
    }

    /// Edits a doorplate: `edit` changes a copy of its details; only the fields that changed are
    /// written. The code cannot change (a new code is a new plate); status moves must be legal.
    ///
    ///     try store.updateDoorplate(code) { $0.status = .installed; $0.installedOn = today }
    @discardableResult
    public func updateDoorplate(_ code: DoorplateCode, _ edit: (inout DoorplateDraft) throws -> Void) throws -> Doorplate {
        try replica.write { tx in
            let id = try replica.naturalID(FieldModel.doorplates, ["code": .text(code.canonical)])
            guard let record = try tx.record(FieldModel.doorplates, id) else { throw Self.unknownPlate(code) }
            let current = try Self.doorplate(from: record, conflicts: [])
            var draft = current.details
            try edit(&draft)
            guard draft.code == code else {
                throw FieldError(.invalidValue, field: "code",
                    "a doorplate's code cannot change; retire \(code.canonical) and register the new code as a new plate")
            }
            let checked = try Self.validated(draft)
            if checked.status != current.status, !current.status.allows(checked.status) {
                throw FieldError(.illegalTransition, field: "status",
                    "doorplate status cannot go from \(current.status.rawValue) to \(checked.status.rawValue)")
            }
            let changed = Self.changes(from: Self.values(of: current.details), to: Self.values(of: checked))
            if !changed.isEmpty { try tx.update(FieldModel.doorplates, id, changed) }
        }
        return try requireDoorplate(code)
    }

    /// The fields `updateDoorplate(_:setting:)` takes, by their stored names.
    public static let doorplateEditableFields = [
        "district", "street", "building_number", "block", "unit", "floor", "room", "remainder",
        "latitude", "longitude", "status", "installed_on", "notes",
    ]

    /// Edits a doorplate from field names and typed text, as a form or the command line gives
    /// them, validated as `addDoorplate` validates a new plate (lengths, one line, coordinates in
    /// range, dates as YYYY-MM-DD) and with legal status moves only. Empty text clears a field.
    /// The natural key cannot change: `code` (and `cell`, which the code names) are refused with
    /// advice to register the new code as a new plate. Nothing is written unless every value is valid.
    ///
    ///     try store.updateDoorplate(code, setting: ["status": "installed", "installed_on": "2026-01-15"])
    @discardableResult
    public func updateDoorplate(_ code: DoorplateCode, setting fields: [String: String]) throws -> Doorplate {
        let refused = [
            "code": "a doorplate's code is its identity (natural key) and cannot change; register the new code as a new plate, and retire \(code.canonical) if it is no longer used",
            "cell": "a doorplate's cell comes from its code and cannot change; register a plate with a code of the right cell as a new plate, and retire \(code.canonical)",
            "address_key": "address_key is computed from the address parts; update those instead",
        ]
        try Self.checkEditable(fields, allowed: Self.doorplateEditableFields, refused: refused, what: "a doorplate")
        return try updateDoorplate(code) { draft in
            for (name, text) in fields.sorted(by: { $0.key < $1.key }) {
                try Self.set(name, text, in: &draft)
            }
        }
    }

    /// The doorplate whose record has this id (a natural-key id, as `record list` shows it), or nil.
    public func doorplate(id: EntityID) throws -> Doorplate? {
        guard let record = try replica.record(FieldModel.doorplates, id) else { return nil }
        return try Self.doorplate(from: record, conflicts: conflictedFields(FieldModel.doorplates, id))
    }

    /// The doorplate with this code, or nil when this device does not know it.
    public func doorplate(_ code: DoorplateCode) throws -> Doorplate? {
        let id = try replica.naturalID(FieldModel.doorplates, ["code": .text(code.canonical)])
        guard let record = try replica.record(FieldModel.doorplates, id) else { return nil }
        return try Self.doorplate(from: record, conflicts: conflictedFields(FieldModel.doorplates, id))
    }

    /// Doorplates (of one cell), in code order.
    public func doorplates(cell: GridCell? = nil) throws -> [Doorplate] {
        let conflicts = try conflictedFields(FieldModel.doorplates)
        var result: [Doorplate] = []
        try forEachRecord(FieldModel.doorplates, cell: cell) { record in
            result.append(try Self.doorplate(from: record, conflicts: conflicts[record.id] ?? []))
        }
        return result.sorted { $0.code < $1.code }
    }

    /// Reads a scanned QR payload (throws `DoorplateError` when it was misread) and finds the
    /// plate and the households living behind it.
    public func scan(_ payload: String) throws -> ScanResult {
        let code = try QRPayload.parse(payload)
        guard let plate = try doorplate(code) else { return .unknown(code) }
        return .known(plate, households: try households(at: code))
    }

    // MARK: Edits by field name

    /// Parses one typed value into a doorplate draft (validation of the whole draft follows).
    static func set(_ name: String, _ text: String, in draft: inout DoorplateDraft) throws {
        let part: String? = text.isBlank ? nil : text
        try naming(name) {
            switch name {
            case "district": draft.address.district = part
            case "street": draft.address.street = part
            case "building_number": draft.address.buildingNumber = part
            case "block": draft.address.block = part
            case "unit": draft.address.unit = part
            case "floor": draft.address.floor = part
            case "room": draft.address.room = part
            case "remainder": draft.address.remainder = part
            case "latitude": draft.latitude = try DistrictCSV.parseReal(text)
            case "longitude": draft.longitude = try DistrictCSV.parseReal(text)
            case "status": draft.status = try DistrictCSV.parseEnum(text, DoorplateStatus.self, what: "doorplate status")
            case "installed_on": draft.installedOn = part == nil ? nil : try CalendarDay(parsing: text)
            case "notes": draft.notes = text
            default: preconditionFailure("doorplate field \(name) is editable but has no parser")
            }
        }
    }

    // MARK: Mapping

    func requireDoorplate(_ code: DoorplateCode) throws -> Doorplate {
        guard let plate = try doorplate(code) else { throw Self.unknownPlate(code) }
        return plate
    }

    static func unknownPlate(_ code: DoorplateCode) -> FieldError {
        FieldError(.notFound, field: "code", "doorplate \(code.canonical) is not on this device; sync, or register it first")
    }

    static func validated(_ draft: DoorplateDraft) throws -> DoorplateDraft {
        var checked = draft
        let address = draft.address
        checked.address = Address(
            district: try FieldRules.optionalPart(address.district, field: "district", what: "district"),
            street: try FieldRules.optionalPart(address.street, field: "street", what: "street"),
            buildingNumber: try FieldRules.optionalPart(address.buildingNumber, field: "building_number", what: "building number"),
            block: try FieldRules.optionalPart(address.block, field: "block", what: "block"),
            unit: try FieldRules.optionalPart(address.unit, field: "unit", what: "unit"),
            floor: try FieldRules.optionalPart(address.floor, field: "floor", what: "floor"),
            room: try FieldRules.optionalPart(address.room, field: "room", what: "room"),
            remainder: try FieldRules.optionalPart(address.remainder, field: "remainder", what: "address remainder"))
        checked.latitude = try FieldRules.coordinate(draft.latitude, field: "latitude", range: -90...90)
        checked.longitude = try FieldRules.coordinate(draft.longitude, field: "longitude", range: -180...180)
        checked.notes = try FieldRules.notes(draft.notes)
        return checked
    }

    static func values(of plate: DoorplateDraft, memo: AddressNormalizer.PartKeyMemo? = nil) -> [String: Value] {
        let address = plate.address
        return [
            "code": .text(plate.code.canonical), "cell": .text(plate.cell.id),
            "district": text(address.district), "street": text(address.street),
            "building_number": text(address.buildingNumber), "block": text(address.block),
            "unit": text(address.unit), "floor": text(address.floor), "room": text(address.room),
            "remainder": text(address.remainder),
            "address_key": .text(memo.map { AddressNormalizer.matchingKey(for: address, memo: $0) } ?? AddressNormalizer.matchingKey(for: address)),
            "latitude": plate.latitude.map(Value.real) ?? .null, "longitude": plate.longitude.map(Value.real) ?? .null,
            "status": .text(plate.status.rawValue), "installed_on": text(plate.installedOn?.description),
            "notes": text(plate.notes),
        ]
    }

    static func doorplate(from record: Record, conflicts: [String]) throws -> Doorplate {
        let fields = RecordFields(record)
        let address = Address(
            district: fields.text("district"), street: fields.text("street"), buildingNumber: fields.text("building_number"),
            block: fields.text("block"), unit: fields.text("unit"), floor: fields.text("floor"), room: fields.text("room"),
            remainder: fields.text("remainder"))
        let draft = DoorplateDraft(
            code: try fields.code("code"), address: address, latitude: fields.real("latitude"), longitude: fields.real("longitude"),
            status: try fields.enumeration("status", DoorplateStatus.self), installedOn: try fields.day("installed_on"),
            notes: fields.text("notes") ?? "")
        return Doorplate(details: draft, conflictedFields: conflicts.sorted())
    }

    /// Empty text is stored as null, so "no value" has one form.
    static func text(_ text: String?) -> Value {
        guard let text, !text.isEmpty else { return .null }
        return .text(text)
    }
}
