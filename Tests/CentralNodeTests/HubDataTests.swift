import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// District data at the hub: CSV import (all or nothing, logged for the devices), export,
/// statistics and per-cell digests.
struct HubDataTests {
    static let epoch: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    static let sampleDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/sample-district")

    static let plates = """
        code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes
        JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,30.74,121.34,installed,2026-01-15,
        JS0412-00089,JS-0412,金山区,幸福路,89号,,,,,,,,issued,,
        JS0413-00001,JS-0413,金山区,和平路,1号,,,,,,,,issued,,

        """

    static func makeHub(_ clock: ManualClock = ManualClock(millis: epoch)) throws -> Hub {
        var options = ReplicaOptions()
        options.clock = clock
        options.replicaID = ReplicaID(high: 0xC0FFEE, low: 1)
        return try Hub.open(path: ":memory:", schema: FieldModel.schema, options: options)
    }

    static func device(_ index: UInt64) throws -> FieldStore {
        var options = ReplicaOptions()
        options.clock = ManualClock(millis: epoch)
        options.replicaID = ReplicaID(high: index, low: index)
        options.randomSeed = index
        return try FieldStore.open(path: ":memory:", options: options)
    }

    /// (cell, op id) rows of the central log, in log order.
    static func centralLog(_ hub: Hub) throws -> [(cell: String, op: String)] {
        try hub.replica.withConnection { db in
            let select = try db.prepare("SELECT cell, replica, seq FROM central_log ORDER BY cseq")
            var rows: [(String, String)] = []
            while try select.step() {
                rows.append((select.text(at: 0), OpID(replica: ReplicaID(bytes: select.bytes(at: 1))!, seq: UInt64(select.int64(at: 2))).description))
            }
            return rows
        }
    }

    @Test func importedRecordsAreTheNodesOwnOperationsLoggedUnderTheirCells() throws {
        let hub = try Self.makeHub()
        let result = try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator-li")
        #expect(result.records == 3)
        #expect(result.recordsByCell == ["JS-0412": 2, "JS-0413": 1])
        #expect(result.operations.count == 3)
        #expect(result.operations.allSatisfy { $0.replica == hub.replica.id })
        let log = try Self.centralLog(hub)
        #expect(log.map(\.cell) == ["JS-0412", "JS-0412", "JS-0413"])
        #expect(log.map(\.op) == result.operations.map(\.description))
        let plate = try #require(try FieldStore(replica: hub.replica).doorplate(try DoorplateCode(parsing: "JS0412-00088")))
        #expect(plate.status == .installed && plate.details.latitude == 30.74)
        let audit = try #require(try hub.audit().last)
        #expect(audit.actor == "operator-li" && audit.action == "import-csv")
        #expect(audit.detail == "doorplates: 3 records in 2 cells (JS-0412 2, JS-0413 1), 3 operations")
    }

