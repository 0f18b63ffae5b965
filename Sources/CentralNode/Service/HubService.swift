import Foundation
import SyncKit

/// The central node's HTTP API over a `Hub` (Design.md, "Central node"):
///
///     POST /v1/sync      Authorization: Bearer <token>, body SyncRequest → SyncResponse
///     GET  /v1/snapshot?cell=C[&after=K][&limit=N]
///                        Authorization: Bearer <token> → CellSnapshot (one page of a cell)
///     GET  /v1/schema    Authorization: Bearer <token> → the schema (`Schema.descriptionJSON`)
///     GET  /healthz      {"protocol":"1","status":"ok"}
///     /v1/admin/...      the operators' admin API (`AdminService`), with a login session
///     GET  /console/     the operators' console
///     GET  /metrics      Prometheus text: requests, ops ingested, errors by kind, latency
///                        histogram, open conflicts, devices by last seen
///
/// Errors are `SyncErrorReply` bodies with an HTTP status. Logs (the `log` closure) name
/// devices and counts, never field values.
public struct HubService: Sendable {
    public let hub: Hub
    public let metrics = HubMetrics()
    /// The operators' admin API and console (`/v1/admin/...`, `/console/`).
    public let admin: AdminService
    private let log: @Sendable (String) -> Void

    /// `secureCookies`: the node serves TLS, so the console's session cookie is marked Secure.
    public init(hub: Hub, secureCookies: Bool = false, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.hub = hub
        self.log = log
        admin = AdminService(hub: hub, secureCookies: secureCookies, log: log)
    }

    /// The API's routes. The two device routes check the bearer token once the headers are in,
    /// so a request without a valid token never has its body read or parsed.
    public var router: Router {
        var router = Router()
        router.add("POST", "/v1/sync", preflight: { self.authorize($0, route: "/v1/sync") }) { request in
            let started = ContinuousClock.now
            let (response, ops, code) = self.sync(request)
            let seconds = (ContinuousClock.now - started).inSeconds
            self.metrics.record(route: "/v1/sync", status: response.status.code, seconds: seconds, opsIngested: ops, errorCode: code)
            return response
        }
        router.add("GET", "/v1/snapshot", preflight: { self.authorize($0, route: "/v1/snapshot") }) { request in
            let started = ContinuousClock.now
            let (response, code) = self.snapshot(request)
            let seconds = (ContinuousClock.now - started).inSeconds
            self.metrics.record(route: "/v1/snapshot", status: response.status.code, seconds: seconds, opsIngested: 0, errorCode: code)
            return response
        }
        router.add("GET", "/v1/schema", preflight: { self.authorize($0, route: "/v1/schema") }) { _ in
            // The schema the node merges with, for clients in other languages (PROTOCOL.md,
            // "Schema"): the same bytes whoever asks, cacheable by its hash.
            let schema = self.hub.replica.schema
            var response = HTTPResponse(status: .ok, headers: HTTPHeaders([.init(name: "Content-Type", value: "application/json")]),
                                        body: Data(schema.descriptionJSON))
            response.headers.set(name: "ETag", value: "\"\(schema.hash)\"")
            self.metrics.record(route: "/v1/schema", status: 200, seconds: 0, errorCode: nil)
            return response
        }
        router.add("GET", "/metrics") { _ in
            var response = HTTPResponse.text(self.renderMetrics())
            response.headers.set(name: "Content-Type", value: "text/plain; version=0.0.4")
            return response
        }
        router.add("GET", "/healthz") { _ in
            .json(["status": "ok", "protocol": String(SyncProtocol.version)])
        }
        admin.addRoutes(to: &router)
        return router
    }

    /// Refuses a request of a device route without a known, unrevoked token (nil: let it in).
    /// Counted in the metrics here, since a refused request never reaches its handler.
    func authorize(_ head: HTTPRequestHead, route: String) -> HTTPResponse? {
        let refusal: (HTTPResponse, String)
        if let token = Self.bearer(head.headers) {
            do {
                try hub.checkToken(token)
                return nil
            } catch let error as HubRefusal {
                refusal = (.json(error.reply, status: HTTPStatus(error.status)), error.reply.code)
            } catch let busy where Self.busyReply(busy) != nil {
                refusal = (Self.busyReply(busy)!, "overloaded")
            } catch {
                log("token check failed: \(type(of: error))")
                refusal = (Self.reply(.internalServerError, "internal", "the central node failed to check the token; try again later"), "internal")
            }
        } else {
            refusal = (Self.missingToken, "unknownToken")
        }
        log("\(route) refused before its body: \(refusal.1)")
        metrics.record(route: route, status: refusal.0.status.code, seconds: 0, errorCode: refusal.1)
        return refusal.0
    }

    private static let missingToken = reply(.unauthorized, "unknownToken", "send the device's token as \"Authorization: Bearer <token>\"")

