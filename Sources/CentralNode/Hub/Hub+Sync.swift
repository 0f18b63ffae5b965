import FieldKit
import Foundation
import SyncKit

/// A refusal of a whole exchange (the sync protocol's `SyncRefusal`).
public typealias HubRefusal = SyncRefusal

extension Hub {
    private struct Device {
        var name: String
        var replica: ReplicaID?
        var acceptedSeq: UInt64
        var cells: Set<String>
        var everServed: Set<String>
    }

    /// Answers one exchange: stores the pushed operations (applied, or held in quarantine with a
    /// reason), then returns the next page of the device's cells, all in one transaction.
    ///
    /// Only what writes takes the writer: the pushed operations, or a token's first use (which
    /// binds it to the device's replica id). The page the device pulls is read afterwards in a read
    /// transaction of its own (a pooled reader connection when the node's file has one), so
    /// exchanges that only pull, page through snapshots or verify run beside each other and beside
    /// the writer.
    public func handle(_ request: SyncRequest, token: String) throws -> SyncResponse {
        try respond(to: request, token: token).decoded()
    }

    /// `handle`, answered as the reply's bytes: the pulled operations' canonical bytes as the
    /// central log keeps them are spliced into the reply, never decoded and encoded again.
    public func handleEncoded(_ request: SyncRequest, token: String) throws -> (reply: Data, summary: ExchangeSummary) {
        let page = try respond(to: request, token: token)
        let records = page.response.snapshots.values.reduce(0) { $0 + $1.records.count }
        return (page.encoded(), ExchangeSummary(pushed: request.push.count, pulled: page.ops.count, records: records, held: page.response.held.count))
    }

    /// What one exchange moved, for logs and metrics (counts only).
    public struct ExchangeSummary: Sendable, Equatable {
        public var pushed: Int
        public var pulled: Int
        public var records: Int
        public var held: Int
    }

    /// A pulled page: the response without its operations, and the operations in the canonical
    /// bytes the central log keeps (`Op.jsonData()`), in the order the reply lists them.
    struct PulledPage {
        var response: SyncResponse
        var ops: [[UInt8]]

        func decoded() throws -> SyncResponse {
            var response = response
            response.ops = try ops.map { try SyncProtocol.decode(Op.self, from: Data($0)) }
            return response
        }

        func encoded() -> Data { SyncProtocol.encode(response, splicingOps: ops) }
    }

    private func respond(to request: SyncRequest, token: String) throws -> PulledPage {
        let request = try Self.withCanonicalCells(request)
        try Self.checkPush(request)
        let authenticated: (Device, Bool, Int64)
        do {
            authenticated = try read { access in
                let (device, binds) = try Self.authenticateReading(token: token, replica: request.device, access: access)
                return (device, binds, access.nowMillis)
            }
        } catch let refusal as HubRefusal where refusal.reply.code == "revoked" {
            // A revoked device may have been asked to erase its data: that answer comes first.
            try answerWipe(request, token: token)
            throw refusal
        }
        var (device, binds) = (authenticated.0, authenticated.1)
        let now = authenticated.2
        noteHint(device.name, request, atMillis: now)
        var held: [SyncResponse.Held] = []
        if binds || !request.push.isEmpty {
            // Committed with the pushes of other devices that wait for the writer meanwhile.
            (device, held) = try writer.submit { access in
                var device = try Self.authenticate(token: token, replica: request.device, access: access)
                let held = try self.push(request, device: &device, access: access)
                try self.flushLastSeen(access: access)
                return (device, held)
            }
        }
        let pushed = binds || !request.push.isEmpty
        let response = try read { access in
            // A device that only pulled was seen now: remembered, written with a later write.
            if !pushed { noteSeen(device.name, atMillis: access.nowMillis) }
            return try pull(request, device: Self.reloadCells(device, access: access), held: held, access: access, asBundle: false)
        }
        flushLastSeenIfDue()
        return response
    }

