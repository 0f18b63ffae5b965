import Foundation
import SyncKit

/// A complete HTTP response: status, headers and body.
///
///     return .json(summary)                                  // 200, application/json
///     return .error(.badRequest, code: "malformedJSON", message: "body is not JSON")
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value as JSON with sorted keys; a value that cannot be encoded becomes a 500 error.
    public static func json(_ value: some Encodable, status: HTTPStatus = .ok) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let body = try? encoder.encode(value) else {
            return .error(.internalServerError, code: "responseEncodingFailed",
                          message: "the server could not encode its response")
        }
        return HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// A message of the sync protocol in its canonical JSON (`SyncProtocol.encode`).
    public static func json(_ message: some WireMessage, status: HTTPStatus = .ok) -> HTTPResponse {
        guard let body = try? SyncProtocol.encode(message) else {
            return .error(.internalServerError, code: "responseEncodingFailed", message: "the server could not encode its response")
        }
        return HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// A plain-text (UTF-8) body, for humans and for errors that are not part of the JSON API.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: Data(text.utf8))
    }

    /// A JSON error with a stable machine-readable code and a message an operator can act on,
    /// the one error shape of the whole API (`SyncErrorReply`):
    /// `{"code":"bodyTooLarge","message":"...","protocol":1}`.
    public static func error(_ status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        // Encoding two strings cannot fail; the fallback keeps this total anyway.
        let body = (try? SyncProtocol.encode(SyncErrorReply(code: code, message: message)))
            ?? Data(#"{"code":"internal","message":"error encoding failed","protocol":1}"#.utf8)
        return HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    private static let jsonHeaders = HTTPHeaders([.init(name: "Content-Type", value: "application/json")])
}
