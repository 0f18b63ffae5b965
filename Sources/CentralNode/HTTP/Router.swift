/// Answers one request; runs on a server pool thread, so it may block (SQLite, files).
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Judges a request from its head alone, before its body is read: a response refuses it (and
/// the body is never read), nil lets it through. Runs on a server pool thread.
public typealias HTTPPreflight = @Sendable (HTTPRequestHead) -> HTTPResponse?

/// Dispatches requests by exact path and method; unknown paths get 404, other methods 405.
///
///     var router = Router()
///     router.add("GET", "/healthz") { _ in .text("ok") }
///     let server = try HTTPServer.start(configuration, router: router)
///
/// A route may have a preflight check (`HTTPPreflight`), which the server runs once the headers
/// are in: a request refused there (no token, say) never has its body read or parsed.
public struct Router: Sendable {
    private struct Route: Sendable {
        var handler: HTTPHandler
        var preflight: HTTPPreflight?
    }

    private var routes: [String: [String: Route]] = [:]

    public init() {}

    /// Registers a handler; registering the same method and path twice is a programmer error.
    public mutating func add(_ method: String, _ path: String, preflight: HTTPPreflight? = nil, _ handler: @escaping HTTPHandler) {
        precondition(path.hasPrefix("/"), "route path \(path) must start with /")
        precondition(routes[path]?[method] == nil, "route \(method) \(path) is registered twice")
        routes[path, default: [:]][method] = Route(handler: handler, preflight: preflight)
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        switch route(request.head) {
        case .success(let route): return route.preflight?(request.head) ?? route.handler(request)
        case .failure(let refusal): return refusal.response
        }
    }

    /// The handler alone, for a request whose head `preflight` has already let through (the
    /// server runs it before reading the body; running it again would be the same work twice).
    public func respondAfterPreflight(to request: HTTPRequest) -> HTTPResponse {
        switch route(request.head) {
        case .success(let route): return route.handler(request)
        case .failure(let refusal): return refusal.response
        }
    }

    /// The answer for a request that must not get past its headers: an unknown path (404), a
    /// method the path does not take (405), or a refusal by the route's preflight check.
    public func preflight(_ head: HTTPRequestHead) -> HTTPResponse? {
        switch route(head) {
        case .success(let route): return route.preflight?(head)
        case .failure(let refusal): return refusal.response
        }
    }

    private struct Refusal: Error { var response: HTTPResponse }

    private func route(_ head: HTTPRequestHead) -> Result<Route, Refusal> {
        guard let routes = routes[head.path] else {
            return .failure(Refusal(response: .error(.notFound, code: "notFound", message: "no route for \(head.method) \(head.path)")))
        }
        if let route = routes[head.method] { return .success(route) }
        // HEAD is GET without a body; libmicrohttpd drops the body itself.
        if head.method == "HEAD", let route = routes["GET"] { return .success(route) }
        var response = HTTPResponse.error(
            .methodNotAllowed, code: "methodNotAllowed",
            message: "\(head.path) does not accept \(head.method)")
        response.headers.add(name: "Allow", value: routes.keys.sorted().joined(separator: ", "))
        return .failure(Refusal(response: response))
    }
}
