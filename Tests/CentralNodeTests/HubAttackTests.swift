import FieldKit
import Foundation
import Synchronization
import Testing
@testable import CentralNode
@testable import SyncKit

/// A district's central node (FieldKit's schema) behind its real HTTP server, and a client that
/// writes its own messages, as an independent implementation or an attacker would.
struct AttackedNode {
    let hub: Hub
    let server: HTTPServer

    init(configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        hub = try Hub.open(path: ":memory:", schema: FieldModel.schema)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        server = try HTTPServer.start(configuration, router: HubService(hub: hub).router)
    }

    func enroll(_ name: String, cells: [String] = ["JS-0401"]) throws -> String {
        try hub.enroll(device: name, cells: cells, actor: "operator-1").token
    }

    /// `POST /v1/sync` with a request this client wrote itself.
    func sync(_ request: SyncRequest, token: String) async throws -> FetchedResponse {
        try await post(try SyncProtocol.encode(request), token: token)
    }

    func post(_ body: Data, token: String) async throws -> FetchedResponse {
        try await fetch(server, "/v1/sync", method: "POST", body: body, headers: ["Authorization": "Bearer \(token)"])
    }

    /// The node's state and every table of its own, to show a refusal changed nothing.
    func fingerprint() throws -> String {
        try hub.replica.withConnection { db in
            var parts: [String] = []
            for table in ["_fs_op", "_fs_quarantine", "_fs_replica", "central_log", "central_device"] {
                parts.append("\(table):\(try db.scalar("SELECT count(*) FROM \(table)")?.int ?? -1)")
            }
            return parts.joined(separator: " ")
        } + " " + (try hub.replica.digest())
    }
}

/// An operation as a client writes it: a new household in a cell.
func householdOp(_ replica: ReplicaID, seq: UInt64, entity: String? = nil, cell: String = "JS-0401", name: String = "张伟") throws -> Op {
    var generator = SystemRandomNumberGenerator()
    return Op(id: OpID(replica: replica, seq: seq), hlc: HLCTimestamp(millis: UInt64(Date().timeIntervalSince1970 * 1000), counter: 0),
       collection: FieldModel.households, entity: try entity.map(EntityID.init) ?? EntityID.random(using: &generator), assignments: [
        Assignment(field: Assignment.existenceField, change: .set(.bool(true), prev: [])),
        Assignment(field: "cell", change: .set(.text(cell), prev: [])),
        Assignment(field: "head_name", change: .set(.text(name), prev: [])),
       ])
}

func errorCode(_ response: FetchedResponse) -> String? {
    (try? SyncProtocol.decode(SyncErrorReply.self, from: response.body))?.code
}

/// Identities from outside: replica ids, operation ids and sequence numbers a device names.
struct DeviceIdentityTests {
    @Test func aDeviceCannotSyncAsTheCentralNodeAndTheOfficesImportsStillReachEveryone() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let mallory = try node.enroll("mallory")
        let nodeID = node.hub.replica.id
        let before = try node.fingerprint()
        // A fresh token claiming the node's own replica id, pushing "the node's" operation 2^63-1.
        let forged = try householdOp(nodeID, seq: UInt64(Int64.max))
        let claimed = try await node.sync(SyncRequest(device: nodeID, cursors: [:], push: [forged]), token: mallory)
        #expect(claimed.status == 403 && errorCode(claimed) == "tokenInUse", "\(claimed.status) \(claimed.text)")
        #expect(claimed.text.contains("central node's own"))
        #expect(try node.fingerprint() == before)
        #expect(try node.hub.devices().first { $0.name == "mallory" }?.replica == nil)
        // The same through a bundle carried to the office.
        let bundle = try Bundle.encode(.devicePush(SyncRequest(device: nodeID, cursors: [:], push: [forged])), createdMillis: 0)
        let viaBundle = #expect(throws: HubRefusal.self) { try node.hub.importBundle(bundle, device: "mallory", actor: "operator-1") }
        #expect(viaBundle?.code == "tokenInUse")
        #expect(try node.fingerprint() == before)

