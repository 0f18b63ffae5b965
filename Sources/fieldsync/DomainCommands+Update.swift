import Foundation
import FieldKit
import SyncKit

/// `fieldsync household update ID field=value …` and `fieldsync doorplate update CODE field=value …`:
/// edits by stored field name, validated by FieldKit as the `add` commands are.
extension DomainCommands {
    static func updateHousehold(_ args: inout Arguments, path: String, json: Bool) throws {
        guard args.positional.count >= 2 else {
            throw UsageError("household update ID field=value … (fields: \(FieldStore.householdEditableFields.joined(separator: ", ")))")
        }
        let fields = try assignments(Array(args.positional.dropFirst()))
        try args.checkAllUsed()
        let household = try store(path).updateHousehold(try EntityID(args.positional[0]), setting: fields)
        json ? Output.json(render(household)) : Output.line("updated household \(household.id): \(fields.keys.sorted().joined(separator: ", "))\n" + line(household))
    }

    static func updateDoorplate(_ args: inout Arguments, path: String, json: Bool) throws {
        guard args.positional.count >= 2 else {
            throw UsageError("doorplate update CODE-or-ID field=value … (fields: \(FieldStore.doorplateEditableFields.joined(separator: ", ")))")
        }
        let fields = try assignments(Array(args.positional.dropFirst()))
        try args.checkAllUsed()
        let store = try store(path)
        let code = try plateCode(args.positional[0], in: store)
        let plate = try store.updateDoorplate(code, setting: fields)
        json ? Output.json(render(plate)) : Output.line("updated doorplate \(plate.code.canonical): \(fields.keys.sorted().joined(separator: ", "))\n" + line(plate))
    }

    /// `field=value` words; the value may be empty (clears the field) and may contain `=`.
    static func assignments(_ words: [String]) throws -> [String: String] {
        var fields: [String: String] = [:]
        for word in words {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw UsageError("\"\(word)\" is not field=value")
            }
            let name = String(word[..<equals])
            guard fields.updateValue(String(word[word.index(after: equals)...]), forKey: name) == nil else {
                throw UsageError("field \(name) is given twice")
            }
        }
        return fields
    }

    /// A plate named by its code (as typed or as printed, with its check character, which is
    /// then verified) or by its record id (as `record list doorplates` shows it).
    static func plateCode(_ text: String, in store: FieldStore) throws -> DoorplateCode {
        do {
            return try DistrictCSV.parseCode(text)
        } catch {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if EntityID.isValid(trimmed), let plate = try store.doorplate(id: try EntityID(trimmed)) { return plate.code }
            let reason = (error as? DoorplateError)?.message ?? (error as? FieldError)?.message ?? "\(error)"
            throw SyncError(.notFound, "“\(text)” is neither a doorplate code (\(reason)) nor the id of a doorplate on this device")
        }
    }
}
