import FieldKit
import Foundation
import SyncKit

/// The collectors' side of the workload: what people do with FieldKit on their devices.
extension Simulation {
    static let headNames = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "張偉", "王 芳", "周杰", "吴霞"]
    static let streets = ["幸福路", "幸福路 ", "卫星路", "衛星路", "杏花胡同", "李家村"]
    static let rooms = ["501", "５０１", "502室", "3-2-501", "101", nil]
    static let tagPool = ["elderly", "disabled", "renter", "child", "moved"]

    /// One local write of a collector, through FieldKit. Refusals (an illegal move, a plate
    /// already registered, a household not on this device) are part of life; a refused write
    /// must leave no operation behind, and a write that returned must survive any crash. The
    /// one exception: FieldKit reads a record back after writing it, and a record it cannot read
    /// (one an operator released an edit of without its creation) fails after the write.
    func localWrite(on device: SimDevice) throws {
        let writes = SimulationConfig.Write.allCases
        let kind = writes[random.weighted(writes.map { config.writeProbability[$0] ?? 0 })]
        let before = try device.storedSeq()
        var visited: EntityID?
        var refusal: (text: String, readBack: Bool)?
        let finished: Void? = try onDevice(device) {
            do {
                try perform(kind, on: device, visiting: &visited)
            } catch let error as FieldError {
                refusal = (error.description, error.code == .invalidRecord)
            } catch let error as SyncError where [.invalidInput, .notFound, .alreadyExists, .illegalTransition].contains(error.code) {
                refusal = (error.description, false)
            }
        }
        let after = try device.storedSeq()
        trace("\(device.name) \(kind): \(finished == nil ? "crashed" : refusal.map { "refused: \($0.text)" } ?? "ops \(before)->\(after)")")
        if let refusal { report.refusedWrites += 1; if refusal.readBack { report.unreadableRecords += 1 } }
        if finished == nil || (refusal != nil && !refusal!.readBack) {
            guard after == before else {
                throw failure("refusedWritesLeaveNothing", "\(kind) on \(device.name) \(refusal.map { "was refused (\($0.text))" } ?? "crashed") but its file went from operation \(before) to \(after)")
            }
            return
        }
        guard after > before else { return }
        if refusal == nil { report.localWrites += 1 }
        if let household = visited {
            // The visit's counter increment: one operation of those the write made.
            let increments = try device.replica.outbox(limit: Int.max).filter { op in
                op.id.seq > before && op.assignments.contains { if case .increment = $0.change { return true } else { return false } }
            }
            guard increments.count == 1, increments[0].entity == household else {
                throw failure("oneIncrementPerVisit", "a visit on \(device.name) wrote \(increments.count) increments (operations \(before + 1)...\(after))")
            }
            device.visits[increments[0].id.seq] = household
        }
        device.lastSeq = max(device.lastSeq, after)
    }

    /// Performs one write; names the household visited, for a visit.
    private func perform(_ kind: SimulationConfig.Write, on device: SimDevice, visiting visited: inout EntityID?) throws {
        let store = device.store
        switch kind {
        case .registerDoorplate:
            try store.addDoorplate(randomPlateDraft(code: try plateCode(for: device, preferRegistered: random.chance(config.samePlateProbability))))
        case .scanDoorplate:
            let code = try plateCode(for: device, preferRegistered: true)
            if case .unknown(let unknown) = try store.scan(QRPayload.encode(code)) {
                try store.addDoorplate(randomPlateDraft(code: unknown))   // scanned a new plate: register it
            }
        case .updateDoorplate:
            guard let record = try randomRecord(FieldModel.doorplates, on: device) else { return }
            let code = try DoorplateCode(parsing: record["code"].text ?? "")
            try store.updateDoorplate(code) { draft in
                switch self.random.int(0...3) {
                case 0: draft.status = self.random.pick(DoorplateStatus.allCases)
                case 1: draft.address.street = self.random.pick(Self.streets)
                case 2: draft.address.room = self.random.pick(Self.rooms)
                default: draft.notes = "检查 \(self.step)"
                }
            }
        case .addHousehold:
            let draft = HouseholdDraft(doorplate: try plateCode(for: device, preferRegistered: random.chance(0.7)),
                                       unit: random.chance(0.3) ? "\(random.int(1...3))单元" : nil, room: random.pick(Self.rooms),
                                       headName: random.pick(Self.headNames), memberCount: random.int(0...6),
                                       phone: random.chance(0.6) ? "138 0013 \(random.int(1000...9999))" : nil,
                                       tags: random.chance(0.3) ? [random.pick(Self.tagPool)] : [])
            if case .suspects = try store.addHousehold(draft), random.chance(0.5) {
                _ = try store.addHousehold(draft, ifSuspected: .createAnyway)
            }
        case .updateHousehold:
            guard let record = try randomRecord(FieldModel.households, on: device) else { return }
            let move = random.chance(config.moveHouseholdProbability)
            let newPlate = move ? try plateCode(for: device, preferRegistered: true) : nil
            try store.updateHousehold(record.id) { draft in
                switch self.random.int(0...5) {
                case 0: draft.memberCount = self.random.int(0...8)
                case 1: draft.phone = "139 \(self.random.int(1000...9999)) \(self.random.int(1000...9999))"
                case 2: draft.headName = self.random.pick(Self.headNames)
                case 3: draft.tags.formSymmetricDifference([self.random.pick(Self.tagPool)])
                case 4: draft.status = self.random.pick(HouseholdStatus.allCases)
                default: draft.notes = "走访 \(self.step)"
                }
                if let newPlate { draft.doorplate = newPlate }
            }
        case .recordVisit:
            guard let record = try randomRecord(FieldModel.households, on: device) else { return }
            visited = record.id
            try store.recordVisit(record.id, on: CalendarDay(millis: device.clock.nowMillis(), utcOffsetSeconds: 8 * 3600))
        case .addTask:
            let due = CalendarDay(millis: hubMillis, utcOffsetSeconds: 8 * 3600).adding(days: random.int(0...14))
            let assignee: String? = random.chance(0.6) ? random.pick(devices).name : nil
            if random.chance(0.5), let household = try randomRecord(FieldModel.households, on: device),
               let cell = try? GridCell(parsing: household["cell"].text ?? "") {
                try store.addTask(TaskDraft(kind: .visitHousehold, target: .household(household.id), cell: cell, dueOn: due,
                                            assignee: assignee, priority: random.pick(TaskPriority.allCases)))
            } else {
                let code = try plateCode(for: device, preferRegistered: true)
                try store.addTask(TaskDraft(kind: random.pick([.installDoorplate, .verifyDoorplate]), target: .doorplate(code),
                                            cell: GridCell(of: code), dueOn: due, assignee: assignee))
            }
        case .moveTask:
            guard let record = try randomRecord(FieldModel.tasks, on: device) else { return }
            let status = random.pick(TaskStatus.allCases)
            try store.moveTask(record.id, to: status, assignee: status == .assigned ? random.pick(devices).name : nil)
        case .addTaskNote:
            guard let record = try randomRecord(FieldModel.tasks, on: device) else { return }
            try store.addTaskNote(record.id, "现场情况 \(step)")
        case .detectDuplicates:
            try store.detectDuplicates()
        }
    }

    /// A plate in one of the cells the device believes it serves: one someone registered
    /// already (two devices meet on it), or any number of the cell's small range.
    private func plateCode(for device: SimDevice, preferRegistered: Bool) throws -> DoorplateCode {
        let cell = random.pick(device.cells.sorted())
        let known = registeredPlates[cell, default: []].sorted()
        let number = preferRegistered && !known.isEmpty ? random.pick(known) : random.int(1...config.platesPerCell)
        return try DoorplateCode(areaLetters: "JS", cellNumber: Int(cell.suffix(4))!, plateNumber: number)
    }

    private func randomPlateDraft(code: DoorplateCode) -> DoorplateDraft {
        registeredPlates[GridCell(of: code).id, default: []].insert(code.plateNumber)
        let address = Address(district: random.pick(["金山区", "金山區", nil]), street: random.pick(Self.streets),
                              buildingNumber: random.pick(["88号", "８８号", "88 號", "12号"]), room: random.pick(Self.rooms))
        return DoorplateDraft(code: code, address: address, latitude: random.chance(0.5) ? 30.7 + random.unit() / 100 : nil,
                              longitude: random.chance(0.5) ? 121.3 + random.unit() / 100 : nil,
                              status: random.pick([.issued, .installed]))
    }

    /// A random live record of a collection on the device, or nil when it holds none.
    private func randomRecord(_ collection: String, on device: SimDevice) throws -> Record? {
        let records = try device.replica.records(collection, limit: 10_000)
        return records.isEmpty ? nil : random.pick(records)
    }
}
