import FieldKit
import Foundation
import Synchronization
import SyncKit

/// The reads of the operators' console and admin API: every list a page of at most `pageMax`
/// rows, read on a pooled reader through an index (Design.md, "Operators' console"), so that a
/// page answers in milliseconds at district size (`fieldsync-bench console`). Results are JSON
/// objects ready for the API (`[String: Any]`, values as the sync protocol writes them).
///
///     let page = try hub.reviewPage(kind: .conflict, cell: "JS-0412", after: nil, limit: 50)
///     let found = try hub.searchRecords(.households, query: "王 小明", cell: nil, after: nil, limit: 50)
extension Hub {
    public typealias JSONObject = [String: Any]

    /// Rows per page at most, whatever a caller asks.
    public static let pageMax = 200

    static func pageLimit(_ limit: Int?) -> Int { min(max(limit ?? 50, 1), pageMax) }

    // MARK: Names of replicas

    /// Device names by bound replica, and the node's own replica as "central".
    func replicaNames(access: CentralAccess) throws -> [ReplicaID: String] {
        var names: [ReplicaID: String] = [replica.id: "central"]
        let select = try access.db.cached("SELECT name, replica FROM central_device WHERE replica IS NOT NULL")
        defer { select.reset() }
        while try select.step() {
            if let id = ReplicaID(bytes: select.bytes(at: 1)) { names[id] = select.text(at: 0) }
        }
        return names
    }

    /// A value as JSON-ready Foundation types (blobs as base64), as the admin API and the CLI's
    /// `--json` print it.
    public static func json(_ value: Value) -> Any {
        switch value {
        case .null: return NSNull()
        case .int(let v): return v
        case .real(let v): return v
        case .text(let v): return v
        case .bool(let v): return v
        case .blob(let v): return Data(v).base64EncodedString()
        }
    }

    static func json(_ record: Record) -> JSONObject {
        var fields: JSONObject = [:]
        for (name, value) in record.values where record.sets[name] == nil { fields[name] = json(value) }
        for (name, elements) in record.sets { fields[name] = elements.map(json) }
        return ["collection": record.collection, "id": record.id.rawValue, "fields": fields, "deleted": record.isDeleted, "erased": record.isErased]
    }

    // MARK: Review queue

    /// One page of open review items of a kind (of a cell), in id order after `after`, with the
    /// open items of every kind counted (in that cell).
    public func reviewPage(kind: ReviewKind, cell: String?, after: String?, limit: Int?) throws -> JSONObject {
        let limit = Self.pageLimit(limit)
        let cell = cell.map(Self.cellName)
        return try read { access in
            var items: [JSONObject] = []
            switch kind {
            case .conflict:
                let select = try access.db.prepare(conflictSQL(cellFilter: cell != nil, count: false))
                var binds: [Value] = []
                if let cell { binds.append(.text(cell)) }
                binds += [.text(after ?? ""), .int(Int64(limit + 1))]
                try select.bind(binds)
                while try select.step() {
                    items.append(["id": select.text(at: 0), "kind": "conflict", "cell": select.isNull(at: 1) ? NSNull() : select.text(at: 1),
                                  "summary": "\(select.text(at: 2)) \(select.text(at: 3)): concurrent values"])
                }
            case .duplicate:
                guard holdsFieldModel else { break }
                let select = try access.db.prepare("""
                    SELECT id, cell, first_id, second_id, reason FROM review_items
                    WHERE status = 'open' AND kind = ? \(cell == nil ? "" : "AND cell = ?") AND id > ? ORDER BY id LIMIT ?
                    """)
                var binds: [Value] = [.text(FieldKit.ReviewItem.duplicateHousehold)]
                if let cell { binds.append(.text(cell)) }
                binds += [.text(after ?? ""), .int(Int64(limit + 1))]
                try select.bind(binds)
                while try select.step() {
                    items.append(["id": select.text(at: 0), "kind": "duplicate", "cell": select.text(at: 1),
                                  "summary": "households \(select.text(at: 2)) and \(select.text(at: 3)) look alike: \(select.text(at: 4))"])
                }
            case .quarantine:
                let names = try replicaNames(access: access)
                for held in try access.quarantined(limit: Self.quarantineListMax) {
                    let id = held.operation.id.description
                    guard id > (after ?? "") else { continue }
                    let opCell = Self.assignedCell(held.operation)
                    if let cell, opCell != nil, opCell != cell { continue }
                    items.append(["id": id, "kind": "quarantine", "cell": opCell ?? NSNull(),
                                  "device": names[held.operation.id.replica] ?? held.operation.id.replica.hex,
                                  "summary": "\(held.reason.rawValue): \(held.detail)"])
                }
                items.sort { ($0["id"] as! String) < ($1["id"] as! String) }
                if items.count > limit + 1 { items.removeLast(items.count - limit - 1) }
            }
            let more = items.count > limit
            if more { items.removeLast() }
            return ["items": items, "next": more ? (items.last?["id"] ?? NSNull()) : NSNull(),
                    "counts": try reviewCounts(cell: cell, access: access)]
        }
    }

