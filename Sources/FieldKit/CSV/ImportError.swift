/// A CSV import that was refused, with every problem found (up to `issuesMax`), each located
/// by row and column. Nothing was written.
///
/// ```swift
/// do { try DistrictCSV.importHouseholds(from: data, into: store) }
/// catch let error as ImportError {
///     for issue in error.issues { print(issue.message) }
///     // Row 7, column 7 (“member_count”): member count must be 0 to 99; got 120
/// }
/// ```
public struct ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One problem: where it is and what to do.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// The 1-based row as a spreadsheet counts it (the header is row 1).
        public let row: Int?
        public let column: Int?
        public let columnName: String?
        /// The location and the problem, e.g. "Row 3, column 2 (“cell”): cell “JS0412X” is not ...".
        public let message: String

        init(row: Int?, column: Int? = nil, columnName: String? = nil, _ detail: String) {
            self.row = row
            self.column = column
            self.columnName = columnName
            var location: [String] = []
            if let row { location.append("Row \(row)") }
            if let column { location.append("column \(column)" + (columnName.map { " (“\($0)”)" } ?? "")) }
            message = location.isEmpty ? detail : location.joined(separator: ", ") + ": " + detail
        }

        init(_ error: CSVError) {
            row = error.row
            column = error.column
            columnName = error.columnName
            message = error.message
        }

        public var description: String { message }
    }

    /// Problems reported at most; a file with more stops being read there.
    public static let issuesMax = 100

    public let issues: [Issue]

    /// The problems, one per line, ending with how to proceed.
    public var message: String {
        issues.map(\.message).joined(separator: "\n")
            + (issues.count >= Self.issuesMax ? "\n(stopped after \(Self.issuesMax) problems)" : "")
            + "\nNothing was imported; fix these rows and import the whole file again."
    }

    public var description: String { message }
}