    /// Runs a read of the node's state: on a pooled reader connection when there is one, else
    /// on the writer's connection.
    func read<T>(_ body: (CentralAccess) throws -> T) throws -> T {
        guard let readers else { return try replica.centralRead(body) }
        do {
            return try readers.read(body)
        } catch let full as ReaderPool.Full {
            // A read takes a few milliseconds to a few hundred (a snapshot page): come back once
            // the reads ahead have had their turn.
            let seconds = min(30, max(1, full.waiting / (4 * limits.readersMax)))
            throw HubBusy(retryAfterSeconds: seconds, message: "the central node has \(full.waiting) reads waiting; try again in \(seconds) s")
        }
    }

    /// One page of a cell's snapshot for an enrolled device (`GET /v1/snapshot`): the records
    /// of the cell, in key order after `after`, with the central sequence number they are
    /// current at. A client that assembles pages continues with the log after the first page's
    /// `cseq`; later pages' `covers` make the overlap duplicates (the sync exchange does this
    /// itself).
    public func snapshot(cell name: String, after: String?, limit: Int = SyncProtocol.pageOpsMax, form: Int = SnapshotForm.spelledOut,
                         token: String) throws -> CellSnapshot {
        let cell = Self.cellName(name)
        return try read { access in
            let device = try Self.authenticate(token: token, replica: nil, access: access)
            guard cell.isEmpty || device.cells.contains(cell) else {
                throw HubRefusal(403, "outOfScope", "device \(device.name) does not serve cell \(cell); ask an operator to assign it")
            }
            let cseq = try HubStore(access).maxCseq()
            let page = try access.snapshotPage(cell: cell, after: after, limit: min(max(limit, 1), SyncProtocol.pageOpsMax))
            return CellSnapshot(cseq: cseq, records: page.records, next: page.next,
                                form: min(max(form, SnapshotForm.spelledOut), SnapshotForm.newest))
        }
    }

    /// Imports a device's bundle (carried by hand): the same checks as a sync, then a bundle
    /// for the device with everything of its cells, to carry back. `device` names the device
    /// when it has never synced (its replica id is not bound yet).
    public func importBundle(_ data: Data, device name: String? = nil, actor: String) throws -> (response: SyncResponse, reply: Data) {
        let (header, contents) = try Bundle.decode(data)
        guard case .devicePush(let pushed) = contents else {
            throw SyncError(.invalidInput, "this is a \(header.kind.rawValue) bundle, made by the central node for a device; import it on the device")
        }
        let request = try Self.withCanonicalCells(pushed)
        try Self.checkPush(request, limit: Bundle.opsMax)
        let response = try replica.centralTransaction { access in
            let device = try Self.identify(replica: request.device, name: name, access: access)
            let response = try exchange(request, device: device, access: access, asBundle: true).decoded()
            try Self.audit(access, actor: actor, action: "import-bundle",
                           detail: "device \(device.name): \(request.push.count) ops, \(response.held.count) held")
            return response
        }
        return (response, try Bundle.encode(.centralPull(device: request.device, response), createdMillis: response.serverTimeMillis))
    }

    /// A bundle for one device with every operation of its cells (importing it is idempotent).
    public func exportBundle(device name: String, actor: String) throws -> Data {
        let (target, response) = try replica.centralTransaction { access in
            let device = try Self.identify(replica: nil, name: name, access: access)
            guard let replica = device.replica else {
                throw SyncError(.invalidInput, "device \(name) has never synced, so its replica is unknown: import a bundle from it first")
            }
            let request = SyncRequest(device: replica, cursors: [:], push: [], pullOpsMax: Bundle.opsMax)
            let response = try exchange(request, device: device, access: access, asBundle: true).decoded()
            let records = response.snapshots.values.reduce(0) { $0 + $1.records.count }
            try Self.audit(access, actor: actor, action: "export-bundle", detail: "device \(name): snapshot of \(records) records")
            return (replica, response)
        }
        return try Bundle.encode(.centralPull(device: target, response), createdMillis: response.serverTimeMillis)
    }

    /// A request's cells read as the node reads every cell name (`Hub.cellName`), so that a
    /// client's `js0401` is the node's `JS-0401`; a name given twice with two values is refused.
    static func withCanonicalCells(_ request: SyncRequest) throws -> SyncRequest {
        func canonical<V: Equatable>(_ map: [String: V], _ what: String) throws -> [String: V] {
            var result: [String: V] = [:]
            for (name, value) in map {
                let cell = cellName(name)
                if let other = result[cell], other != value {
                    throw SyncError(.invalidInput, "\(what) names cell \(cell.prefix(64)) twice, with different values; send each cell once")
                }
                result[cell] = value
            }
            return result
        }
        var request = request
        request.cursors = try canonical(request.cursors, "cursors")
        request.digests = try request.digests.map { try canonical($0, "digests") }
        request.snapshots = try request.snapshots.map { try canonical($0, "snapshots") }
        return request
    }

