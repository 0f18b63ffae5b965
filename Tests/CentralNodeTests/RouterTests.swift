import Foundation
import Testing
@testable import CentralNode

@Suite struct RouterTests {
    @Test func headRequestsUseTheGetHandlerAndOtherMethodsAreListedInAllow() {
        var router = Router()
        router.add("GET", "/cells") { _ in .text("cells") }
        router.add("POST", "/cells") { _ in HTTPResponse(status: .created) }
        #expect(router.respond(to: HTTPRequest(method: "HEAD", path: "/cells")).status == .ok)
        #expect(router.respond(to: HTTPRequest(method: "POST", path: "/cells")).status == .created)
        let refused = router.respond(to: HTTPRequest(method: "PUT", path: "/cells"))
        #expect(refused.status == .methodNotAllowed)
        #expect(refused.headers["allow"] == "GET, POST")
    }

    @Test func headerLookupIgnoresCaseAndKeepsEveryValue() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Cell", value: "A1")
        headers.add(name: "x-cell", value: "B2")
        #expect(headers["X-CELL"] == "A1")
        #expect(headers.values(for: "x-Cell") == ["A1", "B2"])
        headers.set(name: "X-CELL", value: "C3")
        #expect(headers.values(for: "x-cell") == ["C3"])
        #expect(headers["X-Cellar"] == nil)
    }

    @Test func queryValuesArePercentDecodedAndMissingOnesAreNil() {
        let request = HTTPRequest(method: "GET", path: "/pull", query: "cell=A%2F7&since=42&flag&name=J%C3%B6rg+M&bad=%ZZ")
        #expect(request.queryValue(named: "cell") == "A/7")
        #expect(request.queryValue(named: "since") == "42")
        #expect(request.queryValue(named: "flag") == "")
        #expect(request.queryValue(named: "name") == "Jörg M")
        #expect(request.queryValue(named: "bad") == "%ZZ")
        #expect(request.queryValue(named: "missing") == nil)
    }

    @Test func errorResponsesCarryAStableCodeAndAMessage() throws {
        let response = HTTPResponse.error(.contentTooLarge, code: "bodyTooLarge", message: "too big")
        #expect(response.status.code == 413)
        #expect(response.headers["content-type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self)
                == #"{"code":"bodyTooLarge","message":"too big","protocol":1}"#)
    }
}

extension RouterTests {
    @Test func aRoutesPreflightRefusesOnItsOwnAndTheServerPathDoesNotRunItTwice() {
        var router = Router()
        router.add("POST", "/guarded", preflight: { head in
            head.headers["Authorization"] == nil ? .error(.unauthorized, code: "unknownToken", message: "no token") : nil
        }) { _ in .text("in") }
        let bare = HTTPRequest(method: "POST", path: "/guarded", body: Data("anything".utf8))
        #expect(router.preflight(bare.head)?.status == .unauthorized)
        #expect(router.respond(to: bare).status == .unauthorized)
        // Once the server's preflight let a request in, the handler alone answers it.
        #expect(router.respondAfterPreflight(to: bare).status == .ok)
        #expect(router.preflight(HTTPRequestHead(method: "GET", path: "/nowhere"))?.status == .notFound)
        #expect(router.preflight(HTTPRequestHead(method: "GET", path: "/guarded"))?.status == .methodNotAllowed)
    }
}
