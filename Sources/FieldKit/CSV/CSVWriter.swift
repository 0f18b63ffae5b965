import Foundation

/// Writes a `CSVTable` as CSV that `CSVReader` reads back exactly and spreadsheets open correctly.
///
/// ```swift
/// let table = try CSVTable(header: ["name", "note"], rows: [["陈小明", "says \"hi\", twice"]])
/// CSVWriter().string(from: table) // "name,note\r\n陈小明,\"says \"\"hi\"\", twice\"\r\n"
/// CSVWriter().data(from: table)   // the same, after a UTF-8 byte order mark for Excel
/// ```
///
/// The header row always comes first. A field is quoted only when it must be: it holds a comma,
/// a quote, CR or LF, starts or ends with white space, starts with a byte order mark, or is the
/// only field of its row and empty (an unquoted one would be an empty line). Quotes inside are doubled.
/// Fields are written exactly as they are, formula-like ones included (`=`, `+`, `-`, `@`, tab, CR
/// first): the writer is a faithful codec. Exports of people's data neutralize formulas before
/// writing, with `SpreadsheetFormula` (as `DistrictCSV` does), and restore them when reading.
public struct CSVWriter: Sendable {
    /// What ends each row.
    public enum LineEnding: String, Sendable {
        /// CR LF, as RFC 4180 and Excel write.
        case crlf = "\r\n"
        /// LF alone.
        case lf = "\n"
    }

    public var lineEnding: LineEnding
    /// Whether `data(from:)` starts with a UTF-8 byte order mark; Excel needs one to read Chinese text as UTF-8.
    public var includesByteOrderMark: Bool

    public init(lineEnding: LineEnding = .crlf, includesByteOrderMark: Bool = true) {
        self.lineEnding = lineEnding
        self.includesByteOrderMark = includesByteOrderMark
    }

    /// The table as CSV text, without a byte order mark.
    public func string(from table: CSVTable) -> String {
        var output = ""
        write(table.header, to: &output)
        for row in table.rows {
            write(row, to: &output)
        }
        return output
    }

    /// The table as UTF-8 bytes, with a byte order mark when `includesByteOrderMark`.
    public func data(from table: CSVTable) -> Data {
        var data = Data(includesByteOrderMark ? [0xEF, 0xBB, 0xBF] : [])
        data.append(contentsOf: string(from: table).utf8)
        return data
    }

    private func write(_ row: [String], to output: inout String) {
        for (index, field) in row.enumerated() {
            if index > 0 { output.append(",") }
            if Self.needsQuotes(field, isOnlyField: row.count == 1) {
                output.append("\"")
                // By Unicode scalar: a quote followed by a combining mark is one Character, and
                // `replacingOccurrences` would leave it single.
                for scalar in field.unicodeScalars {
                    output.unicodeScalars.append(scalar)
                    if scalar == "\"" { output.unicodeScalars.append(scalar) }
                }
                output.append("\"")
            } else {
                output.append(field)
            }
        }
        output.append(lineEnding.rawValue)
    }

    static func needsQuotes(_ field: String, isOnlyField: Bool) -> Bool {
        let scalars = field.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return isOnlyField }
        if first.properties.isWhitespace || last.properties.isWhitespace || first == "\u{FEFF}" { return true }
        return scalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
    }
}
