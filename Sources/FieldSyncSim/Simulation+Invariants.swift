import CentralNode
import FieldKit
import Foundation
import SyncKit

/// The invariants (Design.md, "Simulation"), checked during the run and after the heal phase.
extension Simulation {
    // MARK: During the run

    /// After a device took a reply: it holds no record outside the cells it now knows it serves,
    /// except records with its own unsent work.
    func checkCells(of device: SimDevice) throws {
        let cells = Set(device.cells)
        let unsent = try device.recordsWithUnsentWork()
        for (key, cell) in try device.replica.heldRecordCells().sorted(by: { $0.key < $1.key })
        where !cells.contains(cell) && !unsent.contains(key) {
            throw failure("recordsStayInTheirCells", "\(device.name) serves \(device.cells.sorted()) but holds \(key) of cell \(cell)")
        }
    }

    /// After a device caught up (a reply with nothing more to come), every household, doorplate
    /// and task it holds reads whole in FieldKit, unless the hub's copy does not either (an
    /// operator released an edit without its creation) or the device holds one of the record's
    /// operations in its own quarantine (its clock was behind).
    func checkRecordsWhole(on device: SimDevice) throws {
        let store = device.store
        if (try? store.households()) != nil, (try? store.doorplates()) != nil, (try? store.tasks()) != nil { return }
        let central = FieldStore(replica: hub.replica)
        let quarantined = Set(try device.replica.quarantined(limit: Int.max).map(\.operation.entity))
        let readers: [(String, (FieldStore, EntityID) throws -> Void)] = [
            (FieldModel.households, { _ = try $0.household($1) }),
            (FieldModel.doorplates, { _ = try $0.doorplate(id: $1) }),
            (FieldModel.tasks, { _ = try $0.task($1) }),
        ]
        for (collection, read) in readers {
            for record in try device.replica.records(collection, limit: Int.max) {
                guard (try? read(store, record.id)) == nil, !quarantined.contains(record.id) else { continue }
                guard (try? read(central, record.id)) != nil else { continue }
                throw failure("recordsArriveWhole", "\(device.name) caught up but holds \(collection)/\(record.id) in a form FieldKit cannot read (fields \(record.values.filter { !$0.value.isNull }.keys.sorted())), while the hub's copy reads whole")
            }
        }
    }

    /// Every operation the hub ever held is still held, unless an operator released or
    /// discarded it, and was never applied under its own id (by the hub or any other device).
    func scanHubQuarantine() throws {
        let held = try hub.replica.quarantined(limit: Int.max)
        let now = Set(held.map(\.operation.id))
        for op in now.subtracting(heldEver) {
            heldEver.insert(op)
            report.heldOps += 1
        }
        for item in held where heldOps[item.operation.id] == nil { heldOps[item.operation.id] = item.operation }
        for op in heldEver.subtracting(released).subtracting(discarded).sorted() where !now.contains(op) {
            throw failure("heldOpsNeverLost", "operation \(op) left the hub's quarantine without an operator's decision")
        }
    }

    func checkDuringRun() throws {
        try checkHeldNeverApplied()
        try checkAcknowledgedNeverLost()
        try checkRevokedReachNoOne()
        try checkReviewQueue()
        try checkResolutionsHold(on: hub.replica, name: "hub")
    }

    func checkHeldNeverApplied() throws {
        let byReplica = Dictionary(grouping: heldEver, by: \.replica)
        for (replica, ops) in byReplica.sorted(by: { $0.key < $1.key }) {
            let logged = try hub.replica.loggedSeqs(of: replica)
            if let op = ops.sorted().first(where: { logged.contains($0.seq) }) {
                throw failure("heldOpsNeverApplied", "the hub applied operation \(op), which it held in quarantine")
            }
            for device in devices where device.replicaID != replica {
                let seen = try device.replica.loggedSeqs(of: replica)
                if let op = ops.sorted().first(where: { seen.contains($0.seq) }) {
                    throw failure("heldOpsNeverApplied", "\(device.name) applied operation \(op), which the hub held in quarantine")
                }
            }
        }
    }

