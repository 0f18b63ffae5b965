import FieldKit
import Foundation
@testable import CentralNode
@testable import SyncKit

/// A small field world for the fuzz targets that go past parsing: a hub and two collectors on
/// FieldKit's schema, made the same way every time (manual clocks, fixed ids and seeds).
///
/// Zhao registered a doorplate, a household and a task in JS-0412 and synced; Li has worked
/// offline (a plate with coordinates, a household, a visit, a started task) and has never synced,
/// so Li's next request pushes every kind of change and Li's next reply brings a cell snapshot.
final class FuzzWorld {
    static let epochMillis: Int64 = 1_767_225_600_000
    static let cell = "JS-0412"

    let clock: ManualClock
    let hub: Hub
    let li: FieldStore
    let zhao: FieldStore
    private(set) var tokens: [String: String] = [:]

    init() throws {
        let clock = ManualClock(millis: Self.epochMillis)
        self.clock = clock
        var hubOptions = ReplicaOptions()
        hubOptions.clock = clock
        hubOptions.replicaID = ReplicaID(high: 0xC0FFEE, low: 1)
        hubOptions.randomSeed = 99
        hub = try Hub.open(path: ":memory:", schema: FieldModel.schema, options: hubOptions)
        func device(_ index: UInt64) throws -> FieldStore {
            var options = ReplicaOptions()
            options.clock = clock
            options.replicaID = ReplicaID(high: index, low: index)
            options.randomSeed = index
            return FieldStore(replica: try Replica.open(path: ":memory:", schema: FieldModel.schema, options: options), clock: clock)
        }
        li = try device(1)
        zhao = try device(2)
        tokens["li"] = try hub.enroll(device: "li", cells: [Self.cell], actor: "fuzz").token
        tokens["zhao"] = try hub.enroll(device: "zhao", cells: [Self.cell, "JS-0413"], actor: "fuzz").token

        let plate = try DoorplateCode(parsing: "JS0412-00088")
        _ = try zhao.addDoorplate(DoorplateDraft(code: plate, address: Address(street: "幸福路", buildingNumber: "88号")))
        if case .created(let household) = try zhao.addHousehold(HouseholdDraft(doorplate: plate, room: "501", headName: "张伟", memberCount: 3, phone: "13800138000")) {
            _ = try zhao.recordVisit(household.id, on: try CalendarDay(parsing: "2026-01-02"))
            _ = try zhao.addTask(TaskDraft(kind: .visitHousehold, target: .household(household.id), cell: try GridCell(parsing: Self.cell),
                                           dueOn: try CalendarDay(parsing: "2026-01-09")))
        }
        try sync("zhao")
        clock.advance(byMillis: 1_000)

        let own = try DoorplateCode(parsing: "JS0412-00089")
        _ = try li.addDoorplate(DoorplateDraft(code: own, address: Address(street: "幸福路", buildingNumber: "89号"), latitude: 30.7412, longitude: 121.3411))
        if case .created(let household) = try li.addHousehold(HouseholdDraft(doorplate: own, unit: "1单元", room: "1202", headName: "李娜", memberCount: 2)) {
            _ = try li.recordVisit(household.id, on: try CalendarDay(parsing: "2026-01-03"))
            _ = try li.updateHousehold(household.id) { $0.phone = "13912345678"; $0.tags = ["renter", "elderly"] }
            let task = try li.addTask(TaskDraft(kind: .followUp, target: .household(household.id), cell: try GridCell(parsing: Self.cell),
                                                dueOn: try CalendarDay(parsing: "2026-01-10")))
            _ = try li.assignTask(task.id, to: "li")
            _ = try li.startTask(task.id)
        }
    }

    func store(_ name: String) -> FieldStore { name == "li" ? li : zhao }

    /// One exchange through canonical JSON, as HTTP carries it.
    func exchange(_ name: String, _ request: SyncRequest) throws -> SyncResponse {
        let wire = try SyncProtocol.decode(SyncRequest.self, from: SyncProtocol.encode(request))
        let response = try hub.handle(wire, token: tokens[name]!)
        return try SyncProtocol.decode(SyncResponse.self, from: SyncProtocol.encode(response))
    }

    func sync(_ name: String) throws {
        _ = try SyncSession(replica: store(name).replica, pushOpsMax: 4, pullOpsMax: 5).run { try self.exchange(name, $0) }
    }

    // MARK: Seeds

    /// Requests as devices send them (push of every kind of change, a verify, an empty pull).
    static func requestSeeds() throws -> [Data] {
        let world = try FuzzWorld()
        var seeds = [
            try SyncProtocol.encode(try world.li.replica.nextSyncRequest(pullOpsMax: 100)),
            try SyncProtocol.encode(try world.li.replica.nextSyncRequest(pushOpsMax: 2, pullOpsMax: 3)),
            try SyncProtocol.encode(try world.zhao.replica.nextSyncRequest(pullOpsMax: 100, verify: true)),
        ]
        seeds += try protocolFixtures(prefix: "sync-request")
        return seeds
    }

    /// Replies as the hub sends them to Li: the cell's snapshot, then pages of operations.
    static func responseSeeds() throws -> [Data] {
        let world = try FuzzWorld()
        var seeds: [Data] = []
        let first = try world.li.replica.nextSyncRequest(pushOpsMax: 3, pullOpsMax: 2)
        seeds.append(try SyncProtocol.encode(try world.hub.handle(first, token: world.tokens["li"]!)))
        _ = try world.zhao.updateHousehold(try world.zhao.households().first!.id) { $0.memberCount = 4; $0.tags = ["low_income"] }
        try world.sync("zhao")
        try world.sync("li")
        _ = try world.zhao.updateHousehold(try world.zhao.households().first!.id) { $0.phone = "13700000000" }
        try world.sync("zhao")
        let next = try world.li.replica.nextSyncRequest(pullOpsMax: 100)
        seeds.append(try SyncProtocol.encode(try world.hub.handle(next, token: world.tokens["li"]!)))
        seeds += try protocolFixtures(prefix: "sync-response")
        return seeds
    }

    static func protocolFixtures(prefix: String) throws -> [Data] {
        let directory = Fuzzer.fixturesDirectory.appendingPathComponent("protocol")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
        return try names.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
    }
}
