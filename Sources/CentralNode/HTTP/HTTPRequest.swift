import Foundation

/// One HTTP request as the server hands it to a handler, with its whole body read.
///
///     let since = request.queryValue(named: "since")
///     let batch = try JSONDecoder().decode(PushBatch.self, from: request.body)
public struct HTTPRequest: Sendable {
    /// The method as sent ("GET", "POST", ...).
    public var method: String
    /// The percent-decoded path without the query ("/sync").
    public var path: String
    /// The raw query string without the "?" ("" when there is none).
    public var query: String
    public var headers: HTTPHeaders
    public var body: Data
    /// The client's numeric IP address ("" when unknown).
    public var remoteAddress: String

    public init(
        method: String, path: String, query: String = "", headers: HTTPHeaders = HTTPHeaders(),
        body: Data = Data(), remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The first value of a query parameter, percent-decoded ("+" reads as a space).
    public func queryValue(named name: String) -> String? {
        HTTPRequestHead.queryValue(named: name, in: query)
    }

    /// The request without its body.
    public var head: HTTPRequestHead {
        HTTPRequestHead(method: method, path: path, query: query, headers: headers, remoteAddress: remoteAddress)
    }
}

/// A request as the server knows it once its headers are in, before any byte of the body is
/// read: what a preflight check (`HTTPPreflight`) judges.
///
///     router.add("POST", "/v1/sync", preflight: { head in
///         head.headers["Authorization"] == nil ? .error(.unauthorized, code: "unknownToken", message: "…") : nil
///     }) { request in … }
public struct HTTPRequestHead: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: HTTPHeaders
    public var remoteAddress: String

    public init(method: String, path: String, query: String = "", headers: HTTPHeaders = HTTPHeaders(), remoteAddress: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }

    /// The first value of a query parameter, percent-decoded ("+" reads as a space).
    public func queryValue(named name: String) -> String? {
        Self.queryValue(named: name, in: query)
    }

    static func queryValue(named name: String, in query: String) -> String? {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard decodeQueryComponent(parts[0]) == name else { continue }
            return parts.count == 2 ? decodeQueryComponent(parts[1]) : ""
        }
        return nil
    }

    private static func decodeQueryComponent(_ component: Substring) -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
