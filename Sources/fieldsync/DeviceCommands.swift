import FieldKit
import Foundation
import SyncKit

/// `fieldsync device …`, `fieldsync sync`, `fieldsync bundle …`: a collector's device.
enum DeviceCommands {
    static let usage = """
        usage: fieldsync device <command> [--db fieldsync.db] [--json]

          init (--central URL --token TOKEN | --enroll PAYLOAD)   set up this device's replica
          status                                                  unsynced changes, last sync, cells, conflicts
          compact                                                 drop the op log's history the central node holds, give the space back

        fieldsync sync [--db fieldsync.db] [--json]               exchange with the central node (resumes where it broke off)
        fieldsync bundle export FILE | import FILE [--db …]       sync by file where there is no network
        """

    /// The device's settings, kept in its replica file beside the data.
    struct Settings {
        var central: URL
        var token: String
        var lastSyncMillis: Int64?
        var cells: [String]

        static let table = "CREATE TABLE IF NOT EXISTS fieldsync_device(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID"

        static func load(_ replica: Replica) throws -> Settings {
            let values: [String: String] = try replica.withConnection { db in
                try db.execute(table)
                let select = try db.prepare("SELECT key, value FROM fieldsync_device")
                var values: [String: String] = [:]
                while try select.step() { values[select.text(at: 0)] = select.text(at: 1) }
                return values
            }
            guard let central = values["central"].flatMap(URL.init(string:)), let token = values["token"] else {
                throw SyncError(.notFound, "this device is not set up: run `fieldsync device init --enroll <payload from the operator>` first")
            }
            return Settings(central: central, token: token, lastSyncMillis: values["last_sync"].flatMap { Int64($0) },
                            cells: values["cells"].map { $0.split(separator: ",").map(String.init) } ?? [])
        }

        func save(_ replica: Replica) throws {
            try replica.withConnection { db in
                try db.execute(Self.table)
                var values = ["central": central.absoluteString, "token": token, "cells": cells.joined(separator: ",")]
                if let lastSyncMillis { values["last_sync"] = String(lastSyncMillis) }
                for (key, value) in values {
                    try db.cached("INSERT OR REPLACE INTO fieldsync_device(key, value) VALUES (?, ?)").run([.text(key), .text(value)])
                }
            }
        }
    }

