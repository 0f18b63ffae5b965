import FieldKit
import Foundation
import SyncKit

/// The district's two CSV files, generated cell by cell (one cell in memory at a time).
struct DistrictFiles {
    let doorplatesCSV: URL
    let householdsCSV: URL
    let doorplates: Int
    let households: Int
    let cells: [String]

    static func write(cells count: Int, doorplatesPerCell: Int, seed: UInt64, in directory: URL) throws -> DistrictFiles {
        let generator = DistrictGenerator(seed: seed, options: .init(cellCount: count, doorplatesPerCell: doorplatesPerCell, tasksPerCell: 0))
        let plates = directory.appendingPathComponent("doorplates.csv"), people = directory.appendingPathComponent("households.csv")
        FileManager.default.createFile(atPath: plates.path, contents: nil)
        FileManager.default.createFile(atPath: people.path, contents: nil)
        let plateFile = try FileHandle(forWritingTo: plates), peopleFile = try FileHandle(forWritingTo: people)
        defer { try? plateFile.close(); try? peopleFile.close() }
        var plateCount = 0, householdCount = 0
        var cells: [String] = []
        for (index, cell) in generator.cells.enumerated() {
            cells.append(cell.cell.id)
            try plateFile.write(contentsOf: body(try DistrictCSV.doorplateTable(cell.doorplates), first: index == 0))
            try peopleFile.write(contentsOf: body(try DistrictCSV.householdTable(cell.households), first: index == 0))
            plateCount += cell.doorplates.count
            householdCount += cell.households.count
        }
        return DistrictFiles(doorplatesCSV: plates, householdsCSV: people, doorplates: plateCount, households: householdCount, cells: cells)
    }

    /// A cell's table as CSV: the whole file for the first cell, its rows alone after that.
    private static func body(_ table: CSVTable, first: Bool) -> Data {
        let data = CSVWriter().data(from: table)
        guard !first, let headerEnd = data.firstRange(of: Data("\r\n".utf8)) else { return data }
        return data[headerEnd.upperBound...]
    }
}

/// Plain SQLite inserting the rows of a CSV file: one table with the file's columns, keyed by
/// its first column, indexed on its cell column, one prepared statement, one transaction.
enum PlainImport {
    static func run(csv: URL, into path: String) throws -> (seconds: Double, bytes: Int) {
        let started = ContinuousClock.now
        let table = try CSVReader().table(from: Data(contentsOf: csv))
        let db = try Connection(path: path)
        let columns = table.header.indices.map { "c\($0)" }
        try db.execute("CREATE TABLE t(\(columns[0]) TEXT PRIMARY KEY NOT NULL, \(columns.dropFirst().map { "\($0) TEXT" }.joined(separator: ", "))) WITHOUT ROWID")
        if let cell = table.columnIndex(named: "cell") { try db.execute("CREATE INDEX t_cell ON t(c\(cell))") }
        let insert = try db.prepare("INSERT INTO t VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))")
        try db.transaction {
            for row in table.rows {
                defer { insert.reset() }
                for (index, field) in row.enumerated() { try insert.bind(.text(field), at: Int32(index + 1)) }
                while try insert.step() {}
            }
        }
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let seconds = Measurement.seconds(ContinuousClock.now - started)
        return (seconds, DistrictBench.fileBytes(path))
    }
}
