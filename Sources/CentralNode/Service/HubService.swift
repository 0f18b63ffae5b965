import Foundation
import SyncKit

/// The central node's HTTP API over a `Hub` (Design.md, "Central node"):
///
///     POST /v1/sync      Authorization: Bearer <token>, body SyncRequest → SyncResponse
///     GET  /healthz      {"protocol":"1","status":"ok"}
///
/// Errors are `SyncErrorReply` bodies with an HTTP status. Logs (the `log` closure) name
/// devices and counts, never field values.
public struct HubService: Sendable {
    public let hub: Hub
    private let log: @Sendable (String) -> Void

    public init(hub: Hub, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.hub = hub
        self.log = log
    }

    public var router: Router {
        var router = Router()
        router.add("POST", "/v1/sync") { request in self.sync(request) }
        router.add("GET", "/healthz") { _ in
            .json(["status": "ok", "protocol": String(SyncProtocol.version)])
        }
        return router
    }

    func sync(_ http: HTTPRequest) -> HTTPResponse {
        guard let authorization = http.headers["Authorization"], authorization.hasPrefix("Bearer ") else {
            return Self.reply(.unauthorized, "unknownToken", "send the device's token as \"Authorization: Bearer <token>\"")
        }
        let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        do {
            let request = try SyncProtocol.decode(SyncRequest.self, from: http.body)
            let response = try hub.handle(request, token: token)
            log("sync from \(request.device.hex.prefix(8)): \(request.push.count) up, \(response.ops.count) down, \(response.held.count) held")
            return HTTPResponse(status: .ok, headers: HTTPHeaders([.init(name: "Content-Type", value: "application/json")]),
                                body: try SyncProtocol.encode(response))
        } catch let refusal as HubRefusal {
            log("sync refused: \(refusal.reply.code)")
            return .json(refusal.reply, status: HTTPStatus(refusal.status))
        } catch let error as SyncError where error.code == .invalidInput || error.code == .limitExceeded {
            return Self.reply(error.code == .limitExceeded ? .contentTooLarge : .badRequest, "badRequest", error.message)
        } catch {
            log("sync failed: \(type(of: error))")
            return Self.reply(.internalServerError, "internal", "the central node failed to process the sync; nothing was lost, try again later")
        }
    }

    static func reply(_ status: HTTPStatus, _ code: String, _ message: String) -> HTTPResponse {
        .json(SyncErrorReply(code: code, message: message), status: status)
    }
}
