import Foundation
import SyncKit
import Testing

@testable import FieldKit

/// The rule that keeps exports from carrying live spreadsheet formulas, and its exact inverse.
@Suite struct SpreadsheetFormulaTests {
    @Test(arguments: [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
        ("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"),
        ("'=1", "''=1"), ("''@x", "'''@x"), ("=\u{301}", "'=\u{301}"), ("-", "'-"), ("-x", "'-x"),
        // Plain negative numbers stay numbers; anything more is quoted.
        ("-33.5", "-33.5"), ("-1", "-1"), ("'-33.5", "'-33.5"), ("-33.", "'-33."), ("-.5", "'-.5"), ("-1e5", "'-1e5"),
        ("--1", "'--1"), ("-1-1", "'-1-1"), ("-１", "'-１"),
        // Not formula-like: as they are.
        ("", ""), ("'", "'"), ("''", "''"), ("'hello", "'hello"), ("hello=", "hello="), (" =1", " =1"), ("33.5", "33.5"),
        ("＝1", "＝1"), ("张伟", "张伟"),
    ])
    func exportQuotesExactlyTheValuesASpreadsheetWouldRun(_ value: String, _ exported: String) {
        #expect(Array(SpreadsheetFormula.neutralized(value).unicodeScalars) == Array(exported.unicodeScalars), "\(value.debugDescription)")
        #expect(Array(SpreadsheetFormula.restored(exported).unicodeScalars) == Array(value.unicodeScalars), "\(exported.debugDescription)")
    }

    @Test func importKeepsHandMadeValuesAndTakesASpreadsheetsOwnTextAsItIs() {
        // A quote the export did not put there stays; a formula a spreadsheet saved without its quote is that formula.
        for cell in ["'hello", "'-33.5", "'", "'' ", "it's", "=1", "-2+3", "@SUM(A1)"] {
            #expect(SpreadsheetFormula.restored(cell) == cell, "\(cell.debugDescription)")
        }
        #expect(SpreadsheetFormula.restored("'=1") == "=1")
        #expect(SpreadsheetFormula.restored("''=1") == "'=1")
    }

    static let pieces: [String] = [
        "'", "'", "''", "=", "+", "-", "@", "\t", "\r", "\n", "\r\n", "1", "33", ".", "5", "e", "a", "Z", " ", ",", "\"",
        "陈", "幸福路88號", "😀", "\u{301}", "\u{FEFF}", "\u{3000}", "－", "＝", ";", "SUM(A1)", "HYPERLINK(",
    ]

    /// Over generated strings: the import of every export is the value itself (a left inverse, so
    /// export is injective), no exported cell starts with a trigger unless it is a plain negative
    /// number, and a cell that is not formula-like is imported as it is.
    @Test func importOfTheExportIsTheIdentityOnGeneratedStrings() {
        let seed = testSeed(default: 0x5F0A_0001)
        var random = SplitMix64(seed: seed)
        var exports: [[Unicode.Scalar]: [Unicode.Scalar]] = [:]
        var failures = 0
        for _ in 0..<200_000 where failures < 5 {
            let value = (0..<Int.random(in: 0...6, using: &random)).map { _ in random.element(of: Self.pieces) }.joined()
            let scalars = Array(value.unicodeScalars)
            let exported = SpreadsheetFormula.neutralized(value)
            let back = Array(SpreadsheetFormula.restored(exported).unicodeScalars)
            let first = exported.unicodeScalars.first
            let runnable = first.map(SpreadsheetFormula.triggers.contains) == true
                && !SpreadsheetFormula.isPlainNegativeNumber(exported[...].unicodeScalars)
            let keptAsIs = SpreadsheetFormula.isFormulaLike(value) || Array(SpreadsheetFormula.restored(value).unicodeScalars) == scalars
            let collision = exports.updateValue(scalars, forKey: Array(exported.unicodeScalars)).map { $0 != scalars } ?? false
            if back != scalars || runnable || !keptAsIs || collision {
                failures += 1
                Issue.record("value \(value.debugDescription) exported as \(exported.debugDescription), read back as \(String(String.UnicodeScalarView(back)).debugDescription); reproduce with FIELDSYNC_SEED=\(seed)")
            }
        }
        #expect(exports.count > 10_000, "the generator draws varied strings (FIELDSYNC_SEED=\(seed))")
    }
}
