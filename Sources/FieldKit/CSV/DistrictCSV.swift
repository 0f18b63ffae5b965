import Foundation
import SyncKit

/// CSV import and export of a district's doorplates and households, for onboarding and reporting.
///
/// ```swift
/// let text = CSVWriter().string(from: try DistrictCSV.exportHouseholds(from: store))
/// let count = try DistrictCSV.importDoorplates(from: Data(csv.utf8), into: freshStore)   // all or nothing
/// ```
///
/// Files are UTF-8 with a header row; columns are found by name (any order, case and width
/// ignored), every listed column is required and no other is accepted, so nothing is dropped
/// silently. Columns carry the stored field names:
///
///     doorplates.csv: code,cell,district,street,building_number,block,unit,floor,room,remainder,
///                     latitude,longitude,status,installed_on,notes
///     households.csv: id,cell,doorplate,unit,room,head_name,member_count,phone,status,
///                     visit_count,visit_days,tags,distinct_from,notes
///
/// Codes are exported as printed on a plate, with the check character after the code
/// (`JS0412-00088K`); on import the check character is optional and verified when present.
/// Lists (`visit_days`, `tags`, `distinct_from`) are joined with `;`. Empty means none. Dates
/// are `YYYY-MM-DD`. A household row with an empty `id` gets one derived from its doorplate,
/// unit, room and normalized head name, so importing the same file twice is refused instead
/// of duplicating. An import checks every row first and reports up to `ImportError.issuesMax`
/// problems by row and column; only a clean file is written, in one transaction.
///
/// Every cell of a table (ids, names, notes, every column) goes through `SpreadsheetFormula`: an
/// export prefixes `'` to a value a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1`,
/// `@SUM(A1)`, a tab- or CR-led text), an import removes it again, so an exported file imports
/// back to the very same values and an operator who opens it in a spreadsheet runs nothing.
public enum DistrictCSV {
    public static let doorplateColumns = [
        "code", "cell", "district", "street", "building_number", "block", "unit", "floor", "room", "remainder",
        "latitude", "longitude", "status", "installed_on", "notes",
    ]
    public static let householdColumns = [
        "id", "cell", "doorplate", "unit", "room", "head_name", "member_count", "phone", "status",
        "visit_count", "visit_days", "tags", "distinct_from", "notes",
    ]
    /// Joins the elements of a list column.
    public static let listSeparator: Character = ";"

    // MARK: Export

    /// Doorplates as a table, in code order.
    public static func doorplateTable(_ plates: [DoorplateDraft]) throws -> CSVTable {
        let rows = plates.sorted { $0.code < $1.code }.map { plate -> [String] in
            let a = plate.address
            return [
                printed(plate.code), plate.cell.id, a.district ?? "", a.street ?? "", a.buildingNumber ?? "", a.block ?? "",
                a.unit ?? "", a.floor ?? "", a.room ?? "", a.remainder ?? "",
                plate.latitude.map { String($0) } ?? "", plate.longitude.map { String($0) } ?? "",
                plate.status.rawValue, plate.installedOn?.description ?? "", plate.notes,
            ].map(SpreadsheetFormula.neutralized)
        }
        return try CSVTable(header: doorplateColumns, rows: rows)
    }

    /// Households as a table, by doorplate, unit, room and id.
    public static func householdTable(_ households: [Household]) throws -> CSVTable {
        let rows = households.sorted(by: FieldStore.householdOrder).map { household -> [String] in
            let d = household.details
            return [
                household.id.rawValue, d.cell.id, printed(d.doorplate), d.unit ?? "", d.room ?? "", d.headName,
                String(d.memberCount), d.phone ?? "", d.status.rawValue, String(household.visitCount),
                joined(household.visitDays.map(\.description)), joined(d.tags), joined(household.distinctFrom.map(\.rawValue)),
                d.notes,
            ].map(SpreadsheetFormula.neutralized)
        }
        return try CSVTable(header: householdColumns, rows: rows)
    }

