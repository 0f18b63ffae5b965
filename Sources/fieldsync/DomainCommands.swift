import FieldKit
import Foundation
import SyncKit

/// `fieldsync household|doorplate|task …`: a collector's work, with FieldKit's validation,
/// matching keys and duplicate suspicion (the generic `record` commands have none of these).
enum DomainCommands {
    static let usage = """
        usage (all take --db fieldsync.db and --json):
          fieldsync household add --doorplate CODE --head NAME --members N [--unit U] [--room R] [--phone P] [--tag T] [--anyway]
                                  likely duplicates are shown instead of creating (exit 2); --anyway creates beside them
          fieldsync household show ID | list [--cell C] | visit ID [--on YYYY-MM-DD]
          fieldsync household update ID field=value …   fields: doorplate unit room head_name member_count phone
                                  status tags notes (tags: a;b replaces them; field= clears a field)
          fieldsync doorplate scan PAYLOAD        the plate and its households, or says it is unknown here
          fieldsync doorplate add CODE [--street S] [--building B] [--unit U] [--room R] | show CODE | list [--cell C]
          fieldsync doorplate update CODE-or-ID field=value …   fields: district street building_number block unit
                                  floor room remainder latitude longitude status installed_on notes
                                  (the code cannot change: a new code is a new plate)
          fieldsync task list [--all] | show ID | start ID | done ID | note ID TEXT
                                  (list: this device's unfinished tasks by due date; --all: every task here)
        """

    static func store(_ path: String) throws -> FieldStore {
        FieldStore(replica: try DeviceCommands.open(path))
    }

    // MARK: Households