    /// A request pushes at most `SyncProtocol.pushOpsMax` operations; a bundle `Bundle.opsMax`.
    private static func checkPush(_ request: SyncRequest, limit: Int = SyncProtocol.pushOpsMax) throws {
        guard request.push.count <= limit else {
            throw HubRefusal(413, "tooManyOps", "one push carries at most \(limit) operations; got \(request.push.count)")
        }
        guard request.push.allSatisfy({ $0.id.replica == request.device }) else {
            throw HubRefusal(400, "foreignOps", "a device pushes only its own operations")
        }
        // Sequence numbers are SQLite integers: a cursor past Int64.max would trap where it is bound.
        if let (cell, cseq) = request.cursors.first(where: { $0.value > UInt64(Int64.max) }) {
            throw SyncError(.invalidInput, "cursor \(cseq) for cell \(cell.prefix(40)) is past the largest sequence number")
        }
    }

    /// A whole exchange in one transaction of the writer (bundles, carried by hand).
    private func exchange(_ request: SyncRequest, device input: Device, access: CentralAccess, asBundle: Bool) throws -> PulledPage {
        var device = input
        let held = try push(request, device: &device, access: access)
        return try pull(request, device: device, held: held, access: access, asBundle: asBundle)
    }

    /// Stores the pushed operations (in the writer's transaction) and returns those held; the
    /// device's accepted sequence number moves with them.
    private func push(_ request: SyncRequest, device: inout Device, access: CentralAccess) throws -> [SyncResponse.Held] {
        let now = access.nowMillis
        // Push: the device's operations in sequence order, each applied or held, so that a
        // snapshot's covers are exact and `acceptedThroughSeq` means every one through it.
        var held: [SyncResponse.Held] = []
        var stored: [Op] = []
        var revived: Set<EntityID> = []
        for (op, isNew) in try Self.pushInSequence(request.push, device: device, access: access) {
            if isNew {
                let outcome = try Self.store(op, device: device, access: access)
                if let verdict = outcome.held {
                    held.append(verdict)
                } else {
                    stored.append(op)
                    if outcome.revived { revived.insert(op.entity) }
                }
            }
            device.acceptedSeq = op.id.seq
        }
        try HubStore(access).recordPush(of: device.name, acceptedSeq: device.acceptedSeq, seenMillis: now)
        // New households may look like existing ones: raise review items before the pull, so the
        // device receives them in this very reply.
        try raiseDuplicates(after: stored, access: access, revived: revived)
        return held
    }

