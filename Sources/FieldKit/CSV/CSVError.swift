/// A CSV file that could not be read, located the way a spreadsheet user counts: row, column, header name.
///
/// ```swift
/// do {
///     let table = try CSVReader().table(from: data)
/// } catch let error as CSVError where error.code == .wrongColumnCount {
///     print(error.message) // "Row 7, column 6 (“phone”): row 7 has 5 columns but the header has 6..."
/// }
/// ```
///
/// Rows are records, 1-based, with the header as row 1, as a spreadsheet numbers them; `line` is the
/// physical line in a text editor, which differs when quoted fields hold line breaks. Messages never
/// quote field contents (they may be personal data), only header names.
public struct CSVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of error. Compare with `==`; do not assume the list is closed.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case unterminatedQuote
            case characterAfterClosingQuote
            case quoteInUnquotedField
            case wrongColumnCount
            case fieldTooLarge
            case tooManyRows
            case tooManyColumns
            case invalidUTF8
            case missingHeader
            case emptyHeaderName
            case duplicateHeaderName
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// A quoted field is still open at the end of the file.
        public static let unterminatedQuote = Code(.unterminatedQuote)
        /// Something other than a comma or line break follows a closing quote.
        public static let characterAfterClosingQuote = Code(.characterAfterClosingQuote)
        /// A quote inside a field that does not start with a quote.
        public static let quoteInUnquotedField = Code(.quoteInUnquotedField)
        /// A row has more or fewer columns than the header (or the first row).
        public static let wrongColumnCount = Code(.wrongColumnCount)
        /// A field is longer than `CSVReader.Limits.fieldBytesMax`.
        public static let fieldTooLarge = Code(.fieldTooLarge)
        /// The file has more rows than `CSVReader.Limits.rowsMax`.
        public static let tooManyRows = Code(.tooManyRows)
        /// A row has more columns than `CSVReader.Limits.columnsMax`.
        public static let tooManyColumns = Code(.tooManyColumns)
        /// A field is not valid UTF-8 (often a file saved as GBK or "ANSI").
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// The file is empty where a header row is required.
        public static let missingHeader = Code(.missingHeader)
        /// A header cell is empty or only spaces.
        public static let emptyHeaderName = Code(.emptyHeaderName)
        /// Two header cells have the same name (ignoring case, width and surrounding spaces).
        public static let duplicateHeaderName = Code(.duplicateHeaderName)

        public var description: String {
            switch kind {
            case .unterminatedQuote: "unterminatedQuote"
            case .characterAfterClosingQuote: "characterAfterClosingQuote"
            case .quoteInUnquotedField: "quoteInUnquotedField"
            case .wrongColumnCount: "wrongColumnCount"
            case .fieldTooLarge: "fieldTooLarge"
            case .tooManyRows: "tooManyRows"
            case .tooManyColumns: "tooManyColumns"
            case .invalidUTF8: "invalidUTF8"
            case .missingHeader: "missingHeader"
            case .emptyHeaderName: "emptyHeaderName"
            case .duplicateHeaderName: "duplicateHeaderName"
            }
        }
    }

    /// What went wrong, for code that reacts to it.
    public let code: Code
    /// The 1-based row (record), header = row 1, when the error belongs to one.
    public let row: Int?
    /// The 1-based column, when the error belongs to one.
    public let column: Int?
    /// The header name of `column`, when a header is known and has that column.
    public let columnName: String?
    /// The 1-based physical line where the problem is, when known.
    public let line: Int?
    /// Where and what went wrong and what to do, for an operator.
    public let message: String

    init(_ code: Code, row: Int?, column: Int? = nil, columnName: String? = nil, line: Int? = nil, _ detail: String) {
        self.code = code
        self.row = row
        self.column = column
        self.columnName = columnName
        self.line = line
        var location: [String] = []
        if let row { location.append("Row \(row)") }
        if let column {
            location.append("column \(column)" + (columnName.map { " (“\($0)”)" } ?? ""))
        }
        if let line, line != row { location.append("line \(line)") }
        let prefix = location.joined(separator: ", ")
        self.message = prefix.isEmpty ? detail : prefix.prefix(1).uppercased() + prefix.dropFirst() + ": " + detail
    }

    public var description: String { message }
}
