import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct TaskLifecycleTests {
    /// A legal path from a new assigned task to each status.
    static let pathTo: [TaskStatus: [TaskStatus]] = [
        .open: [.open], .assigned: [], .inProgress: [.inProgress], .done: [.inProgress, .done],
        .verified: [.inProgress, .done, .verified], .cancelled: [.cancelled],
    ]

    static func newTask(_ store: FieldStore, assignee: String? = "collector-1", due: String = "2026-02-01",
                        priority: TaskPriority = .normal) throws -> FieldTask {
        try store.addTask(TaskDraft(kind: .visitHousehold, target: .doorplate(code("JS0412-00088")), cell: cell("JS-0412"),
                                    dueOn: day(due), assignee: assignee, priority: priority))
    }

    @Test func everyIllegalTransitionIsRefusedLocallyAndWritesNothing() throws {
        var refused = 0
        for from in TaskStatus.allCases {
            for to in TaskStatus.allCases where to != from {
                let (store, _) = try makeStore(1)
                let task = try Self.newTask(store)
                for step in Self.pathTo[from] ?? [] { try store.moveTask(task.id, to: step) }
                #expect(try store.task(task.id)?.status == from)
                let opsBefore = try store.replica.operations().count
                let error = fieldError { try store.moveTask(task.id, to: to, assignee: to == .assigned ? "collector-2" : nil) }
                if from.allows(to) {
                    #expect(error == nil, "\(from) -> \(to) is legal: \(error?.message ?? "")")
                } else {
                    refused += 1
                    #expect(error?.code == .illegalTransition, "\(from) -> \(to) must be refused")
                    #expect(error?.message.contains("cannot go from \(from.rawValue) to \(to.rawValue)") == true)
                    #expect(try store.replica.operations().count == opsBefore)
                }
            }
        }
        #expect(refused == 30 - 11)  // 30 ordered pairs, 11 legal moves
    }

    @Test func theLifecycleTableIsTheDocumentedOne() {
        let legal = Set(TaskStatus.allCases.flatMap { from in from.legalNext.map { "\(from.rawValue)>\($0.rawValue)" } })
        #expect(legal == Set([
            "open>assigned", "open>cancelled", "assigned>in_progress", "assigned>open", "assigned>cancelled",
            "in_progress>done", "in_progress>assigned", "in_progress>cancelled", "done>verified", "done>in_progress",
            "cancelled>open",
        ]))
        #expect(TaskStatus.lifecycleOrder.map(\.rawValue) == ["open", "assigned", "in_progress", "cancelled", "done", "verified"])
        #expect(TaskStatus.verified.legalNext.isEmpty)
    }

    @Test func historyRecordsWhoWhenAndFromWhichStatus() throws {
        let (store, clock) = try makeStore(1)
        let task = try Self.newTask(store)
        clock.advance(byMillis: 60_000)
        try store.startTask(task.id)
        clock.advance(byMillis: 60_000)
        let done = try store.completeTask(task.id)
        #expect(done.status == .done)
        #expect(done.completedBy == store.deviceID)
        #expect(done.history.map(\.to) == [.assigned, .inProgress, .done])
        #expect(done.history.map(\.from) == [nil, .assigned, .inProgress])
        #expect(done.history.allSatisfy { $0.device == store.deviceID })
        #expect(done.history.map(\.atMillis) == [fieldEpochMillis, fieldEpochMillis + 60_000, fieldEpochMillis + 120_000])
        #expect(done.history.first?.assignee == "collector-1")
    }

    @Test func aClockResetTo1970StillWritesHistoryAfterWhatTheReplicaHasSeen() throws {
        let (store, clock) = try makeStore(1)
        let task = try Self.newTask(store)
        clock.set(millis: 0)
        let started = try store.startTask(task.id)
        #expect(started.history.last?.atMillis ?? 0 >= fieldEpochMillis)
    }

    @Test func concurrentCompletionAndCancellationConvergeToDoneAndKeepBothInHistory() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let task = try Self.newTask(a)
        try a.startTask(task.id)
        try syncAll([a, b])
        try a.completeTask(task.id)
        clock.advance(byMillis: 5_000)  // the office acts later by the clock, and still loses
        try b.cancelTask(task.id)
        try syncAll([a, b])
        for store in [a, b] {
            let merged = try #require(try store.task(task.id))
            #expect(merged.status == .done)
            #expect(merged.conflictedFields == ["status"])
            #expect(merged.history.map(\.to) == [.assigned, .inProgress, .done, .cancelled])
        }
        #expect(try a.replica.digest() == b.replica.digest())
    }

    @Test(arguments: [
        (TaskStatus.inProgress, TaskStatus.cancelled, TaskStatus.cancelled),
        (.inProgress, .open, .inProgress),
        (.done, .cancelled, .done),
        (.inProgress, .assigned, .inProgress),
    ])
    func concurrentTransitionsConvergeToTheHigherPrecedenceOnEveryReplica(_ first: TaskStatus, _ second: TaskStatus, _ winner: TaskStatus) throws {
        let clock = ManualClock(millis: fieldEpochMillis)
        let stores = try (1...3).map { try makeStore(UInt64($0), clock: clock).0 }
        let task = try Self.newTask(stores[0])
        try syncAll(stores)
        for step in Self.pathTo[first] ?? [] { try stores[0].moveTask(task.id, to: step) }
        clock.advance(byMillis: 1_000)
        for step in Self.pathTo[second] ?? [] { try stores[1].moveTask(task.id, to: step, assignee: step == .assigned ? "collector-9" : nil) }
        // Deliver in different orders, with duplicates.
        try stores[2].replica.apply(try stores[1].replica.operations() + stores[0].replica.operations() + stores[1].replica.operations())
        try syncAll(stores)
        let digests = try Set(stores.map { try $0.replica.digest() })
        #expect(digests.count == 1)
        for store in stores {
            let merged = try #require(try store.task(task.id))
            #expect(merged.status == winner)
            let changes = merged.history.map(\.to)
            for step in (Self.pathTo[first] ?? []) + (Self.pathTo[second] ?? []) { #expect(changes.contains(step)) }
        }
    }

    @Test func tasksAreListedSoonestDueFirstThenMostUrgent() throws {
        let (store, _) = try makeStore(1)
        let late = try Self.newTask(store, due: "2026-03-01", priority: .urgent)
        let soonLow = try Self.newTask(store, due: "2026-02-01", priority: .low)
        let soonHigh = try Self.newTask(store, due: "2026-02-01", priority: .high)
        let other = try Self.newTask(store, assignee: "collector-2", due: "2026-01-15")
        #expect(try store.tasks().map(\.id) == [other.id, soonHigh.id, soonLow.id, late.id])
        #expect(try store.tasks(assignee: "collector-1").map(\.id) == [soonHigh.id, soonLow.id, late.id])
        try store.cancelTask(soonHigh.id)
        #expect(try store.tasks(assignee: "collector-1", unfinishedOnly: true).map(\.id) == [soonLow.id, late.id])
    }

    @Test func notesFromTwoDevicesAreAllKept() throws {
        let (a, clock) = try makeStore(1)
        let (b, _) = try makeStore(2, clock: clock)
        let task = try Self.newTask(a)
        try syncAll([a, b])
        try a.addTaskNote(task.id, "nobody home | back at 18:00")
        try b.addTaskNote(task.id, "called the head of household")
        try syncAll([a, b])
        let notes = try #require(try a.task(task.id)).notes
        #expect(Set(notes.map(\.text)) == ["nobody home | back at 18:00", "called the head of household"])
        #expect(Set(notes.map(\.device)) == [a.deviceID, b.deviceID])
        #expect(fieldError { try a.addTaskNote(task.id, "  ") }?.field == "notes")
    }

    @Test func taskForADoorplateInAnotherCellIsRefused() throws {
        let (store, _) = try makeStore(1)
        let error = fieldError {
            try store.addTask(TaskDraft(kind: .installDoorplate, target: .doorplate(code("JS0413-00001")), cell: cell("JS-0412"), dueOn: day("2026-02-01")))
        }
        #expect(error?.field == "cell")
        #expect(fieldError { try store.assignTask(EntityID("nope"), to: "x") }?.code == .notFound)
    }
}