    /// The page a device pulls: what it reads only, so it may run in a read transaction.
    private func pull(_ request: SyncRequest, device: Device, held: [SyncResponse.Held], access: CentralAccess, asBundle: Bool) throws -> PulledPage {
        let now = access.nowMillis
        let pageMax = asBundle ? Bundle.opsMax : min(max(request.pullOpsMax, 1), SyncProtocol.pageOpsMax)
        // Pull: cells the device starts (no cursor) or is part way through come as snapshots of
        // state; the others as the next page of their log. Records and operations share the page.
        let scope = device.cells.union([""])
        // Pages in the newest form both sides know (a bundle stays in form 1: any build reads it).
        let form = asBundle ? SnapshotForm.spelledOut : min(max(request.snapshotForm ?? SnapshotForm.spelledOut, SnapshotForm.spelledOut), SnapshotForm.newest)
        let store = HubStore(access)
        let maxCseq = try store.maxCseq()
        var budget = pageMax
        var snapshots: [String: CellSnapshot] = [:]
        var cursors: [String: UInt64] = [:]
        var more = false
        var logCells: [String] = []
        for cell in scope.sorted() {
            let resume = asBundle ? nil : request.snapshots?[cell]
            guard asBundle || request.cursors[cell] == nil || resume != nil else {
                logCells.append(cell)
                continue
            }
            // A snapshot resumed keeps the sequence number it started from.
            let start = resume != nil ? (request.cursors[cell] ?? maxCseq) : maxCseq
            guard budget > 0 else {
                more = true
                if resume != nil { cursors[cell] = start }
                continue
            }
            let page = try access.snapshotPage(cell: cell, after: resume, limit: budget)
            budget -= page.records.count
            snapshots[cell] = CellSnapshot(cseq: start, records: page.records, next: page.next, form: form)
            cursors[cell] = start
            if page.next != nil { more = true }
        }
        var rows: [(cseq: UInt64, cell: String, id: OpID, op: [UInt8])] = []
        var full = Set<String>()
        // The device's own operations come back, except those this very request pushed: it may
        // have let go of a record it wrote (it believed the record out of its cells) that has
        // since come into one of them, by a move or a cell it starts.
        let pushedSeqs = request.push.map(\.id.seq)
        let pushed = pushedSeqs.min().map { $0...pushedSeqs.max()! }
        for cell in logCells where budget > 0 {
            let entries = try store.log(cell: cell, after: request.cursors[cell] ?? 0, excluding: request.device, seqs: pushed, limit: budget)
            rows += entries.map { (cseq: $0.cseq, cell: cell, id: $0.op, op: $0.json) }
            if entries.count == budget { full.insert(cell) }
        }
        rows.sort { $0.cseq < $1.cseq }
        let page = rows.prefix(budget)
        // The operations as the log keeps them (canonical bytes): spliced into the reply as they
        // are. An operation logged under two cells (a move) is sent once.
        var ops: [[UInt8]] = []
        var seen = Set<OpID>()
        var lastIncluded: [String: UInt64] = [:]
        for row in page {
            lastIncluded[row.cell] = row.cseq
            if seen.insert(row.id).inserted { ops.append(row.op) }
        }
        for cell in logCells {
            let cut = rows.count > budget && rows.dropFirst(budget).contains { $0.cell == cell }
            if budget == 0 || cut || full.contains(cell) {
                more = true
                cursors[cell] = lastIncluded[cell] ?? (request.cursors[cell] ?? 0)
            } else {
                cursors[cell] = maxCseq
            }
        }
        // Verify: when the device is caught up, compare its per-cell digests with ours.
        var resync: [String] = []
        if let digests = request.digests, ops.isEmpty, !more {
            for (cell, digest) in digests.sorted(by: { $0.key < $1.key }) where device.cells.contains(cell) {
                if try access.digest(cell: cell) != digest { resync.append(cell) }
            }
        }
        if asBundle && more {
            throw SyncError(.limitExceeded, "device \(device.name)'s cells hold more than \(Bundle.opsMax) records: too many for one bundle; sync over the network")
        }
        let response = SyncResponse(serverTimeMillis: now, acceptedThroughSeq: device.acceptedSeq, held: held, ops: [],
                                    cursors: cursors, more: more, cells: device.cells.sorted(), resync: resync, snapshots: snapshots)
        return PulledPage(response: response, ops: ops)
    }

    /// The pushed operations past the last one the node stored for this device, in sequence
    /// order, each with whether the node still has to store it. Refuses the whole push (nothing
    /// stored) when they do not continue the device's sequence without a gap, or when an
    /// operation reuses the id of one the node holds with other content.
    private static func pushInSequence(_ push: [Op], device: Device, access: CentralAccess) throws -> [(op: Op, isNew: Bool)] {
        var bySeq: [UInt64: Op] = [:]
        for op in push {
            if let other = bySeq[op.id.seq], other != op {
                throw HubRefusal(422, "invalid", "this push carries operation \(op.id) twice, with different content. Nothing from this push was stored")
            }
            bySeq[op.id.seq] = op
        }
        var sequence: [(op: Op, isNew: Bool)] = []
        for seq in bySeq.keys.sorted() {
            let op = bySeq[seq]!
            if let differs = try access.storedDiffers(from: op) {
                guard !differs else {
                    throw HubRefusal(422, "invalid", "operation \(op.id) was stored here before with other content: this device reuses sequence numbers (a replica file restored from a backup or copied from another device?). Nothing from this push was stored; ask an operator to enroll the device again with a new replica file")
                }
                if seq > device.acceptedSeq { sequence.append((op, false)) }
            } else if seq > device.acceptedSeq {
                sequence.append((op, true))
            }
            // At or below the accepted number and not here: held and since released or
            // discarded by an operator. A late copy (a bundle carried late) must not bring it back.
        }
        var expected = device.acceptedSeq + 1
        for (op, _) in sequence {
            guard op.id.seq == expected else {
                throw HubRefusal(422, "sequenceGap", "operation \(op.id) was pushed, but this device's operation \(expected) has not reached the central node, which stores a device's operations in sequence order only (it holds them through \(expected - 1)): push the oldest unacknowledged operations first. Nothing from this push was stored")
            }
            expected += 1
        }
        return sequence
    }

