import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Retention (Step 10): the central log keeps the personal values of superseded writes for the
/// district's window, then erases them; what records show, and what devices merge, is unchanged.
struct RetentionTests {
    static let day: Int64 = 86_400_000

    @Test func supersededPersonalValuesOlderThanTheWindowLeaveTheNodesFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let central = directory.appendingPathComponent("central.db").path
        var world = try HubSyncTests.World(schema: FieldModel.schema, path: central)
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.enroll("wang", cells: ["C1"], index: 3)
        let household = try world.replica("li").write {
            try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "13900000001", "status": "active"])
        }
        let first = try #require(try world.replica("li").operations().first)
        try world.sync("li")
        try world.sync("zhao")
        // A year and more ago: the phone changes twice; two tablets write the status at once
        // (a conflict whose candidates must stay).
        try world.replica("li").write { try $0.update("households", household, ["phone": "13900000002"]) }
        try world.replica("li").write { try $0.update("households", household, ["phone": "13900000003"]) }
        try world.sync("li")
        try world.sync("wang")
        try world.replica("li").write { try $0.update("households", household, ["head_name": "张伟明"]) }
        try world.replica("wang").write { try $0.update("households", household, ["head_name": "张卫"]) }
        try world.sync("li")
        try world.sync("wang")
        // 400 days later the phone changes again.
        for clock in [world.clock] + world.devices.values.map(\.clock) { clock.advance(byMillis: 400 * Self.day) }
        try world.replica("li").write { try $0.update("households", household, ["phone": "13900000004"]) }
        try world.sync("li")

        #expect(try world.hub.runRetentionIfDue() == nil, "nothing runs before a district sets a window")
        try world.hub.setRetention(days: 365, actor: "operator-1")
        let report = try #require(try world.hub.runRetentionIfDue())
        // The first phone, the second and the third are superseded and old (and the first head
        // name, which both candidates superseded); the fourth phone shows.
        #expect(report.valuesErased == 4 && report.logEntriesRewritten == 3, "\(report)")
        let record = try #require(try world.hub.replica.record("households", household))
        #expect(record["phone"] == "13900000004")
        let candidates = Set(try world.hub.replica.conflicts().filter { $0.field == "head_name" }.flatMap { $0.candidates.map(\.value) })
        #expect(candidates == ["张伟明", "张卫"], "a conflict's candidates are what shows: kept")
        let files = try PersonalDataFilesTests.bytes(ofReplicaAt: central)
        for gone in ["13900000001", "13900000002", "13900000003"] {
            #expect(!PersonalDataFilesTests.contains(files, gone), "\(gone) is still in the node's files")
        }
        #expect(PersonalDataFilesTests.contains(files, "13900000004") && PersonalDataFilesTests.contains(files, "张卫"))
        // The figures, and no second run the same day.
        let status = try world.hub.retentionStatus()
        #expect(status.days == 365 && status.valuesErased == 4 && status.lastRunMillis == world.clock.nowMillis())
        #expect(try world.hub.runRetentionIfDue() == nil)
        #expect(try world.hub.audit().contains { $0.action == "retention-run" })
        // A tablet that missed those writes takes them erased and agrees with the node (the sync
        // verifies digests); the original of an erased operation sent again is no other operation.
        try world.sync("zhao")
        #expect(try world.replica("zhao").record("households", household)?["phone"] == "13900000004")
        let differs = try world.hub.replica.centralTransaction { try $0.storedDiffers(from: first) }
        #expect(differs == false)
    }

    @Test func aWindowOutOfRangeIsRefusedAndOffKeepsEverything() throws {
        let world = try HubSyncTests.World(schema: FieldModel.schema)
        for days in [0, -1, Hub.retentionDaysMax + 1] {
            #expect(throws: SyncError.self) { try world.hub.setRetention(days: days, actor: "operator-1") }
        }
        try world.hub.setRetention(days: 30, actor: "operator-1")
        try world.hub.setRetention(days: nil, actor: "operator-1")
        #expect(try world.hub.retentionStatus().days == nil)
        #expect(throws: SyncError.self) { try world.hub.runRetention() }
    }
}
