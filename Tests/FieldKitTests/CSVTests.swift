import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct CSVTests {
    private static func rowsError(_ text: String, limits: CSVReader.Limits = .standard) -> CSVError? {
        rowsError(Data(text.utf8), limits: limits)
    }

    private static func rowsError(_ data: Data, limits: CSVReader.Limits = .standard) -> CSVError? {
        do {
            _ = try CSVReader(limits: limits).rows(from: data)
            return nil
        } catch {
            return error as? CSVError
        }
    }

    private static func tableError(_ text: String, limits: CSVReader.Limits = .standard) -> CSVError? {
        do {
            _ = try CSVReader(limits: limits).table(from: Data(text.utf8))
            return nil
        } catch {
            return error as? CSVError
        }
    }

    // MARK: Reading

    @Test func spreadsheetExportWithByteOrderMarkAndQuotedFieldsIsRead() throws {
        let text = "\u{FEFF}plate,name,note\r\nJS0412-00088,\"陈, 小明\",\"said \"\"hi\"\"\r\nthen left\"\r\nJS0412-00089,,\r\n"
        let rows = try CSVReader().rows(from: Data(text.utf8))
        #expect(rows == [["plate", "name", "note"], ["JS0412-00088", "陈, 小明", "said \"hi\"\r\nthen left"], ["JS0412-00089", "", ""]])
    }

    @Test(arguments: ["a,b\r\n1,2\r\n", "a,b\n1,2\n", "a,b\r1,2\r", "a,b\n1,2", "a,b\r\n1,2\n\n\r\n", "\u{FEFF}a,b\n1,2"])
    func lineEndsOfEveryKindAndTrailingEmptyLinesAreAccepted(_ text: String) throws {
        #expect(try CSVReader().rows(from: text) == [["a", "b"], ["1", "2"]])
    }

    @Test func emptyInputHasNoRowsAndEmptyFieldsAreKept() throws {
        #expect(try CSVReader().rows(from: "") == [])
        #expect(try CSVReader().rows(from: "\u{FEFF}") == [])
        #expect(try CSVReader().rows(from: "a,b,c\n,,\n\"\",\"\",\"\"") == [["a", "b", "c"], ["", "", ""], ["", "", ""]])
        #expect(try CSVReader().rows(from: "name\n\nx\n") == [["name"], [""], ["x"]])
    }

    // MARK: Errors, each with row and column

    @Test func unterminatedQuoteNamesTheRowColumnAndLineWhereItOpened() {
        let error = Self.tableError("plate,note\nJS0412-00088,\"never closed\nmore text\n")
        #expect(error?.code == .unterminatedQuote)
        #expect(error?.row == 2)
        #expect(error?.column == 2)
        #expect(error?.columnName == "note")
        #expect(error?.line == 2)
        #expect(error?.message.hasPrefix("Row 2, column 2 (“note”): ") == true)
        #expect(error?.message.contains("never closed") == true)
    }

    @Test func characterAfterClosingQuoteIsNamed() {
        let error = Self.tableError("plate,note\nJS0412-00088,\"ok\"x\n")
        #expect(error?.code == .characterAfterClosingQuote)
        #expect(error?.row == 2)
        #expect(error?.column == 2)
        #expect(error?.columnName == "note")
        #expect(error?.message.contains("“x” follows the closing quote") == true)
        #expect(Self.rowsError("\"a\" ,b")?.message.contains("a space follows") == true)
    }

    @Test func quoteInsideUnquotedFieldIsRejectedWithAdvice() {
        let error = Self.rowsError("a,b\n1,5\" pipe\n")
        #expect(error?.code == .quoteInUnquotedField)
        #expect(error?.row == 2)
        #expect(error?.column == 2)
        #expect(error?.columnName == nil)  // the row API does not treat the first row as a header
        #expect(error?.message.contains("write the quote inside it twice") == true)
    }

    @Test func rowWithTooFewColumnsSaysExpectedAndFoundAndNamesTheMissingColumn() {
        let error = Self.tableError("plate,name,phone\nJS0412-00088,陈小明,123\nJS0412-00089,李四\n")
        #expect(error?.code == .wrongColumnCount)
        #expect(error?.row == 3)
        #expect(error?.column == 3)
        #expect(error?.columnName == "phone")
        #expect(error?.message.contains("row 3 has 2 columns but the header has 3") == true)
        #expect(error?.message.contains("expected 3, found 2") == true)
    }

    @Test func rowWithTooManyColumnsPointsAtTheFirstExtraColumn() {
        let error = Self.rowsError("a,b\n1,2,3\n")
        #expect(error?.code == .wrongColumnCount)
        #expect(error?.row == 2)
        #expect(error?.column == 3)
        #expect(error?.columnName == nil)
        #expect(error?.message.contains("the first row has 2") == true)
    }

    @Test func rowNumbersCountRecordsAndLinesCountLines() {
        // Row 2 spans lines 2-4, so the bad row 3 is on line 5.
        let error = Self.tableError("plate,note\nJS0412-00088,\"one\ntwo\nthree\"\nJS0412-00089\n")
        #expect(error?.row == 3)
        #expect(error?.line == 5)
        #expect(error?.message.hasPrefix("Row 3, column 2 (“note”), line 5: ") == true)
    }

    @Test func emptyLineInsideAFileOfSeveralColumnsIsReportedAsAnEmptyRow() {
        let error = Self.tableError("a,b\n1,2\n\n3,4\n")
        #expect(error?.code == .wrongColumnCount)
        #expect(error?.row == 3)
        #expect(error?.line == 3)
        #expect(error?.message.contains("empty line") == true)
    }

    @Test func fieldOverTheLimitIsRejectedWithItsPlace() {
        let limits = CSVReader.Limits(fieldBytesMax: 8, rowsMax: 100, columnsMax: 10)
        #expect(Self.rowsError("a,b\n12345678,x\n", limits: limits) == nil)
        let error = Self.tableError("a,b\nx,\"123456789\"\n", limits: limits)
        #expect(error?.code == .fieldTooLarge)
        #expect(error?.row == 2)
        #expect(error?.column == 2)
        #expect(error?.columnName == "b")
        #expect(error?.message.contains("longer than 8 bytes") == true)
    }

    @Test func tooManyRowsNamesTheFirstRowOverTheLimit() {
        let limits = CSVReader.Limits(fieldBytesMax: 100, rowsMax: 3, columnsMax: 10)
        #expect(Self.rowsError("h\n1\n2\n", limits: limits) == nil)
        let error = Self.rowsError("h\n1\n2\n3\n", limits: limits)
        #expect(error?.code == .tooManyRows)
        #expect(error?.row == 4)
        #expect(error?.message.contains("more than 3 rows") == true)
    }

    @Test func tooManyColumnsNamesTheFirstColumnOverTheLimit() {
        let limits = CSVReader.Limits(fieldBytesMax: 100, rowsMax: 100, columnsMax: 3)
        #expect(Self.rowsError("a,b,c\n", limits: limits) == nil)
        let error = Self.rowsError("a,b,c\n1,2,3,4\n", limits: limits)
        #expect(error?.code == .tooManyColumns)
        #expect(error?.row == 2)
        #expect(error?.column == 4)
    }

    @Test func fileSavedAsGBKIsRejectedWithAdviceToSaveAsUTF8() {
        // "陈" in GBK is B3 C2, not valid UTF-8.
        let data = Data("plate,name\nJS0412-00088,".utf8) + Data([0xB3, 0xC2]) + Data("\n".utf8)
        let error = Self.rowsError(data)
        #expect(error?.code == .invalidUTF8)
        #expect(error?.row == 2)
        #expect(error?.column == 2)
        #expect(error?.message.contains("CSV UTF-8") == true)
        #expect(Self.rowsError(Data([0xFF]))?.code == .invalidUTF8)
    }

    @Test func headerWithAnEmptyNameIsRejected() {
        let error = Self.tableError("plate, ,name\n1,2,3\n")
        #expect(error?.code == .emptyHeaderName)
        #expect(error?.row == 1)
        #expect(error?.column == 2)
    }

    @Test func headerWithADuplicateNameNamesBothColumns() {
        let error = Self.tableError("plate,Name,phone,ｎａｍｅ \n1,2,3,4\n")
        #expect(error?.code == .duplicateHeaderName)
        #expect(error?.row == 1)
        #expect(error?.column == 4)
        #expect(error?.columnName == "ｎａｍｅ ")
        #expect(error?.message.contains("same name as column 2 (“Name”)") == true)
    }

    @Test func emptyFileHasNoHeader() {
        #expect(Self.tableError("")?.code == .missingHeader)
        #expect(Self.tableError("\u{FEFF}\r\n\r\n")?.code == .missingHeader)
    }

    @Test func tablesBuiltInCodeAreCheckedLikeParsedOnes() {
        #expect(throws: CSVError.self) { try CSVTable(header: [], rows: []) }
        #expect(throws: CSVError.self) { try CSVTable(header: ["a", "A"], rows: []) }
        do {
            _ = try CSVTable(header: ["a", "b"], rows: [["1", "2"], ["3"]])
            Issue.record("a short row was accepted")
        } catch let error as CSVError {
            #expect(error.code == .wrongColumnCount)
            #expect(error.row == 3)
            #expect(error.column == 2)
            #expect(error.columnName == "b")
        } catch {
            Issue.record("unexpected \(error)")
        }
        let limits = CSVReader.Limits(fieldBytesMax: 3, rowsMax: 10, columnsMax: 10)
        #expect(throws: CSVError.self) { try CSVTable(header: ["a"], rows: [["陈"], ["陈陈"]], limits: limits) }
    }

    @Test func columnsAreFoundByNameIgnoringCaseAndWidth() throws {
        let table = try CSVReader().table(from: "Plate,姓名\nJS0412-00088,陈小明\n")
        #expect(table.columnIndex(named: "plate") == 0)
        #expect(table.columnIndex(named: " 姓名 ") == 1)
        #expect(table.columnIndex(named: "phone") == nil)
    }

    // MARK: Writing

    @Test(arguments: [
        ("plain", "plain"), ("", ""), ("陈小明", "陈小明"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\nbreak", "\"line\nbreak\""), ("cr\rhere", "\"cr\rhere\""), (" lead", "\" lead\""),
        ("trail ", "\"trail \""), ("\u{3000}全角", "\"\u{3000}全角\""), ("in side", "in side"), ("\u{FEFF}bom", "\"\u{FEFF}bom\""),
    ])
    func fieldsAreQuotedOnlyWhenTheyMustBe(_ field: String, _ written: String) throws {
        let table = try CSVTable(header: ["x", "y"], rows: [[field, "z"]])
        #expect(CSVWriter().string(from: table) == "x,y\r\n\(written),z\r\n")
    }

    @Test func headerIsAlwaysWrittenAndALoneEmptyFieldIsQuoted() throws {
        #expect(CSVWriter().string(from: try CSVTable(header: ["plate", "name"], rows: [])) == "plate,name\r\n")
        let single = try CSVTable(header: ["note"], rows: [[""], ["x"], [""]])
        let text = CSVWriter(lineEnding: .lf).string(from: single)
        #expect(text == "note\n\"\"\nx\n\"\"\n")
        #expect(try CSVReader().table(from: text) == single)
    }

    @Test func dataStartsWithAByteOrderMarkForExcelUnlessTurnedOff() throws {
        let table = try CSVTable(header: ["姓名"], rows: [["陈小明"]])
        let withMark = CSVWriter().data(from: table)
        #expect(Array(withMark.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(try CSVReader().table(from: withMark) == table)
        let without = CSVWriter(includesByteOrderMark: false).data(from: table)
        #expect(Array(without) == Array("姓名\r\n陈小明\r\n".utf8))
    }

    // MARK: Round trips

    private static let nastyPieces = [
        "\"", "\"\"", ",", "\n", "\r", "\r\n", " ", "\t", "a", "Z", "0", "陈", "幸福路88號", "８８", "😀", "👨‍👩‍👧", "🇨🇳",
        "e\u{301}", "é", "\u{FEFF}", "\u{200B}", "=1+1", "'", ";", "\\", "\u{3000}", "、", "·",
    ]

    private static func nastyField(using random: inout SplitMix64) -> String {
        guard Int.random(in: 0..<6, using: &random) != 0 else { return "" }
        return (0..<Int.random(in: 1...6, using: &random)).map { _ in random.element(of: nastyPieces) }.joined()
    }

    @Test(arguments: [CSVWriter.LineEnding.crlf, .lf])
    func tenThousandRowsOfNastyFieldsRoundTripByteForByte(_ lineEnding: CSVWriter.LineEnding) throws {
        let seed = testSeed(default: 0xC5F0_0001)
        var random = SplitMix64(seed: seed)
        let columnCount = 5
        let header = (1...columnCount).map { "col\($0) " + Self.nastyField(using: &random) }
        var rows: [[String]] = []
        for _ in 0..<10_000 {
            rows.append((0..<columnCount).map { _ in Self.nastyField(using: &random) })
        }
        let table = try CSVTable(header: header, rows: rows)
        let data = CSVWriter(lineEnding: lineEnding).data(from: table)
        let readBack = try CSVReader().table(from: data)
        // Compare bytes: String == treats é and e+U+0301 as equal, and the round trip must not change either.
        let expectedBytes = ([header] + rows).map { $0.map { Array($0.utf8) } }
        let actualBytes = ([readBack.header] + readBack.rows).map { $0.map { Array($0.utf8) } }
        #expect(actualBytes.count == expectedBytes.count, "FIELDSYNC_SEED=\(seed)")
        let firstDifference = actualBytes.indices.first { $0 < expectedBytes.count && actualBytes[$0] != expectedBytes[$0] }
        #expect(firstDifference == nil, "first differing row \(firstDifference.map { $0 + 1 } ?? 0); FIELDSYNC_SEED=\(seed)")
    }

    @Test func randomTablesOfAnyShapeRoundTrip() throws {
        let seed = testSeed(default: 0xC5F0_0002)
        var random = SplitMix64(seed: seed)
        for _ in 0..<300 {
            let columnCount = Int.random(in: 1...4, using: &random)
            let header = (0..<columnCount).map { "h\($0)" + Self.nastyField(using: &random) }
            let rows = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                (0..<columnCount).map { _ in Self.nastyField(using: &random) }
            }
            let table = try CSVTable(header: header, rows: rows)
            let text = CSVWriter(lineEnding: Bool.random(using: &random) ? .crlf : .lf).string(from: table)
            let readBack = try CSVReader().table(from: text)
            let same = [readBack.header] + readBack.rows == [header] + rows
                && ([readBack.header] + readBack.rows).joined().map { Array($0.utf8) } == ([header] + rows).joined().map { Array($0.utf8) }
            #expect(same, "text \(text.debugDescription); FIELDSYNC_SEED=\(seed)")
        }
    }

    @Test func readerNeverTrapsOnRandomBytes() {
        let seed = testSeed(default: 0xC5F0_0003)
        var random = SplitMix64(seed: seed)
        let alphabet: [UInt8] = Array("a,\"\r\n ".utf8) + [0xE9, 0x99, 0x88, 0xFF, 0xEF, 0xBB, 0xBF]
        for _ in 0..<3_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &random)).map { _ in random.element(of: alphabet) }
            do {
                _ = try CSVReader().rows(from: Data(bytes))
                _ = try CSVReader().table(from: Data(bytes))
            } catch let error as CSVError {
                #expect(!error.message.isEmpty, "FIELDSYNC_SEED=\(seed)")
            } catch {
                Issue.record("unexpected error type \(error); FIELDSYNC_SEED=\(seed)")
            }
        }
    }

    @Test func errorCodesCompareAndDescribeThemselves() {
        #expect(CSVError.Code.unterminatedQuote != .wrongColumnCount)
        #expect(CSVError.Code.invalidUTF8.description == "invalidUTF8")
        let error = Self.rowsError("\"")
        #expect(error?.description == error?.message)
    }
}