    /// Every operation a device wrote and got acknowledged is at the hub: in its log, in its
    /// quarantine, or settled by an operator.
    func checkAcknowledgedNeverLost() throws {
        for device in devices where device.ackedSeq > 0 {
            var stored = try hub.replica.loggedSeqs(of: device.replicaID).union(try hub.replica.quarantinedSeqs(of: device.replicaID))
            for op in released.union(discarded) where op.replica == device.replicaID { stored.insert(op.seq) }
            if let missing = (1...device.ackedSeq).first(where: { !stored.contains($0) }) {
                throw failure("acknowledgedOpsNeverLost", "\(device.name)'s operation \(missing) was acknowledged (through \(device.ackedSeq)) but the hub does not have it")
            }
        }
    }

    /// Nothing a revoked device wrote after its revocation is at the hub or on another device.
    func checkRevokedReachNoOne() throws {
        for device in devices where device.revoked {
            let atHub = try hub.replica.loggedSeqs(of: device.replicaID).union(try hub.replica.quarantinedSeqs(of: device.replicaID))
            if let late = atHub.filter({ $0 > device.revokedAfterSeq }).min() {
                throw failure("revokedWritesReachNoOne", "the hub took \(device.name)'s operation \(late), written after its revocation (after \(device.revokedAfterSeq))")
            }
            for other in devices where other !== device {
                if let late = try other.replica.loggedSeqs(of: device.replicaID).filter({ $0 > device.revokedAfterSeq }).min() {
                    throw failure("revokedWritesReachNoOne", "\(other.name) holds \(device.name)'s operation \(late), written after its revocation")
                }
            }
        }
    }

    /// The review queue lists each open review conflict exactly once, and nothing else.
    func checkReviewQueue() throws {
        let items = try hub.reviewItems()
        let ids = items.map(\.id)
        if let twice = Dictionary(grouping: ids, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw failure("reviewQueueListsEachItemOnce", "review item \(twice) is listed \(ids.filter { $0 == twice }.count) times")
        }
        let conflicts = Set(try hub.replica.conflicts().filter(\.review).map { "\($0.collection)/\($0.entity)/\($0.field)" })
        let listed = Set(items.filter { $0.kind == .conflict }.map(\.id))
        guard conflicts == listed else {
            throw failure("reviewQueueListsEachItemOnce", "review conflicts \(conflicts.subtracting(listed).sorted()) are missing from the queue; \(listed.subtracting(conflicts).sorted()) are listed but not in conflict")
        }
    }

    /// A resolved conflict's candidates never become heads again (a later concurrent write may
    /// open a new conflict, never the old one).
    func checkResolutionsHold(on replica: Replica, name: String) throws {
        guard !resolutions.isEmpty else { return }
        let open = try replica.conflicts()
        for resolution in resolutions {
            for conflict in open where conflict.collection == resolution.collection && conflict.entity == resolution.entity && conflict.field == resolution.field {
                if let back = conflict.candidates.first(where: { resolution.candidates.contains($0.op) }) {
                    throw failure("resolvedConflictsStayResolved", "\(name) shows \(resolution.collection)/\(resolution.entity)/\(resolution.field) in conflict again with \(back.op), a candidate an operator resolved")
                }
            }
        }
    }

    // MARK: Heal

