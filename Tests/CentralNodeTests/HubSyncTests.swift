import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// The sync protocol end to end, in one process: devices and a hub exchanging messages through
/// their canonical JSON (as HTTP would carry them), with cut connections and scope changes.
struct HubSyncTests {
    static let schema = try! Schema([
        CollectionSchema("households", cellField: "cell", fields: [
            .text("cell"), .text("head_name", review: true), .text("phone", review: true), .counter("visit_count"), .set("tags"),
        ]),
    ])
    static let epoch: Int64 = 1_767_225_600_000

    struct World {
        let hub: Hub
        let clock: ManualClock
        /// The hub's and every device's schema (FieldKit's model for scenarios that read through FieldKit).
        let schema: Schema
        var devices: [String: (replica: Replica, token: String, clock: ManualClock)] = [:]

        init(schema: Schema = HubSyncTests.schema, path: String = ":memory:") throws {
            self.schema = schema
            clock = ManualClock(millis: HubSyncTests.epoch)
            var options = ReplicaOptions()
            options.clock = clock
            options.replicaID = ReplicaID(high: 0xC0FFEE, low: 1)
            hub = try Hub.open(path: path, schema: schema, options: options)
        }

        mutating func enroll(_ name: String, cells: [String], index: UInt64, clockMillis: Int64? = nil, path: String = ":memory:") throws {
            let enrollment = try hub.enroll(device: name, cells: cells, actor: "operator-1")
            let deviceClock = ManualClock(millis: clockMillis ?? HubSyncTests.epoch)
            var options = ReplicaOptions()
            options.clock = deviceClock
            options.replicaID = ReplicaID(high: index, low: index)
            options.randomSeed = index
            devices[name] = (try Replica.open(path: path, schema: schema, options: options), enrollment.token, deviceClock)
        }

        func replica(_ name: String) -> Replica { devices[name]!.replica }

        /// One exchange through canonical JSON, as the HTTP service answers it (the log's bytes
        /// of each pulled operation spliced into the reply). A pull is answered a second time
        /// through `handle` (decoded operations, encoded again): the two replies must be the
        /// same bytes, in every scenario of these tests.
        func exchange(_ name: String, _ request: SyncRequest) throws -> SyncResponse {
            let wire = try SyncProtocol.decode(SyncRequest.self, from: SyncProtocol.encode(request))
            let (reply, summary) = try hub.handleEncoded(wire, token: devices[name]!.token)
            let response = try SyncProtocol.decode(SyncResponse.self, from: reply)
            #expect(summary.pulled == response.ops.count && summary.held == response.held.count)
            if wire.push.isEmpty {
                let again = try SyncProtocol.encode(try hub.handle(wire, token: devices[name]!.token))
                #expect(again == reply, "a spliced reply differs from the same reply encoded from decoded operations")
            }
            return response
        }

        @discardableResult
        func sync(_ name: String, pushOpsMax: Int = SyncProtocol.pushOpsMax, pullOpsMax: Int = SyncProtocol.pageOpsMax,
                  verify: Bool = true) throws -> SyncSession.Progress {
            try SyncSession(replica: replica(name), pushOpsMax: pushOpsMax, pullOpsMax: pullOpsMax, verify: verify).run { try exchange(name, $0) }
        }
    }

