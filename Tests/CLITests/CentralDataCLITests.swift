import Foundation
import Testing

/// The commands for district data as a user runs them: `household update`, `doorplate update`,
/// `central import-csv|export-csv|stats|digest` and `central enroll --qr`. Runs the built
/// binary through `CLITests.fieldsync`.
struct CentralDataCLITests {
    typealias Run = CLITests.Run

    static let plates = """
        code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes
        JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,30.74,121.34,installed,2026-01-15,
        JS0412-00089,JS-0412,金山区,幸福路,89号,,,,,,,,issued,,
        JS0413-00001,JS-0413,金山区,和平路,1号,,,,,,,,issued,,

        """
    static let households = """
        id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
        H1,JS-0412,JS0412-00088,,501,张伟,3,13800138000,active,1,2026-01-03,elderly,,
        H2,JS-0413,JS0413-00001,,,王芳,2,,active,0,,,,

        """

    /// A temporary directory with the two CSV files, removed by the caller.
    static func directoryWithFiles() throws -> URL {
        let dir = try CLITests.temporaryDirectory()
        try Data(plates.utf8).write(to: dir.appendingPathComponent("plates.csv"))
        try Data(households.utf8).write(to: dir.appendingPathComponent("households.csv"))
        return dir
    }

    /// `--json` output: exactly one JSON document on stdout.
    static func object(_ run: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(run.json as? [String: Any], "stdout is not one JSON object: \(run.stdout) / \(run.stderr)", sourceLocation: sourceLocation)
    }

    // MARK: Personal data

