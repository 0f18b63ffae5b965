import CentralNode
import FieldKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SyncKit

/// `fieldsync central … --url URL --operator NAME`: the central commands against a running
/// node, through its admin API (Design.md, "Admin API"), as an operator logged in with a
/// password. The node checks the operator's role and audits each action under its name.
///
///     FIELDSYNC_PASSWORD=… fieldsync central review list --url https://node:8443 --operator li
struct RemoteCentral {
    let base: URL
    let operatorName: String
    private var cookie = ""
    private var csrf = ""
    private let session: URLSession

    /// Commands that run against a node.
    static let commands: Set<String> = ["devices", "enroll", "revoke", "cells", "erase", "review", "audit", "stats", "digest", "import-csv", "export-csv", "bundle"]

    /// The remote runner when the command line asks for one: `--url` (for `enroll`, where
    /// `--url` alone keeps naming the node in the enrollment payload, `--url` with an operator).
    static func selected(_ command: String, _ args: inout Arguments) throws -> RemoteCentral? {
        guard let url = args.peek("url") else { return nil }
        let name = args.peek("operator") ?? ProcessInfo.processInfo.environment["FIELDSYNC_OPERATOR"]
        if command == "enroll" && name == nil { return nil }
        guard commands.contains(command) else {
            throw UsageError("central \(command) works on the node's file (--db), not over --url")
        }
        guard let name, !name.isEmpty else {
            throw UsageError("name the operator for --url: --operator NAME (or FIELDSYNC_OPERATOR); the password comes from FIELDSYNC_PASSWORD or is asked for")
        }
        guard args.peek("db") == nil else { throw UsageError("--url runs against a node; --db names a file: give one of them") }
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https", base.host != nil else {
            throw UsageError("--url takes the node's address, e.g. https://node.example:8443; got \"\(url)\"")
        }
        _ = args.value("url")
        _ = args.value("operator")
        return RemoteCentral(base: base, operatorName: name)
    }

    init(base: URL, operatorName: String) {
        self.base = base
        self.operatorName = operatorName
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.timeoutIntervalForRequest = 120
        session = URLSession(configuration: configuration)
    }

    // MARK: Commands

    mutating func run(_ command: String, _ args: inout Arguments, json: Bool) throws {
        switch command {
        case "devices":
            try args.checkAllUsed()
            try login()
            var rows: [[String: Any]] = []
            var after: String?
            repeat {
                let page = try call("GET", "/v1/admin/devices", query: ["after": after, "limit": "200"])
                rows += page["devices"] as? [[String: Any]] ?? []
                after = page["next"] as? String
            } while after != nil
            if json { return Output.json(rows) }
            for d in rows {
                let seen = (d["lastSeenMillis"] as? NSNumber).map { Self.time($0.int64Value) } ?? "never"
                let hints = [(d["unsynced"] as? NSNumber).map { "\($0) unsent" },
                             (d["clockOffsetMillis"] as? NSNumber).map { "clock \($0.int64Value >= 0 ? "+" : "")\($0.int64Value / 1000) s" }].compactMap { $0 }
                var wipe = ""
                if let w = d["wipe"] as? [String: Any] {
                    wipe = (w["wipedMillis"] as? NSNumber).map { "\tERASED \(Self.time($0.int64Value))" } ?? "\tERASE REQUESTED (\(w["reason"] as? String ?? ""))"
                }
                Output.line("\(d["name"] as? String ?? "")\t\((d["cells"] as? [String] ?? []).joined(separator: ","))\tlast seen \(seen)"
                            + (hints.isEmpty ? "" : "\t" + hints.joined(separator: ", ")) + ((d["revoked"] as? Bool ?? false) ? "\tREVOKED" : "") + wipe)
            }
        case "enroll":
            let device = try args.required("device", "NAME")
            let cells = try args.cells("cells")
            let qr = args.value("qr")
            try args.checkAllUsed()
            if let qr {
                guard qr.lowercased().hasSuffix(".svg") else { throw SyncError(.invalidInput, "the QR code is written as SVG; name the file .svg (got “\(qr)”)") }
                try EnrollmentQR.checkDestination(qr)
            }
            try login()
            let result = try call("POST", "/v1/admin/devices/enroll", body: ["device": device, "cells": cells, "url": base.absoluteString])
            if let qr, let svg = result["qrSVG"] as? String { try EnrollmentQR.write(svg, to: qr) }
            if json { return Output.json(result.filter { $0.key != "qrSVG" }) }
            Output.line("enrolled \(device) for cells \((result["cells"] as? [String] ?? cells).joined(separator: ", "))")
            Output.line("token (shown once): \(result["token"] as? String ?? "")")
            if let payload = result["payload"] as? String { Output.line("enrollment payload: \(payload)") }
            if let qr { Output.line("QR code written to \(qr); print it, then delete the file") }
        case "revoke":
            guard let device = args.positional.first else { throw UsageError("name the device to revoke") }
            let wipe = args.value("wipe")
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/devices/revoke", body: ["device": device, "wipe": wipe ?? ""]), json: json,
                     "revoked \(device)" + (wipe.map { " (\($0)): it erases its data when it next connects" } ?? ""))
        case "erase":
            let (collection, id, reason) = try CentralCommands.erasure(&args)
            try login()
            let result = try call("POST", "/v1/admin/records/erase", body: ["collection": collection, "id": id.rawValue, "reason": reason])
            try echo(result, json: json, CentralCommands.erasureSummary(collection, id, op: result["erasure"] as? String ?? "?"))
        case "cells":
            guard let device = args.positional.first else { throw UsageError("name the device") }
            let cells = try args.cells("set")
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/devices/cells", body: ["device": device, "cells": cells]), json: json, "\(device) now serves \(cells.sorted().joined(separator: ", "))")
        case "review":
            try review(&args, json: json)
        case "audit":
            try args.checkAllUsed()
            try login()
            let page = try call("GET", "/v1/admin/audit", query: ["limit": "200"])
            let entries = (page["entries"] as? [[String: Any]] ?? []).reversed()
            if json { return Output.json(Array(entries)) }
            for e in entries { Output.line("\(e["atMillis"] ?? "")\t\(e["actor"] ?? "")\t\(e["action"] ?? "")\t\(e["detail"] ?? "")") }
        case "stats":
            try args.checkAllUsed()
            try login()
            let overview = try call("GET", "/v1/admin/overview", query: ["limit": "200"])
            if json { return Output.json(overview) }
            Output.line("records: " + ((overview["totals"] as? [String: Any]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            Output.line("open review items: " + ((overview["review"] as? [String: Any]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            Output.line("devices not seen for a day: \(overview["staleDeviceCount"] ?? 0) of \(overview["deviceCount"] ?? 0)")
            let retention = overview["retention"] as? [String: Any] ?? [:]
            Output.line(CentralDataCommands.retentionLine(days: (retention["days"] as? NSNumber)?.intValue, lastRunMillis: (retention["lastRunMillis"] as? NSNumber)?.int64Value,
                                                          erased: (retention["valuesErased"] as? NSNumber)?.int64Value ?? 0))
            for day in overview["operationsPerDay"] as? [[String: Any]] ?? [] where (day["operations"] as? Int64 ?? 0) > 0 {
                Output.line("  \(day["day"] ?? "")\t\(day["operations"] ?? 0) operations")
            }
        case "digest":
            let only = try args.cell("cell")
            try args.checkAllUsed()
            try login()
            var cells: [String] = []
            if let only { cells = [only] } else {
                var after: String?
                repeat {
                    let page = try call("GET", "/v1/admin/overview", query: ["after": after, "limit": "200"])
                    cells += (page["cells"] as? [[String: Any]] ?? []).compactMap { $0["cell"] as? String }
                    after = page["nextCell"] as? String
                } while after != nil
            }
            var digests: [String: String] = [:]
            for cell in cells { digests[cell] = try call("GET", "/v1/admin/digest", query: ["cell": cell])["digest"] as? String }
            if json { return Output.json(only.map { ["digest": digests[$0] ?? "", "cell": $0] } ?? ["cells": digests]) }
            if let only { Output.line(digests[only] ?? "") } else { for cell in cells { Output.line("\(cell)\t\(digests[cell] ?? "")") } }
        case "import-csv":
            guard args.positional.count == 2, let table = Hub.DistrictTable(rawValue: args.positional[0]) else {
                throw UsageError("central import-csv households|doorplates FILE")
            }
            try args.checkAllUsed()
            let file = args.positional[1]
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SyncError(.notFound, "no file “\(file)”; give the path of the \(table.rawValue) CSV file")
            }
            try login()
            do {
                let result = try call("POST", "/v1/admin/import", query: ["table": table.rawValue], raw: data, type: "text/csv")
                try echo(result, json: json, "imported \(result["imported"] ?? 0) \(table.rawValue) from \(file); devices receive them at their next sync")
            } catch let failure as RemoteFailure where failure.body["issues"] != nil {
                if json { Output.json(failure.body) }
                for issue in failure.body["issues"] as? [[String: Any]] ?? [] { Output.error(issue["message"] as? String ?? "") }
                throw failure.refusal
            }
        case "bundle":
            switch try CentralCommands.BundleCommand.parse(&args) {
            case .importing(let file, let reply, let device):
                guard let data = FileManager.default.contents(atPath: file) else { throw SyncError(.notFound, "no file “\(file)”") }
                try login()
                let answer = try send("POST", "/v1/admin/bundle/import", query: ["device": device], raw: data, type: "application/octet-stream")
                try OwnerOnlyFile.write(answer, toPath: reply)
                json ? Output.json(["reply": reply, "bytes": answer.count]) : Output.line("imported; reply bundle for the device written to \(reply)")
            case .exporting(let device, let file):
                try login()
                let data = try send("GET", "/v1/admin/bundle/export", query: ["device": device])
                try OwnerOnlyFile.write(data, toPath: file)
                json ? Output.json(["bytes": data.count, "file": file]) : Output.line("wrote \(data.count) bytes to \(file)")
            }
        case "export-csv":
            guard args.positional.count == 2, let table = Hub.DistrictTable(rawValue: args.positional[0]) else {
                throw UsageError("central export-csv households|doorplates FILE [--cell C]")
            }
            let cell = try args.cell("cell")
            try args.checkAllUsed()
            let file = args.positional[1]
            try CentralDataCommands.checkDestination(file)
            try login()
            let data = try send("GET", "/v1/admin/export", query: ["table": table.rawValue, "cell": cell])
            try OwnerOnlyFile.write(data, toPath: file)
            json ? Output.json(["bytes": data.count, "file": file, "table": table.rawValue]) : Output.line("exported \(table.rawValue) to \(file) (\(data.count) bytes)")
        default:
            preconditionFailure("\(command) is not a remote command")
        }
        try? logout()
    }

    private mutating func review(_ args: inout Arguments, json: Bool) throws {
        let words = Array(args.positional)
        switch words.first {
        case "list", nil:
            let kinds = try args.value("kind").map { text -> [String] in
                guard Hub.ReviewKind(rawValue: text) != nil else { throw UsageError("--kind is conflict, duplicate or quarantine, not \"\(text)\"") }
                return [text]
            } ?? Hub.ReviewKind.allCases.map(\.rawValue)
            let cell = try args.cell("cell")
            try args.checkAllUsed()
            try login()
            var items: [[String: Any]] = []
            for kind in kinds {
                var after: String?
                repeat {
                    let page = try call("GET", "/v1/admin/review", query: ["kind": kind, "cell": cell, "after": after, "limit": "200"])
                    items += page["items"] as? [[String: Any]] ?? []
                    after = page["next"] as? String
                } while after != nil
            }
            if json { return Output.json(items) }
            if items.isEmpty { Output.line("the review queue is empty") }
            for item in items { Output.line("\(item["id"] ?? "")\t\(item["kind"] ?? "")\t\(item["cell"] as? String ?? "-")\t\(item["summary"] ?? "")") }
        case "show":
            guard words.count == 2 else { throw UsageError("review show ID") }
            try args.checkAllUsed()
            try login()
            Output.json(try call("GET", "/v1/admin/review/item", query: ["id": words[1]]))
        case "resolve":
            guard words.count == 2 else { throw UsageError("review resolve ID (--pick OPID | --value V)") }
            var body: [String: Any] = ["id": words[1]]
            if let pick = args.value("pick") { body["pick"] = pick }
            if let value = args.value("value") { body["value"] = value }
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/review/resolve", body: body), json: json, "resolved \(words[1]); devices receive it at their next sync")
        case "merge":
            guard words.count == 2, let keep = args.value("keep") else { throw UsageError("review merge ID --keep HOUSEHOLD") }
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/review/merge", body: ["id": words[1], "keep": keep]), json: json, "merged \(words[1]): kept household \(keep); devices receive it at their next sync")
        case "dismiss":
            guard words.count == 2 else { throw UsageError("review dismiss ID") }
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/review/dismiss", body: ["id": words[1]]), json: json, "dismissed \(words[1]): two different households")
        case "release", "discard":
            guard words.count == 2 else { throw UsageError("review \(words[0]) OPID") }
            try args.checkAllUsed()
            try login()
            try echo(call("POST", "/v1/admin/review/\(words[0])", body: ["op": words[1]]), json: json, "\(words[0])d \(words[1])")
        default:
            throw UsageError("review list | show ID | resolve ID | merge ID --keep HOUSEHOLD | dismiss ID | release OPID | discard OPID")
        }
    }

    // MARK: HTTP

    mutating func login() throws {
        let password = try OperatorCommands.password(confirm: false, prompt: "password for \(operatorName) at \(base.host ?? ""): ")
        let (data, response) = try exchange("POST", "/v1/admin/login", query: [:], body: try JSONSerialization.data(withJSONObject: ["name": operatorName, "password": password]),
                                            type: "application/json")
        let object = Self.object(data)
        guard response.statusCode == 200 else { throw RemoteFailure(status: response.statusCode, body: data).refusal }
        csrf = object["csrf"] as? String ?? ""
        let setCookie = response.value(forHTTPHeaderField: "Set-Cookie") ?? ""
        cookie = String(setCookie.split(separator: ";").first ?? "")
    }

    private func logout() throws {
        _ = try exchange("POST", "/v1/admin/logout", query: [:], body: nil, type: nil)
    }

    func call(_ method: String, _ path: String, query: [String: String?] = [:], body: [String: Any]? = nil) throws -> [String: Any] {
        Self.object(try send(method, path, query: query, raw: try body.map { try JSONSerialization.data(withJSONObject: $0) }, type: body == nil ? nil : "application/json"))
    }

    private func call(_ method: String, _ path: String, query: [String: String?], raw: Data, type: String) throws -> [String: Any] {
        Self.object(try send(method, path, query: query, raw: raw, type: type))
    }

    private func send(_ method: String, _ path: String, query: [String: String?], raw: Data? = nil, type: String? = nil) throws -> Data {
        let (data, response) = try exchange(method, path, query: query, body: raw, type: type)
        guard (200..<300).contains(response.statusCode) else { throw RemoteFailure(status: response.statusCode, body: data) }
        return data
    }

    /// One HTTP exchange with the node: the operator's session, or a device's `bearer` token.
    func exchange(_ method: String, _ path: String, query: [String: String?], body: Data?, type: String?, bearer: String? = nil) throws -> (Data, HTTPURLResponse) {
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        components.path = path
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        components.queryItems = items.isEmpty ? nil : items
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.httpBody = body
        if let type { request.setValue(type, forHTTPHeaderField: "Content-Type") }
        if let bearer {
            request.setValue("Bearer " + bearer, forHTTPHeaderField: "Authorization")
        } else {
            if !cookie.isEmpty { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
            if method != "GET" { request.setValue(csrf, forHTTPHeaderField: "X-CSRF-Token") }
        }
        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.set(data, response as? HTTPURLResponse, error)
            semaphore.signal()
        }.resume()
        semaphore.wait()
        let (data, response, error) = box.get()
        guard let response else {
            throw SyncError(.unreachable, "could not reach the node at \(base.absoluteString): \(error.map { $0.localizedDescription } ?? "no answer")")
        }
        return (data ?? Data(), response)
    }

    private func echo(_ result: [String: Any], json: Bool, _ line: String) throws {
        json ? Output.json(result) : Output.line(line)
    }

    static func object(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static func time(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(Date.ISO8601FormatStyle())
    }
}

/// A refusal of the node's admin API, with its body (kept as bytes: an error must be Sendable).
struct RemoteFailure: Error {
    let status: Int
    let bodyData: Data

    init(status: Int, body: Data) {
        self.status = status
        bodyData = body
    }

    var body: [String: Any] { RemoteCentral.object(bodyData) }

    var refusal: any Error {
        let message = body["message"] as? String ?? "the node answered HTTP \(status)"
        if status >= 500 { return SyncError(.unreachable, message) }
        return SyncRefusal(status, body["code"] as? String ?? "refused", message)
    }
}

/// The answer of one URLSession task, handed from its callback to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    // @unchecked: written once by the task's callback before the semaphore is signalled, read
    // after the waiting thread passes the semaphore; the lock makes the hand-over explicit.
    private let lock = NSLock()
    private var value: (Data?, HTTPURLResponse?, (any Error)?) = (nil, nil, nil)
    func set(_ data: Data?, _ response: HTTPURLResponse?, _ error: (any Error)?) { lock.withLock { value = (data, response, error) } }
    func get() -> (Data?, HTTPURLResponse?, (any Error)?) { lock.withLock { value } }
}