    /// Finds a device for a bundle: by its bound replica id, or by name (binding the replica).
    private static func identify(replica: ReplicaID?, name: String?, access: CentralAccess) throws -> Device {
        let store = HubStore(access)
        var found: String?
        var bound: ReplicaID?
        if let replica, let byReplica = try store.deviceName(boundTo: replica) {
            found = byReplica
            bound = replica
        }
        if let name {
            guard found == nil || found == name else {
                throw SyncError(.invalidInput, "this bundle comes from device \(found!), not \(name)")
            }
            guard let row = try store.boundReplica(of: name) else {
                throw SyncError(.notFound, "no device named \"\(name)\"")
            }
            if let existing = row {
                if let replica, existing != replica { throw SyncError(.invalidInput, "device \(name) syncs as another replica; this bundle is not from it") }
                bound = existing
            } else if let replica {
                try bind(replica, to: name, access: access)
                bound = replica
            }
            found = name
        }
        guard let device = found else {
            throw SyncError(.notFound, "no enrolled device has synced as replica \(replica?.hex.prefix(8) ?? "?")…; name the device the bundle comes from")
        }
        guard try !store.isRevoked(device) else { throw HubRefusal(401, "revoked", "device \(device) was revoked by an operator; its bundles are refused") }
        return try loadDevice(device, replica: bound, access: access)
    }

    private static func loadDevice(_ name: String, replica: ReplicaID?, access: CentralAccess) throws -> Device {
        let store = HubStore(access)
        let cells = try store.cells(of: name)
        return Device(name: name, replica: replica, acceptedSeq: try store.acceptedSeq(of: name), cells: cells.current, everServed: cells.ever)
    }

    /// A token's device as stored: name, bound replica, revoked. Throws `unknownToken`.
    private static func tokenRow(_ token: String, access: CentralAccess) throws -> HubStore.TokenRow {
        let unknown = HubRefusal(401, "unknownToken", "this device's token is not known here: enroll the device again with a new token from an operator")
        // A token is 64 hex digits; anything much longer is not worth hashing.
        guard token.utf8.count <= 256 else { throw unknown }
        let hash = hash(token)
        guard let row = try HubStore(access).device(byTokenHash: hash) else { throw unknown }
        // The lookup is by hash; compare again in constant time so that no timing depends on
        // how much of a guessed token matched.
        guard constantTimeEqual(row.tokenHash, hash) else { throw unknown }
        return row
    }

    /// For a device an operator asked to erase its data (reported lost or stolen): records its
    /// confirmation (a request with `wiped`) and answers `wiped`, or tells it to erase (`wipe`).
    /// Other devices pass. Nothing a wiped device sends is ever stored.
    func answerWipe(_ request: SyncRequest, token: String) throws {
        let row = try read { try Self.tokenRow(token, access: $0) }
        guard let reason = row.wipeReason else { return }
        if request.wiped || row.wipedMillis != nil {
            if row.wipedMillis == nil {
                try replica.centralTransaction { access in
                    try HubStore(access).confirmWipe(row.name, atMillis: access.nowMillis)
                    try Self.audit(access, actor: "device \(row.name)", action: "wipe-confirmed", detail: "device \(row.name) erased its data (\(reason))")
                }
            }
            throw HubRefusal(401, SyncRefusal.wipedCode, "device \(row.name) was reported \(reason) and has erased its data; it can no longer sync: enroll it again to use it")
        }
        throw HubRefusal(401, SyncRefusal.wipeCode, "device \(row.name) was reported \(reason) by an operator: it must erase its data now")
    }

