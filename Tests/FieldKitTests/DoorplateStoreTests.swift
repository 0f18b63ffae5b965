import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct DoorplateStoreTests {
    @Test func addedDoorplateKeepsTheTypedAddressAndStoresItsMatchingKey() throws {
        let (store, _) = try makeStore(1)
        let address = AddressNormalizer.parse("金山区幸福路８８號3栋2单元501室")
        let plate = try store.addDoorplate(DoorplateDraft(code: code("js0412-00088"), address: address, latitude: 30.74, longitude: 121.34))
        #expect(plate.code.canonical == "JS0412-00088")
        #expect(plate.cell.id == "JS-0412")
        #expect(plate.address.buildingNumber == "88號")
        let record = try #require(try store.replica.records(FieldModel.doorplates).first)
        #expect(record["address_key"].text == AddressNormalizer.matchingKey(forText: "金山区幸福路88号3栋2单元501"))
        #expect(record["cell"] == "JS-0412")
    }

    @Test func registeringTheSameCodeTwiceOnOneDeviceIsRefused() throws {
        let (store, _) = try makeStore(1)
        try store.addDoorplate(DoorplateDraft(code: code("JS0412-00088")))
        let error = fieldError { try store.addDoorplate(DoorplateDraft(code: code("JS-0412-00088"))) }
        #expect(error?.code == .alreadyExists)
        #expect(error?.message.contains("JS0412-00088") == true)
    }

    @Test func updateWritesOnlyChangedFieldsAndChecksTheStatusLifecycle() throws {
        let (store, _) = try makeStore(1)
        let plateCode = code("JS0412-00088")
        try store.addDoorplate(DoorplateDraft(code: plateCode, address: Address(street: "幸福路")))
        let before = try store.replica.operations().count
        let plate = try store.updateDoorplate(plateCode) { $0.status = .installed; $0.installedOn = day("2026-01-15") }
        #expect(plate.status == .installed)
        #expect(plate.details.installedOn == day("2026-01-15"))
        let op = try #require(try store.replica.operations().last)
        #expect(try store.replica.operations().count == before + 1)
        #expect(Set(op.assignments.map(\.field)) == [Assignment.existenceField, "status", "installed_on"])

        try store.updateDoorplate(plateCode) { $0.status = .retired }
        let error = fieldError { try store.updateDoorplate(plateCode) { $0.status = .installed } }
        #expect(error?.code == .illegalTransition)
        #expect(error?.field == "status")
        #expect(fieldError { try store.updateDoorplate(plateCode) { $0.code = code("JS0412-00089") } }?.field == "code")
    }

    @Test func everyIllegalDoorplateTransitionIsRefused() throws {
        let paths: [DoorplateStatus: [DoorplateStatus]] = [
            .issued: [], .installed: [.installed], .damaged: [.installed, .damaged], .retired: [.retired],
        ]
        for (from, path) in paths {
            for to in DoorplateStatus.allCases where to != from {
                let (store, _) = try makeStore(1)
                let plateCode = code("JS0412-00088")
                try store.addDoorplate(DoorplateDraft(code: plateCode))
                for step in path { try store.updateDoorplate(plateCode) { $0.status = step } }
                let error = fieldError { try store.updateDoorplate(plateCode) { $0.status = to } }
                #expect((error == nil) == from.allows(to), "\(from) -> \(to)")
                if error != nil { #expect(error?.code == .illegalTransition) }
            }
        }
    }

    @Test func invalidDetailsNameTheField() throws {
        let (store, _) = try makeStore(1)
        let plateCode = code("JS0412-00088")
        #expect(fieldError { try store.addDoorplate(DoorplateDraft(code: plateCode, latitude: 91)) }?.field == "latitude")
        let long = String(repeating: "路", count: 65)
        #expect(fieldError { try store.addDoorplate(DoorplateDraft(code: plateCode, address: Address(street: long))) }?.field == "street")
        #expect(try store.doorplates().isEmpty)
    }

    @Test func scanFindsThePlateAndItsHouseholdsOrSaysItIsUnknown() throws {
        let (store, _) = try makeStore(1)
        let plateCode = code("JS0412-00088")
        try store.addDoorplate(DoorplateDraft(code: plateCode, address: Address(street: "幸福路", buildingNumber: "88号")))
        let household = try addNewHousehold(store, householdDraft("JS0412-00088"))
        try addNewHousehold(store, householdDraft("JS0412-00089", head: "李娜"))
        guard case .known(let plate, let households) = try store.scan(QRPayload.encode(plateCode).lowercased()) else {
            Issue.record("plate not found")
            return
        }
        #expect(plate.code == plateCode)
        #expect(households.map(\.id) == [household.id])
        #expect(try store.scan(QRPayload.encode(code("JS0412-00090"))) == .unknown(code("JS0412-00090")))
        #expect(throws: DoorplateError.self) { try store.scan("FSP1:JS0412-00088X") }
    }

    @Test func aPlateWhoseRegistrationHasNotArrivedSaysSoInsteadOfBlamingTheAppVersion() throws {
        let (li, _) = try makeStore(1)
        let (office, _) = try makeStore(2)
        let plateCode = code("JS0412-00088")
        try li.addDoorplate(DoorplateDraft(code: plateCode, address: Address(street: "幸福路")))
        try li.updateDoorplate(plateCode) { $0.notes = "门牌歪了" }
        // Only the edit arrives (the office holds the registration for review, say).
        try office.replica.apply([try #require(try li.replica.operations().last)])
        for read in [{ _ = try office.doorplate(plateCode) }, { _ = try office.doorplates() },
                     { _ = try office.scan(QRPayload.encode(plateCode)) }, { _ = try office.updateDoorplate(plateCode) { $0.notes = "" } }] {
            let error = fieldError(read)
            #expect(error?.code == .invalidRecord && error?.field == "code")
            #expect(error?.message.contains("holds later edits but not its registration, which has not reached this device yet; sync and try again") == true, "\(String(describing: error))")
        }
        // Once the registration arrives, the plate reads whole, with the edit.
        try deliver(li, to: office)
        #expect(try office.doorplate(plateCode)?.details.notes == "门牌歪了")
    }

    @Test func twoOfflineDevicesRegisteringOnePlateAndOneHouseholdMergeIntoOnePlateWithConflictsAndAReviewItem() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let plateCode = code("JS0412-00088")
        try a.addDoorplate(DoorplateDraft(code: plateCode, address: AddressNormalizer.parse("幸福路88号"), status: .installed))
        try addNewHousehold(a, householdDraft("JS0412-00088", room: "501", head: "张伟"))
        clock.advance(byMillis: 1_000)
        try b.addDoorplate(DoorplateDraft(code: code("js-0412-00088"), address: AddressNormalizer.parse("幸福路８８號"), notes: "gate code 12"))
        try addNewHousehold(b, householdDraft("JS0412-00088", room: "501室", head: "張 偉", members: 4))

        try syncAll([a, b])
        for store in [a, b] { try store.detectDuplicates() }
        try syncAll([a, b])

        for store in [a, b] {
            let plates = try store.doorplates()
            #expect(plates.count == 1)
            let plate = try #require(plates.first)
            #expect(plate.conflictedFields.contains("building_number"))
            #expect(plate.status == .installed)  // field evidence beats "issued" by precedence
            #expect(plate.details.notes == "gate code 12")  // only one device wrote notes: no conflict
            #expect(!plate.conflictedFields.contains("notes"))
            #expect(try store.households().count == 2)
            let items = try store.reviewItems()
            #expect(items.count == 1)
            let item = try #require(items.first)
            #expect(item.kind == ReviewItem.duplicateHousehold)
            #expect(item.reason.contains("same doorplate and dwelling"))
            #expect(item.reason.contains("same head of household name"))
            #expect(Set([item.firstID, item.secondID]) == Set(try store.households().map(\.id)))
            #expect(item.firstID < item.secondID)
        }
        #expect(try a.replica.digest() == b.replica.digest())
        #expect(try reviewSummary(a) == reviewSummary(b))
        #expect(try a.replica.conflicts() == b.replica.conflicts())
    }
}