    /// Every fault heals: partitions end, crashes are disarmed, carried bundles arrive, and
    /// every working device syncs until nothing moves; operators settle every held operation.
    func heal() throws {
        hubCrash.disarm()
        for device in devices {
            device.partitionedUntilStep = -1
            device.crash.disarm()
        }
        while !bundlesToHub.isEmpty { try carryBundleToHub() }
        while !bundlesToDevice.isEmpty { try carryBundleToDevice() }
        try wipeLostDevices()
        let working = devices.filter { !$0.revoked }
        // First everyone syncs twice without verification: a device that caught up must already
        // agree with the hub (verification is a safety net, not how devices converge).
        for _ in 0..<2 {
            for device in random.shuffled(working) { _ = try fullSync(device, verify: false) }
        }
        try scanHubQuarantine()
        for device in working { try checkAgreesWithoutRepair(device) }
        for round in 1...Self.healRoundsMax {
            report.healRounds = round
            var quiet = true
            for device in random.shuffled(working) {
                let progress = try fullSync(device)
                if progress.opsDown > 0 || progress.recordsDown > 0 || !progress.resynced.isEmpty || progress.unsynced > 0 || !progress.verified {
                    quiet = false
                }
            }
            try scanHubQuarantine()
            if try !hub.replica.quarantined(limit: 1).isEmpty {
                quiet = false
                try settleHeldOperation(all: true)
                try scanHubQuarantine()
            }
            if quiet && round >= 2 { return }
        }
        var stuck: [String] = []
        for device in working where try device.replica.unsyncedCount() > 0 {
            stuck.append("\(device.name) still has \(try device.replica.unsyncedCount()) unsent operations (last refusal: \(device.lastRefusal ?? "none"))")
        }
        throw failure("healConverges", "still not quiet after \(Self.healRoundsMax) rounds of everyone syncing" + (stuck.isEmpty ? "" : ": " + stuck.joined(separator: "; ")))
    }

    /// Every device reported lost reaches the hub once more: it erases everything it holds and
    /// says so. Then nothing of it is left: no record, no operation, nothing unsent, and none of
    /// the district's names or phone numbers in the bytes of its files; and the hub knows it did.
    func wipeLostDevices() throws {
        let personal = try districtPersonalValues()
        for device in devices where device.wipeRequested {
            do {
                _ = try fullSync(device)
                throw failure("wipedDevicesKeepNothing", "\(device.name) was reported lost, but its sync ended without being told to erase its data")
            } catch let refusal as SyncRefusal where refusal.code == SyncRefusal.wipedCode {}
            let replica = device.replica
            guard replica.wipedMillis != nil else { throw failure("wipedDevicesKeepNothing", "\(device.name) was told it is erased but never erased its data") }
            for collection in FieldModel.collections where try !replica.records(collection.name, limit: 1).isEmpty {
                throw failure("wipedDevicesKeepNothing", "\(device.name) erased its data but still holds \(collection.name)")
            }
            guard try replica.loggedCount() == 0, try replica.unsyncedCount() == 0 else {
                throw failure("wipedDevicesKeepNothing", "\(device.name) erased its data but its log still holds \(try replica.loggedCount()) operations")
            }
            for suffix in ["", "-wal"] {
                guard let bytes = FileManager.default.contents(atPath: device.path + suffix) else { continue }
                if let value = personal.first(where: { bytes.range(of: Data($0.utf8)) != nil }) {
                    throw failure("wipedDevicesKeepNothing", "\(device.name) erased its data but its file\(suffix) still holds \"\(value)\"")
                }
            }
            guard try hub.devices().first(where: { $0.name == device.name })?.wipe?.wipedMillis != nil else {
                throw failure("wipedDevicesKeepNothing", "\(device.name) erased its data but the hub did not record it")
            }
        }
    }

