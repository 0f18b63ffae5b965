import Foundation
import SyncKit
import Testing

@testable import FieldKit

/// The office reassigns a task while the old assignee is offline with unsynced work.
@Suite struct ReassignmentTests {
    @Test func finishedWorkOfTheOldAssigneeSurvivesAConcurrentReassignment() throws {
        let (office, clock) = try makeStore(1)
        let (oldDevice, _) = try makeStore(2, clock: clock)
        let (newDevice, _) = try makeStore(3, clock: clock)
        let task = try office.addTask(TaskDraft(kind: .visitHousehold, target: .doorplate(code("JS0412-00088")),
                                                cell: cell("JS-0412"), dueOn: day("2026-02-01"), assignee: "old-collector"))
        try syncAll([office, oldDevice, newDevice])

        // Offline: the old assignee visits and finishes; the office gives the task to someone else.
        clock.advance(byMillis: 60_000)
        try oldDevice.startTask(task.id)
        try oldDevice.addTaskNote(task.id, "visited, 4 people at home")
        clock.advance(byMillis: 60_000)
        try oldDevice.completeTask(task.id)
        clock.advance(byMillis: 60_000)  // the office's write is the latest by the clock
        try office.assignTask(task.id, to: "new-collector")

        try syncAll([office, oldDevice, newDevice])
        for store in [office, oldDevice, newDevice] {
            let merged = try #require(try store.task(task.id))
            #expect(merged.status == .done)
            #expect(merged.completedBy == oldDevice.deviceID)
            #expect(merged.assignee == "new-collector")
            #expect(merged.conflictedFields == ["status"])
            #expect(merged.notes.map(\.text) == ["visited, 4 people at home"])
            let moves = merged.history.map { "\($0.from?.rawValue ?? "new")>\($0.to.rawValue)" }
            #expect(moves == ["new>assigned", "assigned>in_progress", "in_progress>done", "assigned>assigned"])
            #expect(merged.history.last?.assignee == "new-collector")
        }
        #expect(try Set([office, oldDevice, newDevice].map { try $0.replica.digest() }).count == 1)
        // The old assignee's open work no longer lists it; the new assignee has nothing to do.
        #expect(try oldDevice.tasks(assignee: "old-collector", unfinishedOnly: true).isEmpty)
        #expect(try newDevice.tasks(assignee: "new-collector", unfinishedOnly: true).isEmpty)
        // The office sees the crossed writes in review, and may verify the finished work.
        #expect(try office.replica.conflicts(collection: FieldModel.tasks).first?.review == true)
        #expect(try office.verifyTask(task.id).conflictedFields.isEmpty)
    }

    @Test func startedWorkOfTheOldAssigneeStaysInProgressWithTheNewAssignee() throws {
        let (office, clock) = try makeStore(1)
        let (oldDevice, _) = try makeStore(2, clock: clock)
        let task = try office.addTask(TaskDraft(kind: .followUp, target: .doorplate(code("JS0412-00088")),
                                                cell: cell("JS-0412"), dueOn: day("2026-02-01"), assignee: "old-collector"))
        try syncAll([office, oldDevice])
        try oldDevice.startTask(task.id)
        clock.advance(byMillis: 1_000)
        try office.assignTask(task.id, to: "new-collector")
        try syncAll([office, oldDevice])
        for store in [office, oldDevice] {
            let merged = try #require(try store.task(task.id))
            #expect(merged.status == .inProgress)
            #expect(merged.assignee == "new-collector")
            #expect(merged.history.count == 3)
        }
        // The new assignee (here: the office device) may finish it.
        #expect(try office.completeTask(task.id).status == .done)
    }
}
