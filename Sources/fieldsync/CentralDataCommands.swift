import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync central import-csv|export-csv|stats|digest` and `enroll --qr`: the district's data
/// at the central node. Thin over `Hub+Data` and `EnrollmentQR`.
enum CentralDataCommands {
    static let commands: Set<String> = ["import-csv", "export-csv", "stats", "digest"]

    static func run(_ command: String, _ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        switch command {
        case "import-csv": try importCSV(&args, path: path, actor: actor, json: json)
        case "export-csv": try exportCSV(&args, path: path, actor: actor, json: json)
        case "stats": try stats(&args, path: path, json: json)
        case "digest": try digest(&args, path: path, json: json)
        default: preconditionFailure("\(command) is not a central data command")
        }
    }

    // MARK: CSV

    private static func table(_ args: Arguments, _ command: String) throws -> (Hub.DistrictTable, String) {
        guard args.positional.count == 2 else { throw UsageError("central \(command) households|doorplates FILE") }
        guard let table = Hub.DistrictTable(rawValue: args.positional[0]) else {
            throw UsageError("central \(command) takes households or doorplates, not \"\(args.positional[0])\"")
        }
        return (table, args.positional[1])
    }

    /// All or nothing: a file with any bad row is refused (exit 2) with every problem listed.
    private static func importCSV(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let (table, file) = try table(args, "import-csv")
        try args.checkAllUsed()
        guard FileManager.default.fileExists(atPath: file) else {
            throw SyncError(.notFound, "no file “\(file)”; give the path of the \(table.rawValue) CSV file")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        let result: Hub.ImportResult
        // Progress on stderr for an import long enough to wonder about: a line per phase and at
        // most one every 2 s, none in the first 2 s (a small file says nothing but its result).
        let started = ContinuousClock.now
        var lastLine = started
        let report: (Hub.ImportProgress) -> Void = { progress in
            let now = ContinuousClock.now
            guard now - started >= .seconds(2), progress.phase != .writing || now - lastLine >= .seconds(2) else { return }
            lastLine = now
            let text = switch progress.phase {
            case .checked: "\(progress.total) rows checked"
            case .writing: "\(progress.done) of \(progress.total) records written"
            case .logging: "all \(progress.total) records written; logging them for the devices"
            case .duplicates: "comparing households cell by cell for duplicates"
            }
            Output.error("import-csv: \(text) (\((now - started).components.seconds) s)")
        }
        do {
            result = try hub.importCSV(table, data: data, actor: actor, progress: report)
        } catch let error as ImportError {
            if json {
                Output.json(["imported": 0, "table": table.rawValue, "file": file, "issues": error.issues.map { issue -> [String: Any] in
                    var row: [String: Any] = ["message": issue.message]
                    if let number = issue.row { row["row"] = number }
                    if let column = issue.column { row["column"] = column }
                    if let name = issue.columnName { row["columnName"] = name }
                    return row
                }])
            }
            throw error
        }
        if json {
            return Output.json(["imported": result.records, "table": table.rawValue, "file": file,
                                "operations": result.operations.count, "recordsByCell": result.recordsByCell])
        }
        // Cell by cell for a few cells; a district's thousand cells would make one line of pages.
        let counts = result.recordsByCell.values
        let cells = result.recordsByCell.count <= 12
            ? result.recordsByCell.keys.sorted().map { "\($0) \(result.recordsByCell[$0]!)" }.joined(separator: ", ")
            : "\(result.recordsByCell.count) cells, \(counts.min()!) to \(counts.max()!) each; --json lists them"
        Output.line("imported \(result.records) \(table.rawValue) from \(file)\(cells.isEmpty ? "" : " (\(cells))"); devices receive them at their next sync")
    }

    private static func exportCSV(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let (table, file) = try table(args, "export-csv")
        let cell = try args.value("cell").map { try GridCell(parsing: $0) }
        try args.checkAllUsed()
        try checkDestination(file)
        let csv = try Hub.open(path: path, schema: FieldModel.schema).exportCSV(table, cell: cell, actor: actor)
        try OwnerOnlyFile.write(CSVWriter().data(from: csv), toPath: file)
        var result: [String: Any] = ["exported": csv.rows.count, "table": table.rawValue, "file": file]
        if let cell { result["cell"] = cell.id }
        json ? Output.json(result) : Output.line("exported \(csv.rows.count) \(table.rawValue)\(cell.map { " of cell \($0.id)" } ?? "") to \(file)")
    }

    /// Refuses an output path in a directory that does not exist, before anything is done.
    static func checkDestination(_ file: String) throws {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SyncError(.invalidInput, "cannot write “\(file)”: the directory “\(directory)” does not exist; create it or give another path")
        }
    }

    // MARK: Stats and digests

    /// The retention line of `central stats` (also over --url).
    static func retentionLine(days: Int?, lastRunMillis: Int64?, erased: Int64) -> String {
        guard let days else { return "retention: superseded personal values are kept (set a window: central retention --days N)" }
        return "retention: superseded personal values kept \(days) days; last run \(lastRunMillis.map(time) ?? "never"); \(erased) values erased so far"
    }

    private static func stats(_ args: inout Arguments, path: String, json: Bool) throws {
        guard args.positional.isEmpty else { throw UsageError("central stats takes no arguments") }
        try args.checkAllUsed()
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        let stats = try hub.stats()
        let retention = try hub.retentionStatus()
        if json {
            return Output.json([
                "retention": ["days": retention.days ?? NSNull(), "lastRunMillis": retention.lastRunMillis ?? NSNull(),
                              "valuesErased": retention.valuesErased] as [String: Any],
                "recordsByCell": stats.recordsByCell,
                "devices": stats.devices.map { device -> [String: Any] in
                    var row: [String: Any] = ["name": device.name, "cells": device.cells, "revoked": device.revoked]
                    if let seen = device.lastSeenMillis { row["lastSeenMillis"] = seen; row["lastSeen"] = time(seen) }
                    return row
                },
                "operationsPerDay": stats.operationsPerDay.map { ["day": $0.day, "operations": $0.operations] as [String: Any] },
                "openReviewItems": stats.openReviewItems,
            ])
        }
        Output.line("records by cell:")
        if stats.recordsByCell.isEmpty { Output.line("  (none)") }
        for cell in stats.recordsByCell.keys.sorted() {
            let counts = stats.recordsByCell[cell]!
            Output.line("  \(cell.isEmpty ? "(no cell)" : cell)\t" + counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: "\t"))
        }
        Output.line("devices:")
        if stats.devices.isEmpty { Output.line("  (none enrolled)") }
        for device in stats.devices {
            Output.line("  \(device.name)\t\(device.cells.joined(separator: ","))\tlast seen \(device.lastSeenMillis.map(time) ?? "never")\(device.revoked ? "\tREVOKED" : "")")
        }
        Output.line("operations per day (UTC):")
        if stats.operationsPerDay.isEmpty { Output.line("  (none)") }
        for day in stats.operationsPerDay { Output.line("  \(day.day)\t\(day.operations)") }
        Output.line("open review items: " + stats.openReviewItems.keys.sorted().map { "\($0) \(stats.openReviewItems[$0]!)" }.joined(separator: ", "))
        Output.line(retentionLine(days: retention.days, lastRunMillis: retention.lastRunMillis, erased: retention.valuesErased))
    }

    /// With `--cell`, that cell's digest (compare with `fieldsync digest --cell C` on a device);
    /// without, every cell's and the whole node's.
    private static func digest(_ args: inout Arguments, path: String, json: Bool) throws {
        guard args.positional.isEmpty else { throw UsageError("central digest [--cell C]") }
        let cell = try args.cell("cell")
        try args.checkAllUsed()
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        if let cell {
            let digest = try hub.replica.digest(cell: cell)
            return json ? Output.json(["digest": digest, "cell": cell]) : Output.line(digest)
        }
        let cells = try hub.cellDigests()
        let all = try hub.replica.digest()
        if json { return Output.json(["digest": all, "cells": cells]) }
        for cell in cells.keys.sorted() { Output.line("\(cell)\t\(cells[cell]!)") }
        Output.line("(all)\t\(all)")
    }

    static func time(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(Date.ISO8601FormatStyle())
    }

    // MARK: Enrollment QR code

    /// Checked before enrolling, so a bad path never costs an enrollment.
    static func checkQR(_ file: String?, url: String?) throws {
        guard let file else { return }
        guard let url else { throw UsageError("--qr needs --url: the QR code holds the node's URL with the token") }
        // The URL is checked now too (with a stand-in token), not after the device is enrolled.
        _ = try EnrollmentPayload(url: try CentralCommands.parseURL(url), token: String(repeating: "0", count: 2 * Hub.tokenBytes))
        guard file.lowercased().hasSuffix(".svg") else {
            throw SyncError(.invalidInput, "the QR code is written as SVG; name the file .svg (got “\(file)”)")
        }
        try EnrollmentQR.checkDestination(file)
    }

    /// Writes the payload as a printable QR code; returns the QR version used.
    static func writeQR(_ payload: String, device: String, cells: [String], to file: String) throws -> Int {
        let qr = try EnrollmentQR(payload: payload)
        try EnrollmentQR.write(qr.svg(title: "FieldSync enrollment: \(device) (\(cells.joined(separator: ", ")))"), to: file)
        return qr.version
    }
}
