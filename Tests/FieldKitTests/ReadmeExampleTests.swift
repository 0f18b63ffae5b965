import Foundation
import SyncKit
import Testing
@testable import FieldKit

/// The README's FieldKit example, kept compiling and true.
struct ReadmeExampleTests {
    @Test func readmeExampleRunsAsWritten() throws {
        let store = try FieldStore.open(path: ":memory:")

        let code = try DoorplateCode(parsing: "ｊｓ0412-00088")
        #expect(QRPayload.encode(code) == "FSP1:JS0412-00088K")
        switch try store.scan("FSP1:JS0412-00088K") {
        case .known: Issue.record("the plate should be unknown on a new device")
        case .unknown(let code): _ = try store.addDoorplate(DoorplateDraft(code: code))
        }
        guard case .known = try store.scan("FSP1:JS0412-00088K") else { Issue.record("the plate was not registered"); return }

        let draft = HouseholdDraft(doorplate: code, unit: "3", room: "501", headName: "張偉", memberCount: 3, phone: "138 0013 8000")
        guard case .created(let household) = try store.addHousehold(draft) else { Issue.record("first capture should create"); return }
        _ = try store.recordVisit(household.id, on: try CalendarDay(parsing: "2026-11-29"))
        #expect(try store.household(household.id)?.visitCount == 1)
        // The same household typed again, in simplified characters: suspected, not created.
        let again = HouseholdDraft(doorplate: code, unit: "3", room: "501", headName: "张伟", memberCount: 3)
        guard case .suspects(let suspects) = try store.addHousehold(again) else { Issue.record("duplicate not suspected"); return }
        #expect(suspects.map(\.household.id) == [household.id])

        for task in try store.tasks(assignee: store.deviceID, unfinishedOnly: true) { _ = try store.startTask(task.id) }
        #expect(try store.detectDuplicates().isEmpty)
    }
}