    /// Held operations listed at most (the quarantine is small: a clock far ahead is rare).
    static let quarantineListMax = 10_000

    /// Open items by kind (of a cell).
    func reviewCounts(cell: String?, access: CentralAccess) throws -> [String: Int] {
        let conflicts: Int
        if let cell {
            conflicts = Int(try access.db.scalar(conflictSQL(cellFilter: true, count: true), [.text(cell), .text(""), .int(Int64.max)])?.int ?? 0)
        } else {
            conflicts = Int(try access.db.scalar("SELECT count(*) FROM _fs_conflict WHERE review = 1")?.int ?? 0)
        }
        var duplicates = 0
        if holdsFieldModel {
            var binds: [Value] = [.text(FieldKit.ReviewItem.duplicateHousehold)]
            if let cell { binds.append(.text(cell)) }
            duplicates = Int(try access.db.scalar(
                "SELECT count(*) FROM review_items WHERE status = 'open' AND kind = ?\(cell == nil ? "" : " AND cell = ?")", binds)?.int ?? 0)
        }
        let held = try access.quarantined(limit: Self.quarantineListMax).filter { op in
            guard let cell else { return true }
            return Self.assignedCell(op.operation).map { $0 == cell } ?? true
        }.count
        return ["conflict": conflicts, "duplicate": duplicates, "quarantine": held]
    }

    /// Review conflicts as rows (id "collection/record/field", cell, collection, field), in id
    /// order: every collection with a cell field joined on its primary key (a tombstone's cell
    /// for an edit against a delete).
    private func conflictSQL(cellFilter: Bool, count: Bool) -> String {
        let parts = replica.schema.collections.map { collection -> String in
            let table = StoreQuote.name(collection.name)
            let cellColumn = collection.cellField.map { "t.\(StoreQuote.name($0))" } ?? "NULL"
            return """
                SELECT c.name || '/' || k.entity || '/' || coalesce(f.name, '_exists') AS id, coalesce(\(cellColumn), ts.cell) AS cell,
                       c.name AS collection, coalesce(f.name, '_exists') AS field
                FROM _fs_conflict k JOIN _fs_collection c ON c.id = k.collection AND c.name = \(StoreQuote.literal(collection.name))
                LEFT JOIN _fs_field f ON f.collection = k.collection AND f.id = k.field
                LEFT JOIN \(table) t ON t.id = k.entity
                LEFT JOIN _fs_tombstone ts ON ts.collection = k.collection AND ts.entity = k.entity
                WHERE k.review = 1
                """
        }
        let filter = (cellFilter ? "cell = ? AND " : "") + "id > ?"
        return count ? "SELECT count(*) FROM (\(parts.joined(separator: " UNION ALL "))) WHERE \(filter) LIMIT ?"
                     : "SELECT id, cell, collection, field FROM (\(parts.joined(separator: " UNION ALL "))) WHERE \(filter) ORDER BY id LIMIT ?"
    }

