import SyncKit

/// Typed reads of one stored record, with errors that name the record and field.
///
/// ```swift
/// let fields = RecordFields(record)
/// let count = try fields.int("member_count")
/// let phone = fields.text("phone")          // nil when null
/// ```
struct RecordFields {
    let record: Record

    init(_ record: Record) { self.record = record }

    func text(_ name: String) -> String? { record[name].text }

    func requiredText(_ name: String) throws -> String {
        guard let text = record[name].text else { throw missing(name) }
        return text
    }

    func int(_ name: String) throws -> Int {
        guard let value = record[name].int, let int = Int(exactly: value) else { throw missing(name) }
        return int
    }

    func real(_ name: String) -> Double? { record[name].real }

    func day(_ name: String) throws -> CalendarDay? {
        guard let text = text(name) else { return nil }
        do { return try CalendarDay(parsing: text) } catch { throw invalid(name, text) }
    }

    func code(_ name: String) throws -> DoorplateCode {
        let text = try requiredText(name)
        do { return try DoorplateCode(parsing: text) } catch { throw invalid(name, text) }
    }

    func enumeration<E: RawRepresentable>(_ name: String, _ type: E.Type) throws -> E where E.RawValue == String {
        let text = try requiredText(name)
        guard let value = E(rawValue: text) else { throw invalid(name, text) }
        return value
    }

    func elements(_ name: String) -> [String] { record.elements(name).compactMap(\.text) }

    func missing(_ name: String) -> FieldError {
        // Every FieldKit creation writes the cell (a doorplate's comes with its code), and no edit
        // clears it: a record without one holds edits whose creation has not arrived, such as an
        // edit the office released from review before the creation it still holds.
        if record["cell"].isNull {
            let creation = record.collection == FieldModel.doorplates ? "registration" : "creation"
            return FieldError(.invalidRecord, field: name,
                "\(record.collection) record \(record.id) holds later edits but not its \(creation), which has not reached this device yet; sync and try again, and if it stays so, ask the office (it may hold the \(creation) for review)")
        }
        return FieldError(.invalidRecord, field: name,
            "\(record.collection) record \(record.id) has no valid \(name); it may come from a newer app version. Report it to the office")
    }

    func invalid(_ name: String, _ text: String) -> FieldError {
        FieldError(.invalidRecord, field: name,
            "\(record.collection) record \(record.id) has \(name) “\(text.prefix(40))”, which this app cannot read; it may come from a newer app version")
    }
}
