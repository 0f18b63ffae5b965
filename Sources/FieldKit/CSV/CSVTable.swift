/// A header row and data rows of the same width: what an import reads and an export writes.
///
/// ```swift
/// let table = try CSVTable(header: ["plate", "address"], rows: [["JS0412-00088", "幸福路88号"]])
/// table.columnIndex(named: "Address") // 1
/// let text = CSVWriter().string(from: table)
/// try CSVReader().table(from: text) == table // true
/// ```
///
/// Every table is valid by construction: at least one column, header names non-empty and unique
/// (ignoring case, width and surrounding spaces), every row as wide as the header, and everything
/// within the reader's limits, so whatever `CSVWriter` writes, `CSVReader` reads back.
public struct CSVTable: Sendable, Hashable {
    /// The column names, as written.
    public let header: [String]
    /// The data rows, each with `header.count` fields.
    public let rows: [[String]]

    /// Checks the header and the rows; errors count rows as a spreadsheet does (header = row 1).
    public init(header: [String], rows: [[String]], limits: CSVReader.Limits = .standard) throws {
        try self.init(validatedRows: [header] + rows, limits: limits)
    }

    /// Splits already parsed rows into header and data, checking what the parser cannot.
    init(validatedRows allRows: [[String]], limits: CSVReader.Limits) throws {
        guard let header = allRows.first, !header.isEmpty else {
            throw CSVError(
                .missingHeader, row: nil,
                "The file is empty. An import needs a header row naming the columns, then one row per record.")
        }
        guard allRows.count <= limits.rowsMax else {
            throw CSVError(
                .tooManyRows, row: limits.rowsMax + 1,
                "the table has more than \(limits.rowsMax) rows, the most one file may hold. Split it.")
        }
        guard header.count <= limits.columnsMax else {
            throw CSVError(
                .tooManyColumns, row: 1, column: limits.columnsMax + 1,
                "the header has more than \(limits.columnsMax) columns, the most a file may have.")
        }
        var firstColumnByName: [String: Int] = [:]
        for (offset, name) in header.enumerated() {
            let column = offset + 1
            let key = TextNormalizer.normalized(name)
            guard !key.isEmpty else {
                throw CSVError(
                    .emptyHeaderName, row: 1, column: column,
                    "this header cell has no name. Give every column a name, or delete the empty column.")
            }
            if let first = firstColumnByName[key] {
                throw CSVError(
                    .duplicateHeaderName, row: 1, column: column, columnName: name,
                    "this column has the same name as column \(first) (“\(header[first - 1])”). "
                        + "Give each column its own name.")
            }
            firstColumnByName[key] = column
        }
        for (offset, row) in allRows.enumerated() {
            let rowNumber = offset + 1
            if row.count != header.count {
                let column = row.count > header.count ? header.count + 1 : row.count + 1
                throw CSVError(
                    .wrongColumnCount, row: rowNumber, column: column,
                    columnName: column <= header.count ? header[column - 1] : nil,
                    "row \(rowNumber) has \(row.count) columns but the header has \(header.count) "
                        + "(expected \(header.count), found \(row.count)).")
            }
            for (columnOffset, field) in row.enumerated() where field.utf8.count > limits.fieldBytesMax {
                throw CSVError(
                    .fieldTooLarge, row: rowNumber, column: columnOffset + 1, columnName: header[columnOffset],
                    "this field is longer than \(limits.fieldBytesMax) bytes, the most a field may hold.")
            }
        }
        self.header = header
        self.rows = Array(allRows.dropFirst())
    }

    /// The index of the column whose name matches `name` (ignoring case, width and surrounding spaces).
    public func columnIndex(named name: String) -> Int? {
        let key = TextNormalizer.normalized(name)
        return header.firstIndex { TextNormalizer.normalized($0) == key }
    }
}