    /// The bytes of a database file and its write-ahead log (where recent writes still are).
    static func fileBytes(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { sum, file in
            sum + (((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    static func open(_ path: String) throws -> Replica {
        try Replica.open(path: path, schema: FieldModel.schema)
    }

    static func device(_ words: [String]) throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        switch command {
        case "init":
            let settings: Settings
            if let payload = args.value("enroll") {
                let parsed = try EnrollmentPayload(parsing: payload)
                settings = Settings(central: parsed.url, token: parsed.token, cells: [])
            } else {
                let url = try CentralCommands.parseURL(try args.required("central", "URL (or --enroll PAYLOAD)"))
                let parsed = try EnrollmentPayload(url: url, token: try args.required("token", "TOKEN"))
                settings = Settings(central: parsed.url, token: parsed.token, cells: [])
            }
            try args.checkAllUsed()
            let replica = try open(path)
            try settings.save(replica)
            json ? Output.json(["db": path, "central": settings.central.absoluteString, "replica": replica.id.hex])
                 : Output.line("device ready: \(path), replica \(replica.id.hex), central node \(settings.central.absoluteString); run `fieldsync sync`")
        case "status":
            try args.checkAllUsed()
            let replica = try open(path)
            if let wiped = replica.wipedMillis {
                let when = Date(timeIntervalSince1970: Double(wiped) / 1000).formatted(Date.ISO8601FormatStyle())
                if json { return Output.json(["replica": replica.id.hex, "wipedMillis": wiped]) }
                return Output.line("this device's data was erased at \(when), at the office's request (reported lost or stolen); enroll it again to use it")
            }
            let settings = try? Settings.load(replica)
            let status: [String: Any] = [
                "replica": replica.id.hex, "unsynced": try replica.unsyncedCount(), "conflicts": try replica.conflicts().count,
                "quarantined": try replica.quarantined().count, "clockOffsetMillis": replica.clockOffsetMillis(),
                "heldByCentral": try replica.heldByCentral().map { held -> [String: Any] in
                    var row: [String: Any] = ["op": held.op.description, "reason": held.reason, "heldMillis": held.heldMillis]
                    if let detail = held.detail { row["detail"] = detail }
                    return row
                },
                "logOps": try replica.loggedCount(),
                "cursors": try replica.syncCursors().filter { !$0.key.isEmpty }, "cells": settings?.cells ?? [],
                "central": settings?.central.absoluteString ?? "(not set up)", "lastSyncMillis": settings?.lastSyncMillis ?? 0,
            ]
            if json { return Output.json(status) }
            let last = settings?.lastSyncMillis.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(Date.ISO8601FormatStyle()) } ?? "never"
            Output.line("""
                replica      \(replica.id.hex)
                central      \(status["central"]!)
                cells        \((settings?.cells ?? []).joined(separator: ", "))
                unsynced     \(status["unsynced"]!) changes not yet sent
                last sync    \(last)
                conflicts    \(status["conflicts"]!)
                quarantined  \(status["quarantined"]!)
                op log       \(status["logOps"]!) operations kept (the rest the central node holds; `fieldsync device compact`)
                held         \(try replica.heldByCentral().count) changes held by the central node for the office to review
                clock offset \(replica.clockOffsetMillis()) ms
                """)
            for held in try replica.heldByCentral(limit: 5) {
                Output.line("  \(held.op) (\(held.reason))\(held.detail.map { ": \($0)" } ?? "")")
            }
        case "compact":
            try args.checkAllUsed()
            let replica = try open(path)
            let before = Self.fileBytes(path)
            var total = CompactionReport()
            repeat {
                let pass = try replica.compact()
                total.opsDropped += pass.opsDropped
                total.opsKept = pass.opsKept
                total.more = pass.more
            } while total.more
            try replica.vacuum()
            let after = Self.fileBytes(path)
            json ? Output.json(["dropped": total.opsDropped, "kept": total.opsKept, "bytesBefore": before, "bytesAfter": after])
                 : Output.line("compacted: \(total.opsDropped) operations the central node holds dropped, \(total.opsKept) kept (unsent, in open conflicts, or held by the office); file \(Output.bytes(before)) → \(Output.bytes(after))")
        default:
            throw UsageError("unknown device command \"\(command)\"\n\n\(usage)")
        }
    }

    static func sync(_ words: [String]) throws {
        var args = try Arguments(words, flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        try args.checkAllUsed()
        let replica = try open(path)
        var settings = try Settings.load(replica)
        let transport = HTTPSyncTransport(baseURL: settings.central, token: settings.token)
        let terminal = isatty(STDERR_FILENO) == 1 && !json
        let progress: SyncSession.Progress
        do {
            progress = try SyncSession(replica: replica).run(bodies: transport.exchange(body:)) { p in
                if terminal {
                    Output.error("\u{1B}[2K\rsync: \(p.opsUp) ops up (\(Output.bytes(p.bytesUp))), \(p.opsDown) ops + \(p.recordsDown) records down (\(Output.bytes(p.bytesDown))), \(p.rounds) exchanges",
                                 terminator: false)
                }
            }
        } catch let refusal as SyncRefusal where refusal.code == SyncRefusal.wipedCode {
            // The session erased the replica at the node's request; the token goes too.
            try replica.withConnection { db in
                try db.execute("DELETE FROM fieldsync_device WHERE key IN ('token', 'cells'); PRAGMA wal_checkpoint(TRUNCATE)")
            }
            throw refusal
        }
        if terminal { Output.error("") }
        settings.cells = progress.cells
        settings.lastSyncMillis = Int64(Date().timeIntervalSince1970 * 1000)
        try settings.save(replica)
        var summary: [String: Any] = ["up": progress.opsUp, "down": progress.opsDown, "recordsDown": progress.recordsDown,
                                      "bytesUp": progress.bytesUp, "bytesDown": progress.bytesDown, "rounds": progress.rounds,
                                      "unsynced": progress.unsynced, "verified": progress.verified, "cells": progress.cells,
                                      "held": progress.held.map { held -> [String: String] in
                                          var row = ["op": held.op.description, "reason": held.reason]
                                          if let detail = held.detail { row["detail"] = detail }
                                          return row
                                      }, "resynced": progress.resynced]
        if let refusal = progress.refusal { summary["refused"] = ["code": refusal.code, "message": refusal.message] }
        if json {
            Output.json(summary)
        } else {
            let records = progress.recordsDown > 0 ? " and \(progress.recordsDown) records of new cells" : ""
            Output.line("synced: \(progress.opsUp) sent (\(Output.bytes(progress.bytesUp))), \(progress.opsDown) received\(records) (\(Output.bytes(progress.bytesDown))), \(progress.unsynced) still unsent\(progress.verified ? ", verified" : "")")
            for held in progress.held {
                Output.line("held by the central node for the office to review (\(held.reason)): \(held.op)\(held.detail.map { ": \($0)" } ?? "")")
            }
            if !progress.resynced.isEmpty { Output.line("cells pulled again after a digest mismatch: \(progress.resynced.joined(separator: ", "))") }
        }
        if let refusal = progress.refusal {
            Output.error("the central node refused \(progress.unsynced) queued change(s): \(refusal.message)")
            exit(2)
        }
    }

    static func bundle(_ words: [String]) throws {
        var args = try Arguments(words, flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "fieldsync.db"
        let json = args.flag("json")
        try args.checkAllUsed()
        guard args.positional.count == 2 else { throw UsageError("bundle export FILE | bundle import FILE") }
        let replica = try open(path)
        let file = URL(fileURLWithPath: args.positional[1])
        switch args.positional[0] {
        case "export":
            let data = try replica.exportBundle()
            try OwnerOnlyFile.write(data, toPath: file.path)
            json ? Output.json(["bytes": data.count, "ops": try replica.unsyncedCount(), "file": file.path])
                 : Output.line("wrote \(try replica.unsyncedCount()) unsent changes (\(data.count) bytes) to \(file.path); carry it to the office")
        case "import":
            let report = try replica.importBundle(try Data(contentsOf: file))
            json ? Output.json(["applied": report.applied, "duplicates": report.duplicates, "quarantined": report.quarantined])
                 : Output.line("imported: \(report.applied) new changes, \(report.duplicates) already here; \(try replica.unsyncedCount()) still unsent")
        default:
            throw UsageError("bundle export FILE | bundle import FILE")
        }
    }
}
