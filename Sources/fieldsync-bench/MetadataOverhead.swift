import SyncKit

/// `metadata_overhead`: the bytes of a replica file after 100,000 inserts and one phone update
/// on 20% of the records, against a plain SQLite file holding the same final rows (written the
/// same way). Also splits the replica: merge metadata (`_fs_meta`), field data, the op log.
enum MetadataOverhead {
    static let name = "metadata_overhead"
    static let recordCount = 100_000
    static let updatedPercent = 20
    static let seed: UInt64 = 0x3E7A_0005

    static func run(_ settings: RunSettings) throws -> BenchmarkReport {
        var generator = HouseholdGenerator(seed: seed)
        let households = (0..<recordCount).map { _ in generator.household() }
        var updated = households.indices.map { $0 }
        updated.shuffle(using: &generator)
        let writes = updated.prefix(recordCount * updatedPercent / 100).map { PhoneWrite(id: households[$0].id, phone: generator.phone()) }

        let scratch = settings.scratch
        let oursPath = scratch.newPath("ours"), plainPath = scratch.newPath("plain")
        defer { scratch.remove(oursPath); scratch.remove(plainPath) }
        Console.error("[\(name)] writing \(recordCount) records and \(writes.count) updates to each file (untimed, sizes are deterministic)")
        try writeReplica(path: oursPath, households: households, writes: writes)
        try writeBaseline(path: plainPath, households: households, writes: writes)

        let table = Baseline.quoted(Households.collection)
        let fieldLengths = Households.schema.fields.map { "coalesce(length(\(Baseline.quoted($0.name))), 0)" }.joined(separator: " + ")
        var metaBytes = 0, dataBytes = 0, idBytes = 0, opRows = 0, opBodyBytes = 0, opApproxBytes = 0
        let ours = try FileFootprint(path: oursPath) { db in
            metaBytes = Int(try db.scalar("SELECT sum(length(_fs_meta)) FROM \(table)")?.int ?? 0)
            dataBytes = Int(try db.scalar("SELECT sum(\(fieldLengths)) FROM \(table)")?.int ?? 0)
            idBytes = Int(try db.scalar("SELECT sum(length(id)) FROM \(table)")?.int ?? 0)
            opRows = Int(try db.scalar("SELECT count(*) FROM _fs_op")?.int ?? 0)
            opBodyBytes = Int(try db.scalar("SELECT sum(length(body)) FROM _fs_op")?.int ?? 0)
            // Without dbstat: the body and entity bytes plus ~16 bytes of integers and record header per row.
            opApproxBytes = Int(try db.scalar("SELECT sum(length(body) + length(entity) + 16) FROM _fs_op")?.int ?? 0)
        }
        let plain = try FileFootprint(path: plainPath)
        guard opRows == recordCount + writes.count else {
            throw BenchError("the replica logged \(opRows) operations; expected \(recordCount + writes.count)")
        }

        var report = BenchmarkReport(benchmark: name, value: Double(ours.fileBytes), unit: "bytes")
        report.extras["baseline"] = .int(plain.fileBytes)
        report.extras["ratio"] = .number(Double(ours.fileBytes) / Double(plain.fileBytes), decimals: 3)
        report.extras["runs"] = .int(1)
        report.extras["ops"] = .int(opRows)
        report.extras["records"] = .int(recordCount)
        report.extras["updated_records"] = .int(writes.count)
        report.extras["ours_bytes_per_record"] = .number(Double(ours.fileBytes) / Double(recordCount), decimals: 1)
        report.extras["baseline_bytes_per_record"] = .number(Double(plain.fileBytes) / Double(recordCount), decimals: 1)
        report.extras["meta_bytes"] = .int(metaBytes)
        report.extras["meta_bytes_per_record"] = .number(Double(metaBytes) / Double(recordCount), decimals: 1)
        report.extras["data_bytes"] = .int(dataBytes)
        report.extras["id_bytes"] = .int(idBytes)
        report.extras["op_log_rows"] = .int(opRows)
        report.extras["op_log_body_bytes"] = .int(opBodyBytes)
        if let opLogBytes = ours.objectBytes?["_fs_op"] {
            report.extras["op_log_bytes"] = .int(opLogBytes)
            report.extras["op_log_measure"] = .string("dbstat")
        } else {
            report.extras["op_log_bytes"] = .int(opApproxBytes)
            report.extras["op_log_measure"] = .string("approximate: sum(length(body) + length(entity) + 16), no dbstat")
        }
        // The same file once the central node has everything: acknowledged, compacted (the
        // history leaves, covers stay), and vacuumed, as `fieldsync device compact` leaves it.
        do {
            let replica = try Fixture.openReplica(oursPath, seed: seed)
            try replica.acknowledge(through: UInt64(recordCount + writes.count))
            while try replica.compact().more {}
            try replica.vacuum()
        }
        let synced = try FileFootprint(path: oursPath)
        report.extras["synced_bytes"] = .int(synced.fileBytes)
        report.extras["synced_ratio"] = .number(Double(synced.fileBytes) / Double(plain.fileBytes), decimals: 3)
        report.extras["synced_objects_bytes"] = synced.objectBytesJSON
        report.extras["ours_objects_bytes"] = ours.objectBytesJSON
        report.extras["baseline_objects_bytes"] = plain.objectBytesJSON
        report.extras["ours_freelist_pages"] = .int(ours.freelistPages)
        report.extras["baseline_freelist_pages"] = .int(plain.freelistPages)
        return report
    }

    private static func writeReplica(path: String, households: [Household], writes: [PhoneWrite]) throws {
        let replica = try Fixture.openReplica(path, seed: seed)
        try Fixture.insert(households[...], into: replica)
        for batch in writes.chunks(of: Fixture.batchWritesMax) {
            try replica.write { tx in
                for write in batch { try tx.update(Households.collection, write.id, ["phone": .text(write.phone)]) }
            }
        }
        if let last = writes.last { try Fixture.expect(replica, last.id, "phone", .text(last.phone)) }
    }

    private static func writeBaseline(path: String, households: [Household], writes: [PhoneWrite]) throws {
        let plain = try Baseline(path: path, schema: Households.schema)
        try Fixture.insert(households[...], into: plain)
        let update = try plain.updateStatement(setting: "phone")
        for batch in writes.chunks(of: Fixture.batchWritesMax) {
            try plain.db.transaction {
                for write in batch { try plain.run(update, [.text(write.phone), .text(write.id.rawValue)]) }
            }
        }
        if let last = writes.last { try Fixture.expect(plain, last.id, "phone", .text(last.phone)) }
    }
}