    @Test func twoDevicesConvergeThroughTheHub() throws {
        var world = try World()
        try world.enroll("li", cells: ["JS-0412"], index: 1)
        try world.enroll("zhao", cells: ["JS-0412"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "JS-0412", "head_name": "张伟", "phone": "1"]) }
        try world.sync("li")
        try world.sync("zhao")
        try world.replica("li").write { try $0.update("households", id, ["phone": "2"]) }
        try world.replica("zhao").write { tx in try tx.update("households", id, ["phone": "3"]); try tx.increment("households", id, "visit_count") }
        try world.sync("li"); try world.sync("zhao"); try world.sync("li")
        let digest = try world.hub.replica.digest(cell: "JS-0412")
        #expect(try world.replica("li").digest(cell: "JS-0412") == digest)
        #expect(try world.replica("zhao").digest(cell: "JS-0412") == digest)
        #expect(try world.replica("li").conflicts().map(\.field) == ["phone"])
        #expect(try world.replica("li").unsyncedCount() == 0)
        #expect(try world.hub.audit().map(\.action) == ["enroll", "enroll"])
    }

    @Test func aSyncCutAtAnyPointResumesWithoutLossOrDoubleApplication() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("zhao").write { try $0.insert("households", ["cell": "C1"]) }
        try world.sync("zhao")
        try world.sync("li")
        for _ in 0..<30 { try world.replica("li").write { try $0.increment("households", id, "visit_count") } }
        // The reply is lost on the way back, three times: the hub stored the pushes, the device
        // never heard. Each retry pushes the same ops again (harmless) and resumes the pull.
        for _ in 0..<3 {
            let request = try world.replica("li").nextSyncRequest(pushOpsMax: 10, pullOpsMax: 5)
            _ = try world.exchange("li", request)
        }
        try world.sync("li", pushOpsMax: 7, pullOpsMax: 3)
        try world.sync("zhao", pullOpsMax: 4)
        #expect(try world.replica("zhao").record("households", id)?["visit_count"] == 30)
        #expect(try world.hub.replica.record("households", id)?["visit_count"] == 30)
        #expect(try world.replica("li").unsyncedCount() == 0)
        #expect(try world.replica("zhao").digest() == world.replica("li").digest())
    }

    @Test func pagesBringLargeBacklogsDownInBoundedSteps() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1", "C2"], index: 1)
        try world.enroll("zhao", cells: ["C1", "C2"], index: 2)
        try world.enroll("wang", cells: ["C1", "C2"], index: 3)
        try world.sync("zhao")
        try world.replica("li").write { tx in
            for n in 0..<250 { try tx.insert("households", ["cell": n % 2 == 0 ? "C1" : "C2", "head_name": .text("n\(n)")]) }
        }
        try world.sync("li", pushOpsMax: 100)
        // A device already synced takes the new operations from the log, page by page.
        let progress = try world.sync("zhao", pullOpsMax: 40)
        #expect(progress.opsDown == 250 && progress.recordsDown == 0)
        #expect(progress.rounds >= 7)
        #expect(try world.replica("zhao").digest() == world.hub.replica.digest())
        // A device starting its cells takes them as snapshots of state, page by page too.
        let fresh = try world.sync("wang", pullOpsMax: 40)
        #expect(fresh.recordsDown == 250 && fresh.opsDown == 0)
        #expect(fresh.rounds >= 7)
        #expect(try world.replica("wang").digest() == world.hub.replica.digest())
    }

    @Test func devicesPullOnlyTheirCellsAndWritesElsewhereAreHeldForOperators() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C2"], index: 2)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "mine"]) }
        try world.sync("li")
        try world.replica("zhao").write { tx in
            try tx.insert("households", ["cell": "C2", "head_name": "zhao's"])
            try tx.insert("households", ["cell": "C1", "head_name": "intruder"])   // a cell zhao does not serve
        }
        let zhaoSync = try world.sync("zhao")
        // The operation into a cell zhao never served is held for the operators, and says why;
        // it does not block zhao's other work, which goes through.
        #expect(zhaoSync.refusal == nil && zhaoSync.unsynced == 0)
        #expect(zhaoSync.held.map(\.reason) == ["outOfScope"])
        #expect(zhaoSync.held.first?.detail?.contains("to cell C1, which device zhao does not serve") == true)
        #expect(try world.hub.replica.records("households", cell: "C1").map { $0["head_name"] } == ["mine"])
        #expect(try world.hub.replica.records("households", cell: "C2").map { $0["head_name"] } == ["zhao's"])
        let queued = try world.hub.reviewItems(kind: .quarantine)
        #expect(queued.map(\.held?.reason) == [.outOfScope])
        // Pull filtering: li never receives zhao's cell, nor the held record.
        try world.sync("li")
        #expect(try world.replica("li").records("households").map { $0["head_name"] } == ["mine"])
        // An operator releases the held record and gives zhao cell C1: both devices hold it.
        try world.hub.release(try #require(queued.first?.held?.operation.id), actor: "operator-1")
        try world.hub.setCells(device: "zhao", cells: ["C1", "C2"], actor: "operator-1")
        try world.sync("li")
        let retry = try world.sync("zhao")
        #expect(retry.refusal == nil && retry.unsynced == 0)
        #expect(Set(try world.replica("li").records("households").map { $0["head_name"] }) == ["mine", "intruder"])
        #expect(try world.replica("zhao").digest() == world.hub.replica.digest())
    }

    @Test func anOperationThatBreaksTheSchemaIsHeldAndTheDeviceGoesOn() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        let good = try world.replica("li").write { try $0.insert("households", ["cell": "C1"]) }
        let bad = Op(id: OpID(replica: world.replica("li").id, seq: 2), hlc: HLCTimestamp(millis: UInt64(HubSyncTests.epoch), counter: 9),
                     collection: "households", entity: good, assignments: [Assignment(field: "no_such_field", change: .set(1, prev: []))])
        let request = SyncRequest(device: world.replica("li").id, cursors: [:], push: try world.replica("li").outbox() + [bad])
        let response = try world.hub.handle(request, token: world.devices["li"]!.token)
        // Acknowledged (the device stops pushing it), listed with the reason, never applied.
        #expect(response.acceptedThroughSeq == 2)
        #expect(response.held.map(\.op) == [bad.id] && response.held.first?.reason == "unknownSchema")
        #expect(response.held.first?.detail?.contains("no_such_field") == true)
        #expect(try world.hub.replica.records("households").map(\.id) == [good])
        #expect(try world.hub.replica.quarantined().map(\.operation.id) == [bad.id])
        // The next operation of the device goes through as usual.
        let next = Op(id: OpID(replica: world.replica("li").id, seq: 3), hlc: HLCTimestamp(millis: UInt64(HubSyncTests.epoch), counter: 10),
                      collection: "households", entity: good, assignments: [Assignment(field: "head_name", change: .set("after", prev: []))])
        let later = try world.hub.handle(SyncRequest(device: world.replica("li").id, cursors: [:], push: [next]), token: world.devices["li"]!.token)
        #expect(later.acceptedThroughSeq == 3 && later.held.isEmpty)
        #expect(try world.hub.replica.record("households", good)?["head_name"] == "after")
    }

    @Test func aRevokedDeviceIsRefusedAndItsLaterWritesReachNoOne() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("lost", cells: ["C1"], index: 2)
        try world.sync("lost")
        try world.hub.revoke(device: "lost", actor: "operator-1")
        try world.replica("lost").write { try $0.insert("households", ["cell": "C1", "head_name": "after revocation"]) }
        let error = #expect(throws: HubRefusal.self) { try world.sync("lost") }
        #expect(error?.status == 401)
        #expect(error?.reply.code == "revoked")
        try world.sync("li")
        #expect(try world.replica("li").records("households").isEmpty)
        #expect(try world.hub.replica.records("households").isEmpty)
        #expect(try world.hub.audit().last?.action == "revoke")
    }

    @Test func anUnknownTokenIsRefusedWithAClearMessage() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        let request = try world.replica("li").nextSyncRequest()
        let error = #expect(throws: HubRefusal.self) { try world.hub.handle(request, token: "not-a-token") }
        #expect(error?.status == 401)
        #expect(error?.reply.message.contains("enroll") == true)
    }

    @Test func aNewCellArrivesWholeAndALostCellLeavesExceptUnsyncedWork() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1"], index: 2)
        try world.replica("office").write { tx in
            try tx.insert("households", ["cell": "C1", "head_name": "one"])
            try tx.insert("households", ["cell": "C2", "head_name": "two"])
        }
        try world.sync("office")
        try world.sync("li")
        #expect(try world.replica("li").records("households").count == 1)
        // Li is given C2 as well: the whole cell comes down.
        try world.hub.setCells(device: "li", cells: ["C1", "C2"], actor: "operator-1")
        try world.sync("li")
        #expect(try world.replica("li").digest(cell: "C2") == world.hub.replica.digest(cell: "C2"))
        // Offline, Li edits a C1 household; meanwhile the office takes C1 away from Li.
        let c1 = try world.replica("li").records("households", cell: "C1")[0].id
        try world.replica("li").write { try $0.update("households", c1, ["phone": "done offline"]) }
        try world.hub.setCells(device: "li", cells: ["C2"], actor: "operator-1")
        try world.sync("li")
        // The work was pushed and applied centrally; then C1 left the device.
        #expect(try world.hub.replica.record("households", c1)?["phone"] == "done offline")
        #expect(try world.replica("li").records("households", cell: "C1").isEmpty)
        #expect(try world.replica("li").records("households", cell: "C2").count == 1)
        // Given back, C1 comes whole again (with Li's own earlier edit).
        try world.hub.setCells(device: "li", cells: ["C1", "C2"], actor: "operator-1")
        try world.sync("li")
        #expect(try world.replica("li").record("households", c1)?["phone"] == "done offline")
        #expect(try world.replica("li").digest() == world.hub.replica.digest())
    }

    @Test func aRecordMovedToAnotherCellReachesThatCellWholeAndLeavesTheOld() throws {
        var world = try World()
        try world.enroll("office", cells: ["C1", "C2"], index: 1)
        try world.enroll("li", cells: ["C1"], index: 2)
        try world.enroll("zhao", cells: ["C2"], index: 3)
        let id = try world.replica("office").write { try $0.insert("households", ["cell": "C1", "head_name": "moving"], elements: ["tags": ["x"]]) }
        try world.sync("office"); try world.sync("li"); try world.sync("zhao")
        try world.replica("li").write { try $0.increment("households", id, "visit_count") }
        try world.sync("li"); try world.sync("office")
        try world.replica("office").write { try $0.update("households", id, ["cell": "C2"]) }
        try world.sync("office"); try world.sync("li"); try world.sync("zhao")
        #expect(try world.replica("li").record("households", id) == nil)
        let moved = try #require(try world.replica("zhao").record("households", id))
        #expect(moved["visit_count"] == 1 && moved.elements("tags") == ["x"] && moved["head_name"] == "moving")
        #expect(try world.replica("zhao").digest(cell: "C2") == world.hub.replica.digest(cell: "C2"))
    }

    @Test func verificationFindsADivergedCellAndPullsItAgainWhole() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1", "C2"], index: 1)
        try world.enroll("office", cells: ["C1", "C2"], index: 2)
        try world.replica("office").write { tx in
            try tx.insert("households", ["cell": "C1", "head_name": "a"])
            try tx.insert("households", ["cell": "C2", "head_name": "b"])
        }
        try world.sync("office")
        let first = try world.sync("li")
        #expect(first.verified && first.resynced.isEmpty)
        // Damage Li's copy of cell C1 behind the engine's back (a bug, a bad restore).
        try world.replica("li").withConnection { try $0.execute("UPDATE households SET head_name = 'damaged' WHERE cell = 'C1'") }
        #expect(try world.replica("li").digest(cell: "C1") != world.hub.replica.digest(cell: "C1"))
        let repair = try world.sync("li")
        #expect(repair.resynced == ["C1"])
        #expect(repair.verified)
        #expect(try world.replica("li").digest() == world.hub.replica.digest())
    }

    @Test func aDeviceClockResetTo1970IsCorrectedByTheHubsTime() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1, clockMillis: 0)
        try world.sync("li")
        #expect(world.replica("li").clockOffsetMillis() == HubSyncTests.epoch)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1"]) }
        let op = try #require(try world.replica("li").operations().first { $0.entity == id })
        #expect(abs(Int64(op.hlc.millis) - HubSyncTests.epoch) < 1_000)
    }

    @Test func opsFromADeviceClockFarAheadAreHeldCentrallyNotSpread() throws {
        var world = try World()
        try world.enroll("fast", cells: ["C1"], index: 1, clockMillis: HubSyncTests.epoch + 3 * 86_400_000)
        try world.enroll("li", cells: ["C1"], index: 2)
        try world.replica("fast").write { try $0.insert("households", ["cell": "C1", "head_name": "from the future"]) }
        let progress = try world.sync("fast")
        #expect(progress.held.map(\.reason) == ["clockDrift"])
        try world.sync("li")
        #expect(try world.replica("li").records("households").isEmpty)
        #expect(try world.hub.replica.quarantined().map(\.reason) == [.clockDrift])
    }

    @Test func messagesOfAnotherProtocolVersionAreRefusedNamingBothVersions() throws {
        let json = #"{"protocol":2,"device":"000000000000000a000000000000000a","cursors":{},"push":[],"pullOpsMax":10}"#
        let error = #expect(throws: SyncError.self) { try SyncProtocol.decode(SyncRequest.self, from: Data(json.utf8)) }
        #expect(error?.message.contains("protocol version 2") == true)
        #expect(error?.message.contains("speaks version 1") == true)
        let missing = #expect(throws: SyncError.self) { try SyncProtocol.decode(SyncRequest.self, from: Data(#"{"protocol":1}"#.utf8)) }
        #expect(missing?.message.contains("missing key") == true)
    }
}