    static func assignedCell(_ op: Op) -> String? {
        op.assignments.first { $0.field == "cell" }.flatMap { assignment -> String? in
            if case .set(.text(let cell), _) = assignment.change { return cell }
            return nil
        }
    }

    /// One open item in full: a conflict's candidates with the device and time of each (the
    /// current winner first), a duplicate pair's two households with their differences, a held
    /// operation's changes and reason; with what devices will receive if it is settled.
    public func reviewDetail(_ id: String) throws -> JSONObject {
        try read { access in
            let names = try replicaNames(access: access)
            if let opID = OpID(id) {
                guard let held = try access.quarantined(limit: Self.quarantineListMax).first(where: { $0.operation.id == opID }) else {
                    throw SyncError(.notFound, "no held operation \(id); it was released or discarded already")
                }
                let op = held.operation
                let cell = try Self.assignedCell(op) ?? access.cell(of: op.collection, op.entity)
                return ["id": id, "kind": "quarantine", "cell": cell ?? NSNull(), "reason": held.reason.rawValue, "detail": held.detail,
                        "device": names[op.id.replica] ?? op.id.replica.hex, "collection": op.collection, "record": op.entity.rawValue,
                        "timeMillis": Int64(op.hlc.millis), "receivedMillis": held.receivedMillis,
                        "changes": op.assignments.filter { $0.field != Assignment.existenceField }.map(Self.describe),
                        "devicesReceive": try devicesServing(cell, access: access),
                        "effect": "release writes these changes again with the node's clock; discard drops them. Devices of the cell receive a release at their next sync."]
            }
            let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, let entity = try? EntityID(parts[1]) {
                guard let conflict = try access.conflicts(parts[0], entity).first(where: { $0.field == parts[2] && $0.review }) else {
                    throw SyncError(.notFound, "no open conflict \(id.prefix(120)); it was settled already")
                }
                let record = try access.record(parts[0], entity, includeDeleted: true)
                let cell = record.flatMap { r in replica.schema.collection(named: parts[0])?.cellField.map { r[$0] } }?.text
                return ["id": id, "kind": "conflict", "cell": cell ?? NSNull(), "collection": parts[0], "record": parts[1], "field": parts[2],
                        "recordFields": record.map { Self.json($0)["fields"]! } ?? NSNull(),
                        "candidates": conflict.candidates.enumerated().map { index, candidate -> JSONObject in
                            ["op": candidate.op.description, "value": Self.json(candidate.value), "winner": index == 0,
                             "device": names[candidate.op.replica] ?? candidate.op.replica.hex, "timeMillis": Int64(candidate.hlc.millis)]
                        },
                        "devicesReceive": try devicesServing(cell, access: access),
                        "effect": "the value chosen is written as the node's operation over every candidate; the conflict closes on every device of the cell at its next sync"]
            }
            guard holdsFieldModel, let itemID = try? EntityID(id), let item = try access.record(FieldModel.reviewItems, itemID),
                  item["status"].text == "open", let first = item["first_id"].text, let second = item["second_id"].text else {
                throw SyncError(.notFound, "no open review item \(id.prefix(120)); `review` lists them")
            }
            let households = try [first, second].map { text -> Record? in
                guard let entity = try? EntityID(text) else { return nil }
                return try access.record(FieldModel.households, entity)
            }
            let compared = ["head_name", "member_count", "phone", "doorplate", "unit", "room", "status", "visit_count", "tags", "notes"]
            let differs = compared.filter { field in
                guard let a = households[0], let b = households[1] else { return true }
                return a[field] != b[field] || a.elements(field) != b.elements(field)
            }
            let cell = item["cell"].text
            return ["id": id, "kind": "duplicate", "cell": cell ?? NSNull(), "reason": item["reason"].text ?? "",
                    "households": households.enumerated().map { index, household -> JSONObject in
                        household.map { Self.json($0) } ?? ["id": index == 0 ? first : second, "gone": true]
                    },
                    "compared": compared, "differs": differs,
                    "tasks": try [first, second].map { try Self.taskCount(target: $0, access: access) },
                    "devicesReceive": try devicesServing(cell, access: access),
                    "effect": "merge keeps the household chosen: the other one's tasks, tags and visits move to it and it becomes a redirect; dismiss records two different households. Devices of the cell follow at their next sync."]
        }
    }