    /// Invariant `erasedValuesLeaveEveryFile`: after healing, no log of the hub or of a working
    /// device holds a personal value of an erased household in an operation that does not
    /// descend from all its erasures, and no file of theirs holds a head name or phone number
    /// written to it before (unless the value is written again since, or belongs to another
    /// household too).
    func checkErasures() throws {
        guard !erased.isEmpty else { return }
        let hubOps = try hub.replica.operations()
        var erasures: [EntityID: Set<OpID>] = [:]
        for op in hubOps where erased[op.entity] != nil { erasures[op.entity, default: []].formUnion(op.erasures) }
        func descends(_ op: Op) -> Bool { erasures[op.entity, default: []].isSubset(of: op.erasures) }
        // Any text any operation writes, but the erased ones: another household's name, its
        // matching key, a value written again after the erasure.
        let personal = Set(FieldModel.householdCollection.fields.filter(\.personal).map(\.name))
        var elsewhere: Set<String> = []
        for op in hubOps + heldOps.values {
            let erasedOp = erased[op.entity] != nil && !descends(op)
            elsewhere.formUnion(Self.texts(of: op, skipping: erasedOp ? personal : []))
        }
        var after: EntityID?
        while true {
            let page = try hub.replica.records(FieldModel.households, after: after, limit: 1_000)
            for record in page { for field in ["head_name", "phone"] { if let text = record[field].text { elsewhere.insert(text) } } }
            guard page.count == 1_000, let last = page.last else { break }
            after = last.id
        }
        let working = devices.filter { !$0.revoked }
        for (name, replica) in [("the hub", hub.replica)] + working.map({ ($0.name, $0.replica) }) {
            for op in try replica.operations() where erased[op.entity] != nil && !descends(op) && !Self.personalTexts([op]).isEmpty {
                throw failure("erasedValuesLeaveEveryFile", "\(name) logs \(op.id) of erased household \(op.entity) with its personal values")
            }
        }
        let forbidden = erased.values.reduce(into: Set<String>()) { $0.formUnion($1) }.subtracting(elsewhere)
        for (name, path) in [("the hub", hubPath)] + working.map({ ($0.name, $0.path) }) {
            for suffix in ["", "-wal"] {
                guard let bytes = FileManager.default.contents(atPath: path + suffix) else { continue }
                if let value = forbidden.first(where: { bytes.range(of: Data($0.utf8)) != nil }), let range = bytes.range(of: Data(value.utf8)) {
                    // Where: the bytes around it, for whoever reproduces the seed.
                    let around = bytes[max(bytes.startIndex, range.lowerBound - 120)..<min(bytes.endIndex, range.upperBound + 400)]
                    let context = String(decoding: around.map { (0x20..<0x7F).contains($0) || $0 >= 0x80 ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
                    throw failure("erasedValuesLeaveEveryFile", "\(name)'s file\(suffix) still holds \"\(value)\", a value of a household erased before, at byte \(range.lowerBound - bytes.startIndex): \(context)")
                }
            }
        }
    }

    /// The texts an operation writes, but in `skipping` fields.
    static func texts(of op: Op, skipping: Set<String> = []) -> Set<String> {
        var texts: Set<String> = []
        for assignment in op.assignments where !skipping.contains(assignment.field) {
            switch assignment.change {
            case .set(.text(let text), _), .add(.text(let text)), .remove(.text(let text), _): texts.insert(text)
            default: break
            }
        }
        return texts
    }

    /// Every head name and phone number of the hub's households (long enough not to occur by chance).
    func districtPersonalValues() throws -> Set<String> {
        var values: Set<String> = []
        var after: EntityID?
        while true {
            let page = try hub.replica.records(FieldModel.households, after: after, limit: 1_000)
            for record in page {
                for field in ["head_name", "phone"] {
                    if let text = record[field].text, text.utf8.count >= 6 { values.insert(text) }
                }
            }
            guard page.count == 1_000, let last = page.last else { return values }
            after = last.id
        }
    }

    /// A whole sync session (the real `SyncSession`, verifying at the end) over the fake network
    /// without faults.
    func fullSync(_ device: SimDevice, verify: Bool = true) throws -> SyncSession.Progress {
        let session = SyncSession(replica: device.replica, pushOpsMax: random.int(1...config.pageSizeMax),
                                  pullOpsMax: random.int(1...config.pageSizeMax), verify: verify)
        return try session.run(bodies: { body in
            let request = try SyncProtocol.decode(SyncRequest.self, from: body)
            let response: SyncResponse
            do {
                response = try self.hub.handle(request, token: device.token)
            } catch let refusal as SyncRefusal {
                try self.expect(refusal, for: device)
                throw refusal
            }
            self.replyOrder += 1
            self.report.exchanges += 1
            self.took(response, order: self.replyOrder, on: device)
            self.trace("\(device.name) sync: pushed \(request.push.map(\.id.seq)), acked \(response.acceptedThroughSeq), held \(response.held.map { "\($0.op.seq) \($0.reason)" }), ops \(response.ops.count), resync \(response.resync)")
            return try SyncProtocol.encode(response)
        })
    }

    /// A device that synced until nothing more came reads whole and, unless it holds operations
    /// in its own quarantine (its clock was behind) or wrote operations the hub held (it applied
    /// them, the hub did not), shows every cell it serves exactly as the hub does.
    func checkAgreesWithoutRepair(_ device: SimDevice) throws {
        try checkRecordsWhole(on: device)
        guard try device.replica.unsyncedCount() == 0, try device.replica.quarantined(limit: 1).isEmpty,
              !heldEver.contains(where: { $0.replica == device.replicaID }) else { return }
        for cell in device.cells.sorted() where try device.replica.digest(cell: cell) != hub.replica.digest(cell: cell) {
            let differing = try differingRecords(device, cell: cell)
            if !differing.isEmpty && differing.isSubset(of: device.keptAside) { continue }
            throw failure("caughtUpDevicesAgreeWithoutRepair", "\(device.name) synced until nothing more came, but its cell \(cell) differs from the hub's (verification would have to repair it): \(try difference(device, cell: cell))")
        }
    }

    /// The records (collection/id) of a cell that differ between a device and the hub.
    func differingRecords(_ device: SimDevice, cell: String) throws -> Set<String> {
        var keys = Set<String>()
        for collection in FieldModel.collections.map(\.name) {
            let here = Dictionary(uniqueKeysWithValues: try device.replica.records(collection, cell: cell, limit: Int.max).map { ($0.id, $0) })
            let there = Dictionary(uniqueKeysWithValues: try hub.replica.records(collection, cell: cell, limit: Int.max).map { ($0.id, $0) })
            for id in Set(here.keys).union(there.keys) where here[id] != there[id] { keys.insert("\(collection)/\(id)") }
        }
        return keys
    }

    /// Which records of a cell differ between a device and the hub, and in which fields.
    func difference(_ device: SimDevice, cell: String) throws -> String {
        var lines: [String] = []
        for collection in FieldModel.collections.map(\.name) {
            let here = Dictionary(uniqueKeysWithValues: try device.replica.records(collection, cell: cell, limit: Int.max).map { ($0.id, $0) })
            let there = Dictionary(uniqueKeysWithValues: try hub.replica.records(collection, cell: cell, limit: Int.max).map { ($0.id, $0) })
            for id in Set(here.keys).union(there.keys).sorted() where here[id] != there[id] {
                guard let mine = here[id], let central = there[id] else {
                    lines.append("\(collection)/\(id) only \(here[id] == nil ? "at the hub" : "on the device")")
                    continue
                }
                let fields = mine.values.keys.filter { mine.values[$0] != central.values[$0] }.sorted()
                lines.append("\(collection)/\(id) differs in \(fields.map { "\($0): \(mine.values[$0]!) here, \(central.values[$0] ?? .null) at the hub" })")
            }
        }
        return lines.isEmpty ? "same records; conflicts differ" : lines.prefix(4).joined(separator: "; ")
    }

    // MARK: At the end

    func checkFinal() throws {
        try scanHubQuarantine()
        try checkDuringRun()
        let hubHeld = try hub.replica.quarantined(limit: Int.max)
        guard hubHeld.isEmpty else {
            throw failure("operatorsSettleHeldOps", "\(hubHeld.count) operations still held after the heal phase")
        }
        let cellsByDevice = Dictionary(uniqueKeysWithValues: try hub.devices().map { ($0.name, $0.cells) })
        for device in devices where !device.revoked {
            let unsent = try device.replica.unsyncedCount()
            guard unsent == 0 else { throw failure("devicesQuiescent", "\(device.name) still has \(unsent) unsent operations") }
            let cells = cellsByDevice[device.name] ?? []
            guard cells == device.cells.sorted() else {
                throw failure("devicesKnowTheirCells", "\(device.name) believes it serves \(device.cells.sorted()); the hub says \(cells)")
            }
            try checkCells(of: device)
            for cell in cells { try compare(device, cell: cell) }
            try checkResolutionsHold(on: device.replica, name: device.name)
        }
        try checkCounters()
        try checkErasures()
        report.hubOps = try hub.replica.operations().count
        report.finalRecords = try hub.replica.heldRecordCells().count
    }

    /// A device and the hub show the same state of a cell: digest, every record, every conflict.
    func compare(_ device: SimDevice, cell: String) throws {
        let mine = try device.replica.digest(cell: cell), central = try hub.replica.digest(cell: cell)
        for collection in FieldModel.collections.map(\.name) {
            let here = try device.replica.records(collection, cell: cell, limit: Int.max)
            let there = try hub.replica.records(collection, cell: cell, limit: Int.max)
            if here != there {
                let differing = Set(here.map(\.id)).symmetricDifference(there.map(\.id)).sorted().prefix(3)
                let changed = zip(here, there).first { $0 != $1 }.map { pair -> String in
                    let fields = pair.0.values.filter { key, value in pair.1.values[key] != value }.keys.sorted()
                    return "\(pair.0.id): fields \(fields)"
                }
                throw failure("tablesEqual", "\(device.name) and the hub differ in \(collection) of cell \(cell): \(here.count) vs \(there.count) records; only on one side: \(Array(differing)); first differing record: \(changed ?? "-")")
            }
        }
        // A device keeps its own operations that the hub held (applied here, never there: by
        // design the two then differ). When such a head only repeats a value the other heads
        // show, digests agree; leave it out of the comparison.
        let ownHeld = Set(heldEver.filter { $0.replica == device.replicaID })
        let conflictsIn = { (replica: Replica, ignoring: Set<OpID>) throws -> Set<String> in
            var result = Set<String>()
            for conflict in try replica.conflicts()
            where try replica.record(conflict.collection, conflict.entity, includeDeleted: true)?["cell"].text == cell {
                let candidates = conflict.candidates.filter { !ignoring.contains($0.op) }
                guard Set(candidates.map(\.value)).count > 1 else { continue }
                result.insert("\(conflict.collection)/\(conflict.entity)/\(conflict.field) " + candidates.map { "\($0.op)=\($0.value)" }.sorted().joined(separator: ","))
            }
            return result
        }
        let conflictsHere = try conflictsIn(device.replica, ownHeld), conflictsThere = try conflictsIn(hub.replica, [])
        guard conflictsHere == conflictsThere else {
            throw failure("conflictsEqual", "\(device.name) and the hub show different conflicts in cell \(cell): only on the device \(conflictsHere.subtracting(conflictsThere).sorted()), only at the hub \(conflictsThere.subtracting(conflictsHere).sorted())")
        }
        guard mine == central else {
            throw failure("digestsEqual", "\(device.name)'s digest of cell \(cell) is \(mine.prefix(12))…, the hub's \(central.prefix(12))…")
        }
    }

    /// No operation was applied twice: each household's visit count is the number of visits
    /// the hub applied (or an operator released), and devices agree with the hub (above).
    func checkCounters() throws {
        var expected: [EntityID: Int64] = [:]
        for device in devices {
            let applied = try hub.replica.loggedSeqs(of: device.replicaID)
            for (seq, household) in device.visits {
                let op = OpID(replica: device.replicaID, seq: seq)
                if applied.contains(seq) || released.contains(op) { expected[household, default: 0] += 1 }
            }
        }
        for household in try hub.replica.records(FieldModel.households, limit: Int.max) {
            let count = household["visit_count"].int ?? 0
            guard count == expected[household.id] ?? 0 else {
                throw failure("noOpAppliedTwice", "household \(household.id) shows \(count) visits at the hub; \(expected[household.id] ?? 0) were applied")
            }
        }
    }
}
