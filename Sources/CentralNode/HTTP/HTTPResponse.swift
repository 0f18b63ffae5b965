import Foundation

/// A complete HTTP response: status, headers and body.
///
///     return .json(summary)                                  // 200, application/json
///     return .error(.badRequest, code: "malformed_json", message: "body is not JSON")
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
            return .error(.internalServerError, code: "response_encoding_failed",
                          message: "the server could not encode its response")
        }
        return HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// A plain-text (UTF-8) body, for humans and for errors that are not part of the JSON API.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: Data(text.utf8))
    }

    /// A JSON error with a stable machine-readable code and a message an operator can act on:
    /// `{"error":{"code":"body_too_large","message":"..."}}`.
    public static func error(_ status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding two strings cannot fail; the fallback keeps this total anyway.
        let body = (try? encoder.encode(ErrorBody(error: .init(code: code, message: message))))
            ?? Data(#"{"error":{"code":"internal","message":"error encoding failed"}}"#.utf8)
        return HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    private static let jsonHeaders = HTTPHeaders([.init(name: "Content-Type", value: "application/json")])

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}