    /// Answers one sync; also returns the operations stored and the error code, for metrics.
    /// The route's preflight (`authorize`) has checked the token before the body was read.
    func sync(_ http: HTTPRequest) -> (HTTPResponse, Int, String?) {
        guard let token = Self.bearer(http.headers) else { return (Self.missingToken, 0, "unknownToken") }
        do {
            let request = try SyncProtocol.decode(SyncRequest.self, from: http.body)
            let (reply, summary) = try hub.handleEncoded(request, token: token)
            log("sync from \(request.device.hex.prefix(8)): \(summary.pushed) up, \(summary.pulled) down, \(summary.records) records, \(summary.held) held")
            return (HTTPResponse(status: .ok, headers: HTTPHeaders([.init(name: "Content-Type", value: "application/json")]),
                                 body: reply), request.push.count, nil)
        } catch let refusal as HubRefusal {
            log("sync refused: \(refusal.reply.code)")
            return (.json(refusal.reply, status: HTTPStatus(refusal.status)), 0, refusal.reply.code)
        } catch let busy where Self.busyReply(busy) != nil {
            log("sync turned away: overloaded")
            return (Self.busyReply(busy)!, 0, "overloaded")
        } catch let error as SyncError where error.code == .invalidInput || error.code == .limitExceeded {
            let code = error.code == .limitExceeded ? "bodyTooLarge" : "badRequest"
            return (Self.reply(error.code == .limitExceeded ? .contentTooLarge : .badRequest, code, error.message), 0, code)
        } catch {
            log("sync failed: \(type(of: error))")
            return (Self.reply(.internalServerError, "internal", "the central node failed to process the sync; nothing was lost, try again later"), 0, "internal")
        }
    }

    /// Answers one snapshot page; also returns the error code, for metrics.
    func snapshot(_ http: HTTPRequest) -> (HTTPResponse, String?) {
        guard let token = Self.bearer(http.headers) else { return (Self.missingToken, "unknownToken") }
        guard let cell = http.queryValue(named: "cell") else {
            return (Self.reply(.badRequest, "badRequest", "name the cell: /v1/snapshot?cell=C (and after=K to continue a snapshot)"), "badRequest")
        }
        var limit = SyncProtocol.pageOpsMax
        if let text = http.queryValue(named: "limit") {
            guard let value = Int(text), value >= 1 else {
                return (Self.reply(.badRequest, "badRequest", "limit must be a whole number of records ≥ 1; got \"\(text.prefix(20))\""), "badRequest")
            }
            limit = value
        }
        var form = SnapshotForm.spelledOut
        if let text = http.queryValue(named: "form") {
            guard let value = Int(text), value >= 1 else {
                return (Self.reply(.badRequest, "badRequest", "form must be 1 (records spelled out) or 2 (compact); got \"\(text.prefix(20))\""), "badRequest")
            }
            form = value
        }
        do {
            let page = try hub.snapshot(cell: cell, after: http.queryValue(named: "after"), limit: limit, form: form, token: token)
            log("snapshot page of cell \(cell): \(page.records.count) records")
            return (HTTPResponse(status: .ok, headers: HTTPHeaders([.init(name: "Content-Type", value: "application/json")]),
                                 body: try SyncProtocol.encode(page)), nil)
        } catch let refusal as HubRefusal {
            log("snapshot refused: \(refusal.reply.code)")
            return (.json(refusal.reply, status: HTTPStatus(refusal.status)), refusal.reply.code)
        } catch let busy where Self.busyReply(busy) != nil {
            log("snapshot turned away: overloaded")
            return (Self.busyReply(busy)!, "overloaded")
        } catch let error as SyncError where error.code == .invalidInput {
            return (Self.reply(.badRequest, "badRequest", error.message), "badRequest")
        } catch {
            log("snapshot failed: \(type(of: error))")
            return (Self.reply(.internalServerError, "internal", "the central node failed to read the snapshot; try again later"), "internal")
        }
    }

    /// 503 `overloaded` with `Retry-After` for a request the node will not wait for: its queues
    /// are full (`HubBusy`), or another process (an operator's import) has held the database's
    /// write lock longer than the busy timeout; nil for any other error. Nothing of the request
    /// was stored, unless its push committed before its page found the readers full: repeated,
    /// the exchange has those operations acknowledged as already stored.
    static func busyReply(_ error: any Error) -> HTTPResponse? {
        let seconds: Int
        let message: String
        if let busy = error as? HubBusy {
            (seconds, message) = (busy.retryAfterSeconds, busy.message)
        } else if let sqlite = error as? SQLiteError, sqlite.primaryCode == 5 || sqlite.primaryCode == 6 {
            // SQLITE_BUSY, SQLITE_LOCKED: an operator's command in another process holds the file.
            (seconds, message) = (5, "the central node's database is busy with an operator's command; nothing was stored, try again in 5 s")
        } else {
            return nil
        }
        var response = reply(.serviceUnavailable, "overloaded", message)
        response.headers.set(name: "Retry-After", value: String(seconds))
        return response
    }

    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let authorization = headers["Authorization"], authorization.hasPrefix("Bearer ") else { return nil }
        return String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// Metrics, with the gauges read from the hub at scrape time.
    func renderMetrics() -> String {
        var gauges: [(name: String, help: String, labels: [String: String], value: Double)] = []
        if let conflicts = try? hub.replica.conflicts() {
            gauges.append(("fieldsync_open_conflicts", "Fields in conflict on the central node.", [:], Double(conflicts.count)))
        }
        if let devices = try? hub.devices() {
            let now = hub.replica.nowMillis()
            var buckets = ["1h": 0, "1d": 0, "7d": 0, "older": 0, "never": 0]
            for device in devices where !device.revoked {
                guard let seen = device.lastSeenMillis else { buckets["never"]! += 1; continue }
                let age = now - seen
                let key = age <= 3_600_000 ? "1h" : age <= 86_400_000 ? "1d" : age <= 7 * 86_400_000 ? "7d" : "older"
                buckets[key]! += 1
            }
            for key in ["1h", "1d", "7d", "older", "never"] {
                gauges.append(("fieldsync_devices_last_seen", "Devices by time since their last sync.", ["within": key], Double(buckets[key]!)))
            }
        }
        return metrics.render(gauges: gauges)
    }

    static func reply(_ status: HTTPStatus, _ code: String, _ message: String) -> HTTPResponse {
        .json(SyncErrorReply(code: code, message: message), status: status)
    }
}