    static func household(_ words: [String]) throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help", "anyway"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db", json = args.flag("json")
        switch command {
        case "add":
            let code = try DoorplateCode(parsing: try args.required("doorplate", "CODE"))
            let head = try args.required("head", "NAME")
            let members = try args.int("members", default: -1)
            guard members >= 0 else { throw UsageError("missing --members N") }
            var draft = HouseholdDraft(doorplate: code, unit: args.value("unit"), room: args.value("room"), headName: head,
                                       memberCount: members, phone: args.value("phone"))
            if let tag = args.value("tag") { draft.tags = [tag] }
            let anyway = args.flag("anyway")
            try args.checkAllUsed()
            switch try store(path).addHousehold(draft, ifSuspected: anyway ? .createAnyway : .stop) {
            case .created(let household):
                json ? Output.json(render(household)) : Output.line("registered household \(household.id) at \(household.doorplate.canonical)")
            case .suspects(let suspects):
                if json {
                    Output.json(["created": false, "suspects": suspects.map { ["household": render($0.household), "reasons": $0.reasons.map(\.rawValue)] as [String: Any] }])
                } else {
                    for suspect in suspects {
                        Output.line("possible duplicate: \(suspect.household.id) \(suspect.household.headName) (\(suspect.reasons.map(\.rawValue).joined(separator: ", ")))")
                    }
                }
                Output.error("not registered: \(suspects.count) likely duplicate(s) here; pick one, or add --anyway if this is a different household")
                exit(2)
            }
        case "show":
            guard args.positional.count == 1 else { throw UsageError("household show ID") }
            try args.checkAllUsed()
            guard let household = try store(path).household(try EntityID(args.positional[0])) else {
                throw SyncError(.notFound, "no household \(args.positional[0]) on this device")
            }
            json ? Output.json(render(household)) : Output.line(line(household))
        case "list":
            let cell = try args.value("cell").map { try GridCell(parsing: $0) }
            try args.checkAllUsed()
            let households = try store(path).households(cell: cell)
            if json { return Output.json(households.map(render)) }
            for household in households { Output.line(line(household)) }
        case "visit":
            guard args.positional.count == 1 else { throw UsageError("household visit ID [--on YYYY-MM-DD]") }
            let day = try args.value("on").map { try CalendarDay(parsing: $0) }
                ?? CalendarDay(millis: Int64(Date().timeIntervalSince1970 * 1000), utcOffsetSeconds: TimeZone.current.secondsFromGMT())
            try args.checkAllUsed()
            let household = try store(path).recordVisit(try EntityID(args.positional[0]), on: day)
            json ? Output.json(render(household)) : Output.line("visit \(household.visitCount) recorded on \(day)")
        case "update":
            try updateHousehold(&args, path: path, json: json)
        default:
            throw UsageError("unknown household command \"\(command)\"\n\n\(usage)")
        }
    }

    static func render(_ household: Household) -> [String: Any] {
        let details = household.details
        var result: [String: Any] = [
            "id": household.id.rawValue, "cell": household.cell.description, "doorplate": household.doorplate.canonical,
            "headName": details.headName, "memberCount": details.memberCount, "status": details.status.rawValue,
            "visitCount": household.visitCount, "tags": details.tags.sorted(), "conflicts": household.conflictedFields,
        ]
        if let unit = details.unit { result["unit"] = unit }
        if let room = details.room { result["room"] = room }
        if let phone = details.phone { result["phone"] = phone }
        if let last = household.lastVisitOn { result["lastVisitOn"] = last.description }
        if !details.notes.isEmpty { result["notes"] = details.notes }
        if household.isErased {
            // Erased by an operator: no head name or member count, unless written again since.
            result["erased"] = true
            if details.headName.isEmpty { result["headName"] = NSNull() }
            if details.memberCount == 0 { result["memberCount"] = NSNull() }
        }
        return result
    }

    static func line(_ household: Household) -> String {
        let place = [household.details.unit, household.details.room].compactMap { $0 }.joined(separator: "-")
        let who = household.isErased && household.headName.isEmpty ? "(personal data erased)" : "\(household.headName)\t\(household.details.memberCount) members"
        return "\(household.id)\t\(household.doorplate.canonical)\(place.isEmpty ? "" : " \(place)")\t\(who)\tvisits \(household.visitCount)"
            + (household.conflictedFields.isEmpty ? "" : "\tconflicts: \(household.conflictedFields.joined(separator: ","))")
    }

    // MARK: Doorplates

    static func doorplate(_ words: [String]) throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db", json = args.flag("json")
        switch command {
        case "scan":
            guard args.positional.count == 1 else { throw UsageError("doorplate scan PAYLOAD") }
            try args.checkAllUsed()
            switch try store(path).scan(args.positional[0]) {
            case .known(let plate, let households):
                if json { return Output.json(["known": true, "doorplate": render(plate), "households": households.map(render)]) }
                Output.line(line(plate))
                for household in households { Output.line("  " + line(household)) }
            case .unknown(let code):
                json ? Output.json(["known": false, "code": code.canonical])
                     : Output.line("doorplate \(code.canonical) is valid but not on this device; register it with `fieldsync doorplate add \(code.canonical)`")
            }
        case "add":
            guard args.positional.count == 1 else { throw UsageError("doorplate add CODE [--street S] …") }
            let code = try DoorplateCode(parsing: args.positional[0])
            let address = Address(street: args.value("street"), buildingNumber: args.value("building"), unit: args.value("unit"), room: args.value("room"))
            try args.checkAllUsed()
            let plate = try store(path).addDoorplate(DoorplateDraft(code: code, address: address))
            json ? Output.json(render(plate)) : Output.line("registered doorplate \(plate.code.canonical) in cell \(plate.cell)")
        case "show":
            guard args.positional.count == 1 else { throw UsageError("doorplate show CODE") }
            try args.checkAllUsed()
            let code = try DoorplateCode(parsing: args.positional[0])
            guard let plate = try store(path).doorplate(code) else { throw SyncError(.notFound, "doorplate \(code.canonical) is not on this device") }
            json ? Output.json(render(plate)) : Output.line(line(plate))
        case "list":
            let cell = try args.value("cell").map { try GridCell(parsing: $0) }
            try args.checkAllUsed()
            let plates = try store(path).doorplates(cell: cell)
            if json { return Output.json(plates.map(render)) }
            for plate in plates { Output.line(line(plate)) }
        case "update":
            try updateDoorplate(&args, path: path, json: json)
        default:
            throw UsageError("unknown doorplate command \"\(command)\"\n\n\(usage)")
        }
    }

    static func render(_ plate: Doorplate) -> [String: Any] {
        let address = plate.address
        let parts: [(String, String?)] = [("district", address.district), ("street", address.street), ("buildingNumber", address.buildingNumber),
                                          ("block", address.block), ("unit", address.unit), ("floor", address.floor), ("room", address.room),
                                          ("remainder", address.remainder)]
        var addressJSON: [String: Any] = [:]
        for (key, value) in parts { if let value { addressJSON[key] = value } }
        var result: [String: Any] = ["code": plate.code.canonical, "cell": plate.cell.description, "qrPayload": QRPayload.encode(plate.code),
                                     "status": plate.status.rawValue, "address": addressJSON, "conflicts": plate.conflictedFields]
        if let latitude = plate.details.latitude { result["latitude"] = latitude }
        if let longitude = plate.details.longitude { result["longitude"] = longitude }
        if let installed = plate.details.installedOn { result["installedOn"] = installed.description }
        if !plate.details.notes.isEmpty { result["notes"] = plate.details.notes }
        return result
    }

    static func line(_ plate: Doorplate) -> String {
        let address = [plate.address.district, plate.address.street, plate.address.buildingNumber, plate.address.unit, plate.address.room]
            .compactMap { $0 }.joined(separator: " ")
        return "\(plate.code.canonical)\t\(plate.cell)\t\(plate.status.rawValue)\t\(address)"
            + (plate.conflictedFields.isEmpty ? "" : "\tconflicts: \(plate.conflictedFields.joined(separator: ","))")
    }

    // MARK: Tasks

    static func task(_ words: [String]) throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help", "all"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db", json = args.flag("json")
        let all = args.flag("all")
        try args.checkAllUsed()
        let store = try store(path)
        func id(_ index: Int) throws -> EntityID {
            guard args.positional.count > index else { throw UsageError("task \(command) ID") }
            return try EntityID(args.positional[index])
        }
        let task: FieldTask
        switch command {
        case "list":
            let tasks = try all ? store.tasks() : store.tasks(assignee: store.deviceID, unfinishedOnly: true)
            if json { return Output.json(tasks.map(render)) }
            if tasks.isEmpty { Output.line(all ? "no tasks on this device" : "no open tasks for this device") }
            for task in tasks { Output.line(line(task)) }
            return
        case "show":
            guard let found = try store.task(try id(0)) else { throw SyncError(.notFound, "no task \(args.positional[0]) on this device") }
            task = found
        case "start": task = try store.startTask(try id(0))
        case "done": task = try store.completeTask(try id(0))
        case "note":
            guard args.positional.count == 2 else { throw UsageError("task note ID TEXT") }
            task = try store.addTaskNote(try id(0), args.positional[1])
        default:
            throw UsageError("unknown task command \"\(command)\"\n\n\(usage)")
        }
        if json { return Output.json(render(task)) }
        Output.line(line(task))
        if command == "show" {
            for entry in task.history { Output.line("  \(entry)") }
            for note in task.notes { Output.line("  note: \(note.text)") }
        }
    }

    static func render(_ task: FieldTask) -> [String: Any] {
        var result: [String: Any] = ["id": task.id.rawValue, "kind": task.kind.rawValue, "target": task.target.storedText,
                                     "cell": task.cell.description, "dueOn": task.dueOn.description, "priority": task.priority.rawValue,
                                     "status": task.status.rawValue, "history": task.history.map(\.description),
                                     "notes": task.notes.map(\.text), "conflicts": task.conflictedFields]
        if let assignee = task.assignee { result["assignee"] = assignee }
        if let completedBy = task.completedBy { result["completedBy"] = completedBy }
        return result
    }

    static func line(_ task: FieldTask) -> String {
        "\(task.id)\t\(task.dueOn)\t\(task.priority.rawValue)\t\(task.kind.rawValue)\t\(task.target.storedText)\t\(task.status.rawValue)"
    }
}
