import CentralNode
import Foundation
import SyncKit

/// The fake network between each device and the hub, and bundle files carried by hand. Every
/// exchange goes through canonical JSON as HTTP would carry it; faults drop the request (the hub
/// never hears), drop the reply (the hub stored the push, the device never hears), or deliver
/// the reply twice.
extension Simulation {
    enum ExchangeOutcome {
        /// The reply arrived, in this order among the hub's replies.
        case done(SyncResponse, order: Int)
        case lost
        case refused(SyncRefusal)
    }

    /// A sync attempt: the real `SyncSession` over the faulty network, for a few exchanges, each
    /// of which may fail; the device gives up at the first loss (or crash) and tries again at a
    /// later step, with a new session that resumes from what the replica stored.
    func syncAction(_ device: SimDevice) throws {
        let endpoint = SimEndpoint(simulation: self, device: device)
        var session = SyncSession(endpoint: endpoint, verify: random.chance(config.verifyProbability))
        for _ in 0..<random.int(1...config.syncRoundsMax) {
            session.pushOpsMax = random.int(1...config.pageSizeMax)
            session.pullOpsMax = random.int(1...config.pageSizeMax)
            guard let request = try session.nextRequest() else { return }
            switch try exchange(device, request, faults: true) {
            case .lost:
                return
            case .refused(let refusal):
                do { try session.receive(refusal) } catch is SyncRefusal { return }
            case .done(let reply, let order):
                endpoint.order = order
                do { try session.receive(reply) } catch is SimEndpoint.Lost { return }
                if random.chance(config.duplicateReplyProbability) {
                    report.duplicatedReplies += 1
                    guard try ingest(reply, for: request, order: order, on: device) != nil else { return }
                }
            }
        }
    }

    /// One exchange of `request` through the hub with, when `faults`, the network's faults.
    func exchange(_ device: SimDevice, _ request: SyncRequest, faults: Bool) throws -> ExchangeOutcome {
        report.exchanges += 1
        if faults, step < device.partitionedUntilStep || random.chance(config.dropRequestProbability) {
            report.droppedRequests += 1
            return .lost
        }
        let wire = try SyncProtocol.decode(SyncRequest.self, from: SyncProtocol.encode(request))
        let handled: SyncResponse?
        do {
            handled = try onHub { try hub.handle(wire, token: device.token) }
        } catch let refusal as SyncRefusal {
            try expect(refusal, for: device)
            return .refused(refusal)
        }
        guard let response = handled else { return .lost }
        replyOrder += 1
        let order = replyOrder
        let body = try SyncProtocol.encode(response)
        if faults, random.chance(config.dropReplyProbability) {
            report.droppedReplies += 1
            if cutting.chance(0.5) {
                // Cut mid-body: the device must refuse what arrived, with an error, and take nothing.
                let cut = body.prefix(cutting.int(0...(body.count - 1)))
                do {
                    _ = try SyncProtocol.decode(SyncResponse.self, from: cut)
                    throw failure("cutRepliesAreRefused", "a reply cut after \(cut.count) of \(body.count) bytes was read as a whole one")
                } catch is SyncError {
                    report.cutReplies += 1
                }
            }
            return .lost
        }
        let reply = try SyncProtocol.decode(SyncResponse.self, from: body)
        trace("\(device.name) exchange: pushed \(request.push.map(\.id.seq)), acked \(reply.acceptedThroughSeq), held \(reply.held.map(\.op.seq)), ops \(reply.ops.map { "\($0.entity.rawValue.prefix(6)):\($0.id.replica.hex.suffix(4)).\($0.id.seq)" }), snapshots \(reply.snapshots.sorted { $0.key < $1.key }.map { "\($0.key): cseq \($0.value.cseq) \($0.value.records.map { $0.key.prefix(16) }) next \($0.value.next ?? "-")" }), cells \(reply.cells), resync \(reply.resync)")
        return .done(reply, order: order)
    }

