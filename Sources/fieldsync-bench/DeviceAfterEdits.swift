import CentralNode
import Foundation
import SyncKit

/// `device_after_1m_edits`: a device makes 1,000,000 edits over 10,000 households (100 per
/// transaction: phone and member-count changes, visits counted, tags added and removed) and syncs
/// with a central node (in the same process, no HTTP) after every 10,000. Measured: the device
/// file's size after the last sync, against a plain table holding the same final rows after the
/// same edits; and the write speed of the last 10,000 edits against the first 10,000 (the log must
/// not slow writes down as history accumulates). One run: the figures are sizes and a trend.
enum DeviceAfterEdits {
    static let name = "device_after_1m_edits"
    static let recordCount = 10_000
    static let editCount = 1_000_000
    static let syncEvery = 10_000
    static let editsPerTransaction = 100
    static let seed: UInt64 = 0xED17_0001

    enum Edit {
        case phone(EntityID, String)
        case members(EntityID, Int64)
        case visit(EntityID)
        case tag(EntityID, String, add: Bool)
    }

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        var generator = HouseholdGenerator(seed: seed)
        // A collector's ten cells.
        let households = (0..<recordCount).map { index in
            var household = generator.household()
            household.cell = "JS-04\(10 + index % 10)"
            return household
        }
        let tagPool = ["elderly", "renter", "disabled", "child", "老人"]
        // Edits drawn round by round (not all at once: 1,000,000 edits in memory are 100 MB).
        func edits(round: Int) -> [Edit] {
            var random = HouseholdGenerator(seed: seed &+ 100 &+ UInt64(round))
            return (0..<syncEvery).map { n in
                let id = households[Int(random.next() % UInt64(recordCount))].id
                switch n % 4 {
                case 0: return .phone(id, random.phone())
                case 1: return .members(id, Int64(random.next() % 8) + 1)
                case 2: return .visit(id)
                default: return .tag(id, tagPool[Int(random.next() % UInt64(tagPool.count))], add: random.next() % 2 == 0)
                }
            }
        }
        let scratch = settings.scratch
        let nodePath = scratch.newPath("node"), oursPath = scratch.newPath("device"), plainPath = scratch.newPath("plain")
        defer { [nodePath, oursPath, plainPath].forEach(scratch.remove) }
        let cells = Array(Set(households.map(\.cell))).sorted()
        Console.error("[\(name)] \(recordCount) households in \(cells.count) cells; \(editCount) edits, a sync every \(syncEvery) (one run, several minutes)")

        // Ours: the device and its central node.
        var oursRounds: [Duration] = [], syncs: [Duration] = []
        var logRows = 0, coverRows = 0
        do {
            let hub = try Hub.open(path: nodePath, schema: try Households.replicaSchema(), options: Households.options(seed: seed &+ 1))
            let token = try hub.enroll(device: "collector", cells: cells, actor: "bench").token
            let replica = try Fixture.openReplica(oursPath, seed: seed)
            try Fixture.insert(households[...], into: replica)
            let sync = { () throws -> Duration in
                try Measurement.time { try SyncSession(replica: replica, verify: false).run(exchange: { try hub.handle($0, token: token) }) }
            }
            _ = try sync()
            for round in 0..<(editCount / syncEvery) {
                let batch = edits(round: round)
                oursRounds.append(try Measurement.time {
                    for chunk in batch.chunks(of: editsPerTransaction) {
                        try replica.write { tx in
                            for edit in chunk {
                                switch edit {
                                case .phone(let id, let phone): try tx.update(Households.collection, id, ["phone": .text(phone)])
                                case .members(let id, let count): try tx.update(Households.collection, id, ["member_count": .int(count)])
                                case .visit(let id): try tx.increment(Households.collection, id, "visit_count")
                                case .tag(let id, let tag, true): try tx.add(Households.collection, id, "tags", .text(tag))
                                case .tag(let id, let tag, false): try tx.remove(Households.collection, id, "tags", .text(tag))
                                }
                            }
                        }
                    }
                })
                syncs.append(try sync())
                if round % 20 == 19 { Console.error("[\(name)] \((round + 1) * syncEvery) edits") }
            }
            guard try replica.unsyncedCount() == 0 else { throw BenchError("the device still has unsent edits after its last sync") }
            logRows = try replica.operations(limit: Int.max).count
            guard try replica.digest() == hub.replica.digest() else { throw BenchError("the device and its node differ after the last sync") }
            coverRows = try replica.withConnection { Int(try $0.scalar("SELECT count(*) FROM _fs_cover")?.int ?? 0) }
        }
        let ours = try FileFootprint(path: oursPath)