/// Syncs carried by hand: bundle files in both directions, through the same checks.
struct BundleTests {
    @Test func bundlesCarriedByHandSyncADeviceThatNeverHadANetwork() throws {
        var world = try HubSyncTests.World()
        try world.enroll("office", cells: ["C1"], index: 1)
        try world.enroll("village", cells: ["C1"], index: 2)
        try world.replica("office").write { try $0.insert("households", ["cell": "C1", "head_name": "from the office"]) }
        try world.sync("office")
        let id = try world.replica("village").write { try $0.insert("households", ["cell": "C1", "head_name": "from the village"]) }
        try world.replica("village").write { try $0.increment("households", id, "visit_count", by: 2) }
        // The USB stick goes to the office: imported twice by mistake, which is harmless.
        let stick = try world.replica("village").exportBundle()
        let first = try world.hub.importBundle(stick, device: "village", actor: "operator-1")
        _ = try world.hub.importBundle(stick, actor: "operator-1")
        #expect(first.response.acceptedThroughSeq == 2)
        #expect(try world.hub.replica.record("households", id)?["visit_count"] == 2)
        // And back: the reply bundle brings the office's record and acknowledges the village's.
        try world.replica("village").importBundle(first.reply)
        try world.replica("village").importBundle(first.reply)
        #expect(try world.replica("village").unsyncedCount() == 0)
        #expect(try world.replica("village").digest() == world.hub.replica.digest())
        // A later export for the device holds everything again; importing it changes nothing.
        let again = try world.hub.exportBundle(device: "village", actor: "operator-1")
        let report = try world.replica("village").importBundle(again)
        #expect(report.applied == 0)
        #expect(try world.hub.audit().map(\.action).suffix(3) == ["import-bundle", "import-bundle", "export-bundle"])
    }

