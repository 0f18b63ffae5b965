import Foundation

/// Reads UTF-8 CSV (RFC 4180 and what spreadsheets export) into rows of fields, with located errors.
///
/// ```swift
/// let reader = CSVReader()
/// let rows = try reader.rows(from: Data("name,address\r\n\"陈, 小明\",\"幸福路88号\"\r\n".utf8))
/// // [["name", "address"], ["陈, 小明", "幸福路88号"]]
/// let table = try reader.table(from: data) // header checked, every row has the header's column count
/// ```
///
/// Accepted: an optional UTF-8 byte order mark (Excel writes one); CRLF, LF or CR line ends, mixed;
/// quoted fields with `""` for a quote and with commas and line breaks inside; a last line with or
/// without a line end; empty lines at the very end (ignored). An empty line elsewhere is a row with
/// one empty field, so in a file of several columns it is reported as an empty row.
/// Rejected, with row and column: an unclosed quote, text after a closing quote, a quote inside an
/// unquoted field, rows whose column count differs from the first row, invalid UTF-8, and anything
/// over the `Limits`.
public struct CSVReader: Sendable {
    /// Bounds on what one file may hold; exceeding one is an error, never a silent cut.
    public struct Limits: Sendable, Hashable {
        /// Largest field, in UTF-8 bytes, without its quotes.
        public var fieldBytesMax: Int
        /// Most rows, header included.
        public var rowsMax: Int
        /// Most columns in a row.
        public var columnsMax: Int

        public init(fieldBytesMax: Int, rowsMax: Int, columnsMax: Int) {
            self.fieldBytesMax = fieldBytesMax
            self.rowsMax = rowsMax
            self.columnsMax = columnsMax
        }

        /// 64 KiB fields, 1,000,000 rows (a district's households, with room), 256 columns.
        public static let standard = Limits(fieldBytesMax: 65_536, rowsMax: 1_000_000, columnsMax: 256)
    }

    public var limits: Limits

    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// All rows, the first one included, each with the first row's column count.
    public func rows(from data: Data) throws -> [[String]] {
        var parser = CSVParser(bytes: Array(data), limits: limits, namesColumnsFromHeader: false)
        return try parser.parse()
    }

    /// All rows of `text`; see `rows(from: Data)`.
    public func rows(from text: String) throws -> [[String]] {
        var parser = CSVParser(bytes: Array(text.utf8), limits: limits, namesColumnsFromHeader: false)
        return try parser.parse()
    }

    /// The first row as a header (non-empty, unique names) and the rest as rows of the same width.
    public func table(from data: Data) throws -> CSVTable {
        var parser = CSVParser(bytes: Array(data), limits: limits, namesColumnsFromHeader: true)
        return try CSVTable(validatedRows: parser.parse(), limits: limits)
    }

    /// The table in `text`; see `table(from: Data)`.
    public func table(from text: String) throws -> CSVTable {
        var parser = CSVParser(bytes: Array(text.utf8), limits: limits, namesColumnsFromHeader: true)
        return try CSVTable(validatedRows: parser.parse(), limits: limits)
    }
}

/// The byte-level state machine behind `CSVReader`.
struct CSVParser {
    private static let quote = UInt8(ascii: "\"")
    private static let comma = UInt8(ascii: ",")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private enum State {
        case fieldStart, unquoted, quoted, afterClosingQuote
    }

    private let bytes: [UInt8]
    private let limits: CSVReader.Limits
    private let namesColumnsFromHeader: Bool

    private var index = 0
    private var line = 1
    private var rows: [[String]] = []
    private var fields: [String] = []
    private var field: [UInt8] = []
    private var expectedColumnCount: Int?
    /// Empty lines not yet known to be inside the file (they become rows) or at its end (ignored).
    private var blankLineCount = 0
    private var quoteLine = 1

    init(bytes: [UInt8], limits: CSVReader.Limits, namesColumnsFromHeader: Bool) {
        self.bytes = bytes
        self.limits = limits
        self.namesColumnsFromHeader = namesColumnsFromHeader
    }

