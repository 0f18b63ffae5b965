import FieldKit
import Foundation
import SyncKit

/// The district's data at the central node: CSV import and export of doorplates and households,
/// statistics, and per-cell digests. The hub must hold FieldKit's collections (`FieldModel.schema`).
///
///     let result = try hub.importCSV(.households, data: Data(contentsOf: file), actor: "operator-li")
///     let table = try hub.exportCSV(.doorplates, cell: GridCell(parsing: "JS-0412"), actor: "operator-li")
///     let stats = try hub.stats()
///
/// An import is all or nothing: every row is checked first (FieldKit's `DistrictCSV`, which
/// reports every problem by row and column as an `ImportError`), then every record is written
/// as the central node's own operation and logged under its cell in one transaction, as a
/// review resolution is, so devices receive the records at their next sync.
extension Hub {
    /// The two district files.
    public enum DistrictTable: String, Sendable, CaseIterable {
        case households, doorplates

        var collection: String { self == .households ? FieldModel.households : FieldModel.doorplates }
    }

    /// What an import wrote.
    public struct ImportResult: Sendable, Equatable {
        public let table: DistrictTable
        /// Records written (one operation each).
        public let records: Int
        /// Records written per cell.
        public let recordsByCell: [String: Int]
        /// The node's operations written (logged under each record's cell for the devices).
        public let operations: [OpID]
    }

    /// How far an import has come, for an operator watching a district's file load.
    public struct ImportProgress: Sendable, Equatable {
        public enum Phase: String, Sendable {
            /// Rows parsed and checked (all of them, before anything is written).
            case checked
            /// Records written, of `total`.
            case writing
            /// Every record written; their operations being logged under their cells for the devices.
            case logging
            /// Every record written and logged for the devices; households compared cell by cell.
            case duplicates
        }
        public var phase: Phase
        public var done: Int
        public var total: Int
    }

    // MARK: Import and export

    /// Checks every row of a district file and writes all of it or nothing. A file with any bad
    /// row throws `ImportError` (every problem, by row and column); so does a record that exists
    /// here already. Imported households are then compared with the others of their cells
    /// (duplicate suspicion, once per cell after the load), and pairs go to the review queue. An
    /// audit entry records who imported how many records into which cells. `progress` hears of
    /// each phase and of every 10,000 records written.
    @discardableResult
    public func importCSV(_ table: DistrictTable, data: Data, actor: String, progress: ((ImportProgress) -> Void)? = nil) throws -> ImportResult {
        let store = try fieldStore()
        let rows = try DistrictCSV.table(data)
        var plates: [DoorplateDraft] = []
        var households: [Household] = []
        let ids: [EntityID]
        switch table {
        case .doorplates:
            plates = try DistrictCSV.readDoorplates(rows, checkingAgainst: store)
            ids = try plates.map { try replica.naturalID(FieldModel.doorplates, ["code": .text($0.code.canonical)]) }
        case .households:
            households = try DistrictCSV.readHouseholds(rows, checkingAgainst: store)
            ids = households.map(\.id)
        }
        let cells = plates.map(\.cell.id) + households.map(\.cell.id)
        let byCell = cells.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        progress?(ImportProgress(phase: .checked, done: cells.count, total: cells.count))
        let operations: [OpID] = try replica.centralTransaction { access in
            // A record deleted earlier may come back: log its move as any other write would.
            var cellsBefore: [EntityID: String] = [:]
            for id in ids { cellsBefore[id] = try access.cell(of: table.collection, id) }
            let (_, ops) = try access.writeLocal { tx in
                try FieldStore.writeImport(doorplates: plates, households: households, in: tx) { written in
                    progress?(ImportProgress(phase: .writing, done: written, total: cells.count))
                }
            }
            progress?(ImportProgress(phase: .logging, done: cells.count, total: cells.count))
            for op in ops { try Self.log(op, before: cellsBefore[op.entity], assignsCell: true, access: access) }
            // Households that look alike, in the cells the file wrote: each cell compared once,
            // after the whole load (not after each record), in the same transaction.
            if table == .households {
                progress?(ImportProgress(phase: .duplicates, done: cells.count, total: cells.count))
                try raiseDuplicates(inCells: Set(households.map(\.cell)), access: access)
            }
            let cellList = byCell.keys.sorted().map { "\($0) \(byCell[$0]!)" }.joined(separator: ", ")
            try Self.audit(access, actor: actor, action: "import-csv",
                           detail: "\(table.rawValue): \(cells.count) records in \(byCell.count) cells (\(cellList)), \(ops.count) operations")
            return ops.map(\.id)
        }
        return ImportResult(table: table, records: cells.count, recordsByCell: byCell, operations: operations)
    }

    /// Every doorplate or household the node holds (of one cell), as FieldKit's district file;
    /// audited (who exported what, how many records: the file holds personal data).
    public func exportCSV(_ table: DistrictTable, cell: GridCell? = nil, actor: String) throws -> CSVTable {
        let store = try fieldStore()
        let csv = switch table {
        case .doorplates: try DistrictCSV.exportDoorplates(from: store, cell: cell)
        case .households: try DistrictCSV.exportHouseholds(from: store, cell: cell)
        }
        try replica.centralTransaction { access in
            try Self.audit(access, actor: actor, action: "export-csv",
                           detail: "\(table.rawValue): \(csv.rows.count) records\(cell.map { " of cell \($0.id)" } ?? "")")
        }
        return csv
    }

    // MARK: Statistics and digests

    /// Records per cell per collection, devices, operations per day and open review items.
    public func stats() throws -> HubStats {
        var counts: [String: [String: Int]] = [:]
        for collection in replica.schema.collections {
            var after: EntityID?
            while true {
                let page = try replica.records(collection.name, after: after, limit: Self.statsPageRecordsMax)
                for record in page {
                    counts[collection.cellField.flatMap { record[$0].text } ?? "", default: [:]][collection.name, default: 0] += 1
                }
                guard page.count == Self.statsPageRecordsMax, let last = page.last else { break }
                after = last.id
            }
        }
        let days = try replica.centralRead { try HubStore($0).operationsPerDay() }
        return HubStats(
            recordsByCell: HubStats.completed(counts, collections: replica.schema.collections.map(\.name)),
            devices: try devices(),
            operationsPerDay: HubStats.operationsPerDay(days),
            openReviewItems: HubStats.tally(kinds: ReviewKind.allCases.map(\.rawValue), items: try reviewItems().map(\.kind.rawValue)))
    }

    /// The digest of every cell the node knows (cells in its log and cells of devices), as a
    /// device computes it for the same cell (`Replica.digest(cell:)`), so an operator can compare.
    public func cellDigests() throws -> [String: String] {
        let cells = try replica.centralRead { try HubStore($0).knownCells() }
        var result: [String: String] = [:]
        for cell in cells { result[cell] = try replica.digest(cell: cell) }
        return result
    }

    /// Records read per page when `stats()` counts them.
    static let statsPageRecordsMax = 1_000

    /// A FieldKit view of the node's replica; refused if the node was opened with another schema.
    private func fieldStore() throws -> FieldStore {
        for collection in FieldModel.collections where replica.schema.collection(named: collection.name) == nil {
            throw SyncError(.schemaMismatch, "this central node has no \(collection.name) collection; district files need FieldKit's schema")
        }
        return FieldStore(replica: replica)
    }
}
