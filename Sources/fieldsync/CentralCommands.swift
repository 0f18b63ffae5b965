import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync central …`: the operator's commands.
enum CentralCommands {
    static let usage = """
        usage: fieldsync central <command> [--db central.db] [--json]

          init                                   create the central node's database
          serve [--host H] [--port P] [--tls-cert F --tls-key F] [--threads N] [--pushes-waiting N]
                                                 run the node until SIGINT/SIGTERM (port 0: any free port;
                                                 N HTTP threads, default 8; past N pushes waiting for the
                                                 writer, default 256, answer 503 with Retry-After)
          enroll --device NAME --cells C1,C2 [--url URL [--qr FILE.svg]]
                                                 enroll a device: prints its one-time token and, with the
                                                 node's URL, the enrollment payload for its QR code;
                                                 --qr writes that QR code as a printable SVG (owner-only)
          devices                                list devices, their cells and when they last synced
          revoke DEVICE [--wipe lost|stolen]     revoke a device at once; --wipe: it also erases everything
                                                 it holds at its next contact, and says so
          cells DEVICE --set C1,C2               change a device's cells (takes effect at its next sync)
          retention [--days N|off] | retention run   how long the central log keeps the personal values of
                                                 superseded writes (default: for good); `central serve`
                                                 erases older ones daily; run: now
          erase households|tasks ID --reason TEXT   erase a record's personal values (names, phone, family
                                                 size, notes) here and on every device at its next sync;
                                                 the reason (no personal details) goes to the audit
          bundle import FILE [--device NAME] --reply OUT   import a device's bundle, write the reply bundle
          bundle export --device NAME OUT        write a bundle of everything in a device's cells
          audit                                  the audit log of operator actions
          import-csv households|doorplates FILE  import a district file: all rows or none (every bad row
                                                 listed, exit 2); devices receive the records at next sync
          export-csv households|doorplates FILE [--cell C]   write a district file (UTF-8 with BOM, owner-only);
                                                 a cell a spreadsheet would run as a formula starts with '
          stats                                  records per cell, devices last seen, operations per day
                                                 (UTC), open review items by kind
          digest [--cell C]                      each cell's digest (compare with `fieldsync digest --cell C`)
          review list [--kind conflict|duplicate|quarantine] [--cell C]   the review queue
          review show ID                         one item with its candidate values (or its pair)
          review resolve ID (--pick OPID | --value V)            settle a conflict
          review merge ID --keep HOUSEHOLD       merge a duplicate pair: the other household's tasks,
                                                 tags and visits move, it becomes a redirect
          review dismiss ID                      a duplicate pair are two different households
          review release OPID | review discard OPID              a held operation: write it again
                                                 with the node's clock, or drop it
          operator add|list|disable|enable|reset|role   the operators of the web console (see
                                                 `central operator --help`)

        Against a running node instead of the file: add --url URL and --operator NAME (or set
        FIELDSYNC_OPERATOR; the password comes from FIELDSYNC_PASSWORD or is asked for) to devices,
        enroll, revoke, cells, erase, review, audit, stats, digest, import-csv, export-csv and bundle (for enroll,
        --url without an operator still names the node in the payload, on the local file). The node
        checks the operator's role and audits the action under the operator's name. The console
        itself is at URL/console/.
        """

    /// The arguments of `central erase` (local or over --url): collection, record id, reason.
    static func erasure(_ args: inout Arguments) throws -> (String, EntityID, String) {
        guard args.positional.count == 2 else { throw UsageError("usage: fieldsync central erase households|tasks ID --reason TEXT") }
        let collection = args.positional[0]
        guard FieldModel.schema.collection(named: collection)?.fields.contains(where: \.personal) == true else {
            throw UsageError("\(collection) holds no personal values to erase; erase households or tasks")
        }
        guard let id = try? EntityID(args.positional[1]) else { throw UsageError("\"\(args.positional[1].prefix(64))\" is not a record id") }
        guard let reason = args.value("reason") else {
            throw UsageError("--reason TEXT is required: why the values are erased (a request's date or ticket), without the person's details")
        }
        try args.checkAllUsed()
        return (collection, id, reason)
    }

    static func erasureSummary(_ collection: String, _ id: EntityID, op: String) -> String {
        "erased the personal values of \(collection) \(id) (operation \(op)); every device that holds its cell erases them at its next sync"
    }

    static func run(_ words: [String]) async throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "central.db"
        let json = args.flag("json")
        let actor = ProcessInfo.processInfo.environment["USER"] ?? "operator"
        if var remote = try RemoteCentral.selected(command, &args) {
            return try remote.run(command, &args, json: json)
        }
        switch command {
        case "init":
            try args.checkAllUsed()
            _ = try Hub.open(path: path, schema: FieldModel.schema)
            json ? Output.json(["db": path, "status": "ready"]) : Output.line("central node database ready: \(path)")
        case "serve":
            let host = args.value("host") ?? "127.0.0.1"
            let port = try args.int("port", default: 8080)
            let cert = args.value("tls-cert"), key = args.value("tls-key")
            var limits = HubLimits()
            let threads = try args.int("threads", default: HTTPServer.Configuration(host: host, port: port).threadCount)
            limits.pushesWaitingMax = try args.int("pushes-waiting", default: limits.pushesWaitingMax)
            guard (1...256).contains(threads) else { throw UsageError("--threads takes 1 to 256 HTTP threads; got \(threads)") }
            guard (0...100_000).contains(limits.pushesWaitingMax) else {
                throw UsageError("--pushes-waiting takes 0 to 100000 pushes; got \(limits.pushesWaitingMax)")
            }
            try args.checkAllUsed()
            try await serve(path: path, host: host, port: port, cert: cert, key: key, threads: threads, limits: limits, json: json)
        case "enroll":
            let device = try args.required("device", "NAME")
            let cells = try args.cells("cells")
            let url = args.value("url")
            let qr = args.value("qr")
            try args.checkAllUsed()
            try CentralDataCommands.checkQR(qr, url: url)
            let hub = try Hub.open(path: path, schema: FieldModel.schema)
            let enrollment = try hub.enroll(device: device, cells: cells, actor: actor)
            let payload = try url.map { try EnrollmentPayload(url: try parseURL($0), token: enrollment.token).text }
            let qrVersion = try qr.flatMap { file in try payload.map { try CentralDataCommands.writeQR($0, device: device, cells: enrollment.cells, to: file) } }
            if json {
                var result: [String: Any] = ["device": device, "cells": enrollment.cells, "token": enrollment.token]
                if let payload { result["payload"] = payload }
                if let qr, let qrVersion { result["qr"] = qr; result["qrVersion"] = qrVersion }
                Output.json(result)
            } else {
                Output.line("enrolled \(device) for cells \(enrollment.cells.joined(separator: ", "))")
                Output.line("token (shown once): \(enrollment.token)")
                if let payload { Output.line("enrollment payload: \(payload)") } else { Output.line("(pass --url to get the enrollment payload for a QR code)") }
                if let qr, let qrVersion { Output.line("QR code (version \(qrVersion)) written to \(qr); print it, then delete the file") }
            }
        case "devices":
            try args.checkAllUsed()
            let devices = try Hub.open(path: path, schema: FieldModel.schema).devices()
            if json {
                Output.json(devices.map { d -> [String: Any] in
                    var row: [String: Any] = ["name": d.name, "cells": d.cells, "revoked": d.revoked, "enrolledMillis": d.enrolledMillis]
                    if let seen = d.lastSeenMillis { row["lastSeenMillis"] = seen }
                    if let replica = d.replica { row["replica"] = replica.hex }
                    if let unsynced = d.hint?.unsynced { row["unsynced"] = unsynced }
                    if let offset = d.hint?.clockOffsetMillis { row["clockOffsetMillis"] = offset }
                    if let wipe = d.wipe { row["wipe"] = ["reason": wipe.reason, "requestedMillis": wipe.requestedMillis, "wipedMillis": wipe.wipedMillis as Any? ?? NSNull()] as [String: Any] }
                    return row
                })
            } else {
                for d in devices {
                    let seen = d.lastSeenMillis.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(Date.ISO8601FormatStyle()) } ?? "never"
                    let hints = [d.hint?.unsynced.map { "\($0) unsent" }, d.hint?.clockOffsetMillis.map { "clock \($0 >= 0 ? "+" : "")\($0 / 1000) s" }].compactMap { $0 }
                    Output.line("\(d.name)\t\(d.cells.joined(separator: ","))\tlast seen \(seen)\(hints.isEmpty ? "" : "\t" + hints.joined(separator: ", "))\(d.revoked ? "\tREVOKED" : "")\(d.wipe.map { w in w.wipedMillis.map { "\tERASED \(Date(timeIntervalSince1970: Double($0) / 1000).formatted(Date.ISO8601FormatStyle()))" } ?? "\tERASE REQUESTED (\(w.reason))" } ?? "")")
                }
            }
        case "revoke":
            guard let device = args.positional.first else { throw UsageError("name the device to revoke") }
            let wipe = args.value("wipe")
            if let wipe, !Hub.wipeReasons.contains(wipe) { throw UsageError("--wipe takes the reason: lost or stolen; got \"\(wipe)\"") }
            try args.checkAllUsed()
            try Hub.open(path: path, schema: FieldModel.schema).revoke(device: device, actor: actor, wipe: wipe)
            json ? Output.json(["device": device, "revoked": true, "wipe": wipe ?? NSNull()] as [String: Any])
                 : Output.line("revoked \(device)" + (wipe.map { " (\($0)): it erases its data when it next connects; `central devices` shows when it has" } ?? ""))
        case "retention":
            let hub = try Hub.open(path: path, schema: FieldModel.schema)
            if args.positional == ["run"] {
                try args.checkAllUsed()
                let report = try hub.runRetention()
                return json ? Output.json(["cutoffMillis": report.cutoffMillis, "operationsExamined": report.operationsExamined,
                                           "valuesErased": report.valuesErased, "logEntriesRewritten": report.logEntriesRewritten])
                            : Output.line("erased \(report.valuesErased) superseded personal values written before \(CentralDataCommands.time(report.cutoffMillis)) (\(report.operationsExamined) operations read, \(report.logEntriesRewritten) central log entries rewritten)")
            }
            guard args.positional.isEmpty else { throw UsageError("usage: fieldsync central retention [--days N|off] | fieldsync central retention run") }
            if let text = args.value("days") {
                guard text == "off" || Int(text) != nil else { throw UsageError("--days takes a number of days (1 to \(Hub.retentionDaysMax)) or off; got \"\(text.prefix(20))\"") }
                try args.checkAllUsed()
                try hub.setRetention(days: Int(text), actor: actor)
            }
            try args.checkAllUsed()
            let status = try hub.retentionStatus()
            json ? Output.json(["days": status.days ?? NSNull(), "lastRunMillis": status.lastRunMillis ?? NSNull(), "valuesErased": status.valuesErased] as [String: Any])
                 : Output.line(CentralDataCommands.retentionLine(days: status.days, lastRunMillis: status.lastRunMillis, erased: status.valuesErased))
        case "erase":
            let (collection, id, reason) = try erasure(&args)
            let result = try Hub.open(path: path, schema: FieldModel.schema).erase(collection, id, reason: reason, actor: actor)
            json ? Output.json(["collection": collection, "id": id.rawValue, "erasure": result.op.description,
                                "logEntriesErased": result.logEntriesErased, "walTruncated": result.walTruncated] as [String: Any])
                 : Output.line(erasureSummary(collection, id, op: result.op.description))
        case "cells":
            guard let device = args.positional.first else { throw UsageError("name the device") }
            let cells = try args.cells("set")
            try args.checkAllUsed()
            try Hub.open(path: path, schema: FieldModel.schema).setCells(device: device, cells: cells, actor: actor)
            json ? Output.json(["device": device, "cells": cells.sorted()]) : Output.line("\(device) now serves \(cells.sorted().joined(separator: ", "))")
        case "bundle":
            try bundle(&args, path: path, actor: actor, json: json)
        case "operator":
            try OperatorCommands.run(&args, path: path, actor: actor, json: json)
        case "review":
            try review(&args, path: path, actor: actor, json: json)
        case _ where CentralDataCommands.commands.contains(command):
            try CentralDataCommands.run(command, &args, path: path, actor: actor, json: json)
        case "audit":
            try args.checkAllUsed()
            let rows = try Hub.open(path: path, schema: FieldModel.schema).audit()
            if json {
                Output.json(rows.map { ["atMillis": $0.atMillis, "actor": $0.actor, "action": $0.action, "detail": $0.detail] })
            } else {
                for row in rows { Output.line("\(row.atMillis)\t\(row.actor)\t\(row.action)\t\(row.detail)") }
            }
        default:
            throw UsageError("unknown central command \"\(command)\"\n\n\(usage)")
        }
    }

    private static func review(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        let words = Array(args.positional)
        switch words.first {
        case "list", nil:
            let kind = try args.value("kind").map { text -> Hub.ReviewKind in
                guard let kind = Hub.ReviewKind(rawValue: text) else { throw UsageError("--kind is conflict, duplicate or quarantine, not \"\(text)\"") }
                return kind
            }
            let cell = try args.cell("cell")
            try args.checkAllUsed()
            let items = try hub.reviewItems(kind: kind, cell: cell)
            if json { return Output.json(items.map(render)) }
            if items.isEmpty { Output.line("the review queue is empty") }
            for item in items { Output.line("\(item.id)\t\(item.kind.rawValue)\t\(item.cell ?? "-")\t\(item.summary)") }
        case "show":
            guard words.count == 2 else { throw UsageError("review show ID") }
            try args.checkAllUsed()
            guard let item = try hub.reviewItems().first(where: { $0.id == words[1] }) else {
                throw SyncError(.notFound, "no open review item \(words[1]); `central review list` shows them")
            }
            if json { return Output.json(render(item)) }
            Output.line("\(item.id) (\(item.kind.rawValue), cell \(item.cell ?? "-"))")
            for candidate in item.conflict?.candidates ?? [] { Output.line("  candidate \(candidate.op): \(candidate.value)") }
            if let held = item.held { Output.line("  held: \(held.reason.rawValue): \(held.detail)") }
            if let pair = item.duplicate {
                let store = FieldStore(replica: hub.replica)
                for id in [pair.firstID, pair.secondID] {
                    guard let household = try store.household(id) else { Output.line("  household \(id): gone"); continue }
                    let dwelling = [household.doorplate.canonical, household.details.unit, household.details.room].compactMap { $0 }.joined(separator: " ")
                    Output.line("  household \(id): \(household.headName), \(dwelling), \(household.details.memberCount) members, phone \(household.details.phone ?? "-"), \(household.visitCount) visits")
                }
                Output.line("  merge with: fieldsync central review merge \(item.id) --keep HOUSEHOLD")
            }
        case "merge":
            guard words.count == 2, let keep = args.value("keep") else { throw UsageError("review merge ID --keep HOUSEHOLD") }
            try args.checkAllUsed()
            try hub.mergeDuplicate(words[1], keep: keep, actor: actor)
            json ? Output.json(["merged": words[1], "kept": keep]) : Output.line("merged \(words[1]): kept household \(keep); devices receive it at their next sync")
        case "dismiss":
            guard words.count == 2 else { throw UsageError("review dismiss ID") }
            try args.checkAllUsed()
            try hub.dismissDuplicate(words[1], actor: actor)
            json ? Output.json(["dismissed": words[1]]) : Output.line("dismissed \(words[1]): two different households")
        case "resolve":
            guard words.count == 2 else { throw UsageError("review resolve ID (--pick OPID | --value V)") }
            let pick = try args.value("pick").map { text -> OpID in
                guard let id = OpID(text) else { throw UsageError("--pick takes a candidate's op id, as `review show` prints it") }
                return id
            }
            let value = args.value("value").map { Value.text($0) }
            try args.checkAllUsed()
            try hub.resolve(words[1], pick: pick, value: value.map { try typedValue($0, for: words[1]) }, actor: actor)
            json ? Output.json(["resolved": words[1]]) : Output.line("resolved \(words[1]); devices receive it at their next sync")
        case "release", "discard":
            guard words.count == 2, let id = OpID(words[1]) else { throw UsageError("review \(words[0]) OPID") }
            try args.checkAllUsed()
            if words[0] == "release" { try hub.release(id, actor: actor) } else { try hub.discard(id, actor: actor) }
            json ? Output.json([words[0] == "release" ? "released" : "discarded": words[1]]) : Output.line("\(words[0])d \(words[1])")
        default:
            throw UsageError("review list | show ID | resolve ID | merge ID --keep HOUSEHOLD | dismiss ID | release OPID | discard OPID")
        }
    }

    /// A `--value` given as text, parsed by the conflicted field's declared type.
    private static func typedValue(_ value: Value, for itemID: String) throws -> Value {
        let parts = itemID.split(separator: "/").map(String.init)
        guard parts.count == 3, let text = value.text else { return value }
        if parts[2] == Assignment.existenceField { return .bool(text == "true") }
        guard let collection = FieldModel.schema.collection(named: parts[0]), let field = collection.field(named: parts[2]) else { return value }
        return text.isEmpty ? .null : try RecordCommands.parse(text, field.type, "\(parts[0]).\(parts[2])")
    }

    static func render(_ item: Hub.ReviewItem) -> [String: Any] {
        var result: [String: Any] = ["id": item.id, "kind": item.kind.rawValue, "summary": item.summary]
        if let cell = item.cell { result["cell"] = cell }
        if let conflict = item.conflict {
            result["candidates"] = conflict.candidates.map { ["op": $0.op.description, "value": RecordCommands.jsonValue($0.value)] as [String: Any] }
        }
        if let held = item.held { result["reason"] = held.reason.rawValue; result["detail"] = held.detail }
        if let pair = item.duplicate { result["pair"] = [pair.firstID.rawValue, pair.secondID.rawValue]; result["reason"] = pair.reason }
        return result
    }

    static func parseURL(_ text: String) throws -> URL {
        guard let url = URL(string: text) else { throw UsageError("\"\(text)\" is not a URL") }
        return url
    }

    /// `central bundle import FILE --reply OUT [--device NAME]` or `bundle export --device NAME
    /// OUT`, read and checked (the output's directory exists) the same way on the file and over
    /// `--url`.
    enum BundleCommand {
        case importing(file: String, reply: String, device: String?)
        case exporting(device: String, file: String)

        static func parse(_ args: inout Arguments) throws -> BundleCommand {
            let words = Array(args.positional)
            let command: BundleCommand
            switch words.first {
            case "import":
                guard words.count == 2 else { throw UsageError("bundle import FILE --reply OUT [--device NAME]") }
                command = .importing(file: words[1], reply: try args.required("reply", "OUT (where to write the bundle for the device)"), device: args.value("device"))
            case "export":
                guard words.count == 2 else { throw UsageError("bundle export --device NAME OUT") }
                command = .exporting(device: try args.required("device", "NAME"), file: words[1])
            default:
                throw UsageError("bundle import FILE --reply OUT | bundle export --device NAME OUT")
            }
            try args.checkAllUsed()
            switch command {
            case .importing(let file, let reply, _):
                try CentralDataCommands.checkDestination(reply)
                guard FileManager.default.isReadableFile(atPath: file) else { throw SyncError(.notFound, "no file “\(file)”; give the path of the device's bundle") }
            case .exporting(_, let file):
                try CentralDataCommands.checkDestination(file)
            }
            return command
        }
    }

    private static func bundle(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let command = try BundleCommand.parse(&args)
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        switch command {
        case .importing(let file, let reply, let device):
            let result = try hub.importBundle(try Data(contentsOf: URL(fileURLWithPath: file)), device: device, actor: actor)
            try OwnerOnlyFile.write(result.reply, toPath: reply)
            let records = result.response.snapshots.values.reduce(0) { $0 + $1.records.count }
            let summary: [String: Any] = ["acceptedThroughSeq": result.response.acceptedThroughSeq, "held": result.response.held.count,
                                          "recordsForDevice": records, "reply": reply]
            json ? Output.json(summary) : Output.line("imported; \(result.response.held.count) held; reply bundle with \(records) records of the device's cells written to \(reply)")
        case .exporting(let device, let file):
            let data = try hub.exportBundle(device: device, actor: actor)
            try OwnerOnlyFile.write(data, toPath: file)
            json ? Output.json(["bytes": data.count, "file": file]) : Output.line("wrote \(data.count) bytes to \(file)")
        }
    }

    private static func serve(path: String, host: String, port: Int, cert: String?, key: String?, threads: Int, limits: HubLimits,
                              json: Bool) async throws {
        guard (cert == nil) == (key == nil) else { throw UsageError("--tls-cert and --tls-key go together") }
        // The server's stderr is one JSON object per line: a database made owner-only is one too.
        OwnerOnlyFile.reportNotices { notice in
            var fields: [String: Any] = ["file": notice.path, "previousMode": "0" + String(notice.previousMode, radix: 8), "message": notice.message]
            if let failure = notice.failure { fields["failure"] = failure }
            Output.log(notice.tightened ? "fileMadeOwnerOnly" : "fileOpenToOthers", fields)
        }
        let hub = try Hub.open(path: path, schema: FieldModel.schema, limits: limits)
        var configuration = HTTPServer.Configuration(host: host, port: port)
        configuration.threadCount = threads
        if let cert, let key {
            configuration.tls = .init(certificatePath: cert, keyPath: key)
            // The key is the operator's file; say so when other local users can read it.
            var info = stat()
            if stat(key, &info) == 0, info.st_mode & 0o077 != 0 {
                Output.log("tlsKeyOpenToOthers", ["file": key, "mode": "0" + String(info.st_mode & 0o7777, radix: 8),
                                                  "message": "the TLS private key can be read by other local users; run chmod 600 \(key)"])
            }
        }
        configuration.libraryMessageHandler = { message in Output.log("http", ["message": message]) }
        let service = HubService(hub: hub, secureCookies: cert != nil) { message in Output.log("sync", ["message": message]) }
        let signals = ShutdownSignal()
        let server = try HTTPServer.start(configuration, router: service.router)
        service.admin.warmUp()
        let scheme = cert == nil ? "http" : "https"
        let address = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort)"
        let operators = (try? hub.operators().count) ?? 0
        if json {
            Output.json(["listening": address, "port": server.boundPort, "db": path, "console": address + "/console/", "operators": operators])
        } else {
            Output.line("listening on \(address) (database \(path)); stop with Ctrl-C")
            Output.line("operators' console: \(address)/console/" + (operators == 0 ? " (no operator yet: fieldsync central operator add NAME --role admin --db \(path))" : ""))
        }
        Output.log("started", ["address": address])
        // Retention (Design.md section 4): looked at hourly, run when a day has passed.
        let retention = Task.detached {
            while !Task.isCancelled {
                do {
                    if let report = try hub.runRetentionIfDue() {
                        Output.log("retention", ["valuesErased": report.valuesErased, "operationsExamined": report.operationsExamined,
                                                 "logEntriesRewritten": report.logEntriesRewritten, "cutoffMillis": report.cutoffMillis])
                    }
                } catch {
                    Output.log("retentionFailed", ["message": "\(error)"])
                }
                try? await Task.sleep(for: Hub.retentionCheckInterval)
            }
        }
        let signal = await signals.wait()
        retention.cancel()
        Output.log("stopping", ["signal": Int(signal)])
        let abandoned = await server.stop()
        try? hub.flushLastSeen()
        if abandoned > 0 {
            Output.log("drainTimedOut", ["requestsUnanswered": abandoned])
        }
        Output.log("stopped")
    }
}
