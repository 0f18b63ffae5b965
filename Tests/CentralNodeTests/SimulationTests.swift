import FieldKit
import FieldSyncSim
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// The deterministic simulation (Design.md, "Simulation"): a few hundred seeds of a hub and
/// devices under faults, crashes and lying clocks, every invariant checked; then the bugs it
/// found, each as the seed that found it and as a minimized scenario.
///
/// `FIELDSYNC_SEED=N` reruns one seed (as `fieldsync-sim --seed N --steps 60`);
/// `FIELDSYNC_CASES=N` changes how many seeds run (at most `seedsMax` here: `make soak` and
/// `make sim` run thousands more through the `fieldsync-sim` executable).
struct SimulationTests {
    /// Steps per seed in the test suite (the executable derives 150 to 300 from the seed).
    static let steps = 60
    static let seedsDefault = 240
    static let seedsMax = 1_000
    static let seedBase: UInt64 = 0x51_0000

    static var seeds: [UInt64] {
        if let fixed = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap({ UInt64($0) }) { return [fixed] }
        let count = ProcessInfo.processInfo.environment["FIELDSYNC_CASES"].flatMap { Int($0) } ?? seedsDefault
        return (0..<UInt64(min(max(count, 1), seedsMax))).map { seedBase &+ $0 }
    }

    /// Runs seeds on a thread of its own; the failures, each with the command that replays it.
    static func run(_ seeds: [UInt64], steps: Int? = Self.steps) async throws -> [String] {
        try await offPool {
            seeds.compactMap { seed in
                if case .failure(let failure) = SimulationRunner.run(SimulationConfig(seed: seed, steps: steps)) { return failure.description }
                return nil
            }
        }
    }

