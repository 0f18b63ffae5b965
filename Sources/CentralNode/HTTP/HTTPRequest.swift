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
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.decodeQueryComponent(parts[0]) == name else { continue }
            return parts.count == 2 ? Self.decodeQueryComponent(parts[1]) : ""
        }
        return nil
    }

    private static func decodeQueryComponent(_ component: Substring) -> String {
        let spaced = component.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
