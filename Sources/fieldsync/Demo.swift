import CentralNode
import Dispatch
import FieldKit
import Foundation
import SyncKit

/// `fieldsync demo`: a central node on loopback and three collectors' devices, one afternoon
/// without network. They edit offline (a phone typed twice, a doorplate registered twice, a
/// household recorded twice, a task finished in the field while the office cancels it), sync
/// over HTTP, and the narration shows the digests that agree and the review queue; the operator
/// settles it and everyone syncs again. Everything runs in this process, in a temporary
/// directory, and stops before the command returns.
struct Demo {
    let keepFiles: Bool
    let json: Bool

    struct Device {
        let name: String
        let store: FieldStore
        let transport: HTTPSyncTransport
        let cells: [String]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func say(_ text: String) { if !json { Output.line(text) } }

    static let seed: UInt64 = 20_261_130
    static let operatorName = "office-wu"

    func run() throws {
        let started = ContinuousClock.now
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-demo-\(UUID().uuidString)")
        // Owner-only, like the databases in it (kept with --keep): they hold a district's households.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { if !keepFiles { try? FileManager.default.removeItem(at: directory) } }
        let hub = try Hub.open(path: directory.appendingPathComponent("central.db").path, schema: FieldModel.schema)
        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: hub).router)
        defer {
            let stopped = DispatchSemaphore(value: 0)
            Task { await server.stop(); stopped.signal() }
            stopped.wait()
        }
        let url = URL(string: "http://127.0.0.1:\(server.boundPort)")!
        let office = FieldStore(replica: hub.replica)

        // 1. The node and its district.
        let generator = DistrictGenerator(seed: Self.seed, options: .init(cellCount: 2, doorplatesPerCell: 12, tasksPerCell: 4))
        let generated = Array(generator.cells)
        let cellA = generated[0].cell.id, cellB = generated[1].cell.id
        try hub.write(actor: Self.operatorName, action: "seed", detail: "demo district") {
            for cell in generated {
                try office.importRecords(doorplates: cell.doorplates, households: cell.households)
                for task in cell.tasks { _ = try office.addTask(task) }
            }
        }
        let households = generated.map(\.households.count).reduce(0, +), plates = generated.map(\.doorplates.count).reduce(0, +)
        say("FieldSync demo: a central node, three collectors, one afternoon without network.\n")
        say("1. The central node listens on \(url.absoluteString) (files in \(directory.path)).")
        say("   The office seeds district \(generator.options.districtName): cells \(cellA) and \(cellB), \(plates) doorplates, \(households) households, \(generated.map(\.tasks.count).reduce(0, +)) tasks.")

        // The task the story is about: a household visit in cell A, assigned to Li.
        let storyTask = try office.tasks(cell: try GridCell(parsing: cellA)).first { $0.status == .open || $0.status == .assigned }
        guard let storyTask else { throw Failure(description: "the generated district has no open task in \(cellA)") }
        if storyTask.status == .open {
            try hub.write(actor: Self.operatorName, action: "assign-task", detail: "task \(storyTask.id)") {
                _ = try office.assignTask(storyTask.id, to: "li")
            }
        }

        // 2. Enrollment and the first sync: each device receives its cells as snapshots.
        var devices: [Device] = []
        for (name, cells) in [("li", [cellA]), ("zhao", [cellA]), ("wang", [cellB])] {
            let enrollment = try hub.enroll(device: name, cells: cells, actor: Self.operatorName)
            let store = try FieldStore.open(path: directory.appendingPathComponent("\(name).db").path)
            devices.append(Device(name: name, store: store, transport: HTTPSyncTransport(baseURL: url, token: enrollment.token, timeoutSeconds: 30),
                                  cells: cells))
        }
        let (li, zhao, wang) = (devices[0], devices[1], devices[2])
        say("\n2. Three devices are enrolled: Li and Zhao serve \(cellA), Wang serves \(cellB). Each syncs once:")
        for device in devices {
            let progress = try sync(device)
            say("   \(device.name): \(progress.recordsDown) records of its cell as a snapshot (\(Output.bytes(progress.bytesDown))), verified: \(progress.verified)")
        }

