import Foundation
import SyncKit
import Testing

@testable import FieldKit

/// Edits by stored field name and typed text (`updateHousehold(_:setting:)`,
/// `updateDoorplate(_:setting:)`): what the command line and forms send.
@Suite struct RecordUpdateTests {
    /// A store with plate JS0412-00088 (on 幸福路) and one household behind it.
    func storeWithHousehold() throws -> (FieldStore, Household) {
        let (store, _) = try makeStore(1)
        try store.addDoorplate(DoorplateDraft(code: code("JS0412-00088"), address: Address(street: "幸福路", buildingNumber: "88号")))
        try store.addDoorplate(DoorplateDraft(code: code("JS0413-00001")))
        let household = try addNewHousehold(store, householdDraft("JS0412-00088", room: "501", head: "张伟", members: 3, phone: nil))
        return (store, household)
    }

    @Test func householdFieldsAreParsedValidatedAndOnlyTheChangedOnesWritten() throws {
        let (store, household) = try storeWithHousehold()
        let before = try store.replica.operations().count
        let updated = try store.updateHousehold(household.id, setting: ["member_count": " 4 ", "phone": "１３８ 0013-8000", "room": "501"])
        #expect(updated.details.memberCount == 4)
        #expect(updated.details.phone == "13800138000")
        let ops = try store.replica.operations()
        #expect(ops.count == before + 1)
        // room was given but unchanged: not written, so it can never become a conflict.
        #expect(Set(try #require(ops.last).assignments.map(\.field)) == [Assignment.existenceField, "member_count", "phone"])
        // The same values again write nothing.
        try store.updateHousehold(household.id, setting: ["member_count": "4"])
        #expect(try store.replica.operations().count == before + 1)
    }

    @Test func emptyTextClearsAnOptionalFieldAndTagsAreReplacedByTheList() throws {
        let (store, household) = try storeWithHousehold()
        try store.updateHousehold(household.id, setting: ["phone": "13800138000", "tags": "elderly;renter", "notes": "back door"])
        let cleared = try store.updateHousehold(household.id, setting: ["phone": "", "room": " ", "tags": "renter;disabled"])
        #expect(cleared.details.phone == nil)
        #expect(cleared.details.room == nil)
        #expect(cleared.details.tags == ["renter", "disabled"])
        #expect(cleared.details.notes == "back door")
        // The matching keys follow the edit: the dwelling key no longer has the room.
        let record = try #require(try store.replica.record(FieldModel.households, household.id))
        #expect(record["dwelling_key"].text == "JS0412-00088||")
    }

    @Test func aNewDoorplateMovesTheHouseholdToThatPlatesCell() throws {
        let (store, household) = try storeWithHousehold()
        let printed = "JS0413-00001" + String(code("JS0413-00001").checkCharacter)  // as printed on the plate
        let moved = try store.updateHousehold(household.id, setting: ["doorplate": printed])
        #expect(moved.doorplate == code("JS0413-00001"))
        #expect(moved.cell.id == "JS-0413")
        #expect(try store.replica.record(FieldModel.households, household.id)?["cell"].text == "JS-0413")
    }

    @Test func invalidValuesAreRefusedNamingTheFieldAndNothingIsWritten() throws {
        let (store, household) = try storeWithHousehold()
        let misread = code("JS0412-00078")
        let wrongCheck = misread.canonical + (misread.checkCharacter == "A" ? "B" : "A")
        let cases: [([String: String], String, String)] = [
            (["member_count": "120"], "member_count", "member count must be 0 to 99; got 120"),
            (["member_count": "many"], "member_count", "whole number"),
            (["phone": "138-abc"], "phone", "only digits"),
            (["phone": "123"], "phone", "5 to 15 digits"),
            (["head_name": "  "], "head_name", "name is empty"),
            (["status": "gone"], "status", "active, moved_out, vacant"),
            (["doorplate": wrongCheck], "doorplate", "wrong check character"),
            (["tags": "ok;" + String(repeating: "x", count: 40)], "tags", "1 to 32 characters"),
            (["unit": "2单元\n3"], "unit", "one line"),
            // One bad value among good ones: none of them is written.
            (["member_count": "5", "phone": "x"], "phone", "only digits"),
        ]
        let before = try store.replica.operations().count
        for (fields, field, message) in cases {
            let error = fieldError { try store.updateHousehold(household.id, setting: fields) }
            #expect(error?.code == .invalidValue, "\(fields)")
            #expect(error?.field == field, "\(fields): \(String(describing: error))")
            #expect(error?.message.contains(message) == true, "\(fields): \(String(describing: error))")
        }
        #expect(try store.replica.operations().count == before)
        #expect(try store.household(household.id)?.details == household.details)
    }

