import FieldKit
import Foundation
import SyncKit

/// The admin HTTP API (`/v1/admin/...`, JSON; Design.md, "Admin API") and the console that uses
/// it (`/console/`), for operators with a login session.
///
///     POST /v1/admin/login  {"name":"li","password":"…"}  → Set-Cookie: fs_session=…; HttpOnly; SameSite=Strict
///                                                            {"operator":"li","role":"reviewer","csrf":"…"}
///     GET  /v1/admin/review?kind=conflict&cell=JS-0412     Cookie: fs_session=…
///     POST /v1/admin/review/resolve {"id":"households/h1/phone","pick":"…"}   Cookie + X-CSRF-Token: …
///
/// A session lives in a cookie only (HttpOnly, SameSite=Strict, Secure under TLS); every
/// request that changes anything carries the session's CSRF token in `X-CSRF-Token`, and one
/// sent by a page of another origin (`Origin`, `Sec-Fetch-Site`) is refused. Device tokens never
/// open these routes, and a session never opens `/v1/sync`. Failed logins are throttled
/// (`LoginThrottle`). Every action is audited under the operator's name.
public struct AdminService: Sendable {
    let hub: Hub
    let sessions = OperatorSessions()
    let throttle = LoginThrottle()
    let overviewCache = OverviewCache()
    /// Cookies are marked Secure (the node serves TLS).
    let secureCookies: Bool
    private let log: @Sendable (String) -> Void

    static let cookieName = "fs_session"
    /// Under TLS the cookie is named with the `__Host-` prefix: browsers then accept it only
    /// Secure, for this host alone and for the whole path, so no sibling host can plant one.
    static let secureCookieName = "__Host-fs_session"
    var sessionCookieName: String { secureCookies ? Self.secureCookieName : Self.cookieName }
    static let jsonBodyBytesMax = 64 * 1024

    public init(hub: Hub, secureCookies: Bool, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.hub = hub
        self.secureCookies = secureCookies
        self.log = log
    }

    /// Starts computing the overview's aggregates, so that the first overview does not wait
    /// for a scan of the district (`central serve` calls it once it listens).
    public func warmUp() {
        overviewCache.refreshInBackground(hub)
    }

    /// What a handler knows of the request and its operator.
    struct Call {
        let request: HTTPRequest
        let operatorName: String
        let role: OperatorRole

        func query(_ name: String) -> String? {
            guard let value = request.queryValue(named: name), !value.isEmpty else { return nil }
            return value
        }

        func int(_ name: String) throws -> Int? {
            guard let text = query(name) else { return nil }
            guard let value = Int(text) else { throw SyncError(.invalidInput, "\(name) takes a whole number; got \"\(text.prefix(20))\"") }
            return value
        }

        /// The JSON object of the body.
        func body() throws -> [String: Any] {
            guard request.body.count <= AdminService.jsonBodyBytesMax else {
                throw SyncError(.limitExceeded, "a request body takes at most \(AdminService.jsonBodyBytesMax / 1024) KiB")
            }
            guard let object = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any] else {
                throw SyncError(.invalidInput, "send a JSON object (Content-Type: application/json)")
            }
            return object
        }

        func string(_ body: [String: Any], _ key: String) throws -> String {
            guard let value = body[key] as? String, !value.isEmpty else { throw SyncError(.invalidInput, "the request needs \"\(key)\" (text)") }
            return value
        }