    @Test func damagedOrForeignBundlesAreRefusedWithAClearMessage() throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        try world.replica("li").write { try $0.insert("households", ["cell": "C1", "head_name": "x"]) }
        let good = try world.replica("li").exportBundle()
        var damaged = good
        damaged[damaged.count - 3] ^= 0x01
        let cases: [(Data, String)] = [
            (damaged, "checksum mismatch"),
            (good.prefix(good.count - 10), "truncated"),
            (Data("hello\nworld\n".utf8), "not a FieldSync bundle"),
            (Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "FIELDSYNC-BUNDLE 1", with: "FIELDSYNC-BUNDLE 9").utf8), "format 9"),
        ]
        for (data, expected) in cases {
            let error = #expect(throws: SyncError.self) { try world.hub.importBundle(data, device: "li", actor: "op") }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "-") should say \(expected)")
        }
        // A device cannot import the central node's bundle of another device, nor its own push.
        let forLi = try world.hub.importBundle(good, device: "li", actor: "op").reply
        #expect(throws: SyncError.self) { try world.replica("zhao").importBundle(forLi) }
        #expect(throws: SyncError.self) { try world.replica("li").importBundle(good) }
        // Nothing was half-imported.
        #expect(try world.hub.replica.records("households").count == 1)
    }
}