    @Test func everySeedKeepsEveryInvariant() async throws {
        let seeds = Self.seeds
        // Two threads (two cores), half of the seeds each.
        async let even = Self.run(seeds.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        async let odd = Self.run(seeds.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        let failures = try await even + odd
        #expect(failures.isEmpty, "\(failures.count) of \(seeds.count) seeds broke an invariant:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    @Test func aSeedReplaysExactly() async throws {
        let reports = try await offPool {
            try (0..<2).map { _ -> String in
                switch SimulationRunner.run(SimulationConfig(seed: 7, steps: 40)) {
                case .success(let report): return report.description
                case .failure(let failure): throw failure
                }
            }
        }
        #expect(reports[0] == reports[1])
    }

    @Test func theConfigurationPrintsEveryProbabilityAndTheReproduceCommand() {
        let text = SimulationConfig(seed: 42, devices: 3, steps: 10).description
        for word in ["dropRequest", "dropReply", "duplicateReply", "partitions", "crashes", "clocks", "samePlate", "release"] {
            #expect(text.contains(word), "\(word) missing from\n\(text)")
        }
        #expect(text.contains("fieldsync-sim --seed 42 --devices 3 --steps 10"))
    }

    // MARK: Seeds that found bugs (full runs, with the executable's derived length)

    @Test(arguments: [
        1,      // a record's creation held (clock ahead): its later edits refused the whole push, forever
        3,      // a reply bundle carried late brought back a cell the device no longer served
        108,    // a held operation an operator discarded came back from a late bundle and was applied
        115,    // an offline edit of a record another device moved to a foreign cell blocked every push
        1290,   // a record moving into the device's cell arrived as a torso (own operations left out, paged)
        2266,   // the author of a held operation keeps it as a head: compared as the design says
        11450,  // a device whose clock went back held the next page in its own quarantine, for good
        20029,  // a record without a cell (an edit released before its creation) lost that edit on devices
        20385,  // a reply bundle's snapshot of a cell left behind a record that had moved out of it
        30113,  // (the first fix of 20385 took a bootstrap's last page, delivered twice, for a whole cell)
        40798,  // a device starting its cell kept its own record that had moved out of the cell meanwhile
        62127,  // a device let go of a record with the reply that acknowledged its edit; the edit never came back
        7340095, // a snapshot left out a device's own held registration of a plate: a doorplate without a code
    ] as [UInt64])
    func aSeedThatFoundABugRunsClean(seed: UInt64) async throws {
        let failures = try await Self.run([seed], steps: nil)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}

/// The bugs the simulator found, minimized by hand to the few exchanges that show them.
struct SimulationRegressionTests {
    typealias World = HubSyncTests.World
    static let hour: Int64 = 3_600_000

    /// Seed 1. A device whose clock ran ahead created a record (held: clock drift) and then
    /// edited it: the hub refused the whole push ("creates … without a grid cell"), rolling back
    /// the hold too, so nothing reached the operators and the device's outbox was stuck forever.
    @Test func editsOfARecordWhoseCreationIsHeldAreHeldWithItNotRefused() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1, clockMillis: HubSyncTests.epoch + Self.hour)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.replica("li").write { try $0.update("households", id, ["phone": "1"]) }
        let progress = try world.sync("li")
        #expect(progress.refusal == nil)
        #expect(progress.unsynced == 0)
        #expect(progress.held.map(\.op.seq).sorted() == [1, 2])
        #expect(try world.hub.reviewItems(kind: .quarantine).count == 2)
        #expect(try world.hub.replica.records("households").isEmpty)
        // Later work of the device is not blocked by them.
        world.devices["li"]!.clock.set(millis: HubSyncTests.epoch)
        world.clock.set(millis: HubSyncTests.epoch + 2 * Self.hour)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "later"]) }
        #expect(try world.sync("li").unsynced == 0)
        #expect(try world.hub.replica.records("households").map { $0["head_name"] } == ["later"])
    }

    /// Seed 108. An operator discarded a held operation; a bundle the device had written before
    /// reached the office later, and the hub, no longer finding the operation in its quarantine
    /// and its clock having caught up, applied it: a discarded change came back.
    @Test func aHeldOperationSettledByAnOperatorNeverComesBackFromALateBundle() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1, clockMillis: HubSyncTests.epoch + Self.hour)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "ahead"]) }
        let lateBundle = try world.replica("li").exportBundle()
        let progress = try world.sync("li")
        #expect(progress.held.count == 1)
        let held = try #require(try world.hub.reviewItems(kind: .quarantine).first?.held)
        try world.hub.discard(held.operation.id, actor: "operator-1")
        world.clock.set(millis: HubSyncTests.epoch + 2 * Self.hour)
        _ = try world.hub.importBundle(lateBundle, device: "li", actor: "operator-1")
        #expect(try world.hub.replica.records("households").isEmpty)
        #expect(try world.hub.replica.operations().isEmpty)
    }

    /// Seed 115. Offline, a collector edited a household that a colleague meanwhile moved to a
    /// cell the collector never served: the hub refused the collector's whole push (out of
    /// scope), forever, and with it all their later work. Now the edit is held for the operators.
    @Test func anOfflineEditOfARecordMovedToAForeignCellIsHeldAndBlocksNothing() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1", "C2"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.sync("li")
        try world.sync("zhao")
        try world.replica("zhao").write { try $0.update("households", id, ["cell": "C2"]) }
        try world.sync("zhao")
        try world.replica("li").write { try $0.update("households", id, ["phone": "13800000000"]) }
        let other = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "next door"]) }
        let progress = try world.sync("li")
        #expect(progress.refusal == nil && progress.unsynced == 0)
        #expect(progress.held.map(\.reason) == ["outOfScope"])
        #expect(try world.hub.replica.record("households", other)?["head_name"] == "next door")
        #expect(try world.hub.replica.record("households", id)?["phone"] == .null)
        #expect(try world.replica("li").record("households", id) == nil, "the moved record left li's device once pushed")
    }

    /// Seed 3. A reply bundle made while the device still served C1 was carried to it after it
    /// had synced the loss of C1 over the network: importing it installed C1's records again.
    @Test func aReplyBundleCarriedLateBringsBackNoCellTheDeviceLetGo() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1", "C2"], index: 2)
        try world.replica("office").write { tx in
            try tx.insert("households", ["cell": "C1", "head_name": "one"])
            try tx.insert("households", ["cell": "C2", "head_name": "two"])
        }
        try world.sync("office")
        let (_, reply) = try world.hub.importBundle(try world.replica("li").exportBundle(), device: "li", actor: "operator-1")
        try world.hub.setCells(device: "li", cells: ["C2"], actor: "operator-1")
        world.clock.advance(byMillis: 60_000)
        try world.sync("li")
        #expect(try world.replica("li").records("households").map { $0["head_name"] } == ["two"])
        try world.replica("li").importBundle(reply)
        #expect(try world.replica("li").records("households").map { $0["head_name"] } == ["two"])
        #expect(try world.replica("li").syncCursors().keys.sorted() == ["", "C2"])
        #expect(try world.replica("li").digest(cell: "C2") == world.hub.replica.digest(cell: "C2"))
    }

    /// Seed 11450. A device whose clock went back an hour after its last sync judged the next
    /// page by its old offset: the page's operations looked an hour ahead and went to its own
    /// quarantine, where nothing retries them. Verification repairs the values only when they
    /// differ; in the seed an operator's resolution stayed unapplied and the conflict stayed open.
    @Test func aDeviceWhoseClockWentBackJudgesThePageByTheHubsTime() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "phone": "1"]) }
        try world.sync("li")
        try world.sync("zhao")
        world.devices["zhao"]!.clock.set(millis: HubSyncTests.epoch - Self.hour)
        try world.replica("li").write { try $0.update("households", id, ["phone": "2"]) }
        try world.sync("li")
        let progress = try world.sync("zhao")
        #expect(try world.replica("zhao").quarantined().isEmpty)
        #expect(progress.resynced.isEmpty, "nothing for verification to repair")
        #expect(try world.replica("zhao").record("households", id)?["phone"] == "2")
    }

    /// Seed 20029. An operator released a held visit before the held creation of its household:
    /// the node then had the household without a cell, so the visit was logged under the
    /// pseudo-cell "" (devices took it and let it go, as a record of no cell of theirs). Releasing
    /// the creation gave the household its cell, but was not seen as a move out of "", so the
    /// cell's devices never received the visit: their count stayed one behind the node's.
    @Test func aRecordGivenItsCellAfterAnEditReleasedFirstReachesTheCellWhole() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1, clockMillis: HubSyncTests.epoch + Self.hour)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟"]) }
        try world.replica("li").write { try $0.increment("households", id, "visit_count") }
        #expect(try world.sync("li").held.count == 2)
        try world.sync("zhao")
        let held = try world.hub.reviewItems(kind: .quarantine).compactMap(\.held).sorted { $0.operation.id.seq > $1.operation.id.seq }
        for item in held { try world.hub.release(item.operation.id, actor: "operator-1") }   // the visit first
        let progress = try world.sync("zhao")
        #expect(progress.resynced.isEmpty, "nothing for verification to repair")
        #expect(try world.replica("zhao").record("households", id)?["visit_count"] == 1)
        #expect(try world.replica("zhao").digest(cell: "C1") == world.hub.replica.digest(cell: "C1"))
    }

    /// Seed 20385. A reply bundle brings each of the device's cells as a snapshot, and moves
    /// the cursors past everything in it. A record that had left one of those cells since the
    /// device's last sync is not in the snapshot, so the device kept it, stale, in the old cell,
    /// and the cursor had skipped the move that would have let it go.
    @Test func aReplyBundleReplacesACellSoARecordThatLeftItGoes() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1"], index: 2)
        let id = try world.replica("office").write { try $0.insert("households", ["cell": "C1", "head_name": "moving"]) }
        try world.sync("office")
        try world.sync("li")
        try world.replica("office").write { try $0.update("households", id, ["cell": "C2"]) }
        try world.sync("office")
        let (_, reply) = try world.hub.importBundle(try world.replica("li").exportBundle(), device: "li", actor: "operator-1")
        try world.replica("li").importBundle(reply)
        #expect(try world.replica("li").record("households", id) == nil)
        #expect(try world.replica("li").digest(cell: "C1") == world.hub.replica.digest(cell: "C1"))
        #expect(try world.sync("li").resynced.isEmpty, "nothing for verification to repair")
    }

    /// Seed 30113, against the first version of the fix above: the last page of a bootstrap,
    /// delivered twice, was taken for a bundle's whole cell and replaced the earlier pages.
    @Test func theLastPageOfABootstrapDeliveredTwiceKeepsTheEarlierPages() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1"], index: 1)
        try world.enroll("li", cells: ["C1"], index: 2)
        try world.replica("office").write { tx in for n in 0..<3 { try tx.insert("households", ["cell": "C1", "head_name": .text("h\(n)")]) } }
        try world.sync("office")
        var last: (SyncRequest, SyncResponse)?
        for _ in 0..<10 {
            let request = try world.replica("li").nextSyncRequest(pullOpsMax: 1)
            let response = try world.exchange("li", request)
            try world.replica("li").ingest(response, for: request)
            last = (request, response)
            if !response.more { break }
        }
        let (request, response) = try #require(last)
        try world.replica("li").ingest(response, for: request)
        #expect(try world.replica("li").records("households").count == 3)
        #expect(try world.replica("li").digest(cell: "C1") == world.hub.replica.digest(cell: "C1"))
    }

    /// Seed 40798. A collector worked offline before her first sync and sent her work by bundle;
    /// a colleague then moved one of her households to another cell. At her first sync her cell
    /// came as a snapshot, without the household, and its log started after the move: she kept
    /// her own stale copy in her cell for good.
    @Test func aCellStartedBySnapshotDropsTheDevicesCopyOfARecordThatLeftIt() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "moving"]) }
        _ = try world.hub.importBundle(try world.replica("li").exportBundle(), device: "li", actor: "operator-1")
        try world.sync("office")
        try world.replica("office").write { try $0.update("households", id, ["cell": "C2"]) }
        try world.sync("office")
        let progress = try world.sync("li")
        #expect(progress.resynced.isEmpty, "nothing for verification to repair")
        #expect(try world.replica("li").record("households", id) == nil)
        #expect(try world.replica("li").digest(cell: "C1") == world.hub.replica.digest(cell: "C1"))
    }

    /// Seed 62127. Li, offline, edited a household that a colleague had meanwhile moved from C1
    /// to C2, while the office took C1 from her. The reply that acknowledged her edit also let
    /// the household go (for all she knew it was in C1). Her next pages brought it back from
    /// C2's log, but without her edit: a device never got its own operations back.
    @Test func aDevicesOwnEditComesBackWithARecordItLetGoThatMovedIntoItsCell() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1", "C2"], index: 2)
        let (moving, other) = try world.replica("office").write { tx in
            (try tx.insert("households", ["cell": "C1", "head_name": "moving"]), try tx.insert("households", ["cell": "C2", "head_name": "other"]))
        }
        try world.sync("office")
        try world.sync("li")
        try world.replica("office").write { tx in
            try tx.update("households", other, ["phone": "1"])
            try tx.update("households", moving, ["cell": "C2"])
        }
        try world.sync("office")
        try world.replica("li").write { try $0.update("households", moving, ["phone": "13800000000"]) }
        try world.hub.setCells(device: "li", cells: ["C2"], actor: "operator-1")
        for _ in 0..<20 {
            let request = try world.replica("li").nextSyncRequest(pullOpsMax: 1)
            let response = try world.exchange("li", request)
            try world.replica("li").ingest(response, for: request)
            if !response.more && request.push.isEmpty { break }
        }
        #expect(try world.replica("li").record("households", moving)?["phone"] == "13800000000")
        #expect(try world.replica("li").digest(cell: "C2") == world.hub.replica.digest(cell: "C2"))
    }

    /// Seed 1290. Li created a household in C1 and then lost C1 (the record left her device with
    /// her own operations). A colleague moved the household to C2, which Li serves. Its history
    /// copied under C2 left out Li's own operations (devices never get their own back), and a
    /// small page cut it after the creation, which names C1, so the record was let go again:
    /// Li ended with a torso (no head name) that FieldKit could not read, until a verification
    /// happened to pull the cell again (so the exchanges here do not verify).
    @Test func aRecordMovingIntoADevicesCellArrivesWholeWithTheDevicesOwnOperations() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1", "C2"], index: 1)
        try world.enroll("zhao", cells: ["C1", "C2"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "张伟", "phone": "1"]) }
        try world.replica("li").write { try $0.increment("households", id, "visit_count") }
        try world.sync("li")
        try world.hub.setCells(device: "li", cells: ["C2"], actor: "operator-1")
        try world.sync("li")
        #expect(try world.replica("li").record("households", id) == nil)
        try world.sync("zhao")
        try world.replica("zhao").write { try $0.update("households", id, ["cell": "C2"]) }
        try world.sync("zhao")
        for _ in 0..<20 {
            let request = try world.replica("li").nextSyncRequest(pullOpsMax: 1)
            let response = try world.exchange("li", request)
            try world.replica("li").ingest(response, for: request)
            if !response.more { break }
        }
        let record = try #require(try world.replica("li").record("households", id))
        #expect(record["head_name"] == "张伟" && record["phone"] == "1" && record["visit_count"] == 1 && record["cell"] == "C2")
        #expect(try world.replica("li").digest(cell: "C2") == world.hub.replica.digest(cell: "C2"))
    }

    /// Seed 7340095. Two collectors whose clocks ran an hour ahead registered the same plate
    /// offline (one record: the code is its natural key); the hub held both registrations. An
    /// operator released Li's later edit of the plate, not her registration, so the hub held a
    /// fragment of the plate (no code, no cell). Zhao's first sync acknowledged his registration
    /// (held) and, in the same reply, brought that fragment in the snapshot of the pseudo-cell
    /// "": installing it replaced his state of the plate with the hub's and merged again only his
    /// unacknowledged edit, dropping his own registration. His device then held a doorplate
    /// without a code, which FieldKit could not read or edit ("The doorplate code is empty" in
    /// the simulator), and it let the plate go once the edit was pushed.
    @Test func aSnapshotKeepsTheDevicesOwnHeldRegistrationOfARecord() throws {
        var world = try World(schema: FieldModel.schema)
        try world.enroll("li", cells: ["JS-0001"], index: 1, clockMillis: HubSyncTests.epoch + Self.hour)
        try world.enroll("zhao", cells: ["JS-0001"], index: 2, clockMillis: HubSyncTests.epoch + Self.hour)
        let li = FieldStore(replica: world.replica("li"), clock: world.devices["li"]!.clock)
        let zhao = FieldStore(replica: world.replica("zhao"), clock: world.devices["zhao"]!.clock)
        let code = try DoorplateCode(parsing: "JS0001-00002")
        try li.addDoorplate(DoorplateDraft(code: code, address: Address(street: "幸福路")))
        try li.updateDoorplate(code) { $0.notes = "li's note" }
        #expect(try world.sync("li").held.count == 2)
        let liEdit = try #require(try world.hub.reviewItems(kind: .quarantine).compactMap(\.held).map(\.operation.id).max { $0.seq < $1.seq })
        try world.hub.release(liEdit, actor: "operator-1")
        let id = try world.hub.replica.naturalID(FieldModel.doorplates, ["code": .text(code.canonical)])
        let fragment = try #require(try world.hub.replica.record(FieldModel.doorplates, id))
        #expect(fragment["code"] == .null && fragment["notes"] == "li's note", "the hub holds the edit without the registration")
        try zhao.addDoorplate(DoorplateDraft(code: code, address: Address(street: "卫星路")))
        try zhao.updateDoorplate(code) { $0.notes = "zhao's note" }
        let request = try world.replica("zhao").nextSyncRequest(pushOpsMax: 1)
        let response = try world.exchange("zhao", request)
        #expect(response.held.map(\.op.seq) == [1] && response.snapshots[""]?.records.count == 1)
        try world.replica("zhao").ingest(response, for: request)
        let plate = try #require(try zhao.doorplate(code), "Zhao's own registration stays on his device")
        #expect(plate.code == code && plate.cell.id == "JS-0001" && plate.address.street == "卫星路" && plate.details.notes == "zhao's note")
        try zhao.updateDoorplate(code) { $0.status = .installed }
        // Without verification, which would make his cell the hub's (where the plate is held).
        #expect(try world.sync("zhao", verify: false).held.count == 2)
        #expect(try zhao.doorplate(code)?.status == .installed, "the plate stays on his device once his edits are pushed")
    }
}