        func cells(_ body: [String: Any]) throws -> [String] {
            if let list = body["cells"] as? [String] { return list.map(Hub.cellName) }
            if let text = body["cells"] as? String { return text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "，" }).map { Hub.cellName(String($0)) } }
            throw SyncError(.invalidInput, "the request needs \"cells\": a list of cell ids, e.g. [\"JS-0412\"]")
        }
    }

    typealias Handler = @Sendable (Call) throws -> HTTPResponse

    /// Adds the admin API's and the console's routes.
    public func addRoutes(to router: inout Router) {
        // A login is small: a larger body is refused on its declared length, before it is read.
        router.add("POST", "/v1/admin/login", preflight: { head in
            guard let length = head.headers["Content-Length"].flatMap({ Int($0) }), length > Self.jsonBodyBytesMax else { return nil }
            return Self.error(.contentTooLarge, "bodyTooLarge", "a login takes at most \(Self.jsonBodyBytesMax / 1024) KiB")
        }) { self.login($0) }
        router.add("POST", "/v1/admin/logout") { request in
            guard let token = cookie(request.headers) else { return Self.reply(.ok, ["loggedOut": true]) }
            if let session = sessions.find(token: token, nowMillis: hub.replica.nowMillis()) {
                if let refusal = Self.crossSiteRefusal(request, csrf: session.csrf) { return refusal }
                sessions.close(token: token)
                try? hub.auditEvent(actor: session.operatorName, action: "logout", detail: "console session ended")
            }
            var response = Self.reply(.ok, ["loggedOut": true])
            response.headers.add(name: "Set-Cookie", value: "\(sessionCookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\(secureCookies ? "; Secure" : "")")
            return response
        }
        add(&router, "GET", "/v1/admin/session", .read) { call in
            let session = sessions.find(token: cookie(call.request.headers) ?? "", nowMillis: hub.replica.nowMillis())
            return Self.reply(.ok, ["operator": call.operatorName, "role": call.role.rawValue, "csrf": session?.csrf ?? "",
                                    "idleSeconds": OperatorSessions.idleMillisMax / 1000, "lifetimeSeconds": OperatorSessions.lifetimeMillisMax / 1000])
        }
        add(&router, "GET", "/v1/admin/overview", .read) { call in
            Self.reply(.ok, try hub.overview(cellsAfter: call.query("after"), cellLimit: try call.int("limit"), aggregates: try overviewCache.aggregates(of: hub)))
        }
        add(&router, "GET", "/v1/admin/digest", .read) { call in
            guard let cell = call.query("cell") else { throw SyncError(.invalidInput, "name the cell: /v1/admin/digest?cell=C") }
            let name = Hub.cellName(cell)
            return Self.reply(.ok, ["cell": name, "digest": try hub.read { try $0.digest(cell: name) }])
        }
        add(&router, "GET", "/v1/admin/review", .read) { call in
            let kindText = call.query("kind") ?? "conflict"
            guard let kind = Hub.ReviewKind(rawValue: kindText) else {
                throw SyncError(.invalidInput, "kind is conflict, duplicate or quarantine, not \"\(kindText.prefix(20))\"")
            }
            return Self.reply(.ok, try hub.reviewPage(kind: kind, cell: call.query("cell"), after: call.query("after"), limit: try call.int("limit")))
        }
        add(&router, "GET", "/v1/admin/review/item", .read) { call in
            guard let id = call.query("id") else { throw SyncError(.invalidInput, "name the item: /v1/admin/review/item?id=ID") }
            return Self.reply(.ok, try hub.reviewDetail(id))
        }
        add(&router, "POST", "/v1/admin/review/resolve", .settle) { call in
            let body = try call.body()
            let id = try call.string(body, "id")
            let pick = try (body["pick"] as? String).map { text -> OpID in
                guard let op = OpID(text) else { throw SyncError(.invalidInput, "pick takes a candidate's op id, as the item lists it") }
                return op
            }
            // Not `cond ? value : nil`: Value is nil-literal expressible, so that nil would be `.null`.
            var value: Value?
            if let given = body["value"] { value = try Self.typedValue(given, forConflict: id, schema: hub.replica.schema) }
            try hub.resolve(id, pick: pick, value: value, actor: call.operatorName)
            return Self.reply(.ok, ["resolved": id])
        }
        add(&router, "POST", "/v1/admin/review/merge", .settle) { call in
            let body = try call.body()
            let id = try call.string(body, "id"), keep = try call.string(body, "keep")
            try hub.mergeDuplicate(id, keep: keep, actor: call.operatorName)
            return Self.reply(.ok, ["merged": id, "kept": keep])
        }
        add(&router, "POST", "/v1/admin/review/dismiss", .settle) { call in
            let id = try call.string(try call.body(), "id")
            try hub.dismissDuplicate(id, actor: call.operatorName)
            return Self.reply(.ok, ["dismissed": id])
        }
        for action in ["release", "discard"] {
            add(&router, "POST", "/v1/admin/review/\(action)", .settle) { call in
                let text = try call.string(try call.body(), "op")
                guard let op = OpID(text) else { throw SyncError(.invalidInput, "\"\(text.prefix(80))\" is not an operation id") }
                if action == "release" { try hub.release(op, actor: call.operatorName) } else { try hub.discard(op, actor: call.operatorName) }
                return Self.reply(.ok, [action == "release" ? "released" : "discarded": text])
            }
        }
        add(&router, "GET", "/v1/admin/devices", .read) { call in
            Self.reply(.ok, try hub.devicePage(query: call.query("q"), after: call.query("after"), limit: try call.int("limit")))
        }
        add(&router, "POST", "/v1/admin/devices/enroll", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "device")
            let cells = try call.cells(body)
            let url = try (body["url"] as? String).map { text -> URL in
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw SyncError(.invalidInput, "url must be the node's http(s) address as devices reach it, e.g. https://node.example:8443")
                }
                return url
            }
            // The payload is checked before the device exists, so a bad URL enrolls nothing.
            if let url { _ = try EnrollmentPayload(url: url, token: String(repeating: "0", count: 2 * Hub.tokenBytes)) }
            let enrollment = try hub.enroll(device: name, cells: cells, actor: call.operatorName)
            overviewCache.invalidate()
            var result: [String: Any] = ["device": name, "cells": enrollment.cells, "token": enrollment.token]
            if let url {
                let payload = try EnrollmentPayload(url: url, token: enrollment.token).text
                let qr = try EnrollmentQR(payload: payload)
                result["payload"] = payload
                result["qrSVG"] = qr.svg(title: "FieldSync enrollment: \(name) (\(enrollment.cells.joined(separator: ", ")))")
                result["qrVersion"] = qr.version
            }
            return Self.reply(.ok, result)
        }
        add(&router, "POST", "/v1/admin/devices/revoke", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "device")
            let wipe = (body["wipe"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            try hub.revoke(device: name, actor: call.operatorName, wipe: wipe)
            return Self.reply(.ok, ["device": name, "revoked": true, "wipe": wipe ?? NSNull()])
        }
        add(&router, "POST", "/v1/admin/records/erase", .manage) { call in
            let body = try call.body()
            let collection = try call.string(body, "collection")
            guard let id = try? EntityID(try call.string(body, "id")) else {
                throw SyncError(.invalidInput, "id is not a record id")
            }
            let result = try hub.erase(collection, id, reason: body["reason"] as? String ?? "", actor: call.operatorName)
            overviewCache.invalidate()
            return Self.reply(.ok, ["collection": collection, "id": id.rawValue, "erasure": result.op.description,
                                    "logEntriesErased": result.logEntriesErased, "walTruncated": result.walTruncated])
        }
        add(&router, "POST", "/v1/admin/devices/cells", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "device")
            let cells = try call.cells(body)
            try hub.setCells(device: name, cells: cells, actor: call.operatorName)
            return Self.reply(.ok, ["device": name, "cells": Array(Set(cells)).sorted()])
        }
        add(&router, "GET", "/v1/admin/records", .read) { call in
            let tableText = call.query("collection") ?? "households"
            guard let table = Hub.DistrictTable(rawValue: tableText) else {
                throw SyncError(.invalidInput, "collection is households or doorplates, not \"\(tableText.prefix(20))\"")
            }
            return Self.reply(.ok, try hub.searchRecords(table, query: call.query("q"), cell: call.query("cell"), after: call.query("after"), limit: try call.int("limit")))
        }
        add(&router, "GET", "/v1/admin/household", .read) { call in
            guard let id = call.query("id") else { throw SyncError(.invalidInput, "name the household: /v1/admin/household?id=ID") }
            let detail = try hub.householdDetail(id)
            // Whose personal data an operator opened is part of the audit (the id only).
            try hub.auditEvent(actor: call.operatorName, action: "view-household", detail: "household \(id)")
            return Self.reply(.ok, detail)
        }
        add(&router, "POST", "/v1/admin/import", .manage) { call in
            let table = try Self.table(call.query("table"))
            do {
                let result = try hub.importCSV(table, data: call.request.body, actor: call.operatorName)
                overviewCache.invalidate()
                return Self.reply(.ok, ["imported": result.records, "table": table.rawValue, "operations": result.operations.count,
                                        "recordsByCell": result.recordsByCell])
            } catch let error as ImportError {
                return Self.reply(.unprocessableContent, [
                    "code": "badRows", "imported": 0, "protocol": SyncProtocol.version,
                    "message": "nothing was imported: \(error.issues.count) problem(s) in the file; fix every row listed and upload it again",
                    "issues": error.issues.map { issue -> [String: Any] in
                        ["message": issue.message, "row": issue.row ?? NSNull(), "column": issue.column ?? NSNull(), "columnName": issue.columnName ?? NSNull()]
                    },
                ])
            }
        }
        add(&router, "GET", "/v1/admin/export", .manage) { call in
            let table = try Self.table(call.query("table"))
            let cell = try call.query("cell").map { try GridCell(parsing: $0) }
            let csv = try hub.exportCSV(table, cell: cell, actor: call.operatorName)
            return Self.file(CSVWriter().data(from: csv), name: "\(table.rawValue)\(cell.map { "-\($0.id)" } ?? "").csv", type: "text/csv; charset=utf-8")
        }
        // Bundles carried by hand (no network where the collector works): a device's bundle in,
        // the reply bundle out, as `central bundle import|export` does on the node's machine.
        add(&router, "POST", "/v1/admin/bundle/import", .manage) { call in
            let result = try hub.importBundle(call.request.body, device: call.query("device"), actor: call.operatorName)
            return Self.file(result.reply, name: "reply-\(call.query("device") ?? "device").fsbundle", type: "application/octet-stream")
        }
        add(&router, "GET", "/v1/admin/bundle/export", .manage) { call in
            guard let device = call.query("device") else { throw SyncError(.invalidInput, "name the device: /v1/admin/bundle/export?device=NAME") }
            return Self.file(try hub.exportBundle(device: device, actor: call.operatorName), name: "\(device).fsbundle", type: "application/octet-stream")
        }
        add(&router, "GET", "/v1/admin/audit", .read) { call in
            let before = try call.int("before").map(Int64.init)
            return Self.reply(.ok, try hub.auditPage(actor: call.query("actor"), action: call.query("action"), before: before, limit: try call.int("limit")))
        }
        add(&router, "GET", "/v1/admin/operators", .manage) { _ in
            Self.reply(.ok, ["operators": try hub.operators().map { op -> [String: Any] in
                ["name": op.name, "role": op.role.rawValue, "disabled": op.disabled, "createdMillis": op.createdMillis,
                 "passwordChangedMillis": op.passwordChangedMillis]
            }])
        }
        add(&router, "POST", "/v1/admin/operators/add", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "name"), password = try call.string(body, "password")
            let role = try Self.role(body["role"] as? String)
            try hub.addOperator(name, role: role, password: password, actor: call.operatorName)
            return Self.reply(.ok, ["operator": name, "role": role.rawValue])
        }
        add(&router, "POST", "/v1/admin/operators/disable", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "name")
            let disabled = body["disabled"] as? Bool ?? true
            guard !(disabled && name == call.operatorName) else { throw SyncError(.invalidInput, "an operator cannot disable itself; ask another admin") }
            try hub.setOperatorDisabled(name, disabled, actor: call.operatorName)
            if disabled { sessions.closeAll(of: name) }
            return Self.reply(.ok, ["operator": name, "disabled": disabled])
        }
        add(&router, "POST", "/v1/admin/operators/reset", .manage) { call in
            let body = try call.body()
            let name = try call.string(body, "name"), password = try call.string(body, "password")
            try hub.resetOperatorPassword(name, password: password, actor: call.operatorName)
            sessions.closeAll(of: name)
            return Self.reply(.ok, ["operator": name, "reset": true])
        }
        ConsoleAssets.addRoutes(to: &router)
    }

    /// Registers a route that needs a live session whose operator's role allows `permission`;
    /// a request that changes anything (not GET) must also pass the CSRF checks.
    private func add(_ router: inout Router, _ method: String, _ path: String, _ permission: OperatorRole.Permission, _ handler: @escaping Handler) {
        router.add(method, path, preflight: { head in
            // Refused before the body is read: no session, or a device's bearer token.
            if head.headers["Authorization"] != nil && cookie(head.headers) == nil {
                return Self.error(.unauthorized, "sessionRequired", "the admin API takes an operator's login session, not a device token; log in at POST /v1/admin/login")
            }
            guard let token = cookie(head.headers) else {
                return Self.error(.unauthorized, "sessionRequired", "log in first: POST /v1/admin/login with {\"name\":…,\"password\":…}")
            }
            // An unknown or ended session never has its body read (an upload of 8 MiB, say).
            return sessions.find(token: token, nowMillis: hub.replica.nowMillis()) == nil ? Self.sessionEnded : nil
        }) { request in
            let started = ContinuousClock.now
            let response = self.handle(request, method: method, permission: permission, handler)
            log("\(method) \(path) \(response.status.code) \((ContinuousClock.now - started).inSeconds * 1000) ms")
            return response
        }
    }

    private func handle(_ request: HTTPRequest, method: String, permission: OperatorRole.Permission, _ handler: Handler) -> HTTPResponse {
        let now = hub.replica.nowMillis()
        guard let token = cookie(request.headers), let session = sessions.find(token: token, nowMillis: now) else { return Self.sessionEnded }
        if method != "GET" && method != "HEAD", let refusal = Self.crossSiteRefusal(request, csrf: session.csrf) { return refusal }
        do {
            guard let role = try hub.currentRole(of: session.operatorName) else {
                sessions.closeAll(of: session.operatorName)
                return Self.error(.unauthorized, "sessionExpired", "operator \(session.operatorName) is disabled or gone; ask an admin")
            }
            guard role.allows(permission) else {
                let needed = permission == .settle ? "reviewer" : "admin"
                return Self.error(.forbidden, "forbidden", "operator \(session.operatorName) is a \(role.rawValue); this needs the \(needed) role")
            }
            return try handler(Call(request: request, operatorName: session.operatorName, role: role))
        } catch {
            return Self.response(for: error, log: log)
        }
    }

    static var sessionEnded: HTTPResponse {
        error(.unauthorized, "sessionExpired", "the session has ended (logged out, idle for \(OperatorSessions.idleMillisMax / 60_000) minutes, or older than \(OperatorSessions.lifetimeMillisMax / 3_600_000) hours); log in again")
    }

    // MARK: Login

    private func login(_ request: HTTPRequest) -> HTTPResponse {
        if let refusal = Self.crossSiteRefusal(request, csrf: nil) { return refusal }
        guard request.body.count <= Self.jsonBodyBytesMax,
              let body = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any],
              let name = body["name"] as? String, let password = body["password"] as? String else {
            return Self.error(.badRequest, "badRequest", "send {\"name\":\"…\",\"password\":\"…\"} as JSON")
        }
        let now = hub.replica.nowMillis()
        let keys = ["name:" + name.lowercased().prefix(Hub.operatorNameLengthMax), LoginThrottle.addressPrefix + request.remoteAddress]
        let wait = throttle.wait(keys: keys, nowMillis: now)
        if wait > 0 {
            var response = Self.error(.tooManyRequests, "throttled", "too many failed logins; try again in \((wait + 999) / 1000) s")
            response.headers.set(name: "Retry-After", value: String((wait + 999) / 1000))
            return response
        }
        do {
            guard let role = try hub.checkPassword(name: name, password: password) else {
                let next = throttle.fail(keys: keys, nowMillis: now)
                let actor = (try? Hub.checkOperatorName(name)) != nil ? name : "(unknown name)"
                try? hub.auditEvent(actor: actor, action: "login-refused", detail: "wrong name or password from \(request.remoteAddress.isEmpty ? "?" : request.remoteAddress)")
                var response = Self.error(.unauthorized, "loginFailed", "the name or the password is wrong (or the operator is disabled)" +
                                          (next > 0 ? "; too many failures: the next try waits \((next + 999) / 1000) s" : ""))
                if next > 0 { response.headers.set(name: "Retry-After", value: String((next + 999) / 1000)) }
                return response
            }
            throttle.succeed(keys: [keys[0]])
            let (token, session) = sessions.open(operator: name, nowMillis: now)
            try? hub.auditEvent(actor: name, action: "login", detail: "console session from \(request.remoteAddress.isEmpty ? "?" : request.remoteAddress)")
            var response = Self.reply(.ok, ["operator": name, "role": role.rawValue, "csrf": session.csrf,
                                            "idleSeconds": OperatorSessions.idleMillisMax / 1000, "lifetimeSeconds": OperatorSessions.lifetimeMillisMax / 1000])
            response.headers.add(name: "Set-Cookie", value: "\(sessionCookieName)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(OperatorSessions.lifetimeMillisMax / 1000)\(secureCookies ? "; Secure" : "")")
            return response
        } catch {
            return Self.response(for: error, log: log)
        }
    }

    // MARK: Helpers

    /// Refuses a state-changing request from a page of another origin or without the session's
    /// CSRF token (nil `csrf`: the login, which has no session yet).
    static func crossSiteRefusal(_ request: HTTPRequest, csrf: String?) -> HTTPResponse? {
        if let site = request.headers["Sec-Fetch-Site"], site != "same-origin", site != "none" {
            return error(.forbidden, "crossOrigin", "a request from another site (\(site.prefix(20))) is refused; use the console of this node")
        }
        if let origin = request.headers["Origin"] {
            let host = request.headers["Host"] ?? ""
            guard origin == "http://\(host)" || origin == "https://\(host)" else {
                return error(.forbidden, "crossOrigin", "a request from origin \(origin.prefix(100)) is refused; use the console of this node")
            }
        }
        guard let csrf else { return nil }
        guard let sent = request.headers["X-CSRF-Token"], Hub.constantTimeEqual(Array(sent.utf8), Array(csrf.utf8)) else {
            return error(.forbidden, "csrf", "the request lacks the session's CSRF token (header X-CSRF-Token, from the login or GET /v1/admin/session)")
        }
        return nil
    }

    /// The session token of the request's cookie (of this node's cookie name).
    func cookie(_ headers: HTTPHeaders) -> String? {
        guard let header = headers["Cookie"] else { return nil }
        let name = sessionCookieName
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(name + "=") {
                let value = String(pair.dropFirst(name.count + 1))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    static func table(_ text: String?) throws -> Hub.DistrictTable {
        guard let text, let table = Hub.DistrictTable(rawValue: text) else {
            throw SyncError(.invalidInput, "table is households or doorplates, not \"\((text ?? "").prefix(20))\"")
        }
        return table
    }

    static func role(_ text: String?) throws -> OperatorRole {
        guard let text, let role = OperatorRole(rawValue: text) else {
            throw SyncError(.invalidInput, "role is viewer, reviewer or admin, not \"\((text ?? "").prefix(20))\"")
        }
        return role
    }

    /// A JSON value for a conflict's field, as the field's declared type.
    static func typedValue(_ json: Any, forConflict id: String, schema: Schema) throws -> Value {
        let parts = id.split(separator: "/").map(String.init)
        if json is NSNull { return .null }
        if parts.count == 3, parts[2] == Assignment.existenceField {
            guard let flag = json as? Bool else { throw SyncError(.invalidInput, "the value of an edit-against-delete conflict is true (keep) or false (delete)") }
            return .bool(flag)
        }
        let type = parts.count == 3 ? schema.collection(named: parts[0])?.field(named: parts[2])?.type : nil
        switch (type, json) {
        case (.int?, let number as NSNumber): return .int(number.int64Value)
        case (.int?, let text as String):
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else { throw SyncError(.invalidInput, "\(parts[2]) takes a whole number; got \"\(text.prefix(40))\"") }
            return .int(value)
        case (.real?, let number as NSNumber): return .real(number.doubleValue)
        case (.bool?, let flag as Bool): return .bool(flag)
        case (_, let text as String): return .text(text)
        default: throw SyncError(.invalidInput, "the value does not fit field \(parts.count == 3 ? parts[2] : id)")
        }
    }

    /// A file to download (personal data: never cached). `name` is made of ids and table names.
    static func file(_ data: Data, name: String, type: String) -> HTTPResponse {
        var response = HTTPResponse(status: .ok, headers: HTTPHeaders(), body: data)
        response.headers.add(name: "Content-Type", value: type)
        response.headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(name.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) })\"")
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    static func reply(_ status: HTTPStatus, _ object: [String: Any]) -> HTTPResponse {
        let body = AdminJSON.encode(object)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func error(_ status: HTTPStatus, _ code: String, _ message: String) -> HTTPResponse {
        reply(status, ["code": code, "message": message, "protocol": SyncProtocol.version])
    }

    static func response(for error: any Error, log: (String) -> Void) -> HTTPResponse {
        switch error {
        case let error as OperatorError:
            let status: HTTPStatus = switch error.code {
            case .weakPassword, .badName: .badRequest
            case .exists: .conflict
            case .notFound: .notFound
            case .failed: .internalServerError
            }
            return Self.error(status, error.code.rawValue, error.message)
        case let error as SyncError:
            let (status, code): (HTTPStatus, String) = switch error.code {
            case .invalidInput: (.badRequest, "badRequest")
            case .notFound: (.notFound, "notFound")
            case .alreadyExists: (.conflict, "alreadyExists")
            case .illegalTransition: (.conflict, "illegalTransition")
            case .schemaMismatch: (.conflict, "schemaMismatch")
            case .limitExceeded: (.contentTooLarge, "bodyTooLarge")
            default: (.internalServerError, "internal")
            }
            if status == .internalServerError { log("admin request failed: \(error.code)") }
            return Self.error(status, code, status == .internalServerError ? "the central node failed; nothing was changed, try again" : error.message)
        case let refusal as SyncRefusal:
            return Self.error(HTTPStatus(refusal.status), refusal.reply.code, refusal.reply.message)
        case let error as FieldError:
            let (status, code): (HTTPStatus, String) = switch error.code {
            case .notFound: (.notFound, "notFound")
            case .alreadyExists: (.conflict, "alreadyExists")
            case .illegalTransition: (.conflict, "illegalTransition")
            default: (.badRequest, "badRequest")
            }
            return Self.error(status, code, error.message)
        case let error as DoorplateError:
            return Self.error(.badRequest, "badRequest", error.message)
        default:
            if let busy = HubService.busyReply(error) { return busy }
            log("admin request failed: \(type(of: error))")
            return Self.error(.internalServerError, "internal", "the central node failed; nothing was changed, try again")
        }
    }
}
