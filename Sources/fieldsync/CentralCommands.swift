import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync central …`: the operator's commands.
enum CentralCommands {
    static let usage = """
        usage: fieldsync central <command> [--db central.db] [--json]

          init                                   create the central node's database
          serve [--host H] [--port P] [--tls-cert F --tls-key F]
                                                 run the node until SIGINT/SIGTERM (port 0: any free port)
          enroll --device NAME --cells C1,C2 [--url URL]
                                                 enroll a device: prints its one-time token and, with the
                                                 node's URL, the enrollment payload for its QR code
          devices                                list devices, their cells and when they last synced
          revoke DEVICE                          revoke a device at once
          cells DEVICE --set C1,C2               change a device's cells (takes effect at its next sync)
          bundle import FILE [--device NAME] --reply OUT   import a device's bundle, write the reply bundle
          bundle export --device NAME OUT        write a bundle of everything in a device's cells
          audit                                  the audit log of operator actions
        """

    static func run(_ words: [String]) async throws {
        guard let command = words.first, command != "--help", command != "-h" else { return Output.line(usage) }
        var args = try Arguments(Array(words.dropFirst()), flags: ["json", "help"])
        if args.flag("help") { return Output.line(usage) }
        let path = args.value("db") ?? "central.db"
        let json = args.flag("json")
        let actor = ProcessInfo.processInfo.environment["USER"] ?? "operator"
        switch command {
        case "init":
            try args.checkAllUsed()
            _ = try Hub.open(path: path, schema: FieldModel.schema)
            json ? Output.json(["db": path, "status": "ready"]) : Output.line("central node database ready: \(path)")
        case "serve":
            let host = args.value("host") ?? "127.0.0.1"
            let port = try args.int("port", default: 8080)
            let cert = args.value("tls-cert"), key = args.value("tls-key")
            try args.checkAllUsed()
            try await serve(path: path, host: host, port: port, cert: cert, key: key, json: json)
        case "enroll":
            let device = try args.required("device", "NAME")
            let cells = try args.required("cells", "C1,C2").split(separator: ",").map(String.init)
            let url = args.value("url")
            try args.checkAllUsed()
            let hub = try Hub.open(path: path, schema: FieldModel.schema)
            let enrollment = try hub.enroll(device: device, cells: cells, actor: actor)
            let payload = try url.map { try EnrollmentPayload(url: try parseURL($0), token: enrollment.token).text }
            if json {
                var result: [String: Any] = ["device": device, "cells": enrollment.cells, "token": enrollment.token]
                if let payload { result["payload"] = payload }
                Output.json(result)
            } else {
                Output.line("enrolled \(device) for cells \(enrollment.cells.joined(separator: ", "))")
                Output.line("token (shown once): \(enrollment.token)")
                if let payload { Output.line("enrollment payload: \(payload)") } else { Output.line("(pass --url to get the enrollment payload for a QR code)") }
            }
        case "devices":
            try args.checkAllUsed()
            let devices = try Hub.open(path: path, schema: FieldModel.schema).devices()
            if json {
                Output.json(devices.map { d -> [String: Any] in
                    var row: [String: Any] = ["name": d.name, "cells": d.cells, "revoked": d.revoked, "enrolledMillis": d.enrolledMillis]
                    if let seen = d.lastSeenMillis { row["lastSeenMillis"] = seen }
                    if let replica = d.replica { row["replica"] = replica.hex }
                    return row
                })
            } else {
                for d in devices {
                    let seen = d.lastSeenMillis.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(Date.ISO8601FormatStyle()) } ?? "never"
                    Output.line("\(d.name)\t\(d.cells.joined(separator: ","))\tlast seen \(seen)\(d.revoked ? "\tREVOKED" : "")")
                }
            }
        case "revoke":
            guard let device = args.positional.first else { throw UsageError("name the device to revoke") }
            try args.checkAllUsed()
            try Hub.open(path: path, schema: FieldModel.schema).revoke(device: device, actor: actor)
            json ? Output.json(["device": device, "revoked": true]) : Output.line("revoked \(device)")
        case "cells":
            guard let device = args.positional.first else { throw UsageError("name the device") }
            let cells = try args.required("set", "C1,C2").split(separator: ",").map(String.init)
            try args.checkAllUsed()
            try Hub.open(path: path, schema: FieldModel.schema).setCells(device: device, cells: cells, actor: actor)
            json ? Output.json(["device": device, "cells": cells.sorted()]) : Output.line("\(device) now serves \(cells.sorted().joined(separator: ", "))")
        case "bundle":
            try bundle(&args, path: path, actor: actor, json: json)
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

    static func parseURL(_ text: String) throws -> URL {
        guard let url = URL(string: text) else { throw UsageError("\"\(text)\" is not a URL") }
        return url
    }

    private static func bundle(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        switch args.positional.dropFirst().first {
        case "import":
            guard args.positional.count >= 3 else { throw UsageError("bundle import FILE --reply OUT") }
            let file = args.positional[2]
            let reply = try args.required("reply", "OUT (where to write the bundle for the device)")
            let device = args.value("device")
            try args.checkAllUsed()
            let result = try hub.importBundle(try Data(contentsOf: URL(fileURLWithPath: file)), device: device, actor: actor)
            try result.reply.write(to: URL(fileURLWithPath: reply))
            let summary: [String: Any] = ["acceptedThroughSeq": result.response.acceptedThroughSeq, "held": result.response.held.count,
                                          "opsForDevice": result.response.ops.count, "reply": reply]
            json ? Output.json(summary) : Output.line("imported; \(result.response.held.count) held; reply bundle with \(result.response.ops.count) ops written to \(reply)")
        case "export":
            guard args.positional.count >= 3 else { throw UsageError("bundle export --device NAME OUT") }
            let device = try args.required("device", "NAME")
            try args.checkAllUsed()
            let data = try hub.exportBundle(device: device, actor: actor)
            try data.write(to: URL(fileURLWithPath: args.positional[2]))
            json ? Output.json(["bytes": data.count, "file": args.positional[2]]) : Output.line("wrote \(data.count) bytes to \(args.positional[2])")
        default:
            throw UsageError("bundle import FILE --reply OUT | bundle export --device NAME OUT")
        }
    }

    private static func serve(path: String, host: String, port: Int, cert: String?, key: String?, json: Bool) async throws {
        guard (cert == nil) == (key == nil) else { throw UsageError("--tls-cert and --tls-key go together") }
        let hub = try Hub.open(path: path, schema: FieldModel.schema)
        var configuration = HTTPServer.Configuration(host: host, port: port)
        if let cert, let key { configuration.tls = .init(certificatePath: cert, keyPath: key) }
        configuration.libraryMessageHandler = { message in Output.log("http", ["message": message]) }
        let service = HubService(hub: hub) { message in Output.log("sync", ["message": message]) }
        let signals = ShutdownSignal()
        let server = try HTTPServer.start(configuration, handler: service.router.respond)
        let scheme = cert == nil ? "http" : "https"
        let address = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort)"
        if json {
            Output.json(["listening": address, "port": server.boundPort, "db": path])
        } else {
            Output.line("listening on \(address) (database \(path)); stop with Ctrl-C")
        }
        Output.log("started", ["address": address])
        let signal = await signals.wait()
        Output.log("stopping", ["signal": Int(signal)])
        await server.stop()
        Output.log("stopped")
    }
}