    static func describe(_ assignment: Assignment) -> JSONObject {
        switch assignment.change {
        case .set(let value, _): return ["field": assignment.field, "set": json(value)]
        case .increment(let by): return ["field": assignment.field, "increment": by]
        case .add(let value): return ["field": assignment.field, "add": json(value)]
        case .remove(let value, _): return ["field": assignment.field, "remove": json(value)]
        }
    }

    static func taskCount(target: String, access: CentralAccess) throws -> Int {
        Int(try access.db.scalar("SELECT count(*) FROM tasks WHERE target = ?", [.text(target)])?.int ?? 0)
    }

    /// The unrevoked devices serving a cell now.
    func devicesServing(_ cell: String?, access: CentralAccess) throws -> [String] {
        guard let cell else { return [] }
        let select = try access.db.cached("""
            SELECT d.name FROM central_device_cell c JOIN central_device d ON d.name = c.name
            WHERE c.cell = ? AND c.current = 1 AND d.revoked = 0 ORDER BY d.name LIMIT 200
            """)
        defer { select.reset() }
        try select.bind([.text(cell)])
        var names: [String] = []
        while try select.step() { names.append(select.text(at: 0)) }
        return names
    }

    // MARK: Devices

    /// A page of devices by name after `after`, those whose name contains `query` (or serving
    /// a cell of that name), with their cells, last sync, held operations and revocation.
    public func devicePage(query: String?, after: String?, limit: Int?) throws -> JSONObject {
        let limit = Self.pageLimit(limit)
        let query = query?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let cellQuery = query.isEmpty ? "" : Self.cellName(query)
        let all = try devices()
        let now = replica.nowMillis()
        let held = try read { access -> [ReplicaID: Int] in
            var held: [ReplicaID: Int] = [:]
            for op in try access.quarantined(limit: Self.quarantineListMax) { held[op.operation.id.replica, default: 0] += 1 }
            return held
        }
        var rows: [JSONObject] = []
        var more = false
        for device in all where device.name > (after ?? "") {
            if !query.isEmpty && !device.name.lowercased().contains(query) && !device.cells.contains(cellQuery) { continue }
            if rows.count == limit { more = true; break }
            var row: JSONObject = ["name": device.name, "cells": device.cells, "revoked": device.revoked, "enrolledMillis": device.enrolledMillis,
                                   "lastSeenMillis": device.lastSeenMillis ?? NSNull(),
                                   "staleDay": device.lastSeenMillis.map { now - $0 > 86_400_000 } ?? true,
                                   "heldOperations": device.replica.map { held[$0] ?? 0 } ?? 0,
                                   "unsynced": device.hint?.unsynced ?? NSNull(),
                                   "clockOffsetMillis": device.hint?.clockOffsetMillis ?? NSNull(),
                                   "wipe": device.wipe.map { ["reason": $0.reason, "requestedMillis": $0.requestedMillis, "wipedMillis": $0.wipedMillis ?? NSNull()] as JSONObject } ?? NSNull()]
            if let replica = device.replica { row["replica"] = replica.hex }
            rows.append(row)
        }
        return ["devices": rows, "next": more ? (rows.last?["name"] ?? NSNull()) : NSNull(), "total": all.count, "nowMillis": now]
    }