    @Test func householdsThatLookAlikeAreQueuedOnceTheWholeFileIsLoaded() throws {
        let hub = try Self.makeHub()
        try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator")
        let households = """
            id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
            M50VXPBB8ZJ4MK359J8YCS3GVC,JS-0412,JS0412-00088,,,张伟,3,,active,0,,,,
            0K2918FBQ1KSRQ1ZN3Y5M4KA5W,JS-0412,JS0412-00089,,,張 偉,2,,active,0,,,,
            1K2918FBQ1KSRQ1ZN3Y5M4KA5W,JS-0413,JS0413-00001,,,李娜,2,,active,0,,,,

            """
        var phases: [Hub.ImportProgress.Phase] = []
        try hub.importCSV(.households, data: Data(households.utf8), actor: "operator") { phases.append($0.phase) }
        #expect(phases == [.checked, .logging, .duplicates])
        // The same head name (traditional form, a stray space) in one cell: one pair, queued and
        // logged under that cell for its devices.
        let pairs = try hub.reviewItems(kind: .duplicate)
        #expect(pairs.count == 1)
        #expect(Set([pairs.first?.duplicate?.firstID.rawValue, pairs.first?.duplicate?.secondID.rawValue])
                == ["M50VXPBB8ZJ4MK359J8YCS3GVC", "0K2918FBQ1KSRQ1ZN3Y5M4KA5W"])
        #expect(try Self.centralLog(hub).filter { $0.cell == "JS-0412" }.count == 2 + 2 + 1)
        // Doorplates are not compared.
        let more = Self.plates.split(separator: "\n").prefix(2).joined(separator: "\n").replacingOccurrences(of: "00088", with: "00188") + "\n"
        try hub.importCSV(.doorplates, data: Data(more.utf8), actor: "operator") {
            #expect($0.phase != .duplicates)
        }
    }

    @Test func aDevicePullsImportedRecordsOfItsCellsAtItsNextSync() throws {
        let hub = try Self.makeHub()
        let enrollment = try hub.enroll(device: "li", cells: ["JS-0412"], actor: "operator")
        try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator")
        let device = try Self.device(1)
        try SyncSession(replica: device.replica).run(exchange: { try hub.handle($0, token: enrollment.token) })
        #expect(try device.doorplates().map(\.code.canonical) == ["JS0412-00088", "JS0412-00089"])
        #expect(try device.replica.digest(cell: "JS-0412") == hub.replica.digest(cell: "JS-0412"))
        #expect(try hub.cellDigests()["JS-0412"] == device.replica.digest(cell: "JS-0412"))
    }

    @Test func aFileWithBadRowsIsRefusedWholeWithEveryProblemAndNothingWritten() throws {
        let hub = try Self.makeHub()
        let csv = """
            code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes
            JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,,,issued,,
            JS0412-00089,JS-0413,金山区,幸福路,89号,,,,,,,,issued,,
            JS0412-00090,JS-0412,金山区,幸福路,90号,,,,,,north,,lost,,
            JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,,,issued,,

            """
        let error = try #require(throws: ImportError.self) { try hub.importCSV(.doorplates, data: Data(csv.utf8), actor: "operator") }
        try #require(error.issues.map(\.row) == [3, 4, 4, 5])
        #expect(error.issues.map(\.columnName) == ["cell", "latitude", "status", "code"])
        #expect(error.issues[0].message.contains("belongs to cell JS-0412, not JS-0413; correct the cell or the code"))
        #expect(error.issues[2].message.contains("use one of: issued, installed, damaged, retired"))
        #expect(error.issues[3].message.contains("also on row 2"))
        #expect(error.message.hasSuffix("Nothing was imported; fix these rows and import the whole file again."))
        #expect(try hub.replica.records(FieldModel.doorplates).isEmpty)
        #expect(try Self.centralLog(hub).isEmpty)
        #expect(try hub.audit().isEmpty)
        // A record already at the node is refused too (importing a file twice).
        try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator")
        let twice = try #require(throws: ImportError.self) { try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator") }
        #expect(twice.issues.count == 3 && twice.issues.allSatisfy { $0.message.contains("already registered") })
        #expect(try Self.centralLog(hub).count == 3)
    }

    @Test func aSampleDistrictExportsByteForByteAsItWasImported() throws {
        let hub = try Self.makeHub()
        for table in Hub.DistrictTable.allCases {
            let file = Self.sampleDirectory.appendingPathComponent("\(table.rawValue).csv")
            let data = try Data(contentsOf: file)
            let result = try hub.importCSV(table, data: data, actor: "operator")
            #expect(result.records == (try CSVReader().table(from: data)).rows.count)
            // The fixture was written without a BOM and with LF line ends.
            let writer = CSVWriter(lineEnding: .lf, includesByteOrderMark: false)
            #expect(writer.data(from: try hub.exportCSV(table, actor: "operator")) == data, "\(table)")
        }
        let one = try hub.exportCSV(.households, cell: try GridCell(parsing: "JS-0402"), actor: "operator-li")
        #expect(!one.rows.isEmpty && one.rows.allSatisfy { $0[1] == "JS-0402" })
        let audit = try #require(try hub.audit().last)
        #expect(audit.action == "export-csv" && audit.detail == "households: \(one.rows.count) records of cell JS-0402")
    }

    @Test func statsCountRecordsPerCellDevicesOperationsPerDayAndOpenReviewItems() throws {
        let clock = ManualClock(millis: Self.epoch + 3_600_000)
        let hub = try Self.makeHub(clock)
        _ = try hub.enroll(device: "li", cells: ["JS-0412"], actor: "operator")
        try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator")
        clock.advance(byMillis: 86_400_000)
        let households = """
            id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
            H1,JS-0412,JS0412-00088,,501,张伟,3,,active,0,,,,
            H2,JS-0412,JS0412-00088,,502,王芳,2,,active,0,,,,

            """
        try hub.importCSV(.households, data: Data(households.utf8), actor: "operator")
        let stats = try hub.stats()
        #expect(stats.recordsByCell == [
            "JS-0412": ["doorplates": 2, "households": 2, "tasks": 0, "review_items": 0],
            "JS-0413": ["doorplates": 1, "households": 0, "tasks": 0, "review_items": 0],
        ])
        #expect(stats.devices.map(\.name) == ["li"])
        #expect(stats.devices.first?.lastSeenMillis == nil)
        #expect(stats.operationsPerDay == [.init(day: "2026-01-01", operations: 3), .init(day: "2026-01-02", operations: 2)])
        #expect(stats.openReviewItems == Dictionary(uniqueKeysWithValues: Hub.ReviewKind.allCases.map { ($0.rawValue, 0) }))
    }

    @Test func anOperationLoggedUnderTwoCellsCountsOnceAndConflictsShowAsOpenItems() throws {
        let hub = try Self.makeHub()
        let enrollment = try hub.enroll(device: "li", cells: ["JS-0412", "JS-0413"], actor: "operator")
        let households = """
            id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
            H1,JS-0412,JS0412-00088,,501,张伟,3,13800138000,active,0,,,,

            """
        try hub.importCSV(.households, data: Data(households.utf8), actor: "operator")
        let device = try Self.device(1)
        let sync = { _ = try SyncSession(replica: device.replica).run(exchange: { try hub.handle($0, token: enrollment.token) }) }
        try sync()
        // The device moves the household to another cell's plate (logged under both cells) while
        // the office changes its phone: a conflict, and an operation in the log twice.
        try device.updateHousehold(try EntityID("H1"), setting: ["doorplate": "JS0413-00001", "phone": "13900000000"])
        try hub.replica.centralTransaction { access in
            let (_, ops) = try access.writeLocal { try $0.update(FieldModel.households, try EntityID("H1"), ["phone": "13700000000"]) }
            for op in ops { try Hub.log(op, before: "JS-0412", assignsCell: false, access: access) }
        }
        try sync()
        let log = try Self.centralLog(hub)
        #expect(log.count > Set(log.map(\.op)).count, "the move is logged under both cells")
        let stats = try hub.stats()
        #expect(stats.operationsPerDay.map(\.operations).reduce(0, +) == Set(log.map(\.op)).count)
        #expect(stats.openReviewItems["conflict"] == 1)
        #expect(stats.recordsByCell["JS-0413"]?["households"] == 1)
        #expect((stats.recordsByCell["JS-0412"]?["households"] ?? 0) == 0)
        #expect(stats.devices.first?.lastSeenMillis != nil)
    }

    @Test func cellDigestsCoverLoggedCellsAndDeviceCellsAndMatchTheReplica() throws {
        let hub = try Self.makeHub()
        _ = try hub.enroll(device: "li", cells: ["JS-0999"], actor: "operator")
        try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator")
        let digests = try hub.cellDigests()
        #expect(digests.keys.sorted() == ["JS-0412", "JS-0413", "JS-0999"])
        for (cell, digest) in digests { #expect(digest == (try hub.replica.digest(cell: cell)), "\(cell)") }
        #expect(digests["JS-0412"] != digests["JS-0413"])
    }

    @Test func aNodeWithoutFieldKitsCollectionsRefusesDistrictFiles() throws {
        let schema = try Schema([CollectionSchema("households", cellField: "cell", fields: [.text("cell")])])
        let hub = try Hub.open(path: ":memory:", schema: schema)
        let error = try #require(throws: SyncError.self) { try hub.importCSV(.doorplates, data: Data(Self.plates.utf8), actor: "operator") }
        #expect(error.code == .schemaMismatch && error.message.contains("no doorplates collection"))
    }

    // MARK: Pure tallies

    @Test func daysAreCivilUTCDatesAcrossLeapYearsAndEpochs() {
        let cases: [(Int64, String)] = [
            (0, "1970-01-01"), (-1, "1969-12-31"), (20_454, "2026-01-01"), (19_782, "2024-02-29"), (19_783, "2024-03-01"),
            (11_016, "2000-02-29"), (-25_508, "1900-03-01"), (2_932_896, "9999-12-31"),
        ]
        for (day, text) in cases { #expect(HubStats.date(dayNumber: day) == text, "\(day)") }
        // Every day of four years follows the previous one.
        let formatter = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day()
        for day in Int64(20_000)..<Int64(21_461) {
            #expect(HubStats.date(dayNumber: day) == Date(timeIntervalSince1970: Double(day) * 86_400).formatted(formatter), "\(day)")
        }
    }

    @Test func talliesFillZerosAndMergeDays() {
        let counts = HubStats.completed(["C1": ["a": 2]], collections: ["a", "b"])
        #expect(counts == ["C1": ["a": 2, "b": 0]])
        #expect(HubStats.operationsPerDay([(20_455, 2), (20_454, 3), (20_455, 1), (20_456, 0)])
            == [.init(day: "2026-01-01", operations: 3), .init(day: "2026-01-02", operations: 3)])
        #expect(HubStats.tally(kinds: ["conflict", "quarantine"], items: ["conflict", "conflict"]) == ["conflict": 2, "quarantine": 0])
    }
}
