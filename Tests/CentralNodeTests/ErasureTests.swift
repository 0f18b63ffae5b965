import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// An operator erases a household (Step 10): after every device has synced, some offline during
/// the erasure and one carrying a bundle of older writes, no file of the node or of any device
/// holds its personal values, while its id, other fields and tasks still merge and verify.
struct ErasureTests {
    static let erased = ["13987654321", "13911110000", "13922220000", "13933330000", "张伟", "zhangwei", "rents the back room"]

    @Test func anErasedHouseholdLeavesNoFileOfTheNodeOrOfAnyDevice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-erase-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent("\(name).db").path }
        var world = try HubSyncTests.World(schema: FieldModel.schema, path: path("central"))
        for (index, name) in ["li", "zhao", "wang"].enumerated() {
            try world.enroll(name, cells: ["C1"], index: UInt64(index + 1), path: path(name))
        }
        // Zhao registers the household; everyone has it.
        let household = try world.replica("zhao").write {
            try $0.insert("households", ["cell": "C1", "doorplate": "JS-0412-0007", "head_name": "张伟", "head_name_key": "zhangwei",
                                         "phone": "13987654321", "member_count": 4, "status": "active"])
        }
        let task = try world.replica("zhao").write {
            try $0.insert("tasks", ["cell": "C1", "kind": "visit", "target": .text(household.rawValue), "status": "open"])
        }
        for name in ["zhao", "li", "wang"] { try world.sync(name) }

        // Before the erasure: Zhao edits offline; Wang edits and writes a bundle it has not
        // handed in; Li edits and syncs.
        try world.replica("zhao").write { try $0.update("households", household, ["phone": "13911110000"]) }
        try world.replica("wang").write { try $0.update("households", household, ["phone": "13922220000", "notes": "rents the back room"]) }
        let bundle = try world.replica("wang").exportBundle()
        try world.replica("li").write { try $0.update("households", household, ["phone": "13933330000"]) }
        try world.sync("li")

        let result = try world.hub.erase("households", household, reason: "erasure request, ticket 118", actor: "operator-1")
        #expect(result.logEntriesErased > 0 && result.walTruncated)
        #expect(try world.hub.audit().contains { $0.action == "erase" && $0.detail == "households/\(household): erasure request, ticket 118" })
        // Li takes the erasure; Zhao pushes its older edit and takes it; Wang's bundle goes in
        // through the office, and its reply comes back.
        try world.sync("li")
        try world.sync("zhao")
        let reply = try world.hub.importBundle(bundle, device: "wang", actor: "operator-1").reply
        try world.replica("wang").importBundle(reply)
        try world.sync("wang")
        try world.sync("li")
        try world.sync("zhao")

        // The household is there everywhere, without its personal values, with its other fields.
        for replica in [world.hub.replica] + ["li", "zhao", "wang"].map(world.replica) {
            let record = try #require(try replica.record("households", household))
            for field in ["head_name", "head_name_key", "phone", "member_count", "notes"] { #expect(record[field] == .null, "\(field)") }
            #expect(record["doorplate"] == "JS-0412-0007" && record["status"] == "active" && record["cell"] == "C1")
            #expect(try replica.record("tasks", task)?["target"] == .text(household.rawValue))
            #expect(try replica.conflicts().isEmpty)
        }
        #expect(try world.replica("wang").digest(cell: "C1") == world.hub.replica.digest(cell: "C1"))
        for file in ["central", "li", "zhao", "wang"] {
            let bytes = try PersonalDataFilesTests.bytes(ofReplicaAt: path(file))
            for value in Self.erased {
                #expect(!PersonalDataFilesTests.contains(bytes, value), "\(value) is still in \(file)'s files")
            }
        }

        // A value written after a device saw the erasure is new data, kept everywhere.
        try world.replica("li").write { try $0.update("households", household, ["phone": "13944440000"]) }
        try world.sync("li")
        try world.sync("zhao")
        #expect(try world.hub.replica.record("households", household)?["phone"] == "13944440000")
        #expect(try world.replica("zhao").record("households", household)?["phone"] == "13944440000")
    }

    @Test func aDeviceCannotEraseNorClaimAnErasureTheNodeDidNotMake() throws {
        var world = try HubSyncTests.World(schema: FieldModel.schema)
        try world.enroll("li", cells: ["C1"], index: 1)
        let household = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "139"]) }
        try world.sync("li")
        // A device's own erasure is held as invalid at the node: the values stay there.
        try world.replica("li").write { try $0.erase("households", household) }
        try world.sync("li", verify: false)
        #expect(try world.hub.replica.record("households", household)?["phone"] == "139")
        let held = try world.hub.replica.quarantined()
        #expect(held.count == 1 && held[0].reason == .invalid && held[0].detail.contains("only the central node's operators erase"))
        // The same with an erasure id the node never made, named as seen.
        let forged = Op(id: OpID(replica: world.replica("li").id, seq: 99), hlc: HLCTimestamp(millis: UInt64(HubSyncTests.epoch), counter: 0),
                        collection: "households", entity: household,
                        assignments: [Assignment(field: Assignment.erasureField, change: .set(false, prev: [OpID(replica: world.hub.replica.id, seq: 7)])),
                                      Assignment(field: "phone", change: .set("138", prev: []))])
        let access = try world.hub.replica.centralTransaction { try $0.erasureProblem(forged) }
        #expect(access?.contains("which this node did not make") == true)
    }

    @Test func aHeldWriteReleasedAfterTheErasureDoesNotWriteItsValuesAgain() throws {
        var world = try HubSyncTests.World(schema: FieldModel.schema)
        try world.enroll("li", cells: ["C1"], index: 1)
        let household = try world.replica("li").write {
            try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "13987654321", "status": "active"])
        }
        try world.sync("li")
        // Li's clock jumps an hour ahead: its next edit is held at the node for an operator.
        world.devices["li"]!.clock.advance(byMillis: 3_600_000)
        try world.replica("li").write { try $0.update("households", household, ["phone": "13911110000", "status": "moved_out"]) }
        try world.sync("li", verify: false)
        let held = try #require(try world.hub.replica.quarantined().first)
        #expect(held.reason == .clockDrift)
        try world.hub.erase("households", household, reason: "ticket 7", actor: "operator-1")
        // The held copy lost its phone too; released, it moves the household out, writing no phone.
        let erasedCopy = try #require(try world.hub.replica.quarantined().first)
        #expect(erasedCopy.operation.assignments.first { $0.field == "phone" }?.change == .set(.null, prev: [try #require(held.operation.assignments.first { $0.field == "phone" }.flatMap { if case .set(_, let prev) = $0.change { return prev.first } else { return nil } })]))
        try world.hub.release(held.operation.id, actor: "operator-1")
        let record = try #require(try world.hub.replica.record("households", household))
        #expect(record["phone"] == .null && record["head_name"] == .null && record["status"] == "moved_out")
        let written = try #require(try world.hub.replica.operations().max { $0.id < $1.id })
        #expect(!written.assignments.contains { $0.field == "phone" } && written.erasures.count == 1)
    }

    @Test func anErasureNeedsAReasonAndAKnownRecord() throws {
        var world = try HubSyncTests.World(schema: FieldModel.schema)
        try world.enroll("li", cells: ["C1"], index: 1)
        let household = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.sync("li")
        let noReason = #expect(throws: SyncError.self) { try world.hub.erase("households", household, reason: "  ", actor: "operator-1") }
        #expect(noReason?.message.contains("reason") == true)
        let unknown = try EntityID("ZZZZZZZZZZZZZZZZZZZZZZZZZZ")
        #expect((#expect(throws: SyncError.self) { try world.hub.erase("households", unknown, reason: "ticket 1", actor: "operator-1") })?.code == .notFound)
        #expect(try world.hub.replica.record("households", household)?["head_name"] == "张伟")
        #expect(try !world.hub.audit().contains { $0.action == "erase" })
    }
}