    /// The device takes a reply (a crash may stop it half way: then it took none of it, and this
    /// is nil).
    func ingest(_ reply: SyncResponse, for request: SyncRequest, order: Int, on device: SimDevice) throws -> ApplyReport? {
        try checkCarriesNothingWithheld(reply, to: device)
        if reply.snapshots.keys.contains(where: { request.snapshots?[$0] == nil }) { device.keptAside.formUnion(try device.recordsWithUnsentWork()) }
        guard let applied = try onDevice(device, { try device.replica.ingest(reply, for: request) }) else { return nil }
        took(reply, order: order, on: device)
        try watch(device)
        try checkCells(of: device)
        if !reply.more && reply.resync.isEmpty && !(reply.ops.isEmpty && reply.snapshots.isEmpty) { try checkRecordsWhole(on: device) }
        return applied
    }

    /// A reply carries no operation the hub held, and nothing a revoked device wrote after its
    /// revocation. (Checked on the wire: a device's log forgets what compaction dropped.)
    func checkCarriesNothingWithheld(_ reply: SyncResponse, to device: SimDevice) throws {
        for op in reply.ops {
            if heldEver.contains(op.id) {
                throw failure("heldOpsNeverApplied", "the hub sent \(device.name) operation \(op.id), which it held in quarantine")
            }
            if let author = devices.first(where: { $0.replicaID == op.id.replica }), author.revoked, op.id.seq > author.revokedAfterSeq {
                throw failure("revokedWritesReachNoOne", "the hub sent \(device.name) \(author.name)'s operation \(op.id.seq), written after its revocation")
            }
        }
    }

    /// The device compacts its op log now, in a small pass (a crash may stop it: then it did
    /// nothing).
    func compactAction(_ device: SimDevice) throws {
        guard let done = try onDevice(device, { try device.replica.compact(opsMax: random.int(1...40)) }) else { return }
        report.compactions += 1
        report.opsCompacted += done.opsDropped
        trace("\(device.name) compacted: dropped \(done.opsDropped), kept \(done.opsKept)")
    }

    /// With FIELDSYNC_SIM_WATCH=<record id prefix>, traces whether the device holds that record.
    func watch(_ device: SimDevice) throws {
        guard Self.tracing, let prefix = ProcessInfo.processInfo.environment["FIELDSYNC_SIM_WATCH"] else { return }
        let held = try device.replica.heldRecordCells().filter { $0.key.split(separator: "/").last?.hasPrefix(prefix) ?? false }
        let logged = try device.replica.withConnection { db in
            let select = try db.prepare("SELECT o.replica, o.seq FROM _fs_op o WHERE o.entity LIKE ? ORDER BY 1, 2")
            try select.bind([.text(prefix + "%")])
            var ops: [String] = []
            while try select.step() { ops.append("\(select.int64(at: 0)).\(select.int64(at: 1))") }
            return ops
        }
        trace("watch \(device.name): \(held.isEmpty ? "does not hold \(prefix)" : "holds \(held.sorted { $0.key < $1.key })") log \(logged)")
    }

    /// What the device learnt from a reply it took: what the hub acknowledged, and its cells
    /// (from the newest reply only: an old bundle does not say what the device serves now).
    func took(_ reply: SyncResponse, order: Int, on device: SimDevice) {
        device.ackedSeq = max(device.ackedSeq, reply.acceptedThroughSeq)
        if order >= device.cellsOrder {
            device.cells = reply.cells
            device.cellsOrder = order
        }
    }

    /// A refusal is expected only for a revoked device (401) or a push out of the device's
    /// scope (422); anything else is a bug.
    func expect(_ refusal: SyncRefusal, for device: SimDevice) throws {
        report.refusedExchanges += 1
        device.lastRefusal = refusal.description
        trace("\(device.name) refused: \(refusal)")
        switch refusal.code {
        // (A device reported lost is refused `revoked` where a wipe cannot be asked: its bundles.)
        case "revoked" where device.revoked: return
        case SyncRefusal.wipeCode where device.wipeRequested, SyncRefusal.wipedCode where device.wipeRequested: return
        case "outOfScope": return
        default:
            throw failure("onlyExpectedRefusals", "\(device.name) (revoked: \(device.revoked)) was refused: \(refusal)")
        }
    }