    @Test func centralEraseAndRetentionAreCommandsWithClearRefusals() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("central", "init", in: dir).status == 0)
        #expect(try CLITests.fieldsync("central", "import-csv", "doorplates", "plates.csv", in: dir).status == 0)
        #expect(try CLITests.fieldsync("central", "import-csv", "households", "households.csv", in: dir).status == 0)
        let refused: [([String], Int32, String)] = [
            (["central", "erase", "households", "H1"], 64, "--reason TEXT is required"),
            (["central", "erase", "doorplates", "JS0412-00088", "--reason", "x"], 64, "doorplates holds no personal values"),
            (["central", "erase", "households", "NOSUCHHOUSEHOLD", "--reason", "ticket 1"], 2, "no households record with id NOSUCHHOUSEHOLD"),
            (["central", "retention", "--days", "forever"], 64, "--days takes a number of days"),
            (["central", "retention", "--days", "0"], 2, "retention is 1 to 36500 days"),
            (["central", "retention", "--url", "http://127.0.0.1:9", "--operator", "boss"], 64, "works on the node's file"),
        ]
        for (words, status, message) in refused {
            let run = try CLITests.fieldsync(arguments: words, in: dir)
            #expect(run.status == status && run.stderr.contains(message), "\(words): \(run.status) \(run.stderr)")
        }
        let erased = try Self.object(try CLITests.fieldsync("central", "erase", "households", "H1", "--reason", "request of 2026-12-07", "--json", in: dir))
        #expect(erased["id"] as? String == "H1" && (erased["erasure"] as? String)?.isEmpty == false && erased["walTruncated"] as? Bool == true)
        let exported = try CLITests.fieldsync("central", "export-csv", "households", "out.csv", in: dir)
        #expect(exported.status == 0)
        let csv = try String(contentsOf: dir.appendingPathComponent("out.csv"), encoding: .utf8)
        #expect(!csv.contains("张伟") && !csv.contains("13800138000") && csv.contains("王芳"), "\(csv)")
        let audit = try #require(try CLITests.fieldsync("central", "audit", "--json", in: dir).json as? [[String: Any]])
        #expect(audit.contains { $0["action"] as? String == "erase" && ($0["detail"] as? String)?.contains("request of 2026-12-07") == true })

        #expect(try CLITests.fieldsync("central", "retention", in: dir).stdout.contains("superseded personal values are kept"))
        let set = try Self.object(try CLITests.fieldsync("central", "retention", "--days", "365", "--json", in: dir))
        #expect(set["days"] as? Int == 365)
        let ran = try Self.object(try CLITests.fieldsync("central", "retention", "run", "--json", in: dir))
        #expect(ran["valuesErased"] as? Int == 0 && (ran["operationsExamined"] as? Int ?? 0) > 0)
        let stats = try Self.object(try CLITests.fieldsync("central", "stats", "--json", in: dir))
        #expect((stats["retention"] as? [String: Any])?["days"] as? Int == 365)
        #expect(try CLITests.fieldsync("central", "stats", in: dir).stdout.contains("superseded personal values kept 365 days"))
    }

    // MARK: Device side

    @Test func householdAndDoorplateUpdatesAreValidatedLikeAddAndRefuseWhatCannotChange() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("doorplate", "add", "JS0412-00088", "--street", "幸福路", in: dir).status == 0)
        let added = try CLITests.fieldsync("household", "add", "--doorplate", "JS0412-00088", "--head", "张伟", "--members", "3", "--json", in: dir)
        let id = try #require(try Self.object(added)["id"] as? String)

        let updated = try CLITests.fieldsync("household", "update", id, "member_count=4", "phone=138 0013 8000", "tags=elderly;renter", "room=501", "--json", in: dir)
        #expect(updated.status == 0 && updated.stderr.isEmpty, "\(updated.stderr)")
        let household = try Self.object(updated)
        #expect(household["memberCount"] as? Int == 4)
        #expect(household["phone"] as? String == "13800138000")
        #expect(household["tags"] as? [String] == ["elderly", "renter"])
        #expect(household["room"] as? String == "501")
        let text = try CLITests.fieldsync("household", "update", id, "phone=", in: dir)
        #expect(text.status == 0 && text.stdout.hasPrefix("updated household \(id): phone"))
        #expect((try Self.object(try CLITests.fieldsync("household", "show", id, "--json", in: dir)))["phone"] == nil)

        let refused: [([String], String)] = [
            (["household", "update", id, "member_count=120"], "member count must be 0 to 99; got 120"),
            (["household", "update", id, "phone=call me"], "phone may hold only digits"),
            (["household", "update", id, "colour=red"], "the fields that can be updated are: doorplate, unit, room, head_name, member_count, phone, status, tags, notes"),
            (["household", "update", id, "visit_count=9"], "record a visit instead"),
            (["household", "update", "NOSUCHID", "member_count=2"], "is not on this device"),
            (["doorplate", "update", "JS0412-00088", "code=JS0412-00089"], "register the new code as a new plate"),
            (["doorplate", "update", "JS0412-00088", "status=retired", "latitude=95"], "latitude must be between -90.0 and 90.0"),
            (["doorplate", "update", "JS0412-00088", "status=damaged"], "doorplate status cannot go from issued to damaged"),
            (["doorplate", "update", "JS0412-00099", "street=x"], "doorplate JS0412-00099 is not on this device"),
            (["doorplate", "update", "nonsense", "street=x"], "is neither a doorplate code"),
        ]
        for (arguments, message) in refused {
            let run = try CLITests.fieldsync(arguments: arguments + ["--json"], in: dir)
            #expect(run.status == 2, "\(arguments): exit \(run.status), \(run.stderr)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments): \(run.stdout)")
        }
        // Nothing of the refused edits was written (the doorplate is still issued, on 幸福路).
        let plate = try Self.object(try CLITests.fieldsync("doorplate", "show", "JS0412-00088", "--json", in: dir))
        #expect(plate["status"] as? String == "issued" && plate["latitude"] == nil)

        let usage: [[String]] = [["household", "update", id], ["household", "update", id, "member_count"], ["doorplate", "update", "JS0412-00088", "street=a", "street=b"]]
        for arguments in usage {
            let run = try CLITests.fieldsync(arguments: arguments, in: dir)
            #expect(run.status == 64 && run.stdout.isEmpty, "\(arguments): exit \(run.status)")
        }

        // By printed code (check character) and by record id.
        let printed = try #require(plate["qrPayload"] as? String).replacingOccurrences(of: "FSP1:", with: "")
        let installed = try CLITests.fieldsync("doorplate", "update", printed, "status=installed", "installed_on=2026-01-15", "latitude=30.74", "--json", in: dir)
        #expect(installed.status == 0, "\(installed.stderr)")
        let installedPlate = try Self.object(installed)
        #expect(installedPlate["status"] as? String == "installed" && installedPlate["installedOn"] as? String == "2026-01-15")
        #expect(installedPlate["latitude"] as? Double == 30.74)
        let records = try #require(try CLITests.fieldsync("record", "list", "doorplates", "--json", in: dir).json as? [[String: Any]])
        let plateID = try #require(records.first?["id"] as? String)
        let byID = try CLITests.fieldsync("doorplate", "update", plateID, "street=和平路", in: dir)
        #expect(byID.status == 0 && byID.stdout.contains("updated doorplate JS0412-00088: street") && byID.stdout.contains("和平路"), "\(byID.stderr)")
        #expect(try CLITests.fieldsync("household", "--help").stdout.contains("household update ID field=value"))
    }

    // MARK: Central side

    @Test func importCSVWritesEveryRowOrNoneAndListsEveryBadRow() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("central", "init", in: dir).status == 0)
        let plates = try CLITests.fieldsync("central", "import-csv", "doorplates", "plates.csv", "--json", in: dir)
        #expect(plates.status == 0 && plates.stderr.isEmpty, "\(plates.stderr)")
        let result = try Self.object(plates)
        #expect(result["imported"] as? Int == 3 && result["operations"] as? Int == 3)
        #expect(result["recordsByCell"] as? [String: Int] == ["JS-0412": 2, "JS-0413": 1])
        let households = try CLITests.fieldsync("central", "import-csv", "households", "households.csv", in: dir)
        #expect(households.status == 0 && households.stdout.contains("imported 2 households from households.csv (JS-0412 1, JS-0413 1)"))

        // A file with bad rows: refused whole, every problem listed by row and column, nothing written.
        let bad = """
            code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes
            JS0414-00001,JS-0414,金山区,幸福路,1号,,,,,,,,issued,,
            JS0414-00002,JS-0415,金山区,幸福路,2号,,,,,,,,issued,,
            JS0414-00003,JS-0414,金山区,幸福路,3号,,,,,,,,lost,,

            """
        try Data(bad.utf8).write(to: dir.appendingPathComponent("bad.csv"))
        let refused = try CLITests.fieldsync("central", "import-csv", "doorplates", "bad.csv", in: dir)
        #expect(refused.status == 2 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("Row 3, column 2 (“cell”): doorplate JS0414-00002 belongs to cell JS-0414, not JS-0415; correct the cell or the code"))
        #expect(refused.stderr.contains("Row 4, column 13 (“status”): doorplate status “lost” is unknown; use one of: issued, installed, damaged, retired"))
        #expect(refused.stderr.contains("Nothing was imported; fix these rows and import the whole file again."))
        let json = try CLITests.fieldsync("central", "import-csv", "doorplates", "bad.csv", "--json", in: dir)
        #expect(json.status == 2 && json.stderr.contains("Row 3"))
        let issues = try #require(try Self.object(json)["issues"] as? [[String: Any]])
        #expect(issues.map { $0["row"] as? Int } == [3, 4])
        #expect(issues.map { $0["columnName"] as? String } == ["cell", "status"])
        let stats = try Self.object(try CLITests.fieldsync("central", "stats", "--json", in: dir))
        #expect((stats["recordsByCell"] as? [String: Any])?["JS-0414"] == nil)
        // The same file twice: every row already exists.
        let twice = try CLITests.fieldsync("central", "import-csv", "doorplates", "plates.csv", in: dir)
        #expect(twice.status == 2 && twice.stderr.contains("Row 2, column 1 (“code”): doorplate JS0412-00088 is already registered"))
        let audit = try #require(try CLITests.fieldsync("central", "audit", "--json", in: dir).json as? [[String: Any]])
        #expect(audit.compactMap { $0["action"] as? String } == ["import-csv", "import-csv"])

        let errors: [([String], Int32, String)] = [
            (["central", "import-csv", "people", "plates.csv"], 64, "takes households or doorplates, not \"people\""),
            (["central", "import-csv", "doorplates"], 64, "central import-csv households|doorplates FILE"),
            (["central", "import-csv", "doorplates", "missing.csv"], 2, "no file “missing.csv”"),
            (["central", "import-csv", "doorplates", "plates.csv", "--dry"], 64, "--dry"),
        ]
        for (arguments, status, message) in errors {
            let run = try CLITests.fieldsync(arguments: arguments, in: dir)
            #expect(run.status == status && run.stderr.contains(message) && run.stdout.isEmpty, "\(arguments): \(run.status) \(run.stderr)")
        }
    }

    @Test func exportCSVWritesTheDistrictFileOfTheNodeOrOfOneCell() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("central", "import-csv", "households", "households.csv", in: dir).status == 0)
        let all = try CLITests.fieldsync("central", "export-csv", "households", "out.csv", "--json", in: dir)
        #expect(all.status == 0 && all.stderr.isEmpty, "\(all.stderr)")
        #expect(try Self.object(all)["exported"] as? Int == 2)
        let data = try Data(contentsOf: dir.appendingPathComponent("out.csv"))
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF], "a BOM, so spreadsheet programs read the Chinese text as UTF-8")
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        #expect(text.hasPrefix("id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes\r\n"))
        #expect(text.contains("H1,JS-0412,JS0412-00088") && text.contains("2026-01-03,elderly") && text.contains("H2,JS-0413"))

        let one = try CLITests.fieldsync("central", "export-csv", "households", "one.csv", "--cell", "js-0413", in: dir)
        #expect(one.status == 0 && one.stdout.contains("exported 1 households of cell JS-0413 to one.csv"))
        let lines = try String(contentsOf: dir.appendingPathComponent("one.csv"), encoding: .utf8).split(separator: "\r\n")
        #expect(lines.count == 2 && lines[1].hasPrefix("H2,JS-0413"))
        // The exported file imports into another node as it is.
        let other = try CLITests.fieldsync("central", "import-csv", "households", "out.csv", "--db", "other.db", in: dir)
        #expect(other.status == 0, "\(other.stderr)")

        let errors: [([String], Int32, String)] = [
            (["central", "export-csv", "households", "nowhere/out.csv"], 2, "the directory"),
            (["central", "export-csv", "households", "out.csv", "--cell", "north"], 2, "is not a grid cell id"),
            (["central", "export-csv", "tasks", "out.csv"], 64, "takes households or doorplates"),
        ]
        for (arguments, status, message) in errors {
            let run = try CLITests.fieldsync(arguments: arguments + ["--json"], in: dir)
            #expect(run.status == status && run.stderr.contains(message) && run.stdout.isEmpty, "\(arguments): \(run.status) \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("nowhere").path))
    }

    /// Cells a spreadsheet would run as formulas (OWASP "CSV injection"), from a district file:
    /// exported with a leading quote (quoted as CSV requires), and the export imports into a
    /// fresh node as the very same records.
    @Test func exportedFormulaLikeCellsStartWithAQuoteAndImportBackToTheSameRecords() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plates = """
            code,cell,district,street,building_number,block,unit,floor,room,remainder,latitude,longitude,status,installed_on,notes
            JS0412-00088,JS-0412,金山区,@幸福路,88号,,,-1,,,-33.5,121.34,installed,2026-01-15,=1+1

            """
        let households = """
            id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
            H1,JS-0412,JS0412-00088,+1,-2+3,"=HYPERLINK(""http://evil.example"",""click"")",3,13800138000,active,0,,@risk;=x,,\tindented
            -H3,JS-0412,JS0412-00088,,,@SUM(A1),2,,active,0,,,,"\rCR-led"
            H4,JS-0412,JS0412-00088,,-1,'hello,1,,active,0,,,,'=quoted in the file

            """
        try Data(plates.utf8).write(to: dir.appendingPathComponent("plates.csv"))
        try Data(households.utf8).write(to: dir.appendingPathComponent("households.csv"))
        for (table, file) in [("doorplates", "plates.csv"), ("households", "households.csv")] {
            let imported = try CLITests.fieldsync("central", "import-csv", table, file, in: dir)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        for (table, file) in [("doorplates", "plates-out.csv"), ("households", "households-out.csv")] {
            let exported = try CLITests.fieldsync("central", "export-csv", table, file, in: dir)
            #expect(exported.status == 0, "\(exported.stderr)")
        }
        let plateRows = String(decoding: try Data(contentsOf: dir.appendingPathComponent("plates-out.csv")).dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
        #expect(plateRows.count == 3 && plateRows[1].hasPrefix("JS0412-00088"))
        #expect(plateRows[1].hasSuffix(",JS-0412,金山区,'@幸福路,88号,,,-1,,,-33.5,121.34,installed,2026-01-15,'=1+1"), "a floor -1 and a latitude -33.5 are numbers: \(plateRows[1])")
        let rows = String(decoding: try Data(contentsOf: dir.appendingPathComponent("households-out.csv")).dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
        #expect(rows.count == 5, "\(rows)")
        let byID = Dictionary(rows.dropFirst().filter { !$0.isEmpty }.map { (String($0.prefix { $0 != "," }), $0) }) { first, _ in first }
        let h1 = try #require(byID["H1"]), h3 = try #require(byID["'-H3"], "the id -H3 is quoted too: \(byID.keys)"), h4 = try #require(byID["H4"])
        #expect(h1.hasSuffix(",'+1,'-2+3,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",3,13800138000,active,0,,'=x;@risk,,'\tindented"), "\(h1.debugDescription)")
        #expect(h3.hasSuffix(",,,'@SUM(A1),2,,active,0,,,,\"'\rCR-led\""), "\(h3.debugDescription)")
        #expect(h4.hasSuffix(",,-1,'hello,1,,active,0,,,,'=quoted in the file"), "a hand-made 'hello stays as it is: \(h4.debugDescription)")

        // The export imported into a fresh node: the same records, so the same digests and the same export.
        for (table, file) in [("doorplates", "plates-out.csv"), ("households", "households-out.csv")] {
            let imported = try CLITests.fieldsync("central", "import-csv", table, file, "--db", "fresh.db", in: dir)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let original = try Self.object(try CLITests.fieldsync("central", "digest", "--json", in: dir))
        let fresh = try Self.object(try CLITests.fieldsync("central", "digest", "--db", "fresh.db", "--json", in: dir))
        #expect(original["digest"] as? String != nil && original["digest"] as? String == fresh["digest"] as? String)
        #expect(original["cells"] as? [String: String] == fresh["cells"] as? [String: String])
        #expect(try CLITests.fieldsync("central", "export-csv", "households", "again.csv", "--db", "fresh.db", in: dir).status == 0)
        #expect(try Data(contentsOf: dir.appendingPathComponent("again.csv")) == Data(contentsOf: dir.appendingPathComponent("households-out.csv")))
    }

    @Test func statsAndDigestDescribeTheNode() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = try CLITests.fieldsync("central", "stats", in: dir)
        #expect(empty.status == 0 && empty.stdout.contains("records by cell:\n  (none)") && empty.stdout.contains("open review items: conflict 0, duplicate 0, quarantine 0"))
        #expect(try CLITests.fieldsync("central", "import-csv", "doorplates", "plates.csv", in: dir).status == 0)
        #expect(try CLITests.fieldsync("central", "enroll", "--device", "li", "--cells", "JS-0412", in: dir).status == 0)
        let run = try CLITests.fieldsync("central", "stats", "--json", in: dir)
        #expect(run.status == 0 && run.stderr.isEmpty)
        let stats = try Self.object(run)
        let records = try #require(stats["recordsByCell"] as? [String: [String: Int]])
        #expect(records["JS-0412"] == ["doorplates": 2, "households": 0, "tasks": 0, "review_items": 0])
        #expect(records["JS-0413"]?["doorplates"] == 1)
        let devices = try #require(stats["devices"] as? [[String: Any]])
        #expect(devices.count == 1 && devices[0]["name"] as? String == "li" && devices[0]["lastSeenMillis"] == nil)
        let days = try #require(stats["operationsPerDay"] as? [[String: Any]])
        #expect(days.count == 1 && days[0]["operations"] as? Int == 3)
        #expect((days[0]["day"] as? String)?.count == 10)
        #expect(stats["openReviewItems"] as? [String: Int] == ["conflict": 0, "duplicate": 0, "quarantine": 0])
        let text = try CLITests.fieldsync("central", "stats", in: dir)
        #expect(text.stdout.contains("  JS-0412\tdoorplates 2\thouseholds 0") && text.stdout.contains("  li\tJS-0412\tlast seen never"))

        let digests = try Self.object(try CLITests.fieldsync("central", "digest", "--json", in: dir))
        let cells = try #require(digests["cells"] as? [String: String])
        #expect(cells.keys.sorted() == ["JS-0412", "JS-0413"])
        #expect((digests["digest"] as? String)?.count == 64)
        let one = try CLITests.fieldsync("central", "digest", "--cell", "JS-0412", in: dir)
        #expect(one.status == 0 && one.stdout == cells["JS-0412"]! + "\n")
        #expect(cells["JS-0412"] != cells["JS-0413"])
        #expect(try CLITests.fieldsync("central", "stats", "extra", in: dir).status == 64)
        #expect(try CLITests.fieldsync("central", "digest", "--cel", "JS-0412", in: dir).status == 64)
        let help = try CLITests.fieldsync("central", "--help")
        #expect(help.status == 0 && ["import-csv", "export-csv", "stats", "digest [--cell C]", "--qr FILE.svg"].allSatisfy(help.stdout.contains))
    }

    @Test func enrollWritesAPrintableQRCodeAndRefusesAPathItCannotWriteBeforeEnrolling() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try CLITests.fieldsync("central", "enroll", "--device", "tablet-07", "--cells", "JS-0412", "--url", "https://node.example.org",
                                         "--qr", "tablet-07.svg", "--json", in: dir)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        let result = try Self.object(run)
        let version = try #require(result["qrVersion"] as? Int)
        #expect(result["qr"] as? String == "tablet-07.svg")
        let svg = try String(contentsOf: dir.appendingPathComponent("tablet-07.svg"), encoding: .utf8)
        let size = 17 + 4 * version + 8
        #expect(svg.hasPrefix("<?xml") && svg.contains(#"viewBox="0 0 \#(size) \#(size)""#) && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("<title>FieldSync enrollment: tablet-07 (JS-0412)</title>"))
        let permissions = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("tablet-07.svg").path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let text = try CLITests.fieldsync("central", "enroll", "--device", "tablet-08", "--cells", "JS-0412", "--url", "https://node.example.org",
                                          "--qr", "tablet-08.svg", in: dir)
        #expect(text.status == 0 && text.stdout.contains("QR code (version \(version)) written to tablet-08.svg"))

        let errors: [([String], Int32, String)] = [
            (["--url", "https://node.example.org", "--qr", "nowhere/tablet-09.svg"], 2, "the directory “\(dir.path)/nowhere” does not exist"),
            (["--url", "https://node.example.org", "--qr", "tablet-09.png"], 2, "name the file .svg"),
            (["--url", "ftp://node.example.org", "--qr", "tablet-09.svg"], 2, "must be an http:// or https:// URL"),
            (["--qr", "tablet-09.svg"], 64, "--qr needs --url"),
        ]
        for (arguments, status, message) in errors {
            let run = try CLITests.fieldsync(arguments: ["central", "enroll", "--device", "tablet-09", "--cells", "JS-0412", "--json"] + arguments, in: dir)
            #expect(run.status == status && run.stderr.contains(message) && run.stdout.isEmpty, "\(arguments): \(run.status) \(run.stderr)")
        }
        // None of the refused enrollments happened.
        let devices = try #require(try CLITests.fieldsync("central", "devices", "--json", in: dir).json as? [[String: Any]])
        #expect(devices.compactMap { $0["name"] as? String } == ["tablet-07", "tablet-08"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("tablet-09.svg").path))
    }

    /// Cells are typed by operators: they are read as grid cells (any case, hyphen optional) and
    /// stored canonical, and anything else is refused before a device is enrolled with a cell no
    /// record can ever be in.
    @Test func cellsTypedByAnOperatorAreCanonicalOrRefused() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("central", "init", in: dir).status == 0)
        let enrolled = try Self.object(try CLITests.fieldsync("central", "enroll", "--device", "li", "--cells", "js0412,JS-0412,ＪＳ－０４１３", "--json", in: dir))
        #expect(enrolled["cells"] as? [String] == ["JS-0412", "JS-0413"])
        let moved = try CLITests.fieldsync("central", "cells", "li", "--set", "js0414", "--json", in: dir)
        #expect(moved.status == 0 && (moved.json as? [String: Any])?["cells"] as? [String] == ["JS-0414"], "\(moved.stderr)")
        for arguments in [["central", "enroll", "--device", "zhao", "--cells", "JS0412,north"], ["central", "cells", "li", "--set", "JS-04"],
                          ["central", "cells", "li", "--set", "JS0412,"], ["central", "review", "list", "--cell", "north"],
                          ["central", "digest", "--cell", "JS 0412 x"]] {
            let run = try CLITests.fieldsync(arguments: arguments, in: dir)
            #expect(run.status == 2 && run.stderr.contains("is not a grid cell id") && run.stdout.isEmpty, "\(arguments): \(run.status) \(run.stderr)")
        }
        let devices = try #require(try CLITests.fieldsync("central", "devices", "--json", in: dir).json as? [[String: Any]])
        #expect(devices.count == 1 && devices.first?["cells"] as? [String] == ["JS-0414"])
    }

    /// Imported records are the node's own operations in its log: a device receives those of its
    /// cells at its next sync, through `central serve` and `fieldsync sync`.
    @Test func importedRecordsReachADeviceAtItsNextSync() throws {
        let dir = try Self.directoryWithFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLITests.fieldsync("central", "init", in: dir).status == 0)
        let enrolled = try Self.object(try CLITests.fieldsync("central", "enroll", "--device", "li", "--cells", "JS-0412", "--json", in: dir))
        let token = try #require(enrolled["token"] as? String)
        #expect(try CLITests.fieldsync("central", "import-csv", "doorplates", "plates.csv", in: dir).status == 0)
        #expect(try CLITests.fieldsync("central", "import-csv", "households", "households.csv", in: dir).status == 0)

        let server = try CLITests.Server(in: dir)
        defer { server.stop() }
        let url = server.url

        #expect(try CLITests.fieldsync("device", "init", "--central", url, "--token", token, "--db", "li.db", in: dir).status == 0)
        let sync = try CLITests.fieldsync("sync", "--db", "li.db", in: dir)
        #expect(sync.status == 0, "\(sync.stderr)")
        let plates = try #require(try CLITests.fieldsync("doorplate", "list", "--db", "li.db", "--json", in: dir).json as? [[String: Any]])
        #expect(plates.compactMap { $0["code"] as? String } == ["JS0412-00088", "JS0412-00089"])
        let households = try #require(try CLITests.fieldsync("household", "list", "--db", "li.db", "--json", in: dir).json as? [[String: Any]])
        #expect(households.compactMap { $0["id"] as? String } == ["H1"])
        let device = try CLITests.fieldsync("digest", "--cell", "JS-0412", "--db", "li.db", in: dir)
        let central = try CLITests.fieldsync("central", "digest", "--cell", "JS-0412", in: dir)
        #expect(device.status == 0 && device.stdout == central.stdout)
    }
}