    /// Every doorplate in the store (of one cell).
    public static func exportDoorplates(from store: FieldStore, cell: GridCell? = nil) throws -> CSVTable {
        try doorplateTable(try store.doorplates(cell: cell).map(\.details))
    }

    /// Every household in the store (of one cell).
    public static func exportHouseholds(from store: FieldStore, cell: GridCell? = nil) throws -> CSVTable {
        try householdTable(try store.households(cell: cell))
    }

    // MARK: Import

    /// Reads a doorplate file and writes all of it, or nothing; returns the number imported.
    @discardableResult
    public static func importDoorplates(from data: Data, into store: FieldStore) throws -> Int {
        let plates = try readDoorplates(try table(data), checkingAgainst: store)
        try store.importRecords(doorplates: plates, households: [])
        return plates.count
    }

    /// Reads a household file and writes all of it, or nothing; returns the number imported.
    @discardableResult
    public static func importHouseholds(from data: Data, into store: FieldStore) throws -> Int {
        let households = try readHouseholds(try table(data), checkingAgainst: store)
        try store.importRecords(doorplates: [], households: households)
        return households.count
    }

    /// Checks every row of a doorplate table (and, given a store, that no code is registered
    /// there yet); throws an `ImportError` listing every problem.
    public static func readDoorplates(_ table: CSVTable, checkingAgainst store: FieldStore? = nil) throws -> [DoorplateDraft] {
        var reader = try TableReader(table, columns: doorplateColumns)
        var plates: [DoorplateDraft] = []
        var firstRowByCode: [DoorplateCode: Int] = [:]
        for index in table.rows.indices where !reader.isFull {
            reader.start(index)
            let plateCode = reader.read("code", parseCode)
            let cellID = reader.read("cell") { try GridCell(parsing: $0) }
            let latitude = reader.read("latitude", parseReal)
            let longitude = reader.read("longitude", parseReal)
            let status = reader.read("status") { try parseEnum($0, DoorplateStatus.self, what: "doorplate status") }
            let installed = reader.read("installed_on") { $0.isEmpty ? nil : try CalendarDay(parsing: $0) }
            guard let plateCode, let cellID, let latitude, let longitude, let status, let installed else { continue }
            reader.checkCell(cellID, of: plateCode)
            let address = Address(
                district: reader.text("district"), street: reader.text("street"), buildingNumber: reader.text("building_number"),
                block: reader.text("block"), unit: reader.text("unit"), floor: reader.text("floor"), room: reader.text("room"),
                remainder: reader.text("remainder"))
            let draft = DoorplateDraft(code: plateCode, address: address, latitude: latitude, longitude: longitude,
                                       status: status, installedOn: installed, notes: reader.raw("notes"))
            guard let checked = reader.validate({ try FieldStore.validated(draft) }) else { continue }
            if let first = firstRowByCode[plateCode] {
                reader.issue("code", "doorplate \(plateCode.canonical) is also on row \(first); each plate appears once")
                continue
            }
            firstRowByCode[plateCode] = reader.rowNumber
            if let store, (try? store.doorplate(plateCode)) != nil {
                reader.issue("code", "doorplate \(plateCode.canonical) is already registered; remove the row or edit the plate instead")
                continue
            }
            plates.append(checked)
        }
        try reader.finish()
        return plates
    }