    /// Refuses a token that is unknown or revoked, reading only (no write lock): the HTTP layer
    /// calls it once the headers are in, before it reads or parses a body.
    public func checkToken(_ token: String) throws {
        let row = try read { try Self.tokenRow(token, access: $0) }
        // A device asked to erase its data is let through: its request is answered `wipe`, and
        // its confirmation (`wiped` in the body) recorded.
        guard !row.revoked || row.wipeReason != nil else {
            throw HubRefusal(401, "revoked", "device \(row.name) was revoked by an operator; it can no longer sync")
        }
    }

    /// The device a token belongs to, read only: with `replica`, refused when the token is bound
    /// to another; `binds` says the token is not bound yet (the writer binds it).
    private static func authenticateReading(token: String, replica: ReplicaID, access: CentralAccess) throws -> (device: Device, binds: Bool) {
        let row = try tokenRow(token, access: access)
        guard !row.revoked else {
            throw HubRefusal(401, "revoked", "device \(row.name) was revoked by an operator; it can no longer sync")
        }
        if let bound = row.replica, bound != replica {
            throw HubRefusal(403, "tokenInUse", "this token belongs to another replica (\(bound.hex.prefix(8))…): enroll this device with its own token")
        }
        return (try loadDevice(row.name, replica: replica, access: access), row.replica == nil)
    }

    /// A device's cells as the pull's own read sees them (an operator may have changed them
    /// since the push), with the accepted sequence number the push left.
    private static func reloadCells(_ device: Device, access: CentralAccess) throws -> Device {
        var current = try loadDevice(device.name, replica: device.replica, access: access)
        current.acceptedSeq = max(current.acceptedSeq, device.acceptedSeq)
        return current
    }

    /// The device a token belongs to. With `replica`, the token is bound to it at first use and
    /// refused for any other.
    private static func authenticate(token: String, replica: ReplicaID?, access: CentralAccess) throws -> Device {
        let row = try tokenRow(token, access: access)
        guard !row.revoked else {
            throw HubRefusal(401, "revoked", "device \(row.name) was revoked by an operator; it can no longer sync")
        }
        guard let replica else { return try loadDevice(row.name, replica: row.replica, access: access) }
        if let bound = row.replica, bound != replica {
            throw HubRefusal(403, "tokenInUse", "this token belongs to another replica (\(bound.hex.prefix(8))…): enroll this device with its own token")
        }
        if row.replica == nil { try bind(replica, to: row.name, access: access) }
        return try loadDevice(row.name, replica: replica, access: access)
    }

    /// Binds a device's token to the replica id it first syncs with, unless that id is not the
    /// caller's to take: the central node's own (its operations would be logged as the node's),
    /// another device's, or one whose operations already reached the node.
    private static func bind(_ replica: ReplicaID, to name: String, access: CentralAccess) throws {
        let advice = "a device syncs with the replica id of its own replica file; set the device up again (`fieldsync device init`) with a new token from an operator"
        guard replica != access.localReplica else {
            throw HubRefusal(403, "tokenInUse", "replica \(replica.hex.prefix(8))… is the central node's own: \(advice)")
        }
        if let other = try HubStore(access).deviceName(boundTo: replica) {
            throw HubRefusal(403, "tokenInUse", "replica \(replica.hex.prefix(8))… already syncs as device \(other): \(advice)")
        }
        guard try !access.knows(replica: replica) else {
            throw HubRefusal(403, "tokenInUse", "operations of replica \(replica.hex.prefix(8))… already reached the central node from elsewhere: \(advice)")
        }
        try HubStore(access).bind(replica, to: name)
    }