        // The office imports doorplates: its operations are numbered from 1 and reach a device.
        let csv = "code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes\r\n"
            + "JS0401-00001,JS-0401,金山区,金山大道,216号,1栋,1单元,,101室,,,,issued,,\r\n"
        let imported = try node.hub.importCSV(.doorplates, data: Data(csv.utf8), actor: "operator-1")
        #expect(imported.operations.map(\.seq) == [1])
        let device = try Replica.open(path: ":memory:", schema: FieldModel.schema)
        let transport = HTTPSyncTransport(baseURL: URL(string: "http://127.0.0.1:\(node.server.boundPort)")!, token: mallory, timeoutSeconds: 120)
        let progress = try await offPool { try SyncSession(replica: device).run(exchange: transport.exchange) }
        #expect(progress.recordsDown == 1 && progress.verified)
        #expect(try device.records(FieldModel.doorplates).map { $0["street"] } == ["金山大道"])
    }

    @Test func aBoundDeviceCannotPushOperationsOfAnotherReplica() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li")
        let li = ReplicaID(high: 7, low: 7)
        #expect(try await node.sync(SyncRequest(device: li, cursors: [:], push: [try householdOp(li, seq: 1)]), token: token).status == 200)
        let before = try node.fingerprint()
        for author in [node.hub.replica.id, ReplicaID(high: 8, low: 8)] {
            let response = try await node.sync(SyncRequest(device: li, cursors: [:], push: [try householdOp(author, seq: 2)]), token: token)
            #expect(response.status == 400 && errorCode(response) == "foreignOps")
        }
        #expect(try node.fingerprint() == before)
    }

    @Test func aFreshTokenClaimingAnotherDevicesReplicaIsRefusedNotAnInternalError() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let li = try node.enroll("li"), wang = try node.enroll("wang"), zhao = try node.enroll("zhao")
        let liReplica = ReplicaID(high: 1, low: 1)
        #expect(try await node.sync(SyncRequest(device: liReplica, cursors: [:], push: [try householdOp(liReplica, seq: 1)]), token: li).status == 200)
        let before = try node.fingerprint()
        let claimed = try await node.sync(SyncRequest(device: liReplica, cursors: [:], push: []), token: wang)
        #expect(claimed.status == 403 && errorCode(claimed) == "tokenInUse", "\(claimed.status) \(claimed.text)")
        #expect(claimed.text.contains("already syncs as device li"))
        // Revoking li does not free its replica id for another token either.
        try node.hub.revoke(device: "li", actor: "operator-1")
        let afterRevoke = try await node.sync(SyncRequest(device: liReplica, cursors: [:], push: []), token: zhao)
        #expect(afterRevoke.status == 403 && errorCode(afterRevoke) == "tokenInUse")
        #expect(try node.hub.devices().filter { $0.replica == liReplica }.map(\.name) == ["li"])
        _ = before
    }

    @Test func aPushWithASequenceGapIsRefusedAndCoversStayExact() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li")
        let li = ReplicaID(high: 3, low: 3)
        let entity = "HOUSEHOLD0000000000000001"
        let create = try householdOp(li, seq: 1, entity: entity)
        #expect(try await node.sync(SyncRequest(device: li, cursors: [:], push: [create]), token: token).status == 200)
        let second = Op(id: OpID(replica: li, seq: 2), hlc: HLCTimestamp(millis: create.hlc.millis + 1, counter: 0), collection: FieldModel.households,
                        entity: create.entity, assignments: [Assignment(field: "phone", change: .set("13800138000", prev: []))])
        let third = Op(id: OpID(replica: li, seq: 3), hlc: HLCTimestamp(millis: create.hlc.millis + 2, counter: 0), collection: FieldModel.households,
                       entity: create.entity, assignments: [Assignment(field: "notes", change: .set("third", prev: []))])
        let before = try node.fingerprint()
        // Operation 3 without 2: refused whole, nothing stored.
        let gap = try await node.sync(SyncRequest(device: li, cursors: [:], push: [third]), token: token)
        #expect(gap.status == 422 && errorCode(gap) == "sequenceGap", "\(gap.status) \(gap.text)")
        #expect(gap.text.contains("operation 2"))
        #expect(try node.fingerprint() == before)
        // In order, both go through, and acknowledged means every one through 3.
        let ordered = try await node.sync(SyncRequest(device: li, cursors: [:], push: [third, second]), token: token)
        #expect(ordered.status == 200)
        #expect(try SyncProtocol.decode(SyncResponse.self, from: ordered.body).acceptedThroughSeq == 3)
        // A device that takes the cell as a snapshot agrees with the node.
        let other = try node.enroll("wang")
        let device = try Replica.open(path: ":memory:", schema: FieldModel.schema)
        let transport = HTTPSyncTransport(baseURL: URL(string: "http://127.0.0.1:\(node.server.boundPort)")!, token: other, timeoutSeconds: 120)
        let progress = try await offPool { try SyncSession(replica: device).run(exchange: transport.exchange) }
        #expect(progress.verified)
        #expect(try device.digest(cell: "JS-0401") == node.hub.replica.digest(cell: "JS-0401"))
        #expect(try device.record(FieldModel.households, create.entity)?["notes"] == "third")
    }

    @Test func anOperationIDReusedWithOtherContentIsRefused() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li")
        let li = ReplicaID(high: 4, low: 4)
        let original = try householdOp(li, seq: 1, name: "original")
        #expect(try await node.sync(SyncRequest(device: li, cursors: [:], push: [original]), token: token).status == 200)
        let before = try node.fingerprint()
        // The same id again, unchanged: a harmless duplicate.
        #expect(try await node.sync(SyncRequest(device: li, cursors: [:], push: [original]), token: token).status == 200)
        #expect(try node.fingerprint() == before)
        // The same id for another record: refused, so the device knows.
        let reused = try householdOp(li, seq: 1, name: "another")
        let response = try await node.sync(SyncRequest(device: li, cursors: [:], push: [reused]), token: token)
        #expect(response.status == 422 && errorCode(response) == "invalid", "\(response.status) \(response.text)")
        #expect(response.text.contains("reuses sequence numbers"))
        #expect(try node.fingerprint() == before)
        // Twice in one push with different content: refused too.
        let twice = try await node.sync(SyncRequest(device: li, cursors: [:], push: [try householdOp(li, seq: 2, name: "a"), try householdOp(li, seq: 2, name: "b")]), token: token)
        #expect(twice.status == 422 && errorCode(twice) == "invalid")
        #expect(try node.fingerprint() == before)
    }

    @Test func aDoorplateWhoseIDDoesNotDeriveFromItsCodeIsRefusedWithTheReason() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li")
        let li = ReplicaID(high: 5, low: 5)
        let rightID = try node.hub.replica.naturalID(FieldModel.doorplates, ["code": "JS0401-00903"])
        func plate(_ seq: UInt64, entity: String, code: String) throws -> Op {
            Op(id: OpID(replica: li, seq: seq), hlc: HLCTimestamp(millis: UInt64(Date().timeIntervalSince1970 * 1000), counter: UInt64(seq)),
               collection: FieldModel.doorplates, entity: try EntityID(entity), assignments: [
                Assignment(field: Assignment.existenceField, change: .set(.bool(true), prev: [])),
                Assignment(field: "cell", change: .set("JS-0401", prev: [])),
                Assignment(field: "code", change: .set(.text(code), prev: [])),
                Assignment(field: "status", change: .set("issued", prev: [])),
               ])
        }
        let wrong = try plate(1, entity: "NOT-FROM-THE-CODE", code: "JS0401-00903")
        let lowered = try plate(2, entity: try node.hub.replica.naturalID(FieldModel.doorplates, ["code": "JS0401-00904"]).rawValue.lowercased(), code: "JS0401-00904")
        let right = try plate(3, entity: rightID.rawValue, code: "JS0401-00903")
        let response = try await node.sync(SyncRequest(device: li, cursors: [:], push: [wrong, lowered, right]), token: token)
        #expect(response.status == 200)
        let reply = try SyncProtocol.decode(SyncResponse.self, from: response.body)
        // Both are held for the operators with the reason, acknowledged, never applied.
        #expect(reply.acceptedThroughSeq == 3)
        #expect(reply.held.map(\.op) == [wrong.id, lowered.id] && reply.held.allSatisfy { $0.reason == "invalid" })
        #expect(reply.held.first?.detail?.contains("the record for its natural key (code) is \(rightID)") == true)
        #expect(try node.hub.replica.records(FieldModel.doorplates).map(\.id) == [rightID])
        // An operator cannot release such an operation into the node either.
        let release = #expect(throws: SyncError.self) { try node.hub.release(wrong.id, actor: "operator-1") }
        #expect(release?.message.contains("derives from its key") == true)
        #expect(try node.hub.replica.records(FieldModel.doorplates).map(\.id) == [rightID])
    }

    @Test func cellNamesOverHTTPAreReadAsTheCLIReadsThem() async throws {
        let node = try AttackedNode()
        defer { Task { await node.server.stop() } }
        let token = try node.enroll("li", cells: ["js0401"])
        #expect(try node.hub.devices().first?.cells == ["JS-0401"])
        let li = ReplicaID(high: 6, low: 6)
        #expect(try await node.sync(SyncRequest(device: li, cursors: [:], push: [try householdOp(li, seq: 1)]), token: token).status == 200)
        for spelling in ["js0401", "JS0401", "%EF%BD%8A%EF%BD%93-0401", "JS-0401"] {
            let page = try await fetch(node.server, "/v1/snapshot?cell=\(spelling)", headers: ["Authorization": "Bearer \(token)"])
            #expect(page.status == 200, "\(spelling): \(page.status) \(page.text)")
            #expect(try SyncProtocol.decode(CellSnapshot.self, from: page.body).records.count == 1, "\(spelling)")
        }
        // A sync request's cells too: a cursor for js0401 is the cursor of JS-0401.
        let reply = try SyncProtocol.decode(SyncResponse.self, from: try await node.sync(
            SyncRequest(device: li, cursors: ["js0401": 1, "": 1], push: []), token: token).body)
        #expect(reply.snapshots.isEmpty && reply.cursors["JS-0401"] != nil)
        let twice = try await node.sync(SyncRequest(device: li, cursors: ["js0401": 1, "JS-0401": 2], push: []), token: token)
        #expect(twice.status == 400 && twice.text.contains("twice"))
    }
}

