import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct DistrictCSVTests {
    static let plateHeader = DistrictCSV.doorplateColumns.joined(separator: ",")
    static let householdHeader = DistrictCSV.householdColumns.joined(separator: ",")

    static func importError(_ body: () throws -> Void) -> ImportError? {
        do {
            try body()
            return nil
        } catch {
            return error as? ImportError
        }
    }

    @Test func doorplatesAndHouseholdsImportAndExportWithTheDocumentedHeaders() throws {
        let (store, _) = try makeStore(1)
        let plates = """
            \(Self.plateHeader)
            JS0412-00088,JS-0412,金山区,幸福路,88号,3栋,2单元,,501室,幸福小区,30.741234,121.342,installed,2025-06-01,"门口有狗, 先打电话"
            js0412-00089,js0412,金山区,幸福路,88号,3栋,2单元,,502室,,,,issued,,

            """
        #expect(try DistrictCSV.importDoorplates(from: Data(plates.utf8), into: store) == 2)
        let code88 = code("JS0412-00088")
        let households = """
            \(Self.householdHeader)
            ,JS-0412,\(DistrictCSV.printed(code88)),,,张伟,3,138 0013 8000,active,2,2025-12-01;2025-11-02,独居老人;低保户,,\"说\"\"下周再来\"\"\"
            """
        #expect(try DistrictCSV.importHouseholds(from: Data(households.utf8), into: store) == 1)
        let household = try #require(try store.households().first)
        #expect(household.details.phone == "13800138000")
        #expect(household.visitCount == 2)
        #expect(household.lastVisitOn == day("2025-12-01"))
        #expect(household.details.tags == ["独居老人", "低保户"])
        #expect(household.details.notes == "说\"下周再来\"")
        let plate = try #require(try store.doorplate(code88))
        #expect(plate.details.latitude == 30.741234)
        #expect(plate.details.notes == "门口有狗, 先打电话")

        let exported = CSVWriter(lineEnding: .lf).string(from: try DistrictCSV.exportDoorplates(from: store))
        #expect(exported.hasPrefix(Self.plateHeader + "\n"))
        #expect(exported.contains("JS0412-00088\(code88.checkCharacter),JS-0412,金山区,幸福路,88号,3栋,2单元,,501室,幸福小区,30.741234,121.342,installed,2025-06-01,\"门口有狗, 先打电话\"\n"))
        // Importing the same households again is refused: the derived id already exists.
        let again = Self.importError { try DistrictCSV.importHouseholds(from: Data(households.utf8), into: store) }
        #expect(again?.issues.first?.columnName == "id")
        #expect(again?.issues.first?.message.contains("already on this device") == true)
    }

    @Test func malformedDoorplateRowsGetPreciseErrorsAndNothingIsImported() throws {
        let (store, _) = try makeStore(1)
        let good = code("JS0412-00088")
        let wrongCheck = good.checkCharacter == "A" ? "B" : "A"
        let text = """
            \(Self.plateHeader)
            JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,,,installed,,
            JS0412-00089,JS0412X,金山区,幸福路,89号,,,,,,,,installed,,
            JS0412-00088\(wrongCheck),JS-0412,金山区,幸福路,88号,,,,,,,,installed,,
            JS0412-00090,JS-0413,金山区,幸福路,90号,,,,,,,,installed,,
            JS0412-00091,JS-0412,金山区,幸福路,91号,,,,,,95.0,,installed,,
            JS0412-00092,JS-0412,金山区,幸福路,92号,,,,,,,,lost,,
            JS0412-00093,JS-0412,金山区,幸福路
            JS0412-00088,JS-0412,金山区,幸福路,88号,,,,,,,,installed,,
            """
        let error = try #require(Self.importError { try DistrictCSV.importDoorplates(from: Data(text.utf8), into: store) })
        // The reader stops at the first structural error (wrong column count, row 8).
        #expect(error.issues.count == 1)
        #expect(error.issues.first?.row == 8)
        #expect(error.issues.first?.message.contains("has 4 columns but the header has 15") == true)

        let valueErrors = try #require(Self.importError {
            try DistrictCSV.importDoorplates(from: Data(text.replacingOccurrences(of: "JS0412-00093,JS-0412,金山区,幸福路\n", with: "").utf8), into: store)
        })
        let located = valueErrors.issues.map { "\($0.row ?? 0):\($0.columnName ?? "-")" }
        #expect(located == ["3:cell", "4:code", "5:cell", "6:latitude", "7:status", "8:code"])
        #expect(valueErrors.issues[0].message.hasPrefix("Row 3, column 2 (“cell”): cell “JS0412X” is not a grid cell id"))
        #expect(valueErrors.issues[1].message.contains("wrong check character"))
        #expect(valueErrors.issues[2].message.contains("belongs to cell JS-0412, not JS-0413"))
        #expect(valueErrors.issues[3].message.contains("latitude must be between -90.0 and 90.0; got 95.0"))
        #expect(valueErrors.issues[4].message.contains("doorplate status “lost” is unknown; use one of: issued, installed, damaged, retired"))
        #expect(valueErrors.issues[5].message.contains("also on row 2"))
        #expect(valueErrors.message.hasSuffix("Nothing was imported; fix these rows and import the whole file again."))
        #expect(try store.doorplates().isEmpty)
        #expect(try store.replica.operations().isEmpty)
    }

    @Test func malformedHouseholdRowsNameTheRowAndColumn() throws {
        let (store, _) = try makeStore(1)
        let text = """
            \(Self.householdHeader)
            ,JS-0412,JS0412-00088,,,张伟,120,,active,0,,,,
            ,JS-0412,JS0412-00089,,,李娜,三,,active,0,,,,
            ,JS-0412,JS0412-00090,,,,2,,active,0,,,,
            ,JS-0412,JS0412-00091,,,王芳,2,+86 138,active,0,,,,
            ,JS-0412,JS0412-00092,,,赵敏,2,,away,0,2025-13-01,,,
            ,JS-0412,JS0412-00093,,,孙丽,2,,active,0,,,,
            """
        let error = try #require(Self.importError { try DistrictCSV.importHouseholds(from: Data(text.utf8), into: store) })
        #expect(error.issues.map(\.message) == [
            "Row 2, column 7 (“member_count”): member count must be 0 to 99; got 120",
            "Row 3, column 7 (“member_count”): member count must be a whole number 0 to 99; got “三”",
            "Row 4, column 6 (“head_name”): head of household name is empty; type the name as the person gives it",
            "Row 5, column 8 (“phone”): phone may hold only digits, spaces and dashes; “+” is not allowed (write +86 numbers without +86)",
            "Row 6, column 9 (“status”): household status “away” is unknown; use one of: active, moved_out, vacant",
            "Row 6, column 11 (“visit_days”): 2025-13-01 is not a date between 1900 and 2199; write dates as YYYY-MM-DD, e.g. 2026-03-01",
        ])
        #expect(try store.households().isEmpty)
    }

    @Test func badQuotingAndMissingOrUnknownColumnsAreReportedBeforeAnyRow() throws {
        let (store, _) = try makeStore(1)
        let quoting = "\(Self.plateHeader)\nJS0412-00088,JS-0412,\"金山区,幸福路,88号,,,,,,,,installed,,\n"
        let unterminated = try #require(Self.importError { try DistrictCSV.importDoorplates(from: Data(quoting.utf8), into: store) })
        #expect(unterminated.issues.first?.row == 2)
        #expect(unterminated.issues.first?.column == 3)
        #expect(unterminated.issues.first?.message.contains("never closed") == true)

        let header = Self.plateHeader.replacingOccurrences(of: "notes", with: "remarks")
        let columns = try #require(Self.importError { try DistrictCSV.importDoorplates(from: Data("\(header)\n".utf8), into: store) })
        #expect(columns.issues.map(\.message) == [
            "Row 1: the header has no column “notes”; the columns are: \(Self.plateHeader)",
            "Row 1, column 15 (“remarks”): this column is not one that can be imported; remove it (the columns are: \(Self.plateHeader)",
        ])
    }

    @Test func importIsAllOrNothingEvenWhenTheStoreRefusesLate() throws {
        let (store, _) = try makeStore(1)
        try store.addDoorplate(DoorplateDraft(code: code("JS0412-00090")))
        let text = "\(Self.plateHeader)\nJS0412-00089,JS-0412,,,,,,,,,,,issued,,\nJS0412-00090,JS-0412,,,,,,,,,,,issued,,\n"
        let error = try #require(Self.importError { try DistrictCSV.importDoorplates(from: Data(text.utf8), into: store) })
        #expect(error.issues.map { "\($0.row ?? 0):\($0.columnName ?? "")" } == ["3:code"])
        #expect(try store.doorplates().map(\.code.canonical) == ["JS0412-00090"])
    }

    @Test func tenThousandRowsRoundTripThroughAFreshReplicaIdentically() throws {
        let generator = DistrictGenerator(seed: 10_000, options: .init(cellCount: 51, doorplatesPerCell: 100, tasksPerCell: 0))
        var plates: [DoorplateDraft] = []
        var households: [Household] = []
        for cell in generator.cells {
            plates += cell.doorplates
            households += cell.households
        }
        #expect(plates.count + households.count >= 10_000)
        let writer = CSVWriter()
        let plateCSV = writer.data(from: try DistrictCSV.doorplateTable(plates))
        let householdCSV = writer.data(from: try DistrictCSV.householdTable(households))

        let (store, _) = try makeStore(1)
        #expect(try DistrictCSV.importDoorplates(from: plateCSV, into: store) == plates.count)
        #expect(try DistrictCSV.importHouseholds(from: householdCSV, into: store) == households.count)
        #expect(writer.data(from: try DistrictCSV.exportDoorplates(from: store)) == plateCSV)
        #expect(writer.data(from: try DistrictCSV.exportHouseholds(from: store)) == householdCSV)
        #expect(try store.households().sorted { $0.id < $1.id } == households.sorted { $0.id < $1.id })
    }

    /// Notes are free text: notes of only spaces, tabs or line breaks (typed on a device) are
    /// exported and imported as they are, not emptied.
    @Test func notesOfOnlyWhiteSpaceSurviveAnExportAndAnImport() throws {
        let notes = ["\t", " ", "\t ", "\r\n", "\u{3000}"]
        let households = try notes.enumerated().map { index, text in
            Household(id: try EntityID("H\(index)"), details: try FieldStore.validated(
                HouseholdDraft(doorplate: code("JS0412-00088"), room: "\(index)", headName: "王芳", memberCount: 1, notes: text)))
        }
        let plate = try FieldStore.validated(DoorplateDraft(code: code("JS0412-00088"), notes: "\t"))
        let (store, _) = try makeStore(1)
        #expect(try DistrictCSV.importDoorplates(from: CSVWriter().data(from: try DistrictCSV.doorplateTable([plate])), into: store) == 1)
        #expect(try DistrictCSV.importHouseholds(from: CSVWriter().data(from: try DistrictCSV.householdTable(households)), into: store) == notes.count)
        #expect(try store.households().sorted { $0.id < $1.id }.map { Array($0.details.notes.unicodeScalars) } == notes.map { Array($0.unicodeScalars) })
        #expect(try store.doorplate(code("JS0412-00088"))?.details.notes == "\t")
    }

    // MARK: Spreadsheet formulas

    /// Values a spreadsheet would run (from a district file or typed on a device) are exported
    /// with a leading quote in every column, ids and names included, and import back unchanged.
    @Test func formulaLikeValuesAreQuotedOnExportAndImportBackToTheSameRecords() throws {
        let (store, _) = try makeStore(1)
        let plates = """
            \(Self.plateHeader)
            JS0412-00088,JS-0412,+东区,@幸福路,=88号,,,-1,,,-33.5,121.34,installed,2026-01-15,=1+1
            JS0412-00089,JS-0412,金山区,幸福路,89号,,,,,,,,issued,,'hello

            """
        #expect(try DistrictCSV.importDoorplates(from: Data(plates.utf8), into: store) == 2)
        let households = """
            \(Self.householdHeader)
            H1,JS-0412,JS0412-00088,+1,-2+3,"=HYPERLINK(""http://evil.example"",""click"")",3,13800138000,active,0,,@risk;=x,,"\tindented"
            -H3,JS-0412,JS0412-00088,,,@SUM(A1),2,,active,0,,,,"\rCR-led"
            H4,JS-0412,JS0412-00089,,-1,'hello,1,,active,0,,,,'=already quoted

            """
        #expect(try DistrictCSV.importHouseholds(from: Data(households.utf8), into: store) == 3)
        // Stored as the file has them; a quote before a formula is the export's, not the value's.
        let h1 = try #require(try store.household(EntityID("H1")))
        #expect(h1.details.headName == "=HYPERLINK(\"http://evil.example\",\"click\")" && h1.details.unit == "+1" && h1.details.room == "-2+3")
        #expect(h1.details.tags == ["@risk", "=x"] && h1.details.notes == "\tindented")
        #expect(try store.household(EntityID("-H3"))?.details.notes == "\rCR-led")
        let h4 = try #require(try store.household(EntityID("H4")))
        #expect(h4.details.headName == "'hello" && h4.details.notes == "=already quoted" && h4.details.room == "-1")
        #expect(try store.doorplate(code("JS0412-00088"))?.details.latitude == -33.5)

        let writer = CSVWriter(lineEnding: .lf)
        let plateText = writer.string(from: try DistrictCSV.exportDoorplates(from: store))
        let plate88 = DistrictCSV.printed(code("JS0412-00088"))
        #expect(plateText.contains("\n\(plate88),JS-0412,'+东区,'@幸福路,'=88号,,,-1,,,-33.5,121.34,installed,2026-01-15,'=1+1\n"), "\(plateText)")
        #expect(plateText.contains(",89号,,,,,,,,issued,,'hello\n"))
        let householdText = writer.string(from: try DistrictCSV.exportHouseholds(from: store))
        #expect(householdText.contains("\nH1,JS-0412,\(plate88),'+1,'-2+3,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",3,13800138000,active,0,,'=x;@risk,,'\tindented\n"), "\(householdText)")
        #expect(householdText.contains("\n'-H3,JS-0412,\(plate88),,,'@SUM(A1),2,,active,0,,,,\"'\rCR-led\"\n"))
        #expect(householdText.contains(",,-1,'hello,1,,active,0,,,,'=already quoted\n"))

        let (fresh, _) = try makeStore(2)
        #expect(try DistrictCSV.importDoorplates(from: Data(plateText.utf8), into: fresh) == 2)
        #expect(try DistrictCSV.importHouseholds(from: Data(householdText.utf8), into: fresh) == 3)
        #expect(try fresh.households().sorted { $0.id < $1.id } == store.households().sorted { $0.id < $1.id })
        #expect(try fresh.doorplates().map(\.details) == store.doorplates().map(\.details))
        #expect(writer.string(from: try DistrictCSV.exportHouseholds(from: fresh)) == householdText)
        #expect(writer.string(from: try DistrictCSV.exportDoorplates(from: fresh)) == plateText)
    }

    /// Notes and names drawn from formula triggers, quotes and text of every kind survive an
    /// export and an import into a fresh replica, and no exported cell starts with a trigger.
    @Test func generatedFormulaLikeNotesAndNamesRoundTripThroughAFreshReplica() throws {
        let seed = testSeed(default: 0x5F0A_0002)
        var random = SplitMix64(seed: seed)
        let pieces = ["'", "''", "=", "+", "-", "@", "1", ".5", "a", "陈", "幸福路", " ", ",", "\"", ";", "SUM(A1)", "\u{301}"]
        let notePieces = pieces + ["\t", "\r", "\n", "\r\n"]
        func text(_ from: [String], count: ClosedRange<Int>) -> String {
            (0..<Int.random(in: count, using: &random)).map { _ in random.element(of: from) }.joined()
        }
        let households = try (0..<300).map { index -> Household in
            var head = text(pieces, count: 1...5)
            if head.trimmingCharacters(in: .whitespaces).isEmpty { head += "王" }
            let draft = HouseholdDraft(doorplate: code("JS0412-\(String(format: "%05d", 88 + index % 5))"), unit: text(pieces, count: 0...2),
                                       room: nil, headName: head, memberCount: 1, phone: nil, notes: text(notePieces, count: 0...6))
            return Household(id: try EntityID("H\(index)"), details: try FieldStore.validated(draft))
        }
        let table = try DistrictCSV.householdTable(households)
        let runnable = table.rows.joined().filter { field in
            SpreadsheetFormula.triggers.contains(field.unicodeScalars.first ?? " ") && !SpreadsheetFormula.isPlainNegativeNumber(field[...].unicodeScalars)
        }
        #expect(runnable.isEmpty, "\(runnable.count) cells start with a trigger, e.g. \(runnable.prefix(3).map(\.debugDescription)); FIELDSYNC_SEED=\(seed)")
        let (store, _) = try makeStore(1)
        #expect(try DistrictCSV.importHouseholds(from: CSVWriter().data(from: table), into: store) == households.count, "FIELDSYNC_SEED=\(seed)")
        let read = try store.households().sorted { $0.id < $1.id }
        let mismatches = zip(read, households.sorted { $0.id < $1.id }).filter { $0.details != $1.details }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, e.g. \(mismatches.prefix(3).map { "\(String(reflecting: $0.0.details)) read back, \(String(reflecting: $0.1.details)) written" }); FIELDSYNC_SEED=\(seed)")
        #expect(read.count == households.count)
    }
}
