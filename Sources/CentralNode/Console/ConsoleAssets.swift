import Foundation

/// The operators' console: one page, a style sheet and a script, built into the binary (no
/// CDN, nothing fetched from the internet, no build step), served at `/console/` with a
/// Content-Security-Policy that allows only this node's own files. The page talks to the admin
/// API (`AdminService`) and draws everything itself, the operations chart included.
enum ConsoleAssets {
    static func addRoutes(to router: inout Router) {
        for path in ["/", "/console"] {
            router.add("GET", path) { _ in
                var response = HTTPResponse(status: HTTPStatus(302), headers: HTTPHeaders(), body: Data())
                response.headers.add(name: "Location", value: "/console/")
                return response
            }
        }
        router.add("GET", "/console/") { _ in asset(ConsolePage.html, type: "text/html; charset=utf-8") }
        router.add("GET", "/console/app.css") { _ in asset(ConsoleStyle.css, type: "text/css; charset=utf-8") }
        router.add("GET", "/console/app.js") { _ in asset(ConsoleScript.js, type: "text/javascript; charset=utf-8") }
    }

    static func asset(_ text: String, type: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Security-Policy",
                    value: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "X-Frame-Options", value: "DENY")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "Cache-Control", value: "no-cache")
        return HTTPResponse(status: .ok, headers: headers, body: Data(text.utf8))
    }
}