    mutating func parse() throws -> [[String]] {
        index = bytes.starts(with: Self.byteOrderMark) ? Self.byteOrderMark.count : 0
        var state = State.fieldStart
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .fieldStart:
                if fields.isEmpty, byte == Self.carriageReturn || byte == Self.lineFeed {
                    blankLineCount += 1
                    consumeLineEnd()
                    continue
                }
                if fields.isEmpty { try flushBlankLines() }
                switch byte {
                case Self.quote:
                    state = .quoted
                    quoteLine = line
                    index += 1
                case Self.comma:
                    try finishField()
                    index += 1
                case Self.carriageReturn, Self.lineFeed:
                    try finishField()
                    try finishRecord()
                    consumeLineEnd()
                default:
                    try append(byte)
                    state = .unquoted
                    index += 1
                }
            case .unquoted:
                switch byte {
                case Self.comma:
                    try finishField()
                    state = .fieldStart
                    index += 1
                case Self.carriageReturn, Self.lineFeed:
                    try finishField()
                    try finishRecord()
                    consumeLineEnd()
                    state = .fieldStart
                case Self.quote:
                    throw error(
                        .quoteInUnquotedField,
                        "a quote (\") appears inside a field that does not start with a quote. "
                            + "Put the whole field in quotes and write the quote inside it twice (\"\").")
                default:
                    try append(byte)
                    index += 1
                }
            case .quoted:
                if byte == Self.quote {
                    state = .afterClosingQuote
                } else {
                    if byte == Self.lineFeed
                        || (byte == Self.carriageReturn && (index + 1 == bytes.count || bytes[index + 1] != Self.lineFeed))
                    {
                        line += 1
                    }
                    try append(byte)
                }
                index += 1
            case .afterClosingQuote:
                switch byte {
                case Self.quote:
                    try append(Self.quote)
                    state = .quoted
                    index += 1
                case Self.comma:
                    try finishField()
                    state = .fieldStart
                    index += 1
                case Self.carriageReturn, Self.lineFeed:
                    try finishField()
                    try finishRecord()
                    consumeLineEnd()
                    state = .fieldStart
                default:
                    throw error(
                        .characterAfterClosingQuote,
                        "\(describeCharacter(at: index)) follows the closing quote of this field; a quoted field "
                            + "must end at its closing quote. If the quote belongs to the text, write it twice (\"\").")
                }
            }
        }
        switch state {
        case .quoted:
            throw error(
                .unterminatedQuote, line: quoteLine,
                "the quoted field that starts here is never closed: the file ends inside it. Add the missing "
                    + "closing quote (\"), and write each quote inside a field twice (\"\").")
        case .fieldStart:
            if !fields.isEmpty {
                try finishField()
                try finishRecord()
            }
        case .unquoted, .afterClosingQuote:
            try finishField()
            try finishRecord()
        }
        return rows
    }

    // MARK: Steps

    private mutating func consumeLineEnd() {
        if bytes[index] == Self.carriageReturn, index + 1 < bytes.count, bytes[index + 1] == Self.lineFeed {
            index += 2
        } else {
            index += 1
        }
        line += 1
    }

    private mutating func append(_ byte: UInt8) throws {
        guard field.count < limits.fieldBytesMax else {
            throw error(
                .fieldTooLarge,
                "this field is longer than \(limits.fieldBytesMax) bytes, the most a field may hold. "
                    + "Check for a missing closing quote, or shorten the field.")
        }
        field.append(byte)
    }

    private mutating func finishField() throws {
        guard fields.count < limits.columnsMax else {
            throw error(
                .tooManyColumns,
                "this row has more than \(limits.columnsMax) columns, the most a file may have. "
                    + "Delete unused columns, or check for commas that should be inside quotes.")
        }
        guard let text = String(validating: field, as: UTF8.self) else {
            throw error(
                .invalidUTF8,
                "this field is not valid UTF-8 text. The file was probably saved as GBK or “ANSI”: "
                    + "save it again as “CSV UTF-8” and import that file.")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func finishRecord(isBlankLine: Bool = false) throws {
        let rowNumber = rows.count + 1
        guard rows.count < limits.rowsMax else {
            throw CSVError(
                .tooManyRows, row: rowNumber, line: line,
                "the file has more than \(limits.rowsMax) rows, the most one import may hold. "
                    + "Split it into smaller files.")
        }
        if let expected = expectedColumnCount, fields.count != expected {
            let against = namesColumnsFromHeader ? "the header has" : "the first row has"
            if isBlankLine {
                throw CSVError(
                    .wrongColumnCount, row: rowNumber, line: line - 1,
                    "this row is an empty line but \(against) \(expected) columns. Delete the empty line.")
            }
            let column = fields.count > expected ? expected + 1 : fields.count + 1
            let extra = fields.count > expected ? "an extra" : "a missing"
            throw CSVError(
                .wrongColumnCount, row: rowNumber, column: column, columnName: columnName(column),
                line: line,
                "row \(rowNumber) has \(fields.count) columns but \(against) \(expected) (expected \(expected), "
                    + "found \(fields.count)); column \(column) is \(extra) one. Check for a missing or extra "
                    + "comma, or a comma inside a field that is not in quotes.")
        }
        expectedColumnCount = fields.count
        rows.append(fields)
        fields.removeAll(keepingCapacity: true)
    }

    private mutating func flushBlankLines() throws {
        let firstLine = line - blankLineCount
        for offset in 0..<blankLineCount {
            fields = [""]
            line = firstLine + offset + 1  // finishRecord reports line - 1 for a blank line
            try finishRecord(isBlankLine: true)
        }
        line = firstLine + blankLineCount
        blankLineCount = 0
    }

    // MARK: Errors

    private func columnName(_ column: Int) -> String? {
        guard namesColumnsFromHeader, let header = rows.first, column >= 1, column <= header.count else { return nil }
        return header[column - 1]
    }

    private func error(_ code: CSVError.Code, line: Int? = nil, _ detail: String) -> CSVError {
        let column = fields.count + 1
        return CSVError(
            code, row: rows.count + 1, column: column, columnName: columnName(column), line: line ?? self.line, detail)
    }

    /// Names the character at `position` without quoting more of the field than that one character.
    private func describeCharacter(at position: Int) -> String {
        let lead = bytes[position]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        let end = min(bytes.count, position + length)
        if let text = String(validating: bytes[position..<end], as: UTF8.self), let character = text.first {
            if character == " " { return "a space" }
            return "“\(character)”"
        }
        return "the byte 0x" + String(lead, radix: 16, uppercase: true)
    }
}