/// A device whose operations the node will not all apply keeps syncing.
struct OneBadOperationTests {
    @Test func anOperationTheNodeCannotApplyIsSetAsideForTheOperatorsAndTheDeviceSyncsTheRest() async throws {
        var world = try HubSyncTests.World()
        try world.enroll("li", cells: ["C1"], index: 1)
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: world.hub).router)
        defer { Task { await server.stop() } }
        // A newer app on the tablet: its schema has a field the node does not know.
        let newer = try Schema([CollectionSchema("households", cellField: "cell", fields: [
            .text("cell"), .text("head_name", review: true), .text("phone", review: true), .counter("visit_count"), .set("tags"),
            .text("floor_note"),
        ])])
        var options = ReplicaOptions()
        options.replicaID = ReplicaID(high: 21, low: 21)
        options.clock = ManualClock(millis: HubSyncTests.epoch)
        let tablet = try Replica.open(path: ":memory:", schema: newer, options: options)
        let first = try tablet.write { try $0.insert("households", ["cell": "C1", "head_name": "first"]) }
        try tablet.write { try $0.update("households", first, ["floor_note": "3rd floor, left"]) }   // the node cannot apply this
        let second = try tablet.write { try $0.insert("households", ["cell": "C1", "head_name": "second"]) }
        let transport = HTTPSyncTransport(baseURL: URL(string: "http://127.0.0.1:\(server.boundPort)")!, token: world.devices["li"]!.token, timeoutSeconds: 120)
        let progress = try await offPool { try SyncSession(replica: tablet, verify: false).run(exchange: transport.exchange) }
        #expect(progress.refusal == nil && progress.unsynced == 0)
        #expect(progress.held.map(\.reason) == ["unknownSchema"])
        #expect(progress.held.first?.detail?.contains("floor_note") == true)
        #expect(Set(try world.hub.replica.records("households").map(\.id)) == [first, second])
        // The tablet remembers what the office has to decide, and why.
        let remembered = try tablet.heldByCentral()
        #expect(remembered.map(\.op) == [OpID(replica: tablet.id, seq: 2)] && remembered.first?.reason == "unknownSchema")
        #expect(remembered.first?.detail?.contains("floor_note") == true)
        // The operators see it; the tablet's later work goes through as usual.
        #expect(try world.hub.reviewItems(kind: .quarantine).map(\.held?.operation.id) == [OpID(replica: tablet.id, seq: 2)])
        try tablet.write { try $0.update("households", second, ["phone": "13800138000"]) }
        let later = try await offPool { try SyncSession(replica: tablet, verify: false).run(exchange: transport.exchange) }
        #expect(later.refusal == nil && later.unsynced == 0 && later.held.isEmpty)
        #expect(try world.hub.replica.record("households", second)?["phone"] == "13800138000")
    }
}