    // MARK: Records

    /// Households or doorplates matching `query` (of a cell), a page in key order after `after`.
    /// A household query is read as a doorplate code, a phone number (5 or more digits) or a head
    /// name, normalized the way duplicate matching does (full-width, traditional characters,
    /// spacing), and matched on the start of the name; a doorplate query as the start of a code.
    public func searchRecords(_ table: DistrictTable, query: String?, cell: String?, after: String?, limit: Int?) throws -> JSONObject {
        guard holdsFieldModel else { throw SyncError(.schemaMismatch, "this central node does not hold FieldKit's households and doorplates") }
        let limit = Self.pageLimit(limit)
        let cell = cell.map(Self.cellName).flatMap { $0.isEmpty ? nil : $0 }
        let query = (query ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var conditions: [String] = []
        var binds: [Value] = []
        var order = "id"
        var matched = "all"
        if !query.isEmpty {
            switch table {
            case .doorplates:
                let code = Self.codePrefix(query)
                conditions.append("code >= ? AND code < ?")
                binds += [.text(code), .text(code + "\u{10FFFF}")]
                order = "code, id"
                matched = "code"
            case .households:
                if let code = try? DoorplateCode(parsing: query) {
                    conditions.append("doorplate = ?")
                    binds.append(.text(code.canonical))
                    matched = "doorplate"
                } else if let digits = Self.phoneQuery(query) {
                    conditions.append("phone >= ? AND phone < ?")
                    binds += [.text(digits), .text(digits + "\u{10FFFF}")]
                    order = "phone, id"
                    matched = "phone"
                } else {
                    let key = TextNormalizer.normalizedName(query)
                    conditions.append("head_name_key >= ? AND head_name_key < ?")
                    binds += [.text(key), .text(key + "\u{10FFFF}")]
                    order = "head_name_key, id"
                    matched = "name"
                }
            }
        }
        if let cell {
            conditions.append("cell = ?")
            binds.append(.text(cell))
        }
        // The page continues after the last row's position in `order` ("key\u{1}id").
        if let after, !after.isEmpty {
            let parts = after.split(separator: "\u{1}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if order == "id" {
                conditions.append("id > ?")
                binds.append(.text(parts.last!))
            } else if parts.count == 2 {
                let column = order.components(separatedBy: ",")[0]
                conditions.append("(\(column), id) > (?, ?)")
                binds += [.text(parts[0]), .text(parts[1])]
            }
        }
        let columns = table == .households
            ? "id, cell, head_name, phone, doorplate, unit, room, member_count, status, head_name_key"
            : "id, cell, code, district, street, building_number, status, room, unit, code"
        let sql = "SELECT \(columns) FROM \(StoreQuote.name(table.collection))\(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?"
        binds.append(.int(Int64(limit + 1)))
        return try read { access in
            let select = try access.db.prepare(sql)
            try select.bind(binds)
            var rows: [JSONObject] = []
            var cursors: [String] = []
            while try select.step() {
                func text(_ i: Int32) -> Any { select.isNull(at: i) ? NSNull() : select.text(at: i) }
                let id = select.text(at: 0)
                if table == .households {
                    rows.append(["id": id, "cell": text(1), "head_name": text(2), "phone": text(3), "doorplate": text(4), "unit": text(5),
                                 "room": text(6), "member_count": select.isNull(at: 7) ? NSNull() : select.int64(at: 7), "status": text(8)])
                } else {
                    rows.append(["id": id, "cell": text(1), "code": text(2), "district": text(3), "street": text(4),
                                 "building_number": text(5), "status": text(6), "room": text(7), "unit": text(8)])
                }
                let key: String
                switch order {
                case "phone, id": key = select.isNull(at: 3) ? "" : select.text(at: 3)
                case "head_name_key, id": key = select.isNull(at: 9) ? "" : select.text(at: 9)
                case "code, id": key = select.isNull(at: 2) ? "" : select.text(at: 2)
                default: key = ""
                }
                cursors.append(key + "\u{1}" + id)
            }
            let more = rows.count > limit
            if more { rows.removeLast() }
            return ["records": rows, "matched": matched, "next": more ? cursors[limit - 1] : NSNull()]
        }
    }

    /// A doorplate code's start as stored (upper-case, half-width, without spaces).
    static func codePrefix(_ query: String) -> String {
        let halfWidth = query.applyingTransform(.fullwidthToHalfwidth, reverse: false) ?? query
        return halfWidth.uppercased().filter { !$0.isWhitespace }
    }

    /// The digits of a query that reads as a phone number (5 or more digits and only phone
    /// punctuation), nil otherwise.
    static func phoneQuery(_ query: String) -> String? {
        let halfWidth = query.applyingTransform(.fullwidthToHalfwidth, reverse: false) ?? query
        guard halfWidth.allSatisfy({ $0.isASCII && ($0.isNumber || " +-()".contains($0)) }) else { return nil }
        let digits = halfWidth.filter(\.isNumber)
        return digits.count >= 5 ? digits : nil
    }

    /// A household with its history (every operation on it: who, when, which fields) and tasks.
    public func householdDetail(_ id: String) throws -> JSONObject {
        guard holdsFieldModel else { throw SyncError(.schemaMismatch, "this central node does not hold FieldKit's households") }
        guard let entity = try? EntityID(id) else { throw SyncError(.invalidInput, "\"\(id.prefix(80))\" is not a household id") }
        return try read { access in
            guard let record = try access.record(FieldModel.households, entity, includeDeleted: true) else {
                throw SyncError(.notFound, "no household \(id.prefix(80)) on this node")
            }
            let names = try replicaNames(access: access)
            let history = try access.operations(of: FieldModel.households, entity).sorted { $0.hlc < $1.hlc }.suffix(Self.historyMax).map { op -> JSONObject in
                ["op": op.id.description, "device": names[op.id.replica] ?? op.id.replica.hex, "timeMillis": Int64(op.hlc.millis),
                 "changes": op.assignments.filter { $0.field != Assignment.existenceField }.map(Self.describe),
                 "deletes": op.assignments.contains { $0.field == Assignment.existenceField && $0.change == .set(.bool(false), prev: []) }]
            }
            let select = try access.db.prepare("SELECT id FROM tasks WHERE target = ? ORDER BY id LIMIT 200")
            try select.bind([.text(id)])
            var tasks: [JSONObject] = []
            while try select.step() {
                if let task = try access.record(FieldModel.tasks, EntityID(select.text(at: 0))) { tasks.append(Self.json(task)) }
            }
            let personal = replica.schema.collection(named: FieldModel.households)?.fields.filter(\.personal).map(\.name) ?? []
            var result: JSONObject = ["household": Self.json(record), "history": Array(history), "tasks": tasks, "personal": personal,
                                      "conflicts": try access.conflicts(FieldModel.households, entity).filter(\.review).map { "\(FieldModel.households)/\(id)/\($0.field)" }]
            if let into = record["merged_into"].text { result["mergedInto"] = into }
            return result
        }
    }

    /// Operations of a household's history shown at most (the newest).
    static let historyMax = 500

    // MARK: Audit

    /// The audit log, newest first, before entry `before`, of one actor or action if given.
    public func auditPage(actor: String?, action: String?, before: Int64?, limit: Int?) throws -> JSONObject {
        let limit = Self.pageLimit(limit)
        var conditions = ["id < ?"]
        var binds: [Value] = [.int(before ?? Int64.max)]
        if let actor, !actor.isEmpty { conditions.append("actor = ?"); binds.append(.text(actor)) }
        if let action, !action.isEmpty { conditions.append("action = ?"); binds.append(.text(action)) }
        binds.append(.int(Int64(limit + 1)))
        return try read { access in
            let select = try access.db.prepare("SELECT id, at_millis, actor, action, detail FROM central_audit WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?")
            try select.bind(binds)
            var rows: [JSONObject] = []
            while try select.step() {
                rows.append(["id": select.int64(at: 0), "atMillis": select.int64(at: 1), "actor": select.text(at: 2),
                             "action": select.text(at: 3), "detail": select.text(at: 4)])
            }
            let more = rows.count > limit
            if more { rows.removeLast() }
            return ["entries": rows, "next": more ? (rows.last?["id"] ?? NSNull()) : NSNull()]
        }
    }

    // MARK: Overview

    /// What the overview shows that takes a scan of the whole district (every cell the node
    /// knows, records per collection, operations per day): computed at most once a minute, in
    /// the background (`OverviewCache`), and shown with the time it was taken.
    public struct OverviewAggregates: Sendable {
        public let cells: [String]
        public let totals: [String: Int64]
        /// (UTC day, operations), oldest first, every day of the window.
        public let operationsPerDay: [(day: String, operations: Int64)]
        public let computedMillis: Int64
    }

    public func overviewAggregates(days: Int = 30) throws -> OverviewAggregates {
        let now = replica.nowMillis()
        return try read { access in
            var totals: [String: Int64] = [:]
            for collection in replica.schema.collections {
                totals[collection.name] = try access.db.scalar("SELECT count(*) FROM \(StoreQuote.name(collection.name))")?.int ?? 0
            }
            let since = (now / 86_400_000 - Int64(days - 1)) * 86_400_000
            let perDay = try access.db.prepare("SELECT (hlc >> 16) / 86400000 AS day, count(*) FROM _fs_op WHERE hlc >= ? GROUP BY day ORDER BY day")
            try perDay.bind([.int(since << 16)])
            var byDay: [Int64: Int64] = [:]
            while try perDay.step() { byDay[perDay.int64(at: 0)] = perDay.int64(at: 1) }
            let firstDay = since / 86_400_000
            let series = (0..<Int64(days)).map { offset -> (day: String, operations: Int64) in
                let day = firstDay + offset
                return (Date(timeIntervalSince1970: Double(day) * 86_400).formatted(.iso8601.year().month().day()), byDay[day] ?? 0)
            }
            return OverviewAggregates(cells: try HubStore(access).knownCells(), totals: totals, operationsPerDay: series, computedMillis: now)
        }
    }

    /// The overview: totals, a page of cells (records, open review items and devices of each,
    /// read now), open review items by kind, devices not seen for more than a day, operations
    /// per UTC day, health. Totals, the list of cells and operations per day come from
    /// `aggregates` (at most a minute old).
    public func overview(cellsAfter: String?, cellLimit: Int?, aggregates: OverviewAggregates) throws -> JSONObject {
        let limit = Self.pageLimit(cellLimit)
        let now = replica.nowMillis()
        let devices = try devices()
        return try read { access in
            let cells = aggregates.cells.filter { $0 > (cellsAfter ?? "") }
            let page = Array(cells.prefix(limit))
            let collections = replica.schema.collections.filter { $0.cellField != nil }.map(\.name)
            var perCell: [JSONObject] = []
            var conflictsByCell: [String: Int] = [:]
            let select = try access.db.prepare("SELECT cell, count(*) FROM (\(conflictSQL(cellFilter: false, count: false))) GROUP BY cell")
            try select.bind([.text(""), .int(Int64.max)])
            while try select.step() { if !select.isNull(at: 0) { conflictsByCell[select.text(at: 0)] = Int(select.int64(at: 1)) } }
            for cell in page {
                var counts: JSONObject = [:]
                for name in collections {
                    let field = replica.schema.collection(named: name)!.cellField!
                    counts[name] = try access.db.scalar("SELECT count(*) FROM \(StoreQuote.name(name)) WHERE \(StoreQuote.name(field)) = ?", [.text(cell)])?.int ?? 0
                }
                var duplicates: Int64 = 0
                if holdsFieldModel {
                    duplicates = try access.db.scalar("SELECT count(*) FROM review_items WHERE status = 'open' AND cell = ?", [.text(cell)])?.int ?? 0
                }
                perCell.append(["cell": cell, "records": counts, "openConflicts": conflictsByCell[cell] ?? 0, "openDuplicates": duplicates,
                                "devices": try devicesServing(cell, access: access).count])
            }
            let stale = devices.filter { !$0.revoked && ($0.lastSeenMillis.map { now - $0 > 86_400_000 } ?? true) }
            let figures = writerFigures
            return [
                "totals": aggregates.totals, "asOfMillis": aggregates.computedMillis,
                "cells": perCell, "cellCount": aggregates.cells.count,
                "nextCell": cells.count > limit ? (page.last ?? "") : NSNull(),
                "review": try reviewCounts(cell: nil, access: access),
                "staleDevices": stale.prefix(Self.pageMax).map { ["name": $0.name, "lastSeenMillis": $0.lastSeenMillis ?? NSNull(), "cells": $0.cells] as JSONObject },
                "staleDeviceCount": stale.count,
                "deviceCount": devices.filter { !$0.revoked }.count,
                "operationsPerDay": aggregates.operationsPerDay.map { ["day": $0.day, "operations": $0.operations] as JSONObject },
                "retention": try Self.retentionJSON(access),
                "health": ["status": "ok", "protocol": SyncProtocol.version, "nowMillis": now,
                           "writerBatches": figures.batches, "pushesCommitted": figures.pushes, "pushesTurnedAway": figures.turnedAway,
                           "operations": try access.db.scalar("SELECT coalesce(max(cseq), 0) FROM central_log")?.int ?? 0] as JSONObject,
            ]
        }
    }
}

/// The overview's aggregates, kept for `freshSeconds` and then served while a background
/// refresh runs (stale while revalidating), so no overview waits for a scan of the district but
/// the first after the node starts (a refresh begins when the service is made).
final class OverviewCache: Sendable {
    static let freshSeconds: Double = 60