    // MARK: Bundles

    /// The device writes a bundle file; someone will carry it to the office, some day.
    func exportBundle(from device: SimDevice) throws {
        bundlesToHub.append((device.index, try device.replica.exportBundle()))
        report.bundlesExported += 1
        trace("\(device.name) exported a bundle")
    }

    /// A carried bundle (any of them: they arrive out of order) is imported at the hub; the reply
    /// bundle may be carried back.
    func carryBundleToHub() throws {
        guard !bundlesToHub.isEmpty else { return }
        let (index, data) = bundlesToHub.remove(at: random.int(0...(bundlesToHub.count - 1)))
        let device = devices[index]
        let imported: (response: SyncResponse, reply: Data)?
        do {
            imported = try onHub { try hub.importBundle(data, device: device.name, actor: "operator-sim") }
        } catch let refusal as SyncRefusal {
            try expect(refusal, for: device)
            return
        }
        guard let imported else { return }
        report.bundlesImported += 1
        trace("\(device.name)'s bundle imported at the hub: held \(imported.response.held.map(\.op.seq)), cells \(imported.response.cells)")
        replyOrder += 1
        if random.chance(config.bundleReturnProbability) { bundlesToDevice.append((index, imported.reply, replyOrder)) }
    }

    /// A reply bundle (any of them, late and out of order) is imported on its device.
    func carryBundleToDevice() throws {
        guard !bundlesToDevice.isEmpty else { return }
        let (index, data, order) = bundlesToDevice.remove(at: random.int(0...(bundlesToDevice.count - 1)))
        let device = devices[index]
        guard case (_, .centralPull(_, let response)) = try SyncKit.Bundle.decode(data) else {
            throw failure("bundlesRoundTrip", "the hub's reply bundle for \(device.name) is not a central-pull bundle")
        }
        // A device that erased its data takes nothing more, not even a late reply bundle.
        if device.replica.wipedMillis != nil {
            do {
                try device.replica.importBundle(data)
                throw failure("wipedDevicesKeepNothing", "\(device.name) took a reply bundle after erasing its data")
            } catch let error as SyncError where error.code == .invalidInput {
                return
            }
        }
        if !response.snapshots.isEmpty { device.keptAside.formUnion(try device.recordsWithUnsentWork()) }
        guard try onDevice(device, { try device.replica.importBundle(data) }) != nil else { return }
        report.bundlesReturned += 1
        trace("\(device.name) took a reply bundle (order \(order), cells \(response.cells))")
        took(response, order: order, on: device)
        try watch(device)
        try checkCells(of: device)
    }
}

/// The device side of a simulated sync session: the device's replica (whichever file it has open
/// now), with the simulator's crash points and the checks it makes after every reply taken.
final class SimEndpoint: SyncEndpoint {
    /// The device crashed while taking a reply: it took none of it, and this session is over.
    struct Lost: Error {}

    let simulation: Simulation
    let device: SimDevice
    /// The order of the reply about to be taken among the hub's replies.
    var order = 0

    init(simulation: Simulation, device: SimDevice) {
        self.simulation = simulation
        self.device = device
    }

    func nextSyncRequest(pushOpsMax: Int, pullOpsMax: Int, verify: Bool) throws -> SyncRequest {
        try device.replica.nextSyncRequest(pushOpsMax: pushOpsMax, pullOpsMax: pullOpsMax, verify: verify)
    }

    func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport {
        guard let applied = try simulation.ingest(response, for: request, order: order, on: device) else { throw Lost() }
        return applied
    }

    func unsyncedCount() throws -> Int { try device.replica.unsyncedCount() }

    /// The node asked the device to erase everything (a crash may stop it: then it erases again
    /// at its next contact).
    func wipe() throws {
        guard try simulation.onDevice(device, { try device.replica.wipe() }) != nil else { throw Lost() }
        simulation.trace("\(device.name) erased its data at the hub's request")
    }
}
