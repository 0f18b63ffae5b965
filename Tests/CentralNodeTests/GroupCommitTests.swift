import FieldKit
import Foundation
import Synchronization
import Testing
@testable import CentralNode
@testable import SyncKit

/// A file-backed district node (a reader pool and the group-committing writer), removed after.
private final class FileNode {
    let dir: URL
    let hub: Hub

    init(limits: HubLimits = HubLimits()) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        hub = try Hub.open(path: dir.appendingPathComponent("central.db").path, schema: FieldModel.schema, limits: limits)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Holds the writer (an operator's transaction) until `release` is signalled, from a thread
    /// of its own; returns once the writer is held.
    func holdWriter(until release: DispatchSemaphore) {
        let held = DispatchSemaphore(value: 0)
        let hub = self.hub
        Thread {
            _ = try? hub.write(actor: "operator-1", action: "hold", detail: "test") {
                held.signal()
                _ = release.wait(timeout: .now() + 300)
            }
        }.start()
        held.wait()
    }
}

private struct Refused: Error {}

/// Pushes of several devices share the writer's transactions, each with its own answer.
struct GroupCommitTests {
    @Test func pushesThatWaitForTheWriterAreCommittedTogetherEachWithItsOwnAnswer() async throws {
        let node = try FileNode()
        let hub = node.hub
        let count = 12
        var tokens: [String] = []
        for index in 0..<count { tokens.append(try hub.enroll(device: "tablet-\(index)", cells: ["JS-0401"], actor: "operator-1").token) }
        let release = DispatchSemaphore(value: 0)
        node.holdWriter(until: release)
        // Every device pushes while the writer is held; device 5 skips its first operation.
        // Device 0 comes first and leads the next transaction (it waits for the held writer);
        // the others queue behind it.
        let results = Mutex<[Int: Result<SyncResponse, any Error>]>([:])
        let pushed = Mutex<[Int: [Op]]>([:])
        for index in 0..<count {
            if index == 1 { #expect(await eventually { hub.writer.isWriting }) }
            let replica = ReplicaID(high: 100, low: UInt64(index))
            let ops = [try householdOp(replica, seq: 1, name: "户主\(index)"), try householdOp(replica, seq: 2, name: "户主\(index)乙")]
            let push = index == 5 ? [ops[1]] : ops
            pushed.withLock { $0[index] = push }
            let token = tokens[index]
            Thread {
                let result = Result { try hub.handle(SyncRequest(device: replica, cursors: [:], push: push), token: token) }
                results.withLock { $0[index] = result }
            }.start()
        }
        #expect(await eventually { hub.writer.waiting == count - 1 })
        release.signal()
        #expect(await eventually { results.withLock { $0.count } == count })
        let answers = results.withLock { $0 }
        for index in 0..<count {
            switch answers[index]! {
            case .success(let response):
                #expect(index != 5, "device 5's push skipped its operation 1 and was accepted")
                #expect(response.acceptedThroughSeq == 2 && response.held.isEmpty)
            case .failure(let error):
                #expect(index == 5 && (error as? HubRefusal)?.code == "sequenceGap", "device \(index): \(error)")
            }
        }
        // Every accepted operation is applied and logged; nothing of the refused push is, not
        // even its token's binding (it was part of the refused push's savepoint).
        let all = pushed.withLock { $0 }
        for index in 0..<count {
            for op in all[index]! {
                let stored = try hub.replica.record(FieldModel.households, op.entity) != nil
                #expect(stored == (index != 5), "device \(index) operation \(op.id.seq)")
            }
        }
        let logged = try hub.replica.withConnection { try $0.scalar("SELECT count(*) FROM central_log")?.int }
        #expect(logged == Int64(2 * (count - 1)))
        #expect(try hub.devices().first { $0.name == "tablet-5" }?.replica == nil)
        // Two transactions: the leader's own push, then the eleven that queued.
        let figures = hub.writerFigures
        #expect(figures.pushes == count && figures.largestBatch == count - 1 && figures.batches == 2)
        // The refused device pushes again from its first operation and is accepted.
        let replica5 = ReplicaID(high: 100, low: 5)
        let again = try hub.handle(SyncRequest(device: replica5, cursors: [:], push: [try householdOp(replica5, seq: 1), all[5]![0]]), token: tokens[5])
        #expect(again.acceptedThroughSeq == 2)
    }

    @Test func aJobThatFailsUndoesOnlyWhatItWrote() async throws {
        let node = try FileNode()
        let hub = node.hub
        let release = DispatchSemaphore(value: 0)
        node.holdWriter(until: release)
        let done = Mutex<[String: Bool]>([:])
        for name in ["a", "b", "c"] {
            Thread {
                let ok = (try? hub.writer.submit { access -> Void in
                    try access.db.cached("INSERT INTO central_audit(at_millis, actor, action, detail) VALUES (0, ?, 'part', '')").run([.text(name)])
                    // A new replica registered in the directory, then undone: the engine's memory must forget it.
                    _ = try access.apply(try householdOp(ReplicaID(high: 200, low: UInt64(name.unicodeScalars.first!.value)), seq: 1))
                    if name == "b" { throw Refused() }
                }) != nil
                done.withLock { $0[name] = ok }
            }.start()
        }
        #expect(await eventually { hub.writer.waiting == 2 })
        release.signal()
        #expect(await eventually { done.withLock { $0.count } == 3 })
        #expect(done.withLock { $0 } == ["a": true, "b": false, "c": true])
        let actors = try hub.replica.withConnection { db -> [String] in
            let select = try db.prepare("SELECT actor FROM central_audit WHERE action = 'part' ORDER BY actor")
            var names: [String] = []
            while try select.step() { names.append(select.text(at: 0)) }
            return names
        }
        #expect(actors == ["a", "c"])
        // b's replica is unknown again, in the file and in the writer's memory: a later operation
        // of it is registered afresh and stored (a stale index would break the log's reference).
        let b = ReplicaID(high: 200, low: UInt64(("b" as Unicode.Scalar).value))
        let outcome = try hub.replica.centralTransaction { access in try access.apply(try householdOp(b, seq: 1)) }
        #expect(outcome == .applied)
        let orphans = try hub.replica.withConnection { try $0.scalar("SELECT count(*) FROM _fs_op WHERE replica NOT IN (SELECT idx FROM _fs_replica)")?.int }
        #expect(orphans == 0)
    }

    @Test func aPushBeyondTheWritersQueueIsTurnedAwayWith503AndRetryAfter() async throws {
        var limits = HubLimits()
        limits.pushesWaitingMax = 1
        let node = try FileNode(limits: limits)
        let hub = node.hub
        let server = try HTTPServer.start(HTTPServer.Configuration(host: "127.0.0.1", port: 0), router: HubService(hub: hub).router)
        defer { Task { await server.stop() } }
        var tokens: [String] = []
        for name in ["a", "b", "c"] { tokens.append(try hub.enroll(device: name, cells: ["JS-0401"], actor: "operator-1").token) }
        let release = DispatchSemaphore(value: 0)
        node.holdWriter(until: release)
        let bodies = try (0..<3).map { index -> Data in
            let replica = ReplicaID(high: 300, low: UInt64(index))
            return try SyncProtocol.encode(SyncRequest(device: replica, cursors: [:], push: [try householdOp(replica, seq: 1)]))
        }
        let headers = tokens.map { ["Authorization": "Bearer \($0)"] }
        // a leads (waits for the held writer), b waits in the queue, c finds it full.
        let first = Task { [bodies, headers] in try await fetch(server, "/v1/sync", method: "POST", body: bodies[0], headers: headers[0]) }
        #expect(await eventually { hub.writer.isWriting })
        let second = Task { [bodies, headers] in try await fetch(server, "/v1/sync", method: "POST", body: bodies[1], headers: headers[1]) }
        #expect(await eventually { hub.writer.waiting == 1 })
        let third = try await fetch(server, "/v1/sync", method: "POST", body: bodies[2], headers: headers[2])
        #expect(third.status == 503)
        #expect(errorCode(third) == "overloaded")
        #expect(Int(third.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(hub.writerFigures.turnedAway == 1)
        release.signal()
        #expect(try await first.value.status == 200)
        #expect(try await second.value.status == 200)
        // Nothing of the turned-away push was stored; it goes through once there is room.
        #expect(try hub.devices().first { $0.name == "c" }?.replica == nil)
        let retried = try await fetch(server, "/v1/sync", method: "POST", body: bodies[2], headers: headers[2])
        #expect(retried.status == 200)
    }

    /// Eight devices push at once for 25 rounds each, through the real writer: some pushes skip
    /// an operation (refused whole), some resend earlier ones (duplicates), the rest are new.
    /// Whatever the interleaving, the node holds exactly what it answered it took: every accepted
    /// operation applied and logged once, nothing of a refused push, each device's accepted
    /// number its last accepted operation. The inputs are seeded (FIELDSYNC_SEED replays them);
    /// the interleaving is the machine's.
    @Test func concurrentPushesWithRefusalsLeaveExactlyWhatWasAccepted() async throws {
        let seed = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 0x6C0_0001
        let node = try FileNode()
        let hub = node.hub
        let devices = 8, rounds = 25
        var tokens: [String] = []
        for index in 0..<devices { tokens.append(try hub.enroll(device: "tablet-\(index)", cells: ["JS-0401"], actor: "operator-1").token) }
        // Per device: the operations it believes accepted, and the refusals it was told of.
        let outcomes = Mutex<[Int: (accepted: [Op], refused: [Op], failures: [String])]>([:])
        let done = Mutex(0)
        for index in 0..<devices {
            let token = tokens[index]
            Thread {
                var random = SplitMix64(seed: seed &+ UInt64(index))
                let replica = ReplicaID(high: 500, low: UInt64(index))
                var accepted: [Op] = [], refused: [Op] = [], failures: [String] = []
                var next: UInt64 = 1
                for _ in 0..<rounds {
                    let count = Int.random(in: 1...4, using: &random)
                    var push = (0..<count).compactMap { n in try? householdOp(replica, seq: next + UInt64(n), name: "户\(index)-\(next + UInt64(n))") }
                    // A gap: the push leaves out its first new operation (and still carries others).
                    let gap = count >= 2 && Int.random(in: 0..<4, using: &random) == 0
                    if gap { push.removeFirst() }
                    if !accepted.isEmpty, Int.random(in: 0..<3, using: &random) == 0 { push.insert(accepted.last!, at: 0) }
                    do {
                        let response = try hub.handle(SyncRequest(device: replica, cursors: [:], push: push), token: token)
                        if gap { failures.append("a push with a gap was accepted through \(response.acceptedThroughSeq)") }
                        accepted += push.filter { $0.id.seq >= next }
                        next += UInt64(count)
                        if response.acceptedThroughSeq != next - 1 { failures.append("accepted through \(response.acceptedThroughSeq), expected \(next - 1)") }
                    } catch let refusal as HubRefusal where gap && refusal.code == "sequenceGap" {
                        refused += push.filter { $0.id.seq >= next }
                    } catch {
                        failures.append("round failed: \(error)")
                    }
                }
                outcomes.withLock { $0[index] = (accepted, refused, failures) }
                done.withLock { $0 += 1 }
            }.start()
        }
        #expect(await eventually { done.withLock { $0 } == devices })
        let all = outcomes.withLock { $0 }
        var acceptedCount = 0
        for index in 0..<devices {
            let (accepted, refused, failures) = all[index]!
            #expect(failures.isEmpty, "device \(index): \(failures) (FIELDSYNC_SEED=\(seed))")
            acceptedCount += accepted.count
            for op in accepted { #expect(try hub.replica.record(FieldModel.households, op.entity) != nil, "FIELDSYNC_SEED=\(seed)") }
            for op in refused { #expect(try hub.replica.record(FieldModel.households, op.entity) == nil, "FIELDSYNC_SEED=\(seed)") }
            let device = try #require(try hub.devices().first { $0.name == "tablet-\(index)" })
            #expect(device.replica == ReplicaID(high: 500, low: UInt64(index)))
        }
        let logged = try hub.replica.withConnection { db -> (rows: Int64, distinct: Int64) in
            (try db.scalar("SELECT count(*) FROM central_log")?.int ?? -1,
             try db.scalar("SELECT count(*) FROM (SELECT DISTINCT replica, seq FROM central_log)")?.int ?? -1)
        }
        #expect(logged.rows == Int64(acceptedCount) && logged.distinct == Int64(acceptedCount), "FIELDSYNC_SEED=\(seed)")
        #expect(hub.writerFigures.pushes == devices * rounds)
    }

    @Test func aReadBeyondTheReadersQueueIsTurnedAway() throws {
        var limits = HubLimits()
        limits.readersMax = 1
        limits.readsWaitingMax = 0
        let node = try FileNode(limits: limits)
        let hub = node.hub
        let token = try hub.enroll(device: "li", cells: ["JS-0401"], actor: "operator-1").token
        // The one reader is busy with a read that itself asks for another.
        let nested = Result { try hub.read { _ in try hub.snapshot(cell: "JS-0401", after: nil, token: token) } }
        guard case .failure(let error) = nested, let busy = error as? HubBusy else {
            Issue.record("a read with every reader busy and no room to wait was not turned away: \(nested)")
            return
        }
        #expect(busy.retryAfterSeconds >= 1)
        #expect(try hub.snapshot(cell: "JS-0401", after: nil, token: token).records.isEmpty)
    }
}