/// The node's reads run beside its writer.
struct ConcurrentExchangeTests {
    @Test func aPullOnlyExchangeIsAnsweredWhileTheWriterIsBusy() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-readers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = try Hub.open(path: dir.appendingPathComponent("central.db").path, schema: FieldModel.schema)
        #expect(hub.readers != nil)
        let token = try hub.enroll(device: "li", cells: ["JS-0401"], actor: "operator-1").token
        let li = ReplicaID(high: 31, low: 31)
        // A first exchange binds the token (a write).
        let first = try hub.handle(SyncRequest(device: li, cursors: [:], push: [try householdOp(li, seq: 1)]), token: token)
        #expect(first.acceptedThroughSeq == 1)
        // An operator's write holds the writer until the pull has been answered (or 300 s pass).
        let answered = DispatchSemaphore(value: 0)
        let writerHeld = DispatchSemaphore(value: 0)
        let writerGaveUp = Atomic<Bool>(false)
        let writer = Thread {
            _ = try? hub.write(actor: "operator-1", action: "hold", detail: "test") {
                writerHeld.signal()
                if answered.wait(timeout: .now() + 300) == .timedOut { writerGaveUp.store(true, ordering: .relaxed) }
            }
        }
        writer.start()
        writerHeld.wait()
        let cursors = first.cursors
        let reply = try await offPool { try hub.handle(SyncRequest(device: li, cursors: cursors, push: []), token: token) }
        answered.signal()
        let waited = writerGaveUp.load(ordering: .relaxed)
        #expect(!waited, "the pull waited for the writer")
        #expect(reply.cells == ["JS-0401"] && reply.acceptedThroughSeq == 1)
        // The device's last sync is known at once, although a pull writes nothing.
        #expect(try hub.devices().first?.lastSeenMillis != nil)
    }
}