    /// Checks every row of a household table (and, given a store, that no id exists there yet);
    /// throws an `ImportError` listing every problem.
    public static func readHouseholds(_ table: CSVTable, checkingAgainst store: FieldStore? = nil) throws -> [Household] {
        var reader = try TableReader(table, columns: householdColumns)
        var households: [Household] = []
        var firstRowByID: [EntityID: Int] = [:]
        for index in table.rows.indices where !reader.isFull {
            reader.start(index)
            let givenID = reader.read("id") { $0.isEmpty ? nil : try EntityID($0) }
            let cellID = reader.read("cell") { try GridCell(parsing: $0) }
            let plateCode = reader.read("doorplate", parseCode)
            let members = reader.read("member_count") { text -> Int in
                guard let count = Int(text.trimmedSpaces) else {
                    throw FieldError(.invalidValue, field: "member_count",
                        "member count must be a whole number \(FieldRules.memberCountRange.lowerBound) to \(FieldRules.memberCountRange.upperBound); got “\(text.prefix(12))”")
                }
                return try FieldRules.memberCount(count)
            }
            let status = reader.read("status") { try parseEnum($0, HouseholdStatus.self, what: "household status") }
            let visits = reader.read("visit_count") { text -> Int in
                guard let count = Int(text.isEmpty ? "0" : text), count >= 0, count <= 1_000_000 else {
                    throw FieldError(.invalidValue, field: "visit_count", "visit count must be a whole number 0 to 1000000; got “\(text.prefix(12))”")
                }
                return count
            }
            let visitDays = reader.read("visit_days") { try split($0).map(CalendarDay.init(parsing:)) }
            let distinct = reader.read("distinct_from") { try split($0).map(EntityID.init) }
            guard let givenID, let cellID, let plateCode, let members, let status, let visits, let visitDays, let distinct else { continue }
            reader.checkCell(cellID, of: plateCode)
            let draft = HouseholdDraft(
                doorplate: plateCode, unit: reader.text("unit"), room: reader.text("room"), headName: reader.raw("head_name"),
                memberCount: members, phone: reader.text("phone"), status: status, tags: Set(split(reader.raw("tags"))),
                notes: reader.raw("notes"))
            guard let checked = reader.validate({ try FieldStore.validated(draft) }) else { continue }
            let id = givenID ?? EntityID.naturalKey(collection: FieldModel.households, key: [
                FieldStore.dwellingKey(checked), TextNormalizer.normalizedName(checked.headName),
            ])
            if let first = firstRowByID[id] {
                reader.issue("id", givenID == nil
                    ? "this household (same doorplate, unit, room and head name) is also on row \(first); keep one row"
                    : "id \(id) is also on row \(first); each household appears once")
                continue
            }
            firstRowByID[id] = reader.rowNumber
            if let store, (try? store.household(id)) != nil {
                reader.issue("id", "household \(id) is already on this device; remove the row or edit the household instead")
                continue
            }
            households.append(Household(id: id, details: checked, visitCount: visits, visitDays: visitDays,
                                        distinctFrom: Set(distinct)))
        }
        try reader.finish()
        return households
    }

    // MARK: Pieces

    /// Reads a whole file as a table; a malformed file is an `ImportError`.
    package static func table(_ data: Data) throws -> CSVTable {
        do {
            return try CSVReader().table(from: data)
        } catch let error as CSVError {
            throw ImportError(issues: [ImportError.Issue(error)])
        }
    }

    /// The code as printed on a plate: canonical form and check character.
    static func printed(_ code: DoorplateCode) -> String { code.canonical + String(code.checkCharacter) }

    /// A code with or without its check character; a wrong check character is named.
    package static func parseCode(_ text: String) throws -> DoorplateCode {
        // A code as exported (canonical, then its check character) is read directly.
        if text.utf8.count == 13, let last = text.last, let parts = DoorplateCode.canonicalParts(String(text.dropLast())) {
            let code = DoorplateCode(validatedAreaLetters: parts.letters, cellNumber: parts.cell, plateNumber: parts.plate)
            if last == code.checkCharacter { return code }
        }
        do {
            return try DoorplateCode(parsing: text)
        } catch let original {
            let trimmed = text.trimmedSpaces
            guard let last = trimmed.last, let code = try? DoorplateCode(parsing: String(trimmed.dropLast())) else { throw original }
            let check = String(last).precomposedStringWithCompatibilityMapping.uppercased()
            guard check == String(code.checkCharacter) else {
                throw FieldError(.invalidValue,
                    "doorplate code \(code.canonical) has a wrong check character “\(last)” (it should be \(code.checkCharacter)); the code was mistyped, check it against the plate")
            }
            return code
        }
    }