/// A sync cut at every message boundary, and mid-body, resumes with nothing lost or doubled.
struct SyncCutTests {
    enum Cut: CaseIterable { case requestLost, replyLost, replyTruncated }

    @Test(arguments: Cut.allCases)
    func aSyncCutAtEveryExchangeResumesWithNothingLostOrDoubled(cut: Cut) throws {
        // Find how many exchanges the sync takes, then cut each one in turn, in a fresh world.
        var exchanges = 0
        repeat {
            var world = try HubSyncTests.World()
            try world.enroll("li", cells: ["C1"], index: 1)
            try world.enroll("zhao", cells: ["C1"], index: 2)
            let id = try world.replica("zhao").write { try $0.insert("households", ["cell": "C1"]) }
            try world.replica("zhao").write { tx in for _ in 0..<9 { try tx.increment("households", id, "visit_count") } }
            try world.sync("zhao")
            try world.sync("li")
            try world.replica("li").write { tx in
                for _ in 0..<7 { try tx.increment("households", id, "visit_count", by: 10) }
                try tx.add("households", id, "tags", "x")
            }
            var count = 0
            let cutAt = exchanges
            let session = SyncSession(replica: world.replica("li"), pushOpsMax: 3, pullOpsMax: 2)
            do {
                try session.run { request in
                    defer { count += 1 }
                    guard count == cutAt else { return try world.exchange("li", request) }
                    switch cut {
                    case .requestLost: throw SyncError(.unreachable, "cut before the request arrived")
                    case .replyLost:
                        _ = try world.exchange("li", request)
                        throw SyncError(.unreachable, "cut after the hub answered")
                    case .replyTruncated:
                        let body = try SyncProtocol.encode(try world.hub.handle(request, token: world.devices["li"]!.token))
                        return try SyncProtocol.decode(SyncResponse.self, from: body.prefix(body.count / 2))
                    }
                }
            } catch let error as SyncError where error.code == .unreachable || error.code == .invalidInput {
                // The cut: the next sync resumes.
            }
            if count <= cutAt { break }   // the sync finished before exchange `cutAt`: every boundary was cut
            try world.sync("li", pushOpsMax: 3, pullOpsMax: 2)
            try world.sync("zhao")
            #expect(try world.hub.replica.record("households", id)?["visit_count"] == 79, "cut \(cut) at exchange \(cutAt)")
            #expect(try world.replica("zhao").digest() == world.hub.replica.digest(), "cut \(cut) at exchange \(cutAt)")
            #expect(try world.replica("li").digest() == world.hub.replica.digest(), "cut \(cut) at exchange \(cutAt)")
            #expect(try world.replica("li").unsyncedCount() == 0)
            exchanges += 1
        } while exchanges < 50
        #expect(exchanges >= 4)   // the scenario really spans several exchanges
    }
}

