import CentralNode
import FieldKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SyncKit

/// `fieldsync-bench console`: the operators' console at district size, through a real node.
///
///     fieldsync-bench console [--cells 134] [--calls 25]
///
/// Builds a district (`--cells` cells of 300 doorplates, about 300 households each), imports it
/// with 2,000 suspected duplicate households (look-alikes in the CSV), adds conflicts until 10,000
/// review items are open, enrolls a device per cell, starts the HTTP server in this process, logs an
/// operator in, and times every page's admin API call over loopback (`--calls` times each, after
/// a first call, reported apart): p50, p95 and the slowest, against the issue's aims (a page under 200 ms, a
/// household search under 100 ms). The searches and the cell's record list are also run as plain
/// SQLite queries on a plain table of the same households with the same indexes, in the same run
/// (the ratio). One JSON line per call on stdout.
struct ConsoleBench {
    var cells = 134
    var calls = 25
    var reviewItemsWanted = 10_000

    static let usage = "usage: fieldsync-bench console [--cells N] [--calls N]"

    init(arguments: [String]) throws {
        var words = arguments[...]
        while let word = words.popFirst() {
            guard let text = words.popFirst(), let value = Int(text), value > 0 else { throw BenchError("\(word) takes a whole number above 0\n\(Self.usage)") }
            switch word {
            case "--cells": cells = value
            case "--calls": calls = value
            default: throw BenchError("unknown option \(word)\n\(Self.usage)")
            }
        }
    }