    static func parseReal(_ text: String) throws -> Double? {
        let trimmed = text.trimmedSpaces
        guard !trimmed.isEmpty else { return nil }
        guard let value = Double(trimmed), value.isFinite else {
            throw FieldError(.invalidValue, "“\(trimmed.prefix(24))” is not a number in degrees, e.g. 30.7412")
        }
        return value
    }

    static func parseEnum<E: RawRepresentable & CaseIterable>(_ text: String, _ type: E.Type, what: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: text.trimmedSpaces.lowercased()) else {
            throw FieldError(.invalidValue, "\(what) “\(text.prefix(24))” is unknown; use one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    static func split(_ text: String) -> [String] {
        text.split(separator: listSeparator).map(String.init).filter { !$0.isBlank }
    }

    static func joined(_ items: some Collection<String>) -> String {
        items.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: String(listSeparator))
    }
}

/// Reads the rows of one table by column name, collecting located issues.
struct TableReader {
    let table: CSVTable
    private let indices: [String: Int]
    private var issues: [ImportError.Issue] = []
    private var row: [String] = []
    private(set) var rowNumber = 0

    init(_ table: CSVTable, columns: [String]) throws {
        self.table = table
        var indices: [String: Int] = [:]
        var problems: [ImportError.Issue] = []
        for name in columns {
            if let index = table.columnIndex(named: name) {
                indices[name] = index
            } else {
                problems.append(.init(row: 1, "the header has no column “\(name)”; the columns are: \(columns.joined(separator: ","))"))
            }
        }
        let known = Set(indices.values)
        for (index, name) in table.header.enumerated() where !known.contains(index) {
            problems.append(.init(row: 1, column: index + 1, columnName: name,
                "this column is not one that can be imported; remove it (the columns are: \(columns.joined(separator: ","))"))
        }
        guard problems.isEmpty else { throw ImportError(issues: problems) }
        self.indices = indices
    }

    var isFull: Bool { issues.count >= ImportError.issuesMax }

    mutating func start(_ index: Int) {
        row = table.rows[index]
        rowNumber = index + 2  // the header is row 1
    }

    /// The field's value: the cell as written, less the quote an export put before a formula.
    func raw(_ name: String) -> String { indices[name].map { SpreadsheetFormula.restored(row[$0]) } ?? "" }

    /// The field, or nil when empty or only spaces.
    func text(_ name: String) -> String? {
        let value = raw(name)
        return value.isBlank ? nil : value
    }

    /// Parses one field; on failure records an issue at its column and returns nil.
    mutating func read<T>(_ name: String, _ parse: (String) throws -> T) -> T? {
        do {
            return try parse(raw(name))
        } catch {
            issue(name, Self.describe(error))
            return nil
        }
    }

    /// Runs a whole-row validation; a `FieldError` naming a field is placed at that column.
    mutating func validate<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as FieldError {
            issue(error.field ?? "", error.message)
        } catch {
            issue("", Self.describe(error))
        }
        return nil
    }

    mutating func checkCell(_ cell: GridCell, of code: DoorplateCode) {
        if cell != GridCell(of: code) {
            issue("cell", "doorplate \(code.canonical) belongs to cell \(GridCell(of: code).id), not \(cell.id); correct the cell or the code")
        }
    }

    mutating func issue(_ name: String, _ detail: String) {
        guard !isFull else { return }
        if let index = indices[name] {
            issues.append(.init(row: rowNumber, column: index + 1, columnName: table.header[index], detail))
        } else {
            issues.append(.init(row: rowNumber, detail))
        }
    }

    func finish() throws {
        if !issues.isEmpty { throw ImportError(issues: issues) }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as FieldError: error.message
        case let error as DoorplateError: error.message
        case let error as SyncError: error.message
        default: String(describing: error)
        }
    }
}
