import CentralNode
import FieldKit
import Foundation
import SyncKit

/// The operators' side: the review queue (conflicts, held operations), cells, enrollment and
/// revocation. Each is a hub transaction, and a hub crash may stop any of them.
extension Simulation {
    static let operatorName = "operator-sim"

    func review() throws {
        if random.chance(config.resolveProbability) { try resolveConflict() } else { try settleHeldOperation(all: false) }
    }

    /// Resolves one conflict of the review queue: picks a candidate, or writes a new value.
    func resolveConflict() throws {
        guard let items = try onHub({ try hub.reviewItems(kind: .conflict) }), !items.isEmpty else { return }
        let item = random.pick(items)
        guard let conflict = item.conflict else { throw failure("reviewItemsDescribeConflicts", "conflict item \(item.id) carries no conflict") }
        var value: Value?
        if random.chance(0.3) {
            switch conflict.field {
            case "member_count": value = .int(Int64(random.int(0...9)))
            case "head_name", "phone", "district", "street", "building_number", "block", "unit", "floor", "room": value = .text("核对\(step)")
            default: value = nil   // lifecycle and existence conflicts: pick a candidate
            }
        }
        let pick = value == nil ? random.pick(conflict.candidates).op : nil
        guard try onHub({ try hub.resolve(item.id, pick: pick, value: value, actor: Self.operatorName) }) != nil else { return }
        trace("resolved \(item.id) \(pick.map { "picking \($0)" } ?? "with a new value")")
        resolutions.append((conflict.collection, conflict.entity, conflict.field, Set(conflict.candidates.map(\.op))))
        report.resolvedConflicts += 1
    }

    /// Releases (re-stamps) or discards one held operation, or every one when `all`.
    func settleHeldOperation(all: Bool) throws {
        guard let items = try onHub({ try hub.reviewItems(kind: .quarantine) }), !items.isEmpty else { return }
        for item in all ? items : [random.pick(items)] {
            guard let held = item.held else { throw failure("reviewItemsDescribeHeldOps", "held item \(item.id) carries no operation") }
            let op = held.operation.id
            if random.chance(config.releaseProbability) {
                guard try onHub({ try hub.release(op, actor: Self.operatorName) }) != nil else { continue }
                released.insert(op)
                trace("released \(op)")
                report.releasedOps += 1
            } else {
                guard try onHub({ try hub.discard(op, actor: Self.operatorName) }) != nil else { continue }
                discarded.insert(op)
                trace("discarded \(op)")
                report.discardedOps += 1
            }
        }
    }

    /// Gives a device other cells (some of the district's, one or two).
    func reassignCells() throws {
        let candidates = devices.filter { !$0.revoked }
        guard !candidates.isEmpty else { return }
        let device = random.pick(candidates)
        let cells = randomCells()
        guard try onHub({ try hub.setCells(device: device.name, cells: cells, actor: Self.operatorName) }) != nil else { return }
        report.reassignments += 1
        trace("\(device.name) now serves \(cells)")
    }

    func randomCells() -> [String] {
        Array(random.shuffled(config.cells).prefix(random.int(1...min(2, config.cells.count)))).sorted()
    }

    /// Enrolls a device (at the start, or a new one during the run) with its own file and clock.
    func enrollDevice(index: Int) throws {
        let name = "collector-\(index)"
        let cells = randomCells()
        guard let enrollment = try onHub({ try hub.enroll(device: name, cells: cells, actor: Self.operatorName) }) else { return }
        let skew: Int64 = random.chance(config.skewedDeviceShare) ? random.int64(-config.skewMillisMax...config.skewMillisMax) : random.int64(-120_000...120_000)
        let device = try SimDevice(index: index, name: name, path: directory.appendingPathComponent("\(name).db").path,
                                   token: enrollment.token, cells: cells, skewMillis: skew, hubMillis: hubMillis)
        devices.append(device)
        if phase != "setup" { report.enrollments += 1 }
    }

    /// Erases the personal values of one household of the hub (the next by id at each turn),
    /// remembering every head name and phone number written to it before: on the hub and in
    /// the devices' logs (work not synced yet, which arrives erased).
    func eraseHousehold() throws {
        guard let households = try onHub({ try hub.replica.records(FieldModel.households, limit: 10_000) }), !households.isEmpty else { return }
        let household = households[(step / Self.eraseEverySteps) % households.count].id
        var values = Self.personalTexts(try hub.replica.centralRead { try $0.operations(of: FieldModel.households, household) })
        for device in devices where !device.revoked && device.replica.wipedMillis == nil {
            values.formUnion(Self.personalTexts(try device.replica.operations().filter { $0.entity == household }))
        }
        guard try onHub({ try hub.erase(FieldModel.households, household, reason: "simulated request at step \(step)", actor: Self.operatorName) }) != nil else { return }
        erased[household, default: []].formUnion(values)
        report.erasures += 1
        trace("erased \(household)")
    }

    /// The head names and phone numbers operations write (long enough not to occur by chance).
    static func personalTexts(_ ops: [Op]) -> Set<String> {
        var values: Set<String> = []
        for op in ops {
            for assignment in op.assignments where assignment.field == "head_name" || assignment.field == "phone" {
                if case .set(.text(let text), _) = assignment.change, text.utf8.count >= 6 { values.insert(text) }
            }
        }
        return values
    }

    /// Revokes a device (keeping at least two that work): nothing it writes afterwards may reach
    /// anyone. Devices of even index are reported lost (revoked with a wipe): at their next
    /// contact they erase everything (chosen by index, not drawn, so that seeds replay as before).
    func revokeDevice() throws {
        let working = devices.filter { !$0.revoked }
        guard working.count > 2 else { return }
        let device = random.pick(working)
        let wipe = device.index % 2 == 0 ? "lost" : nil
        guard try onHub({ try hub.revoke(device: device.name, actor: Self.operatorName, wipe: wipe) }) != nil else { return }
        device.revoked = true
        device.revokedAfterSeq = device.lastSeq
        device.wipeRequested = wipe != nil
        report.revocations += 1
        if wipe != nil { report.wipes += 1 }
    }
}