        // Plain SQLite: the same edits to the same table.
        var plainRounds: [Duration] = []
        do {
            let plain = try Baseline(path: plainPath, schema: Households.schema)
            try Fixture.insert(households[...], into: plain)
            let phone = try plain.updateStatement(setting: "phone"), members = try plain.updateStatement(setting: "member_count")
            let visit = try plain.db.prepare("UPDATE \(Baseline.table) SET visit_count = visit_count + 1 WHERE id = ?")
            let readTags = try plain.db.prepare("SELECT tags FROM \(Baseline.table) WHERE id = ?")
            let tags = try plain.updateStatement(setting: "tags")
            for round in 0..<(editCount / syncEvery) {
                let batch = edits(round: round)
                plainRounds.append(try Measurement.time {
                    for chunk in batch.chunks(of: editsPerTransaction) {
                        try plain.db.transaction {
                            for edit in chunk {
                                switch edit {
                                case .phone(let id, let value): try plain.run(phone, [.text(value), .text(id.rawValue)])
                                case .members(let id, let count): try plain.run(members, [.int(count), .text(id.rawValue)])
                                case .visit(let id): try plain.run(visit, [.text(id.rawValue)])
                                case .tag(let id, let tag, let add):
                                    // An app keeps the set as a JSON array in the row: read it, change it, write it.
                                    try readTags.bind(.text(id.rawValue), at: 1)
                                    var current: [String] = []
                                    if try readTags.step(), !readTags.isNull(at: 0) { current = (try? JSONSerialization.jsonObject(with: Data(readTags.text(at: 0).utf8))) as? [String] ?? [] }
                                    readTags.reset()
                                    if add { if !current.contains(tag) { current.append(tag) } } else { current.removeAll { $0 == tag } }
                                    current.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                                    try plain.run(tags, [current.isEmpty ? .null : .text(PlainJSON.array(current)), .text(id.rawValue)])
                                }
                            }
                        }
                    }
                })
            }
        }
        let plain = try FileFootprint(path: plainPath)

        func perSecond(_ duration: Duration) -> Double { Double(syncEvery) / duration.inSeconds }
        let oursTotal = oursRounds.reduce(Duration.zero, +), plainTotal = plainRounds.reduce(Duration.zero, +)
        var report = BenchmarkReport(benchmark: name, value: Double(ours.fileBytes), unit: "bytes")
        report.extras["baseline"] = .int(plain.fileBytes)
        report.extras["ratio"] = .number(Double(ours.fileBytes) / Double(plain.fileBytes), decimals: 3)
        report.extras["runs"] = .int(1)
        report.extras["records"] = .int(recordCount)
        report.extras["edits"] = .int(editCount)
        report.extras["syncs"] = .int(syncs.count)
        report.extras["freelist_pages"] = .int(ours.freelistPages)
        report.extras["objects_bytes"] = ours.objectBytesJSON
        report.extras["log_rows_after"] = .int(logRows)
        report.extras["cover_rows_after"] = .int(coverRows)
        report.extras["first_10k_writes_per_s"] = .number(perSecond(oursRounds.first!), decimals: 0)
        report.extras["last_10k_writes_per_s"] = .number(perSecond(oursRounds.last!), decimals: 0)
        // Medians of the first and last ten rounds, steadier than one round each.
        let firstTen = oursRounds.prefix(10).sorted()[5], lastTen = oursRounds.suffix(10).sorted()[5]
        report.extras["last_vs_first_speed"] = .number(firstTen.inSeconds / lastTen.inSeconds, decimals: 3)
        report.extras["writes_per_s"] = .number(Double(editCount) / oursTotal.inSeconds, decimals: 0)
        report.extras["baseline_writes_per_s"] = .number(Double(editCount) / plainTotal.inSeconds, decimals: 0)
        report.extras["write_ratio"] = .number(oursTotal.inSeconds / plainTotal.inSeconds, decimals: 3)
        report.extras["sync_s_median"] = .number(syncs.sorted()[syncs.count / 2].inSeconds, decimals: 3)
        return report
    }
}