    /// Stores one pushed operation: applied and logged (`held` nil), or held in quarantine with
    /// the reason, listed for operators and acknowledged to the device (never a refusal of the
    /// whole push: one operation the node will not apply must not block every later one).
    /// `revived`: the operation brought a deleted household back (an edit concurrent with a
    /// delete), which may now look like another although it names no field duplicates read.
    private static func store(_ op: Op, device: Device, access: CentralAccess) throws -> (held: SyncResponse.Held?, revived: Bool) {
        let before: String?
        var assignsCell = false
        // The record is read once: for the scope check here, and for the merge after it.
        var loaded: CentralAccess.RecordBefore?
        if case .some(.some(let cellField)) = access.cellField(of: op.collection) {
            loaded = try access.recordBefore(op.collection, op.entity)
            before = loaded?.cell
            let assigned = op.assignments.compactMap { a -> String? in
                if a.field == cellField, case .set(.text(let cell), _) = a.change { return cell }
                return nil
            }.first
            assignsCell = assigned != nil
            var outOfScope: String?
            if let before, !device.everServed.contains(before) {
                // The record moved to a cell this device never served while it edited it offline.
                outOfScope = "record \(op.collection)/\(op.entity) is in cell \(before), which device \(device.name) does not serve"
            } else if let assigned, !device.everServed.contains(assigned) {
                outOfScope = "moves \(op.collection)/\(op.entity) to cell \(assigned.prefix(64)), which device \(device.name) does not serve; an operator may release it"
            } else if before == nil && assigned == nil {
                // An edit of a record this node does not have (its creation is held, or was discarded).
                outOfScope = "edits \(op.collection)/\(op.entity), which this node does not have (its creation was held or discarded)"
            }
            if let outOfScope {
                try access.hold(op, reason: .outOfScope, detail: outOfScope)
                return (.init(op: op.id, reason: QuarantineReason.outOfScope.rawValue, detail: outOfScope), false)
            }
        } else {
            before = nil
        }
        if let problem = try access.erasureProblem(op) {
            try access.hold(op, reason: .invalid, detail: problem)
            return (.init(op: op.id, reason: QuarantineReason.invalid.rawValue, detail: problem), false)
        }
        switch try access.apply(op, before: loaded) {
        case .duplicate: return (nil, false)
        case .quarantined(let reason, let detail):
            return (.init(op: op.id, reason: reason.rawValue, detail: detail), false)
        case .applied:
            try log(op, before: before, assignsCell: assignsCell, access: access)
            let revived = try op.collection == FieldModel.households && loaded?.isLive == false && access.isLive(op.collection, op.entity)
            return (nil, revived)
        }
    }

    /// Gives an applied operation its central sequence number under its record's cell; when the
    /// operation moved the record, also under the old cell, and the record's whole history is
    /// logged again under the new cell.
    static func log(_ op: Op, before: String?, assignsCell: Bool, access: CentralAccess) throws {
        // Only an operation that writes the cell can move the record (and even then a concurrent
        // write may win, so read the merged cell back); any other keeps it where it was.
        let after: String
        if op.id.replica == access.localReplica, let written = writtenCell(of: op, access: access) {
            // The node's own write of a cell supersedes every value of it the node holds (its
            // `prev` names them all), so the record is where the write put it: no need to read it.
            after = written
            assert(after == (try? access.cell(of: op.collection, op.entity)) ?? "", "a local write's cell is not the record's")
        } else {
            after = assignsCell || before == nil ? (try access.cell(of: op.collection, op.entity) ?? "") : before!
        }
        // As the node keeps it: a write of an erased record made before its erasure was seen
        // is logged for devices without its personal values.
        let json = [UInt8](try access.stored(op).jsonData())
        if let before, before != after {
            try append(op, json: json, cell: before, access: access)
            // The moving operation first: a device that takes the history in several pages then
            // holds the record in its new cell from the first page on, instead of letting the
            // record go again (its first operations name the old cell) and keeping a torso.
            try append(op, json: json, cell: after, access: access)
            for earlier in try access.operations(of: op.collection, op.entity).sorted(by: { $0.stamp < $1.stamp }) where earlier.id != op.id {
                try append(earlier, json: [UInt8](try earlier.jsonData()), cell: after, access: access)
            }
        } else {
            try append(op, json: json, cell: after, access: access)
        }
    }

    /// The cell an operation writes for its record, if it writes one.
    private static func writtenCell(of op: Op, access: CentralAccess) -> String? {
        guard case .some(.some(let cellField)) = access.cellField(of: op.collection) else { return nil }
        for assignment in op.assignments where assignment.field == cellField {
            if case .set(.text(let cell), _) = assignment.change { return cell }
        }
        return nil
    }

    private static func append(_ op: Op, json: [UInt8], cell: String, access: CentralAccess) throws {
        try HubStore(access).appendLog(cell: cell, op: op.id, json: json)
    }
}
