import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync schema`, `record …`, `conflicts`, `digest`: the generic commands on a device replica.
enum RecordCommands {
    static let usage = """
        usage: fieldsync record <command> [--db fieldsync.db] [--json]

          set COLLECTION ID field=value ...   create or update (one operation); values are parsed by
                                              the field's type; field= sets null; counter+=N adds;
                                              set+=x / set-=x add or remove an element; ID - derives it
                                              from the natural key
          get COLLECTION ID                   one record
          list COLLECTION [--cell C] [--limit N]
          delete COLLECTION ID

        fieldsync schema [--json]             collections, fields, types, merge policies, natural keys
        fieldsync conflicts [--json]          this replica's open conflicts
        fieldsync digest [--cell C] [--json]  the state digest (equal on replicas in the same state)
        """

    static func schema(_ words: [String]) throws {
        var args = try Arguments(words, flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let json = args.flag("json")
        try args.checkAllUsed()
        // The document GET /v1/schema serves (PROTOCOL.md, "Schema").
        if json { return Output.line(String(decoding: FieldModel.schema.descriptionJSON, as: UTF8.self)) }
        for collection in FieldModel.schema.collections {
            var header = collection.name
            if let key = collection.naturalKey { header += " (natural key: \(key.fields.joined(separator: ", ")))" }
            Output.line(header)
            for field in collection.fields {
                var line = "  \(field.name)\t\(field.type.rawValue)\t\(field.policy.name)"
                if field.review { line += "\treview" }
                if field.personal { line += "\tpersonal" }
                if field.name == collection.cellField { line += "\tcell" }
                if case .lifecycle(let lifecycle) = field.policy { line += "\t\(lifecycle.precedence.joined(separator: " < "))" }
                Output.line(line)
            }
        }
    }

    static func record(_ words: [String]) throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        let positional = args.positional
        guard let collectionName = positional.first else { throw UsageError("name the collection; `fieldsync schema` lists them") }
        guard let collection = FieldModel.schema.collection(named: collectionName) else {
            throw SyncError(.invalidInput, "unknown collection \"\(collectionName)\"; collections: \(FieldModel.schema.collections.map(\.name).joined(separator: ", "))")
        }
        switch command {
        case "list":
            let cell = try args.cell("cell")
            let limit = try args.int("limit", default: 1_000)
            try args.checkAllUsed()
            let records = try DeviceCommands.open(path).records(collection.name, cell: cell, limit: limit)
            if json { return Output.json(records.map(render)) }
            for record in records { Output.line(line(record)) }
        case "get":
            guard positional.count == 2 else { throw UsageError("record get COLLECTION ID") }
            try args.checkAllUsed()
            guard let record = try DeviceCommands.open(path).record(collection.name, try EntityID(positional[1])) else {
                throw SyncError(.notFound, "no \(collection.name) record with id \(positional[1])")
            }
            json ? Output.json(render(record)) : Output.line(line(record))
        case "delete":
            guard positional.count == 2 else { throw UsageError("record delete COLLECTION ID") }
            try args.checkAllUsed()
            let id = try EntityID(positional[1])
            try DeviceCommands.open(path).write { try $0.delete(collection.name, id) }
            json ? Output.json(["deleted": id.rawValue]) : Output.line("deleted \(collection.name) \(id)")
        case "set":
            guard positional.count >= 3 else { throw UsageError("record set COLLECTION ID field=value ...") }
            try args.checkAllUsed()
            let changes = try positional.dropFirst(2).map { try parseAssignment($0, collection) }
            let replica = try DeviceCommands.open(path)
            let id = try replica.write { tx -> EntityID in
                var values: [String: Value] = [:]
                for case .set(let field, let value) in changes { values[field] = value }
                let given = positional[1] == "-" ? nil : try EntityID(positional[1])
                let id: EntityID
                if let given, try tx.record(collection.name, given) != nil {
                    id = given
                    if !values.isEmpty { try tx.update(collection.name, id, values) }
                } else {
                    var elements: [String: [Value]] = [:]
                    for case .add(let field, let value) in changes { elements[field, default: []].append(value) }
                    var starting = values
                    for case .increment(let field, let delta) in changes { starting[field] = .int(delta) }
                    return try tx.insert(collection.name, id: collection.naturalKey == nil ? given : nil, starting, elements: elements)
                }
                for change in changes {
                    switch change {
                    case .increment(let field, let delta): try tx.increment(collection.name, id, field, by: delta)
                    case .add(let field, let value): try tx.add(collection.name, id, field, value)
                    case .remove(let field, let value): try tx.remove(collection.name, id, field, value)
                    case .set: break
                    }
                }
                return id
            }
            let record = try replica.record(collection.name, id)
            if json { Output.json(record.map(render) ?? ["id": id.rawValue]) } else { Output.line(record.map(line) ?? id.rawValue) }
        default:
            throw UsageError("unknown record command \"\(command)\"\n\n\(usage)")
        }
    }

    static func conflicts(_ words: [String]) throws {
        var args = try Arguments(words, flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        try args.checkAllUsed()
        let conflicts = try DeviceCommands.open(path).conflicts()
        if json {
            return Output.json(conflicts.map { c in
                ["collection": c.collection, "id": c.entity.rawValue, "field": c.field, "review": c.review,
                 "candidates": c.candidates.map { ["op": $0.op.description, "value": jsonValue($0.value)] }] as [String: Any]
            })
        }
        if conflicts.isEmpty { Output.line("no open conflicts") }
        for c in conflicts {
            Output.line("\(c.collection) \(c.entity) \(c.field): " + c.candidates.map { "\($0.value)" }.joined(separator: " | ") + (c.review ? "  (review)" : ""))
        }
    }

    static func digest(_ words: [String]) throws {
        var args = try Arguments(words, flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        let cell = try args.cell("cell")
        try args.checkAllUsed()
        let digest = try DeviceCommands.open(path).digest(cell: cell)
        json ? Output.json(["digest": digest, "cell": cell ?? ""]) : Output.line(digest)
    }

    enum Change {
        case set(String, Value)
        case increment(String, Int64)
        case add(String, Value)
        case remove(String, Value)
    }

    /// `field=value`, `field+=value`, `field-=value`, parsed by the field's declared type.
    static func parseAssignment(_ text: String, _ collection: CollectionSchema) throws -> Change {
        let op: String
        let parts: [Substring]
        if let range = text.range(of: "+=") { op = "+="; parts = [text[..<range.lowerBound], text[range.upperBound...]] }
        else if let range = text.range(of: "-=") { op = "-="; parts = [text[..<range.lowerBound], text[range.upperBound...]] }
        else if let range = text.range(of: "=") { op = "="; parts = [text[..<range.lowerBound], text[range.upperBound...]] }
        else { throw UsageError("\"\(text)\" is not field=value (or field+=value, field-=value)") }
        let name = String(parts[0]), raw = String(parts[1])
        guard let field = collection.field(named: name) else {
            throw SyncError(.invalidInput, "\(collection.name) has no field \"\(name)\"; fields: \(collection.fields.map(\.name).joined(separator: ", "))")
        }
        switch (op, field.policy) {
        case ("+=", .counter), ("-=", .counter):
            guard let delta = Int64(raw), op == "+=" || delta != .min else {
                throw SyncError(.invalidInput, "\(collection.name).\(name) is a counter: give a whole number within ±9223372036854775807, not \"\(raw)\"")
            }
            return .increment(name, op == "+=" ? delta : -delta)
        case ("+=", .set): return .add(name, try parse(raw, field.type, "\(collection.name).\(name)"))
        case ("-=", .set): return .remove(name, try parse(raw, field.type, "\(collection.name).\(name)"))
        case ("=", .register), ("=", .lifecycle):
            return .set(name, raw.isEmpty ? .null : try parse(raw, field.type, "\(collection.name).\(name)"))
        case ("=", .counter): throw SyncError(.invalidInput, "\(collection.name).\(name) is a counter: use \(name)+=N")
        case ("=", .set): throw SyncError(.invalidInput, "\(collection.name).\(name) is a set: use \(name)+=element or \(name)-=element")
        default: throw SyncError(.invalidInput, "\(op) does not apply to \(collection.name).\(name) (a \(field.policy.name) field)")
        }
    }

    static func parse(_ raw: String, _ type: FieldType, _ name: String) throws -> Value {
        switch type {
        case .text: return .text(raw)
        case .int:
            guard let v = Int64(raw) else { throw SyncError(.invalidInput, "\(name) takes a whole number, not \"\(raw)\"") }
            return .int(v)
        case .real:
            guard let v = Double(raw), v.isFinite else { throw SyncError(.invalidInput, "\(name) takes a number, not \"\(raw)\"") }
            return .real(v)
        case .bool:
            switch raw.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: throw SyncError(.invalidInput, "\(name) takes true or false, not \"\(raw)\"")
            }
        case .blob:
            guard let data = Data(base64Encoded: raw) else { throw SyncError(.invalidInput, "\(name) takes base64, not \"\(raw.prefix(40))\"") }
            return .blob([UInt8](data))
        }
    }

    static func jsonValue(_ value: Value) -> Any { Hub.json(value) }

    static func render(_ record: Record) -> [String: Any] {
        var fields: [String: Any] = [:]
        for (name, value) in record.values where record.sets[name] == nil { fields[name] = jsonValue(value) }
        for (name, elements) in record.sets { fields[name] = elements.map(jsonValue) }
        return ["collection": record.collection, "id": record.id.rawValue, "fields": fields]
    }

    static func line(_ record: Record) -> String {
        let fields = record.values.keys.sorted().compactMap { name -> String? in
            if let elements = record.sets[name] { return elements.isEmpty ? nil : "\(name)=[\(elements.map(\.description).joined(separator: ","))]" }
            let value = record.values[name]!
            return value.isNull ? nil : "\(name)=\(value)"
        }
        return "\(record.id)\t" + fields.joined(separator: " ")
    }
}
