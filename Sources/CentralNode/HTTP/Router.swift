/// Answers one request; runs on a server pool thread, so it may block (SQLite, files).
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse

/// Dispatches requests by exact path and method; unknown paths get 404, other methods 405.
///
///     var router = Router()
///     router.add("GET", "/healthz") { _ in .text("ok") }
///     let server = try HTTPServer.start(configuration, handler: router.respond(to:))
public struct Router: Sendable {
    private var routes: [String: [String: HTTPHandler]] = [:]

    public init() {}

    /// Registers a handler; registering the same method and path twice is a programmer error.
    public mutating func add(_ method: String, _ path: String, _ handler: @escaping HTTPHandler) {
        precondition(path.hasPrefix("/"), "route path \(path) must start with /")
        precondition(routes[path]?[method] == nil, "route \(method) \(path) is registered twice")
        routes[path, default: [:]][method] = handler
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard let handlers = routes[request.path] else {
            return .error(.notFound, code: "notFound", message: "no route for \(request.method) \(request.path)")
        }
        if let handler = handlers[request.method] {
            return handler(request)
        }
        // HEAD is GET without a body; libmicrohttpd drops the body itself.
        if request.method == "HEAD", let handler = handlers["GET"] {
            return handler(request)
        }
        var response = HTTPResponse.error(
            .methodNotAllowed, code: "methodNotAllowed",
            message: "\(request.path) does not accept \(request.method)")
        response.headers.add(name: "Allow", value: handlers.keys.sorted().joined(separator: ", "))
        return response
    }
}