    private struct State {
        var value: Hub.OverviewAggregates?
        var takenAt: ContinuousClock.Instant?
        var refreshing = false
    }

    private let state = Mutex(State())

    /// The aggregates: fresh ones, else stale ones (and a refresh started), else computed now.
    func aggregates(of hub: Hub) throws -> Hub.OverviewAggregates {
        let (value, stale, start) = state.withLock { state -> (Hub.OverviewAggregates?, Bool, Bool) in
            let stale = state.takenAt.map { (ContinuousClock.now - $0).inSeconds > Self.freshSeconds } ?? true
            let start = stale && state.value != nil && !state.refreshing
            if start { state.refreshing = true }
            return (state.value, stale, start)
        }
        if let value, !stale { return value }
        if let value {
            if start { refreshInBackground(hub) }
            return value
        }
        let computed = try hub.overviewAggregates()
        state.withLock { $0.value = computed; $0.takenAt = .now }
        return computed
    }

    /// Starts a refresh unless one runs.
    func refreshInBackground(_ hub: Hub) {
        state.withLock { $0.refreshing = true }
        DispatchQueue.global(qos: .utility).async {
            let computed = try? hub.overviewAggregates()
            self.state.withLock { state in
                if let computed { state.value = computed; state.takenAt = .now }
                state.refreshing = false
            }
        }
    }

    /// Forgets the aggregates (after an import or an enrollment: the next overview reads them
    /// anew, rather than show totals from before the operator's own change).
    func invalidate() {
        state.withLock { $0.value = nil; $0.takenAt = nil }
    }
}

/// SQL quoting of identifiers and text literals the console's queries build from the schema.
enum StoreQuote {
    static func name(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}