    func run() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.removeAll() }
        let files = try DistrictFiles.write(cells: cells, doorplatesPerCell: 300, seed: 20_261_207, in: scratch.url)
        let peopleCSV = try DistrictCSV.table(Data(contentsOf: files.householdsCSV))
        let duplicates = try Self.withDuplicates(peopleCSV, count: reviewItemsWanted / 5)
        Console.error("[console] \(files.cells.count) cells, \(files.doorplates) doorplates, \(peopleCSV.rows.count) households + \(duplicates.rows.count - peopleCSV.rows.count) look-alikes (untimed setup)")

        let path = scratch.newPath("central")
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        var started = ContinuousClock.now
        try hub.importCSV(.doorplates, data: Data(contentsOf: files.doorplatesCSV), actor: "bench")
        try hub.importCSV(.households, data: CSVWriter().data(from: duplicates), actor: "bench")
        Console.error("[console] imported in \(Int((ContinuousClock.now - started).inSeconds)) s")
        for (index, cell) in files.cells.enumerated() {
            _ = try hub.enroll(device: "tablet-\(index)", cells: [cell], actor: "bench")
        }
        try hub.addOperator("bench", role: .admin, password: "bench-password-1", actor: "bench")
        let openDuplicates = try hub.reviewPage(kind: .duplicate, cell: nil, after: nil, limit: 1)["counts"] as! [String: Int]
        let conflictsWanted = max(0, reviewItemsWanted - (openDuplicates["duplicate"] ?? 0))
        started = ContinuousClock.now
        let conflictIDs = try Self.makeConflicts(conflictsWanted, hub: hub)
        let counts = try hub.reviewPage(kind: .conflict, cell: nil, after: nil, limit: 1)["counts"] as! [String: Int]
        Console.error("[console] review items open: \(counts) (conflicts made in \(Int((ContinuousClock.now - started).inSeconds)) s)")

        let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: HubService(hub: hub).router)
        defer { SyncOverHTTP.stop(server) }
        var client = Client(base: "http://127.0.0.1:\(server.boundPort)")
        try client.login()

        // What the pages ask, with arguments taken from the district itself.
        let cell = files.cells[files.cells.count / 2]
        let firstHousehold = try hub.searchRecords(.households, query: nil, cell: cell, after: nil, limit: 1)["records"] as! [[String: Any]]
        let sample = firstHousehold[0]
        let name = String((sample["head_name"] as! String).prefix(1))
        let phone = String((sample["phone"] as? String ?? "138").prefix(5))
        let plate = sample["doorplate"] as! String
        let deepConflict = try hub.reviewPage(kind: .conflict, cell: nil, after: nil, limit: 200)["next"] as? String
        let pages: [(String, String, Double)] = [
            ("overview", "/v1/admin/overview", 200),
            ("review_conflicts", "/v1/admin/review?kind=conflict", 200),
            ("review_conflicts_page_2", "/v1/admin/review?kind=conflict&after=\(Self.q(deepConflict ?? ""))", 200),
            ("review_conflicts_of_cell", "/v1/admin/review?kind=conflict&cell=\(cell)", 200),
            ("review_duplicates", "/v1/admin/review?kind=duplicate", 200),
            ("review_conflict_item", "/v1/admin/review/item?id=\(Self.q(conflictIDs[conflictIDs.count / 2]))", 200),
            ("devices", "/v1/admin/devices", 200),
            ("records_of_cell", "/v1/admin/records?collection=households&cell=\(cell)", 200),
            ("household", "/v1/admin/household?id=\(Self.q(sample["id"] as! String))", 200),
            ("audit", "/v1/admin/audit", 200),
            ("search_name", "/v1/admin/records?collection=households&q=\(Self.q(name))", 100),
            ("search_phone", "/v1/admin/records?collection=households&q=\(phone)", 100),
            ("search_doorplate", "/v1/admin/records?collection=households&q=\(Self.q(plate))", 100),
            ("search_doorplates", "/v1/admin/records?collection=doorplates&q=\(Self.q(String(plate.prefix(8))))", 100),
        ]
        let plain = try PlainHouseholds(rows: duplicates, path: scratch.newPath("plain"))
        for (name, url, aim) in pages {
            var measurement = Measurement()
            // The first call pays what later ones find cached (the overview's district-wide
            // aggregates, SQLite's pages): reported apart.
            let first = ContinuousClock.now
            _ = try client.get(url)
            let firstMillis = (ContinuousClock.now - first).inSeconds * 1000
            for _ in 0..<calls {
                let begin = ContinuousClock.now
                _ = try client.get(url)
                measurement.append(ContinuousClock.now - begin)
            }
            let sorted = measurement.millis.sorted()
            var report = BenchmarkReport(benchmark: "console_\(name)", value: measurement.medianMillis, unit: "ms")
            report.extras["p95_ms"] = .number(sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))], decimals: 1)
            report.extras["max_ms"] = .number(sorted.last!, decimals: 1)
            report.extras["first_call_ms"] = .number(firstMillis, decimals: 1)
            report.extras["aim_ms"] = .number(aim, decimals: 0)
            report.extras["aim_met"] = .bool(sorted.last! < aim)
            report.extras["cells"] = .int(files.cells.count)
            report.extras["households"] = .int(duplicates.rows.count)
            report.extras["open_review_items"] = .int(counts.values.reduce(0, +))
            if let baseline = try plain.query(for: name, cell: cell, name: name == "search_name" ? TextNormalizer.normalizedName(String((sample["head_name"] as! String).prefix(1))) : "",
                                               phone: phone, plate: plate, runs: calls) {
                report.extras["baseline_ms"] = .number(baseline, decimals: 2)
                report.extras["ratio"] = .number(measurement.medianMillis / baseline, decimals: 1)
            }
            print(report.jsonLine)
        }
        try Self.timeErasures(hub: hub, plain: plain, cell: cell, households: duplicates.rows.count)
    }

    /// Step 10's operator work at district size: erasing one household (its state, log, central
    /// log entries under its cells, a checkpoint), against plain SQLite nulling the same
    /// columns of one row; and one retention pass over the whole node log (nothing old enough
    /// to erase: the cost is reading every operation), against plain SQLite reading the same
    /// number of rows.
    static func timeErasures(hub: Hub, plain: PlainHouseholds, cell: String, households: Int) throws {
        let ids = (try hub.replica.records(FieldModel.households, cell: cell, limit: 11)).map(\.id)
        var erase = Measurement(), baseline = Measurement()
        for id in ids.dropFirst() {
            let begin = ContinuousClock.now
            try hub.erase(FieldModel.households, id, reason: "bench", actor: "bench")
            erase.append(ContinuousClock.now - begin)
            let plainBegin = ContinuousClock.now
            try plain.connection.transaction {
                try plain.connection.prepare("UPDATE households SET head_name = NULL, head_name_key = NULL, member_count = NULL, phone = NULL WHERE id = ?").run([.text(id.rawValue)])
            }
            baseline.append(ContinuousClock.now - plainBegin)
        }
        var report = BenchmarkReport(benchmark: "console_erase_household", value: erase.medianMillis, unit: "ms")
        report.extras["max_ms"] = .number(erase.millis.max() ?? 0, decimals: 1)
        report.extras["baseline_ms"] = .number(baseline.medianMillis, decimals: 2)
        report.extras["ratio"] = .number(erase.medianMillis / max(baseline.medianMillis, 0.001), decimals: 1)
        report.extras["households"] = .int(households)
        print(report.jsonLine)

        // Every operation counts as older than the window: each is read and decoded, and each
        // personal write's record loaded to see whether it still shows (the first run on a node
        // that kept everything for years).
        try hub.setRetention(days: 365, actor: "bench")
        let begin = ContinuousClock.now
        let pass = try hub.runRetention(cutoffMillis: hub.replica.nowMillis() + 86_400_000, days: 365)
        let passMillis = (ContinuousClock.now - begin).inSeconds * 1000
        // The baseline: as many 200-byte rows read from a plain table, in slices of 2,000 by key.
        try plain.connection.execute("CREATE TABLE log(id INTEGER PRIMARY KEY, body BLOB)")
        try plain.connection.transaction {
            let insert = try plain.connection.prepare("INSERT INTO log(body) VALUES (randomblob(200))")
            for _ in 0..<pass.operationsExamined { try insert.run([]) }
        }
        let plainBegin = ContinuousClock.now
        var after: Int64 = 0
        while true {
            let slice = try plain.connection.prepare("SELECT id, body FROM log WHERE id > ? ORDER BY id LIMIT 2000")
            try slice.bind([.int(after)])
            var rows = 0
            while try slice.step() { after = slice.int64(at: 0); _ = slice.bytes(at: 1); rows += 1 }
            if rows < 2_000 { break }
        }
        let plainMillis = (ContinuousClock.now - plainBegin).inSeconds * 1000
        var retention = BenchmarkReport(benchmark: "retention_pass", value: passMillis, unit: "ms")
        retention.extras["operations_read"] = .int(pass.operationsExamined)
        retention.extras["values_erased"] = .int(pass.valuesErased)
        retention.extras["log_entries_rewritten"] = .int(pass.logEntriesRewritten)
        retention.extras["ops_per_s"] = .number(Double(pass.operationsExamined) / max(passMillis / 1000, 0.001), decimals: 0)
        retention.extras["baseline_ms"] = .number(plainMillis, decimals: 1)
        retention.extras["ratio"] = .number(passMillis / max(plainMillis, 0.001), decimals: 1)
        print(retention.jsonLine)
    }

    static func q(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// The households with `count` look-alikes spread over the district (same doorplate,
    /// dwelling and head as one of them, a new id).
    static func withDuplicates(_ table: CSVTable, count: Int) throws -> CSVTable {
        var generator = SplitMix64(seed: 0xC0_501E)
        let every = max(1, table.rows.count / max(1, count))
        let copies = table.rows.enumerated().filter { $0.offset % every == every / 2 }.prefix(count).map { _, row -> [String] in
            var copy = row
            copy[0] = EntityID.random(using: &generator).rawValue
            if let visits = table.columnIndex(named: "visit_count") { copy[visits] = "0" }
            if let days = table.columnIndex(named: "visit_days") { copy[days] = "" }
            return copy
        }
        return try CSVTable(header: table.header, rows: table.rows + copies)
    }

    /// `count` conflicts on households' phones: another replica's write concurrent with the
    /// imported value. Returns the conflicts' review ids.
    static func makeConflicts(_ count: Int, hub: Hub) throws -> [String] {
        var generator = SplitMix64(seed: 0xC0_F11C)
        let writer = ReplicaID(using: &generator)
        var ids: [EntityID] = []
        var after: EntityID?
        while ids.count < count {
            let page = try hub.replica.records(FieldModel.households, after: after, limit: 1_000)
            guard let last = page.last else { break }
            // A phone never written cannot conflict: only households with one.
            ids += page.filter { !$0["phone"].isNull }.map(\.id)
            after = last.id
        }
        ids = Array(ids.prefix(count))
        let now = HLCTimestamp(millis: UInt64(hub.replica.nowMillis()), counter: 0)
        for chunk in stride(from: 0, to: ids.count, by: 1_000) {
            let ops = ids[chunk..<min(ids.count, chunk + 1_000)].enumerated().map { offset, id in
                Op(id: OpID(replica: writer, seq: UInt64(chunk + offset + 1)), hlc: HLCTimestamp(millis: now.millis, counter: UInt64((chunk + offset) % 60_000)),
                   collection: FieldModel.households, entity: id,
                   assignments: [Assignment(field: "phone", change: .set(.text("1390000\(String(format: "%04d", (chunk + offset) % 10_000))"), prev: []))])
            }
            _ = try hub.replica.apply(ops)
        }
        return ids.map { "\(FieldModel.households)/\($0.rawValue)/phone" }
    }

    /// A logged-in operator's HTTP client (blocking, for timing one call at a time).
    struct Client {
        let base: String
        var cookie = ""
        let session = URLSession(configuration: .ephemeral)

        mutating func login() throws {
            var request = URLRequest(url: URL(string: base + "/v1/admin/login")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"name":"bench","password":"bench-password-1"}"#.utf8)
            let (_, response) = try send(request)
            cookie = String((response.value(forHTTPHeaderField: "Set-Cookie") ?? "").split(separator: ";").first ?? "")
        }

        func get(_ path: String) throws -> Data {
            var request = URLRequest(url: URL(string: base + path)!)
            request.setValue(cookie, forHTTPHeaderField: "Cookie")
            let (data, response) = try send(request)
            guard response.statusCode == 200 else { throw BenchError("\(path) answered \(response.statusCode): \(String(decoding: data.prefix(300), as: UTF8.self))") }
            return data
        }

        private func send(_ request: URLRequest) throws -> (Data, HTTPURLResponse) {
            final class Box: @unchecked Sendable {
                // @unchecked: written by the task's callback before the semaphore is signalled,
                // read after the wait.
                var data: Data?, response: HTTPURLResponse?, error: (any Error)?
            }
            let box = Box(), done = DispatchSemaphore(value: 0)
            session.dataTask(with: request) { data, response, error in
                box.data = data; box.response = response as? HTTPURLResponse; box.error = error
                done.signal()
            }.resume()
            done.wait()
            guard let response = box.response else { throw BenchError("\(request.url!.path): \(box.error.map { "\($0)" } ?? "no answer")") }
            return (box.data ?? Data(), response)
        }
    }

    /// The same households in a plain table with the console's indexes: the baseline of the
    /// searches and of a cell's list.
    struct PlainHouseholds {
        let connection: Connection

        init(rows table: CSVTable, path: String) throws {
            connection = try Connection(path: path)
            try connection.execute("""
                CREATE TABLE households(id TEXT PRIMARY KEY, cell TEXT, doorplate TEXT, room TEXT, head_name TEXT, head_name_key TEXT, member_count INTEGER, phone TEXT);
                CREATE INDEX h_cell ON households(cell); CREATE INDEX h_name ON households(head_name_key);
                CREATE INDEX h_phone ON households(phone); CREATE INDEX h_plate ON households(doorplate);
                """)
            let column = { (name: String) in table.columnIndex(named: name)! }
            try connection.transaction {
                let insert = try connection.prepare("INSERT INTO households VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                for row in table.rows {
                    let plate = (try? DoorplateCode(parsing: row[column("doorplate")]))?.canonical ?? row[column("doorplate")]
                    try insert.run([.text(row[0]), .text(row[column("cell")]), .text(plate), .text(row[column("room")]),
                                    .text(row[column("head_name")]), .text(TextNormalizer.normalizedName(row[column("head_name")])),
                                    .int(Int64(row[column("member_count")]) ?? 0), .text(row[column("phone")])])
                }
            }
        }

        /// The median milliseconds of the plain query matching a console call, nil for calls without one.
        func query(for call: String, cell: String, name: String, phone: String, plate: String, runs: Int) throws -> Double? {
            let columns = "id, cell, head_name, phone, doorplate, room, member_count"
            let (sql, binds): (String, [Value])
            switch call {
            case "records_of_cell": (sql, binds) = ("SELECT \(columns) FROM households WHERE cell = ? ORDER BY id LIMIT 51", [.text(cell)])
            case "search_name": (sql, binds) = ("SELECT \(columns) FROM households WHERE head_name_key >= ? AND head_name_key < ? ORDER BY head_name_key, id LIMIT 51", [.text(name), .text(name + "\u{10FFFF}")])
            case "search_phone": (sql, binds) = ("SELECT \(columns) FROM households WHERE phone >= ? AND phone < ? ORDER BY phone, id LIMIT 51", [.text(phone), .text(phone + "\u{10FFFF}")])
            case "search_doorplate": (sql, binds) = ("SELECT \(columns) FROM households WHERE doorplate = ? ORDER BY id LIMIT 51", [.text(plate)])
            default: return nil
            }
            var measurement = Measurement()
            let select = try connection.prepare(sql)
            for _ in 0...runs {
                let begin = ContinuousClock.now
                try select.bind(binds)
                var rows: [[String]] = []
                while try select.step() { rows.append((0..<7).map { select.text(at: Int32($0)) }) }
                select.reset()
                measurement.append(ContinuousClock.now - begin)
            }
            return measurement.medianMillis
        }
    }
}