/// Duplicate suspicion at the node runs after the writes that can make a pair.
struct DuplicateAfterPushTests {
    @Test func aHouseholdAnEditBringsBackFromDeletionIsComparedAgain() throws {
        let hub = try Hub.open(path: ":memory:", schema: FieldModel.schema)
        let zhao = try hub.enroll(device: "zhao", cells: ["JS-0401"], actor: "operator-1").token
        let li = try hub.enroll(device: "li", cells: ["JS-0401"], actor: "operator-1").token
        let z = ReplicaID(high: 41, low: 41), l = ReplicaID(high: 42, low: 42)
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        func create(_ id: OpID, _ entity: String) throws -> Op {
            Op(id: id, hlc: HLCTimestamp(millis: now, counter: id.seq), collection: FieldModel.households, entity: try EntityID(entity), assignments: [
                Assignment(field: Assignment.existenceField, change: .set(.bool(true), prev: [])),
                Assignment(field: "cell", change: .set("JS-0401", prev: [])),
                Assignment(field: "head_name", change: .set("张伟", prev: [])),
                Assignment(field: "head_name_key", change: .set("张伟", prev: [])),
            ])
        }
        // Zhao records a household and deletes it in one push; another like it was already there.
        let first = try create(OpID(replica: z, seq: 1), "HOUSEHOLDAAAAAAAAAAAAAAAA1")
        let second = try create(OpID(replica: z, seq: 2), "HOUSEHOLDBBBBBBBBBBBBBBBB2")
        let delete = Op(id: OpID(replica: z, seq: 3), hlc: HLCTimestamp(millis: now, counter: 3), collection: FieldModel.households,
                        entity: second.entity, assignments: [Assignment(field: Assignment.existenceField, change: .set(.bool(false), prev: [second.id]))])
        _ = try hub.handle(SyncRequest(device: z, cursors: [:], push: [first, second, delete]), token: zhao)
        #expect(try hub.reviewItems(kind: .duplicate).isEmpty)
        // Li, who had seen the household but not its deletion, corrects its phone: the edit keeps
        // it (an edit concurrent with a delete), and the pair is queued although the edit names
        // no field duplicate suspicion reads.
        let edit = Op(id: OpID(replica: l, seq: 1), hlc: HLCTimestamp(millis: now + 1, counter: 0), collection: FieldModel.households,
                      entity: second.entity, assignments: [
                        Assignment(field: Assignment.existenceField, change: .set(.bool(true), prev: [second.id])),
                        Assignment(field: "phone", change: .set("13800138000", prev: [])),
                      ])
        let reply = try hub.handle(SyncRequest(device: l, cursors: [:], push: [edit]), token: li)
        #expect(reply.held.isEmpty)
        #expect(try hub.replica.record(FieldModel.households, second.entity) != nil)
        let pairs = try hub.reviewItems(kind: .duplicate)
        #expect(pairs.count == 1 && Set([pairs.first?.duplicate?.firstID, pairs.first?.duplicate?.secondID]) == Set([first.entity, second.entity]))
        // A visit counted on a household raises nothing and scans nothing new.
        let visit = Op(id: OpID(replica: l, seq: 2), hlc: HLCTimestamp(millis: now + 2, counter: 0), collection: FieldModel.households,
                       entity: first.entity, assignments: [Assignment(field: "visit_count", change: .increment(1))])
        _ = try hub.handle(SyncRequest(device: l, cursors: [:], push: [visit]), token: li)
        #expect(try hub.reviewItems(kind: .duplicate).count == 1)
    }
}
