import Foundation
import SyncKit
import Testing
@testable import FieldKit

/// Merging a suspected duplicate pair: references move, the other household becomes a
/// redirect tombstone, and every replica converges on it.
struct DuplicateMergeTests {
    static let plate = "JS0412-00007"

    /// Two collectors record the same household offline; after exchanging, one store raises the pair.
    func twoCopies() throws -> (a: FieldStore, b: FieldStore, first: Household, second: Household, item: ReviewItem) {
        let (a, _) = try makeStore(1)
        let (b, _) = try makeStore(2)
        var draftA = householdDraft(Self.plate, unit: "2", room: "301", phone: nil)
        draftA.tags = ["elderly"]
        let first = try addNewHousehold(a, draftA)
        var draftB = householdDraft(Self.plate, unit: "2", room: "301", members: 4)
        draftB.tags = ["disabled"]
        let second = try addNewHousehold(b, draftB)
        _ = try b.recordVisit(second.id, on: day("2026-11-02"))
        _ = try b.recordVisit(second.id, on: day("2026-11-09"))
        try syncAll([a, b])
        let items = try a.detectDuplicates()
        let item = try #require(items.first)
        #expect(items.count == 1)
        try syncAll([a, b])
        return (a, b, first, second, item)
    }

    @Test func mergingMovesEverythingToTheKeptHouseholdAndLeavesARedirect() throws {
        let (a, b, first, second, item) = try twoCopies()
        let task = try b.addTask(TaskDraft(kind: .followUp, target: .household(second.id), cell: cell("JS-0412"), dueOn: day("2026-12-01")))
        try syncAll([a, b])
        let kept = try a.mergeDuplicate(item.id, keep: first.id)
        #expect(kept.id == first.id)
        #expect(kept.details.phone == "13800138000", "an empty detail is taken from the other copy")
        #expect(kept.details.memberCount == first.details.memberCount, "a detail the kept copy has stays")
        #expect(kept.details.tags == ["elderly", "disabled"])
        #expect(kept.visitCount == 2 && kept.visitDays.count == 2)
        try syncAll([a, b])
        for store in [a, b] {
            #expect(try store.household(second.id)?.id == first.id, "the other id redirects to the kept household")
            #expect(try store.households().map(\.id) == [first.id])
            #expect(try store.task(task.id)?.target == .household(first.id))
            #expect(try store.reviewItems().first?.status == "resolved")
        }
        #expect(try a.replica.digest() == b.replica.digest())
        #expect(try a.detectDuplicates().isEmpty && b.detectDuplicates().isEmpty, "a settled pair is not raised again")
    }

    @Test func dismissingDeclaresThePairDistinctForGood() throws {
        let (a, b, first, second, item) = try twoCopies()
        try b.dismissDuplicate(item.id)
        try syncAll([a, b])
        for store in [a, b] {
            #expect(try store.households().count == 2)
            #expect(try store.household(first.id)?.distinctFrom == [second.id])
            #expect(try store.reviewItems().first?.status == "dismissed")
            #expect(try store.detectDuplicates().isEmpty)
        }
        #expect(try a.replica.digest() == b.replica.digest())
    }

    @Test func aMergeIsRefusedWhenItCannotApply() throws {
        let (a, _, first, _, item) = try twoCopies()
        let stranger = try addNewHousehold(a, householdDraft("JS0412-00009", head: "李娜"))
        #expect(fieldError { try a.mergeDuplicate(item.id, keep: stranger.id) }?.code == .invalidValue)
        #expect(fieldError { try a.mergeDuplicate(first.id, keep: first.id) }?.code == .notFound)
        try a.mergeDuplicate(item.id, keep: first.id)
        let again = fieldError { try a.mergeDuplicate(item.id, keep: first.id) }
        #expect(again?.code == .illegalTransition && again?.message.contains("already resolved") == true)
    }
}