        // 3. Offline edits.
        let cellAGrid = try GridCell(parsing: cellA)
        guard let household = try li.store.households(cell: cellAGrid).first else { throw Failure(description: "cell \(cellA) has no household") }
        let newPlate = try DoorplateCode(areaLetters: generator.options.areaLetters, cellNumber: generator.options.firstCellNumber, plateNumber: 99)
        say("\n3. The network goes away. Offline:")
        say("   - Li and Zhao both call on \(household.headName) (\(household.doorplate.canonical)) and type different phone numbers.")
        _ = try li.store.updateHousehold(household.id, setting: ["phone": "13911112222"])
        _ = try zhao.store.updateHousehold(household.id, setting: ["phone": "13933334444"])
        say("   - Both register the missing doorplate \(newPlate.canonical): Li notes room 301, Zhao room 302.")
        for (device, room) in [(li, "301"), (zhao, "302")] {
            var address = Address(district: generator.options.districtName, street: "卫零路", buildingNumber: "99号")
            address.room = room
            _ = try device.store.addDoorplate(DoorplateDraft(code: newPlate, address: address))
        }
        say("   - Both record the family that moved in there, 王芳 (Zhao types 王 芳): one household, twice.")
        for (device, name) in [(li, "王芳"), (zhao, "王 芳")] {
            _ = try device.store.addHousehold(HouseholdDraft(doorplate: newPlate, unit: "1", room: "301", headName: name, memberCount: 2))
        }
        say("   - Li finishes task \(storyTask.id) (\(storyTask.kind.rawValue)) in the field; meanwhile the office cancels it.")
        _ = try li.store.startTask(storyTask.id)
        _ = try li.store.completeTask(storyTask.id)
        try hub.write(actor: Self.operatorName, action: "cancel-task", detail: "task \(storyTask.id)") { _ = try office.cancelTask(storyTask.id) }
        guard let wangHousehold = try wang.store.households(cell: try GridCell(parsing: cellB)).first else { throw Failure(description: "cell \(cellB) has no household") }
        say("   - Wang, in \(cellB), records a visit to \(wangHousehold.headName).")
        _ = try wang.store.recordVisit(wangHousehold.id, on: try CalendarDay(year: 2026, month: 11, day: 30))

        // 4. Everyone syncs, twice (the second round brings each the others' work).
        say("\n4. The network is back. Everyone syncs, twice:")
        for round in 1...2 {
            for device in devices {
                let progress = try sync(device)
                say("   round \(round), \(device.name): \(progress.opsUp) operations up, \(progress.opsDown) down (\(Output.bytes(progress.bytesUp)) / \(Output.bytes(progress.bytesDown))), verified: \(progress.verified)")
            }
        }

        // 5. Digests.
        say("\n5. Every replica merged the same operations, so each cell's digest agrees:")
        var agreed = try reportDigests(hub: hub, devices: devices, cells: [cellA, cellB])
        guard agreed else { throw Failure(description: "digests differ after syncing") }

        // 6. The review queue.
        let queue = try hub.reviewItems()
        say("\n6. The merge already picked deterministic winners; the central node's review queue shows what people should decide:")
        for item in queue { say("   \(item.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(item.summary)") }
        let shownOnLi = try li.store.household(household.id)?.details.phone ?? "-"
        say("   (meanwhile every device shows the same winner, e.g. phone \(shownOnLi) for \(household.headName))")

