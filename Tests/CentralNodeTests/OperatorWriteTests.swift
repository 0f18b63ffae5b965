import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// The operator's own writes on the central node: duplicate merges through the review queue, and
/// office edits (`Hub.write`) that reach the devices like any other operation.
struct OperatorWriteTests {
    /// A hub with FieldKit's model and devices that are FieldStores.
    struct FieldWorld {
        let hub: Hub
        var devices: [String: (store: FieldStore, token: String)] = [:]

        init() throws {
            var options = ReplicaOptions()
            options.clock = ManualClock(millis: HubSyncTests.epoch)
            options.replicaID = ReplicaID(high: 0xC0FFEE, low: 2)
            hub = try Hub.open(path: ":memory:", schema: FieldModel.schema, options: options)
        }

        mutating func enroll(_ name: String, cells: [String], index: UInt64) throws {
            let token = try hub.enroll(device: name, cells: cells, actor: "operator-1").token
            var options = ReplicaOptions()
            options.clock = ManualClock(millis: HubSyncTests.epoch)
            options.replicaID = ReplicaID(high: index, low: index)
            options.randomSeed = index
            devices[name] = (FieldStore(replica: try Replica.open(path: ":memory:", schema: FieldModel.schema, options: options),
                                        clock: ManualClock(millis: HubSyncTests.epoch)), token)
        }

        func store(_ name: String) -> FieldStore { devices[name]!.store }

        func sync(_ name: String) throws {
            let (store, token) = devices[name]!
            try SyncSession(replica: store.replica).run { request in
                let wire = try SyncProtocol.decode(SyncRequest.self, from: SyncProtocol.encode(request))
                return try SyncProtocol.decode(SyncResponse.self, from: SyncProtocol.encode(try hub.handle(wire, token: token)))
            }
        }
    }

    @Test func aDuplicateRecordedOnTwoDevicesIsQueuedOnceAndMergedEverywhere() throws {
        var world = try FieldWorld()
        try world.enroll("li", cells: ["JS-0412"], index: 1)
        try world.enroll("zhao", cells: ["JS-0412"], index: 2)
        let plate = try DoorplateCode(parsing: "JS0412-00088")
        for name in ["li", "zhao"] {
            _ = try world.store(name).addDoorplate(DoorplateDraft(code: plate))
        }
        func created(_ capture: HouseholdCapture) throws -> Household {
            guard case .created(let household) = capture else { throw FieldError(.alreadyExists, "unexpected suspects") }
            return household
        }
        let first = try created(try world.store("li").addHousehold(HouseholdDraft(doorplate: plate, room: "301", headName: "王芳", memberCount: 2)))
        let second = try created(try world.store("zhao").addHousehold(HouseholdDraft(doorplate: plate, room: "301", headName: "王 芳", memberCount: 3, phone: "13800138000")))
        for name in ["li", "zhao", "li", "zhao"] { try world.sync(name) }
        let items = try world.hub.reviewItems(kind: .duplicate)
        #expect(items.count == 1, "the pair is queued once, however many devices pushed it")
        let item = try #require(items.first)
        #expect(try world.store("li").reviewItems().map(\.id.rawValue) == [item.id], "devices receive the item too")
        #expect(throws: FieldError.self) { try world.hub.mergeDuplicate(item.id, keep: "00000000000000000000000000", actor: "operator-1") }
        try world.hub.mergeDuplicate(item.id, keep: first.id.rawValue, actor: "operator-1")
        #expect(try world.hub.reviewItems(kind: .duplicate).isEmpty)
        for name in ["li", "zhao"] { try world.sync(name) }
        for name in ["li", "zhao"] {
            let store = world.store(name)
            #expect(try store.households(at: plate).map(\.id) == [first.id])
            #expect(try store.household(second.id)?.id == first.id, "the other id redirects")
            #expect(try store.household(first.id)?.details.phone == "13800138000")
            #expect(try store.replica.digest() == world.hub.replica.digest())
        }
        let audit = try world.hub.audit().map(\.action)
        #expect(audit.contains("merge"))
    }

    /// Duplicates are looked for where households changed: an office edit that makes two
    /// households alike queues the pair at once, while a push that changes no household queues
    /// nothing (its cells are not scanned again).
    @Test func duplicatesAreRaisedWhereHouseholdsChangedWhoeverChangedThem() throws {
        var world = try FieldWorld()
        try world.enroll("li", cells: ["JS-0412"], index: 1)
        let plate = try DoorplateCode(parsing: "JS0412-00088")
        _ = try world.store("li").addDoorplate(DoorplateDraft(code: plate))
        guard case .created = try world.store("li").addHousehold(HouseholdDraft(doorplate: plate, room: "301", headName: "王芳", memberCount: 2)),
              case .created(let second) = try world.store("li").addHousehold(HouseholdDraft(doorplate: plate, room: "302", headName: "李伟", memberCount: 1))
        else { Issue.record("the two households were taken for duplicates"); return }
        try world.sync("li")
        #expect(try world.hub.reviewItems(kind: .duplicate).isEmpty)

        // The office corrects the second household's room to the first one's: now they look alike.
        let hub = world.hub
        try hub.write(actor: "office-wu", action: "edit", detail: "room") {
            _ = try FieldStore(replica: hub.replica).updateHousehold(second.id, setting: ["room": "301"])
        }
        let items = try hub.reviewItems(kind: .duplicate)
        #expect(items.count == 1, "the office edit raised the pair without waiting for a device's push")
        try world.sync("li")
        #expect(try world.store("li").reviewItems().count == 1)

        // A push that touches no household raises nothing new, and the pair stays queued once.
        _ = try world.store("li").addDoorplate(DoorplateDraft(code: try DoorplateCode(parsing: "JS0412-00089")))
        try world.sync("li")
        #expect(try hub.reviewItems(kind: .duplicate).map(\.id) == items.map(\.id))
        #expect(try world.store("li").replica.digest() == hub.replica.digest())
    }

    @Test func anOfficeEditThatMovesARecordReachesTheNewCellAndLeavesTheOld() throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("wang", cells: ["C2"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.sync("li")
        try world.sync("wang")
        let hub = world.hub
        try hub.write(actor: "office-wu", action: "move", detail: "household to C2") {
            try hub.replica.write { try $0.update("households", id, ["cell": "C2"]) }
        }
        try world.sync("li")
        try world.sync("wang")
        #expect(try world.replica("li").record("households", id) == nil, "it left the old cell's device")
        #expect(try world.replica("wang").record("households", id)?["head_name"] == "张伟", "it reached the new cell's device whole")
        #expect(try world.replica("wang").digest(cell: "C2") == hub.replica.digest(cell: "C2"))
        #expect(try hub.audit().contains { $0.action == "move" && $0.actor == "office-wu" })
    }
}
