import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Personal data leaves a device's files, not just its tables (Step 10): the bytes of the
/// replica's database and write-ahead log are searched for a phone number after the records
/// holding it left the device.
struct PersonalDataFilesTests {
    /// Every file of a replica (the database, its write-ahead log and shared memory) as bytes.
    static func bytes(ofReplicaAt path: String) throws -> [Data] {
        try ["", "-wal", "-shm"].compactMap { suffix in
            FileManager.default.fileExists(atPath: path + suffix) ? try Data(contentsOf: URL(fileURLWithPath: path + suffix)) : nil
        }
    }

    /// A fresh directory for one test's replica files, and the path of a replica in it.
    static func replicaPath(_ name: String) throws -> (directory: URL, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, directory.appendingPathComponent("li.db").path)
    }

    static func contains(_ files: [Data], _ text: String) -> Bool {
        files.contains { $0.range(of: Data(text.utf8)) != nil }
    }

    @Test func aCellTakenFromADeviceLeavesNoneOfItsValuesInTheDevicesFiles() throws {
        let (directory, path) = try Self.replicaPath("let-go")
        defer { try? FileManager.default.removeItem(at: directory) }
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1", "C2"], index: 1, path: path)
        try world.enroll("zhao", cells: ["C1", "C2"], index: 2)
        // Zhao records two households, one per cell, and edits the second's phone twice: its
        // older values are in operations, not only in the record.
        let kept = try world.replica("zhao").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "13987654321"]) }
        let leaving = try world.replica("zhao").write { try $0.insert("households", ["cell": "C2", "head_name": "王芳", "phone": "13912345678"]) }
        try world.replica("zhao").write { try $0.update("households", leaving, ["phone": "13911110000"]) }
        try world.replica("zhao").write { try $0.update("households", leaving, ["phone": "13922220000"]) }
        try world.sync("zhao")
        try world.sync("li")
        // Li edits the leaving household too: its own operation, acknowledged, in its log.
        try world.replica("li").write { try $0.update("households", leaving, ["phone": "13933330000"]) }
        try world.sync("li")
        #expect(try world.replica("li").record("households", kept) != nil)
        let before = try Self.bytes(ofReplicaAt: path)
        // (Li took the cell as a snapshot: older values of Zhao's edits never reached it.)
        #expect(Self.contains(before, "13933330000") && Self.contains(before, "王芳"), "the values are in the files before")

        // The office takes cell C2 from Li; at Li's next sync its records leave, and their bytes too.
        try world.hub.setCells(device: "li", cells: ["C1"], actor: "operator-1")
        try world.sync("li")
        #expect(try world.replica("li").record("households", leaving) == nil)
        let after = try Self.bytes(ofReplicaAt: path)
        for value in ["13912345678", "13911110000", "13922220000", "13933330000", "王芳"] {
            #expect(!Self.contains(after, value), "\(value) is still in the device's files")
        }
        #expect(Self.contains(after, "13987654321"), "the household of the cell Li keeps is still there")
    }

    @Test func aStolenTabletErasesEverythingItHoldsAndTheOfficeSeesThatItDid() throws {
        let (directory, path) = try Self.replicaPath("wipe")
        defer { try? FileManager.default.removeItem(at: directory) }
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1, path: path)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let theirs = try world.replica("zhao").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "13987654321"]) }
        try world.sync("zhao")
        try world.sync("li")
        // Li records a household and has not synced it when the tablet is stolen.
        let unsent = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "王芳", "phone": "13912345678"]) }
        let before = try Self.bytes(ofReplicaAt: path)
        #expect(Self.contains(before, "13987654321") && Self.contains(before, "13912345678"), "the values are in the files before")

        try world.hub.revoke(device: "li", actor: "operator-1", wipe: "stolen")
        #expect(try world.hub.devices().first { $0.name == "li" }?.wipe == DeviceWipe(requestedMillis: HubSyncTests.epoch, reason: "stolen", wipedMillis: nil))
        let refusal = #expect(throws: SyncRefusal.self) { try world.sync("li") }
        #expect(refusal?.code == SyncRefusal.wipedCode && refusal?.message.contains("erased its data") == true)
        // Nothing of the tablet's is left in its files, and it takes no more work.
        let li = world.replica("li")
        #expect(li.wipedMillis != nil)
        #expect(try li.records("households").isEmpty && li.loggedCount() == 0 && li.unsyncedCount() == 0)
        let after = try Self.bytes(ofReplicaAt: path)
        for value in ["13987654321", "13912345678", "张伟", "王芳"] {
            #expect(!Self.contains(after, value), "\(value) is still in the wiped tablet's files")
        }
        #expect(throws: SyncError.self) { try li.write { try $0.insert("households", ["cell": "C1", "head_name": "x"]) } }
        // It pushed nothing further; the office sees that it erased its data, and when.
        #expect(try world.hub.replica.record("households", unsent) == nil)
        #expect(try world.hub.replica.record("households", theirs) != nil)
        #expect(try world.hub.devices().first { $0.name == "li" }?.wipe?.wipedMillis == HubSyncTests.epoch)
        #expect(try world.hub.audit().contains { $0.action == "wipe-confirmed" && $0.actor == "device li" })
        // Asked again, the node says the same; a revocation without a wipe stays `revoked`.
        #expect((#expect(throws: SyncRefusal.self) { try world.sync("li") })?.code == SyncRefusal.wipedCode)
    }

    @Test func aWipeWhoseConfirmationWasLostIsDoneAgainAndConfirmed() throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        _ = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.sync("li")
        try world.hub.revoke(device: "li", actor: "operator-1", wipe: "lost")
        var session = SyncSession(replica: world.replica("li"))
        let first = try #require(try session.nextRequest())
        #expect(throws: SyncRefusal.self) { _ = try world.exchange("li", first) }
        try session.receive(SyncRefusal(401, SyncRefusal.wipeCode, "erase"))
        let confirmation = try #require(try session.nextRequest())
        #expect(confirmation.wiped && confirmation.push.isEmpty)
        // The confirmation is lost on the way: the node has not heard it.
        #expect(try world.hub.devices().first?.wipe?.wipedMillis == nil)
        let again = #expect(throws: SyncRefusal.self) { try world.sync("li") }
        #expect(again?.code == SyncRefusal.wipedCode)
        #expect(try world.hub.devices().first?.wipe?.wipedMillis != nil)
        // A device revoked without a wipe is told `revoked`, and keeps its data.
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.sync("zhao")
        try world.hub.revoke(device: "zhao", actor: "operator-1")
        #expect((#expect(throws: SyncRefusal.self) { try world.sync("zhao") })?.code == "revoked")
        #expect(try !world.replica("zhao").records("households").isEmpty)
    }
}
