import Foundation
import SyncKit
import Testing

@testable import FieldKit

/// 2026-01-01T00:00:00Z: test time starts here.
let fieldEpochMillis: Int64 = 1_767_225_600_000

/// A FieldStore over an in-memory replica with a manual clock and a fixed replica id and seed.
func makeStore(_ index: UInt64, clock: ManualClock? = nil) throws -> (FieldStore, ManualClock) {
    let clock = clock ?? ManualClock(millis: fieldEpochMillis)
    var options = ReplicaOptions()
    options.clock = clock
    options.replicaID = ReplicaID(high: index, low: index &* 0x9E37_79B9)
    options.randomSeed = index &+ 5_000
    return (try FieldStore.open(path: ":memory:", options: options), clock)
}

/// Delivers every operation `from` holds to `to`.
func deliver(_ from: FieldStore, to: FieldStore) throws {
    try to.replica.apply(try from.replica.operations())
}

/// Delivers every operation between every pair of stores, until nothing is new.
func syncAll(_ stores: [FieldStore]) throws {
    for _ in 0..<2 {
        for from in stores {
            for to in stores where to !== from { try deliver(from, to: to) }
        }
    }
}

func code(_ text: String) -> DoorplateCode {
    do { return try DoorplateCode(parsing: text) } catch { preconditionFailure("test code \(text) is invalid: \(error)") }
}

func day(_ text: String) -> CalendarDay {
    do { return try CalendarDay(parsing: text) } catch { preconditionFailure("test day \(text) is invalid: \(error)") }
}

func cell(_ text: String) -> GridCell {
    do { return try GridCell(parsing: text) } catch { preconditionFailure("test cell \(text) is invalid: \(error)") }
}

/// A household draft at a plate, with typical values.
func householdDraft(_ plate: String, unit: String? = nil, room: String? = nil, head: String = "张伟", members: Int = 3,
                    phone: String? = "13800138000") -> HouseholdDraft {
    HouseholdDraft(doorplate: code(plate), unit: unit, room: room, headName: head, memberCount: members, phone: phone)
}

/// Creates a household that must not have suspects.
@discardableResult
func addNewHousehold(_ store: FieldStore, _ draft: HouseholdDraft) throws -> Household {
    switch try store.addHousehold(draft) {
    case .created(let household): return household
    case .suspects(let suspects):
        Issue.record("unexpected suspects: \(suspects.map(\.household.id))")
        return try #require(try store.addHousehold(draft, ifSuspected: .createAnyway).created)
    }
}

extension HouseholdCapture {
    var created: Household? { if case .created(let household) = self { household } else { nil } }
    var suspects: [DuplicateSuspect]? { if case .suspects(let list) = self { list } else { nil } }
}

/// The thrown FieldError of `body`, or nil.
func fieldError(_ body: () throws -> Void) -> FieldError? {
    do {
        try body()
        return nil
    } catch {
        return error as? FieldError
    }
}

/// A comparable summary of review items (ids and reasons).
func reviewSummary(_ store: FieldStore) throws -> [String] {
    try store.reviewItems().map { "\($0.id) \($0.firstID)/\($0.secondID) \($0.cell) \($0.reason) \($0.status)" }
}

/// Runs long CPU-bound test work on a thread of its own. Swift Testing runs test functions on
/// the cooperative pool, which has one thread per core: long synchronous tests there starve
/// every async test (an HTTP request waiting for its reply) until they finish.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