/// The central node's review queue: conflicts and held operations, resolved by operators with
/// ordinary operations that reach every device, and audited.
struct ReviewQueueTests {
    @Test func aConflictResolvedCentrallyIsResolvedOnEveryDevice() throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.enroll("zhao", cells: ["C1"], index: 2)
        let id = try world.replica("li").write { try $0.insert("households", ["cell": "C1", "phone": "1"]) }
        try world.sync("li"); try world.sync("zhao")
        try world.replica("li").write { try $0.update("households", id, ["phone": "138"]) }
        try world.replica("zhao").write { try $0.update("households", id, ["phone": "139"]) }
        try world.sync("li"); try world.sync("zhao"); try world.sync("li")
        let items = try world.hub.reviewItems(kind: .conflict, cell: "C1")
        #expect(items.count == 1)
        let item = try #require(items.first)
        #expect(item.id == "households/\(id)/phone")
        let pick = try #require(item.conflict?.candidates.first { $0.value == "138" })
        #expect(try world.hub.reviewItems(cell: "C2").isEmpty)
        try world.hub.resolve(item.id, pick: pick.op, actor: "operator-1")
        try world.sync("li"); try world.sync("zhao")
        for name in ["li", "zhao"] {
            #expect(try world.replica(name).record("households", id)?["phone"] == "138")
            #expect(try world.replica(name).conflicts().isEmpty)
        }
        #expect(try world.hub.reviewItems().isEmpty)
        #expect(try world.hub.audit().last?.action == "resolve")
        #expect(throws: SyncError.self) { try world.hub.resolve("nonsense", pick: pick.op, actor: "operator-1") }
    }

    @Test func aHeldOperationReleasedByAnOperatorReachesTheDevices() throws {
        var world = try HubSyncTests.World()
        try world.enroll("fast", cells: ["C1"], index: 1, clockMillis: HubSyncTests.epoch + 86_400_000)
        try world.enroll("li", cells: ["C1"], index: 2)
        let id = try world.replica("fast").write { try $0.insert("households", ["cell": "C1", "head_name": "tomorrow"]) }
        try world.replica("fast").write { try $0.insert("households", ["cell": "C1", "head_name": "discarded"]) }
        try world.sync("fast")
        let held = try world.hub.reviewItems(kind: .quarantine)
        #expect(held.count == 2)
        try world.hub.release(try #require(OpID(held[0].id)), actor: "operator-1")
        try world.hub.discard(try #require(OpID(held[1].id)), actor: "operator-1")
        // The node's clock follows its own time, never the held operation's day-ahead stamp.
        #expect(world.hub.replica.clock.millis < UInt64(HubSyncTests.epoch + 600_000))
        #expect(try world.hub.reviewItems().isEmpty)
        try world.sync("li")
        #expect(try world.replica("li").records("households").map { $0["head_name"] } == ["tomorrow"])
        #expect(try world.replica("li").record("households", id) != nil)
        #expect(try world.replica("li").quarantined().isEmpty)   // re-stamped with the node's clock: accepted
        #expect(try world.replica("li").operations().allSatisfy { $0.hlc.millis < UInt64(HubSyncTests.epoch + 600_000) })
        #expect(try world.hub.audit().suffix(2).map(\.action) == ["release", "discard"])
    }
}

extension HubSyncTests {
    @Test func aPushOverTheBatchLimitIsRefusedWhole() throws {
        var world = try World()
        try world.enroll("li", cells: ["C1"], index: 1)
        try world.replica("li").write { tx in for n in 0...SyncProtocol.pushOpsMax { try tx.insert("households", ["cell": "C1", "head_name": .text("n\(n)")]) } }
        let request = try world.replica("li").nextSyncRequest(pushOpsMax: SyncProtocol.pushOpsMax + 1)
        let error = #expect(throws: HubRefusal.self) { try world.hub.handle(request, token: world.devices["li"]!.token) }
        #expect(error?.status == 413 && error?.code == "tooManyOps")
        #expect(try world.hub.replica.records("households").isEmpty)
    }
}
