import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct HouseholdStoreTests {
    @Test func householdKeepsTypedTextStoresPhoneDigitsAndMatchingKeys() throws {
        let (store, _) = try makeStore(1)
        let household = try addNewHousehold(store, householdDraft("JS0412-00088", unit: "２单元", room: "501", head: "陳 小明", phone: "１３８ 0013-8000"))
        #expect(household.headName == "陳 小明")
        #expect(household.details.unit == "２单元")
        #expect(household.details.phone == "13800138000")
        #expect(household.cell.id == "JS-0412")
        let record = try #require(try store.replica.record(FieldModel.households, household.id))
        #expect(record["head_name_key"] == "陈小明")
        #expect(record["dwelling_key"] == "JS0412-00088|2单元|501室")
    }

    @Test(arguments: [
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟", memberCount: 120), "member_count", "member count must be 0 to 99; got 120"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟", memberCount: -1), "member_count", "member count must be 0 to 99; got -1"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "  ", memberCount: 2), "head_name", "head of household name is empty"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: String(repeating: "张", count: 51), memberCount: 2), "head_name", "at most 50"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟\n李", memberCount: 2), "head_name", "one line"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟", memberCount: 2, phone: "+86 138"), "phone", "only digits"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟", memberCount: 2, phone: "138"), "phone", "5 to 15 digits; got 3"),
        (HouseholdDraft(doorplate: code("JS0412-00088"), headName: "张伟", memberCount: 2, tags: ["a;b"]), "tags", "without “;”"),
    ])
    func invalidHouseholdsAreRefusedWithTheFieldAndWhatToDo(_ draft: HouseholdDraft, _ field: String, _ message: String) throws {
        let (store, _) = try makeStore(1)
        let error = fieldError { _ = try store.addHousehold(draft) }
        #expect(error?.code == .invalidValue)
        #expect(error?.field == field)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
        #expect(try store.households().isEmpty)
    }

    @Test func sameDwellingIsSuspectedAtCaptureAndNothingIsWrittenUnlessConfirmed() throws {
        let (store, _) = try makeStore(1)
        let first = try addNewHousehold(store, householdDraft("JS0412-00088", unit: "2单元", room: "501室", head: "张伟"))
        let draft = householdDraft("JS0412-00088", unit: "2", room: "５０１", head: "王芳")
        let opsBefore = try store.replica.operations().count
        let suspects = try #require(try store.addHousehold(draft).suspects)
        #expect(suspects.map(\.household.id) == [first.id])
        #expect(suspects.first?.reasons == [.sameDwelling])
        #expect(try store.replica.operations().count == opsBefore)

        let created = try #require(try store.addHousehold(draft, ifSuspected: .createAnyway).created)
        #expect(created.distinctFrom == [first.id])
        #expect(try store.detectDuplicates().isEmpty)  // the collector already said they differ
    }

    @Test func sameHeadNameInTheCellIsSuspectedButNotInAnotherCellOrAnotherRoom() throws {
        let (store, _) = try makeStore(1)
        let first = try addNewHousehold(store, householdDraft("JS0412-00088", room: "501", head: "张 伟"))
        let sameName = try store.suspectedDuplicates(of: householdDraft("JS0412-00120", room: "302", head: "張偉"))
        #expect(sameName.map(\.household.id) == [first.id])
        #expect(sameName.first?.reasons == [.sameHeadNameInCell])
        #expect(try store.suspectedDuplicates(of: householdDraft("JS0413-00088", room: "501", head: "张伟")).isEmpty)
        #expect(try store.suspectedDuplicates(of: householdDraft("JS0412-00088", room: "502", head: "李娜")).isEmpty)
        #expect(try store.suspectedDuplicates(of: householdDraft("JS0412-00088", room: "50", head: "李娜")).isEmpty)
    }

    @Test func editsWriteOnlyWhatChangedAndTagsMergeAsSets() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let household = try addNewHousehold(a, householdDraft("JS0412-00088", head: "张伟", members: 3))
        try syncAll([a, b])
        try a.updateHousehold(household.id) { $0.memberCount = 4; $0.tags.insert("elderly") }
        try b.updateHousehold(household.id) { $0.phone = "139 0000 0000"; $0.tags.insert("disabled") }
        try syncAll([a, b])
        for store in [a, b] {
            let merged = try #require(try store.household(household.id))
            #expect(merged.details.memberCount == 4)
            #expect(merged.details.phone == "13900000000")
            #expect(merged.details.tags == ["elderly", "disabled"])
            #expect(merged.conflictedFields.isEmpty)
        }
        #expect(try a.replica.digest() == b.replica.digest())
    }

    @Test func concurrentEditsOfReviewFieldsGoToTheReviewQueue() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let household = try addNewHousehold(a, householdDraft("JS0412-00088", members: 3))
        try syncAll([a, b])
        try a.updateHousehold(household.id) { $0.memberCount = 4 }
        try b.updateHousehold(household.id) { $0.memberCount = 5 }
        try syncAll([a, b])
        let conflict = try #require(try a.replica.conflicts(collection: FieldModel.households).first)
        #expect(conflict.field == "member_count")
        #expect(conflict.review)
        #expect(try a.household(household.id)?.conflictedFields == ["member_count"])
    }

    @Test func visitsFromTwoDevicesAddUpAndTheLastVisitMovesForward() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let household = try addNewHousehold(a, householdDraft("JS0412-00088"))
        try syncAll([a, b])
        try a.recordVisit(household.id, on: day("2026-01-03"))
        try b.recordVisit(household.id, on: day("2026-01-02"))
        try b.recordVisit(household.id, on: day("2026-01-01"))
        try syncAll([a, b])
        #expect(try a.household(household.id)?.visitCount == 3)
        #expect(try b.household(household.id)?.lastVisitOn == day("2026-01-03"))
        #expect(try a.replica.digest() == b.replica.digest())
    }

    @Test func duplicatesDetectedOnTwoDevicesBecomeOneReviewItem() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let (c, _) = try makeStore(3, clock: clock)
        try addNewHousehold(a, householdDraft("JS0412-00088", head: "李娜"))
        try addNewHousehold(b, householdDraft("JS0412-00120", head: "李 娜"))
        try addNewHousehold(c, householdDraft("JS0412-00130", head: "王芳"))
        try syncAll([a, b, c])
        #expect(try a.detectDuplicates().count == 1)
        #expect(try b.detectDuplicates().count == 1)
        #expect(try b.detectDuplicates().isEmpty)  // already raised here
        try syncAll([a, b, c])
        for store in [a, b, c] {
            let items = try store.reviewItems()
            #expect(items.count == 1)
            #expect(items.first?.reason == "same head of household name in cell JS-0412")
        }
        #expect(try c.detectDuplicates().isEmpty)
        #expect(try a.replica.digest() == c.replica.digest())
        #expect(try a.replica.conflicts(collection: FieldModel.reviewItems).isEmpty)
    }
}
