import Foundation
import SyncKit
import Testing

@testable import FieldKit

/// Seeded property test of the domain: replicas capture households, register plates, move tasks
/// and detect duplicates while exchanging random, shuffled, duplicated subsets of each other's
/// operations; after a final exchange and detection round, every replica shows the same state
/// and the same review items. A failure prints the seed; `FIELDSYNC_SEED=<seed>` reruns it and
/// `FIELDSYNC_CASES=<n>` runs more cases.
@Suite struct DomainPropertyTests {
    static let plates = ["JS0412-00001", "JS0412-00002", "js0412-00003", "JS0413-00001"]
    static let names = ["张伟", "張 偉", "李娜", "王芳", "赵敏"]
    static let rooms: [String?] = ["501", "501室", "５０１", "502", nil]
    static let tags = ["独居老人", "低保户", "出租屋"]

    @Test func replicasDoingRandomFieldWorkConvergeWithIdenticalReviewItems() throws {
        let count = ProcessInfo.processInfo.environment["FIELDSYNC_CASES"].flatMap { Int($0) } ?? 12
        let seeds: [UInt64] = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) }.map { [$0] }
            ?? (0..<UInt64(count)).map { 7_000_000 + $0 }
        var reviewItemsSeen = 0
        for seed in seeds {
            do {
                reviewItemsSeen += try runCase(seed: seed)
            } catch {
                Issue.record("case failed with \(error); reproduce with FIELDSYNC_SEED=\(seed)")
            }
        }
        if seeds.count > 5 { #expect(reviewItemsSeen > 0, "the cases never raised a duplicate: the test has lost its teeth") }
    }

    /// Runs one case; returns how many review items it ended with.
    func runCase(seed: UInt64) throws -> Int {
        var rng = SplitMix64(seed: seed)
        let clock = ManualClock(millis: fieldEpochMillis)
        let stores = try (1...Int.random(in: 3...4, using: &rng)).map { try makeStore(UInt64($0) &+ seed &* 16, clock: clock).0 }
        for _ in 0..<Int.random(in: 30...60, using: &rng) {
            clock.advance(byMillis: Int64.random(in: 0...2_000, using: &rng))
            let store = rng.element(of: stores)
            do {
                try randomAction(store, stores: stores, rng: &rng)
            } catch is FieldError {
                // Refused locally (illegal move, duplicate plate, ...): the property is about merges.
            }
        }
        // Heal: everyone gets everything, in its own order with duplicates; detect; exchange again.
        try exchangeAll(stores, rng: &rng)
        for store in stores { try store.detectDuplicates() }
        try exchangeAll(stores, rng: &rng)

        let reference = try snapshot(stores[0])
        for store in stores.dropFirst() {
            let other = try snapshot(store)
            #expect(other == reference, "replica \(store.deviceID.prefix(8)) differs; reproduce with FIELDSYNC_SEED=\(seed)")
        }
        // Detection is a function of the state: nothing new to raise anywhere.
        for store in stores {
            #expect(try store.detectDuplicates().isEmpty, "reproduce with FIELDSYNC_SEED=\(seed)")
        }
        return reference.reviewItems.count
    }

    struct Snapshot: Equatable {
        var digest: String
        var reviewItems: [String]
        var conflicts: [String]
        var tasks: [String]
    }

    func snapshot(_ store: FieldStore) throws -> Snapshot {
        Snapshot(
            digest: try store.replica.digest(), reviewItems: try reviewSummary(store),
            conflicts: try store.replica.conflicts().map { "\($0.collection)/\($0.entity).\($0.field) \(Set($0.candidates.map(\.value)).sorted())" },
            tasks: try store.tasks().map { "\($0.id) \($0.status) \($0.history.count) \($0.notes.count)" })
    }

    func randomAction(_ store: FieldStore, stores: [FieldStore], rng: inout SplitMix64) throws {
        switch Int.random(in: 0..<11, using: &rng) {
        case 0:
            var draft = DoorplateDraft(code: code(rng.element(of: Self.plates)), address: AddressNormalizer.parse(rng.element(of: ["幸福路88号", "幸福路８８號", "人民路1号"])))
            draft.status = rng.element(of: [.issued, .installed])
            try store.addDoorplate(draft)
        case 1:
            let draft = householdDraft(rng.element(of: Self.plates), room: rng.element(of: Self.rooms), head: rng.element(of: Self.names),
                                       members: Int.random(in: 0...6, using: &rng))
            _ = try store.addHousehold(draft, ifSuspected: Bool.random(using: &rng) ? .stop : .createAnyway)
        case 2:
            guard let household = try store.households().randomElement(using: &rng) else { return }
            let members = Int.random(in: 1...5, using: &rng)
            let tag = rng.element(of: Self.tags)
            let adds = Bool.random(using: &rng)
            try store.updateHousehold(household.id) { draft in
                draft.memberCount = members
                if adds { draft.tags.insert(tag) } else { draft.tags.remove(tag) }
            }
        case 3:
            guard let household = try store.households().randomElement(using: &rng) else { return }
            try store.recordVisit(household.id, on: day("2026-01-01").adding(days: Int.random(in: 0...5, using: &rng)))
        case 4:
            let plate = code(rng.element(of: Self.plates))
            try store.addTask(TaskDraft(kind: .verifyDoorplate, target: .doorplate(plate), cell: GridCell(of: plate),
                                        dueOn: day("2026-02-01").adding(days: Int.random(in: 0...9, using: &rng)),
                                        assignee: Bool.random(using: &rng) ? "collector-\(Int.random(in: 1...3, using: &rng))" : nil))
        case 5, 6:
            guard let task = try store.tasks().randomElement(using: &rng) else { return }
            let status = rng.element(of: TaskStatus.allCases)
            try store.moveTask(task.id, to: status, assignee: status == .assigned ? "collector-\(Int.random(in: 1...3, using: &rng))" : nil)
        case 7:
            guard let task = try store.tasks().randomElement(using: &rng) else { return }
            try store.addTaskNote(task.id, "note \(Int.random(in: 0...99, using: &rng))")
        case 8:
            guard let plate = try store.doorplates().randomElement(using: &rng) else { return }
            let status = rng.element(of: DoorplateStatus.allCases)
            try store.updateDoorplate(plate.code) { $0.status = status }
        case 9:
            try store.detectDuplicates()
        default:
            let from = rng.element(of: stores)
            try deliverSome(from: from, to: store, rng: &rng)
        }
    }

    /// A random subset of `from`'s operations, shuffled, some twice.
    func deliverSome(from: FieldStore, to: FieldStore, rng: inout SplitMix64) throws {
        guard from !== to else { return }
        var ops = try from.replica.operations().filter { _ in Int.random(in: 0..<3, using: &rng) > 0 }
        ops += ops.filter { _ in Int.random(in: 0..<5, using: &rng) == 0 }
        ops.shuffle(using: &rng)
        try to.replica.apply(ops)
    }

    func exchangeAll(_ stores: [FieldStore], rng: inout SplitMix64) throws {
        var all: [Op] = []
        for store in stores { all += try store.replica.operations() }
        for store in stores {
            var ops = all + all.filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }
            ops.shuffle(using: &rng)
            try store.replica.apply(ops)
        }
    }
}