    @Test func unknownAndComputedHouseholdFieldsAreRefusedWithWhatToDo() throws {
        let (store, household) = try storeWithHousehold()
        let unknown = fieldError { try store.updateHousehold(household.id, setting: ["colour": "red"]) }
        #expect(unknown?.field == "colour")
        for allowed in FieldStore.householdEditableFields { #expect(unknown?.message.contains(allowed) == true, "\(allowed)") }
        #expect(fieldError { try store.updateHousehold(household.id, setting: ["cell": "JS-0413"]) }?.message.contains("update doorplate instead") == true)
        #expect(fieldError { try store.updateHousehold(household.id, setting: ["visit_count": "3"]) }?.message.contains("record a visit") == true)
        #expect(fieldError { try store.updateHousehold(household.id, setting: ["head_name_key": "x"]) }?.field == "head_name_key")
        #expect(fieldError { try store.updateHousehold(household.id, setting: [:]) }?.message.contains("nothing to change") == true)
        let missing = fieldError { try store.updateHousehold(try EntityID("NOPE"), setting: ["member_count": "2"]) }
        #expect(missing?.code == .notFound)
    }

    @Test func doorplateFieldsAreParsedValidatedAndTheMatchingKeyRecomputed() throws {
        let (store, _) = try storeWithHousehold()
        let plateCode = code("JS0412-00088")
        let keyBefore = try store.replica.record(FieldModel.doorplates, try store.replica.naturalID(FieldModel.doorplates, ["code": "JS0412-00088"]))?["address_key"].text
        let plate = try store.updateDoorplate(plateCode, setting: [
            "status": "Installed", "installed_on": "2026-01-15", "latitude": "30.74", "longitude": "121.34",
            "building_number": "８８號", "room": "501室", "notes": "gate code at the office",
        ])
        #expect(plate.status == .installed)
        #expect(plate.details.installedOn == day("2026-01-15"))
        #expect(plate.details.latitude == 30.74 && plate.details.longitude == 121.34)
        #expect(plate.address.buildingNumber == "８８號")
        #expect(plate.details.notes == "gate code at the office")
        let id = try store.replica.naturalID(FieldModel.doorplates, ["code": "JS0412-00088"])
        let record = try #require(try store.replica.record(FieldModel.doorplates, id))
        #expect(record["address_key"].text != keyBefore)
        #expect(record["address_key"].text == AddressNormalizer.matchingKey(for: Address(street: "幸福路", buildingNumber: "88号", room: "501")))
        // Empty text clears.
        let cleared = try store.updateDoorplate(plateCode, setting: ["room": "", "latitude": "", "installed_on": ""])
        #expect(cleared.address.room == nil && cleared.details.latitude == nil && cleared.details.installedOn == nil)
        // Found by its record id too.
        #expect(try store.doorplate(id: id)?.code == plateCode)
        #expect(try store.doorplate(id: try EntityID("k0")) == nil)
    }

    @Test func doorplateValuesAreValidatedAndTheNaturalKeyCannotChange() throws {
        let (store, _) = try storeWithHousehold()
        let plateCode = code("JS0412-00088")
        let before = try store.replica.operations().count
        let cases: [([String: String], String, String)] = [
            (["latitude": "north"], "latitude", "not a number"),
            (["latitude": "100"], "latitude", "between -90.0 and 90.0"),
            (["installed_on": "2026-13-01"], "installed_on", "not a date"),
            (["installed_on": "15/01/2026"], "installed_on", "YYYY-MM-DD"),
            (["status": "lost"], "status", "issued, installed, damaged, retired"),
            (["street": String(repeating: "路", count: 65)], "street", "at most 64"),
            (["code": "JS0412-00089"], "code", "register the new code as a new plate"),
            (["cell": "JS-0413"], "cell", "new plate"),
            (["address_key": "x"], "address_key", "computed"),
            (["colour": "red"], "colour", "building_number, block"),
            (["street": "和平路", "status": "lost"], "status", "doorplate status"),
        ]
        for (fields, field, message) in cases {
            let error = fieldError { try store.updateDoorplate(plateCode, setting: fields) }
            #expect(error?.field == field, "\(fields): \(String(describing: error))")
            #expect(error?.message.contains(message) == true, "\(fields): \(String(describing: error))")
        }
        #expect(try store.replica.operations().count == before)
        #expect(try store.doorplate(plateCode)?.address.street == "幸福路")
        // Status moves follow the lifecycle.
        let illegal = fieldError { try store.updateDoorplate(plateCode, setting: ["status": "damaged"]) }
        #expect(illegal?.code == .illegalTransition)
        #expect(fieldError { try store.updateDoorplate(code("JS0412-00099"), setting: ["street": "x"]) }?.code == .notFound)
    }
}