        // 7. The operator settles each item.
        say("\n7. The operator settles them:")
        for item in queue {
            switch item.kind {
            case .conflict:
                guard let conflict = item.conflict else { continue }
                let preferred: Value? = switch conflict.field {
                case "phone": "13911112222"
                case "room": "301"
                case "status": .text(TaskStatus.done.rawValue)
                default: nil
                }
                let pick = conflict.candidates.first { $0.value == preferred } ?? conflict.candidates[0]
                try hub.resolve(item.id, pick: pick.op, actor: Self.operatorName)
                say("   \(conflict.collection).\(conflict.field): keeps \(pick.value)")
            case .duplicate:
                guard let pair = item.duplicate else { continue }
                try hub.mergeDuplicate(item.id, keep: pair.firstID.rawValue, actor: Self.operatorName)
                say("   duplicate: households \(pair.firstID) and \(pair.secondID) merged into \(pair.firstID) (the other becomes a redirect)")
            case .quarantine:
                guard let held = item.held else { continue }
                try hub.release(held.operation.id, actor: Self.operatorName)
                say("   held operation \(held.operation.id): released")
            }
        }

        // 8. Everyone syncs again.
        say("\n8. Everyone syncs again:")
        for device in devices { _ = try sync(device) }
        agreed = try reportDigests(hub: hub, devices: devices, cells: [cellA, cellB])
        let remaining = try hub.reviewItems()
        let leftover = try devices.flatMap { try $0.store.replica.conflicts() }
        let deviceConflicts = leftover.count
        for conflict in leftover { say("   left on a device: \(conflict.collection) \(conflict.entity) \(conflict.field)") }
        let finalPhone = try zhao.store.household(household.id)?.details.phone ?? "-"
        let finalTask = try zhao.store.task(storyTask.id)?.status.rawValue ?? "-"
        let newHouseholds = try zhao.store.households(at: newPlate).count
        say("   review queue: \(remaining.count) open items; conflicts left on devices: \(deviceConflicts)")
        say("   Zhao now shows phone \(finalPhone), task \(finalTask), \(newHouseholds) household at \(newPlate.canonical)")
        let seconds = (ContinuousClock.now - started).inSeconds
        say("\nDone in \(String(format: "%.1f", seconds)) s. The node has stopped; \(keepFiles ? "files kept in \(directory.path)" : "temporary files removed (--keep keeps them)").")
        if json {
            var digests: [String: [String: String]] = [:]
            for cell in [cellA, cellB] {
                digests[cell] = ["central": try hub.replica.digest(cell: cell)]
                for device in devices where device.cells.contains(cell) { digests[cell]![device.name] = try device.store.replica.digest(cell: cell) }
            }
            Output.json([
                "agree": agreed, "digests": digests, "seconds": seconds,
                "review": ["before": queue.map { ["id": $0.id, "kind": $0.kind.rawValue, "summary": $0.summary] }, "after": remaining.count],
                "deviceConflicts": deviceConflicts, "phone": finalPhone, "task": finalTask, "householdsAtNewPlate": newHouseholds,
            ] as [String: Any])
        }
        guard agreed, remaining.isEmpty, deviceConflicts == 0 else {
            throw Failure(description: "the demo did not converge: digests agree \(agreed), \(remaining.count) review items open, \(deviceConflicts) device conflicts")
        }
    }

    private func sync(_ device: Device) throws -> SyncSession.Progress {
        let progress = try SyncSession(replica: device.store.replica).run(bodies: device.transport.exchange(body:))
        if let refusal = progress.refusal { throw Failure(description: "\(device.name)'s push was refused: \(refusal.message)") }
        return progress
    }

    /// Prints each cell's digest on the node and on every device serving it; true when all agree.
    private func reportDigests(hub: Hub, devices: [Device], cells: [String]) throws -> Bool {
        var all = true
        for cell in cells {
            let central = try hub.replica.digest(cell: cell)
            var line = "   \(cell)  central \(central.prefix(12))"
            for device in devices where device.cells.contains(cell) {
                let digest = try device.store.replica.digest(cell: cell)
                line += "  \(device.name) \(digest.prefix(12))"
                all = all && digest == central
            }
            say(line + (all ? "  agree" : "  DIFFER"))
        }
        return all
    }
}
