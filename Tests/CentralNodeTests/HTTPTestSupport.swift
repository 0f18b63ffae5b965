import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SyncKit
@testable import CentralNode

/// JSON the echo route sends back unchanged.
struct EchoPayload: Codable, Equatable, Sendable {
    var message: String
    var numbers: [Int]
}

/// What the inspect route reports about the request it received.
struct RequestReport: Codable, Sendable {
    var method: String
    var path: String
    var query: String
    var name: String?
    var team: String?
    var remoteAddress: String
    var bodyBytes: Int
}

/// The routes most tests use.
func testRouter() -> Router {
    var router = Router()
    router.add("GET", "/hello") { _ in .text("hello") }
    router.add("POST", "/echo") { request in
        guard let payload = try? JSONDecoder().decode(EchoPayload.self, from: request.body) else {
            return .error(.badRequest, code: "malformedJSON", message: "body is not an echo payload")
        }
        return .json(payload)
    }
    let inspect: HTTPHandler = { request in
        .json(RequestReport(method: request.method, path: request.path, query: request.query,
                            name: request.queryValue(named: "name"), team: request.headers["x-field-team"],
                            remoteAddress: request.remoteAddress, bodyBytes: request.body.count))
    }
    router.add("GET", "/inspect", inspect)
    router.add("PATCH", "/inspect", inspect)
    return router
}

/// A server on an ephemeral loopback port.
func startTestServer(
    router: Router = testRouter(), configure: (inout HTTPServer.Configuration) -> Void = { _ in }
) throws -> HTTPServer {
    var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.threadCount = 4
    configuration.connectionTimeoutSeconds = 10
    configure(&configuration)
    return try HTTPServer.start(configuration, router: router)
}

/// A response as the tests look at it.
struct FetchedResponse: Sendable {
    var status: Int
    var body: Data
    var headers: [String: String]
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// One request with URLSession; a fresh ephemeral session unless one is given.
func fetch(
    _ server: HTTPServer, _ path: String, method: String = "GET", body: Data? = nil,
    headers: [String: String] = [:], session: URLSession? = nil
) async throws -> FetchedResponse {
    try await fetch(port: server.boundPort, path, method: method, body: body, headers: headers, session: session)
}

func fetch(
    port: Int, _ path: String, method: String = "GET", body: Data? = nil,
    headers: [String: String] = [:], session: URLSession? = nil
) async throws -> FetchedResponse {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 120
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let session = session ?? makeSession()
    let (data, response) = try await session.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
    return FetchedResponse(status: http.statusCode, body: data, headers: fields)
}

func makeSession() -> URLSession {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 120
    configuration.timeoutIntervalForResource = 180
    return URLSession(configuration: configuration)
}

/// Decodes the `{"code":...,"message":...,"protocol":1}` body of an error response (the API's one
/// error shape, `SyncErrorReply`).
struct ErrorBody: Decodable {
    var code: String
    var message: String

    private enum Key: String, CodingKey { case code, message, protocolVersion = "protocol" }

    // Read independently of the server's codec, as a client in another language would.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard try c.decode(Int.self, forKey: .protocolVersion) == SyncProtocol.version else {
            throw DecodingError.dataCorruptedError(forKey: .protocolVersion, in: c, debugDescription: "another protocol version")
        }
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
    }
}

/// Sends raw bytes over a fresh loopback TCP connection and returns everything the server
/// sends back before it closes the connection (or 5 s pass).
func rawExchange(port: Int, _ bytes: [UInt8]) throws -> String {
    try rawExchangeEnding(port: port, bytes, receiveTimeoutSeconds: 5).reply
}

/// Sends raw bytes and reads until the server closes the connection (or resets it), the reply
/// passes 1 MiB, or no byte arrives for `receiveTimeoutSeconds`; `closedByServer` says which.
func rawExchangeEnding(port: Int, _ bytes: [UInt8], receiveTimeoutSeconds: Int) throws -> (reply: String, closedByServer: Bool) {
    let socketFD = try #require(connectLoopback(port: port, receiveTimeoutSeconds: receiveTimeoutSeconds),
                                "cannot connect to 127.0.0.1:\(port)")
    defer { close(socketFD) }
    _ = bytes.withUnsafeBytes { send(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    var closedByServer = false
    while received.count < 1 << 20 {
        let count = recv(socketFD, &buffer, buffer.count, 0)
        if count > 0 {
            received += buffer[0..<count]
            continue
        }
        if count < 0, errno == EINTR { continue }
        closedByServer = count == 0 || errno == ECONNRESET
        break
    }
    return (String(decoding: received, as: UTF8.self), closedByServer)
}

/// A TCP connection to 127.0.0.1:`port` whose reads give up after `receiveTimeoutSeconds`, or
/// nil when it cannot be made; the caller closes it.
func connectLoopback(port: Int, receiveTimeoutSeconds: Int) -> Int32? {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { return nil }
    var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
    setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(socketFD)
        return nil
    }
    return socketFD
}

/// Polls a condition every 10 ms until it holds or the timeout passes.
/// Polls `condition` until it holds. The bound is generous on purpose: in a full parallel test
/// run on two cores a task can wait seconds for a thread; a passing check returns at once.
func eventually(timeout: Duration = .seconds(300), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs a command and returns its exit status, stdout and stderr.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The full path of a command on PATH, if installed.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") + ["/usr/bin", "/bin"] {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// A request sent at once from URLSession's own threads, awaited later. `async let x = fetch(…)`
/// needs a free cooperative thread just to send the request, and under a full test run the
/// pool can be busy for seconds; tests that must know a request is in flight use this instead.
final class PendingFetch: @unchecked Sendable {
    // @unchecked: `result` and `waiters` are only touched while holding `lock`.
    private let lock = NSLock()
    private var result: Result<FetchedResponse, any Error>?
    private var waiters: [CheckedContinuation<FetchedResponse, any Error>] = []

    init(port: Int, _ path: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        // Longer than any handler the tests hold open (60 s), so only the test ends the request.
        request.timeoutInterval = 120
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        configuration.timeoutIntervalForResource = 180
        URLSession(configuration: configuration).dataTask(with: request) { data, response, error in
            let outcome: Result<FetchedResponse, any Error>
            if let error {
                outcome = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                var fields: [String: String] = [:]
                for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
                outcome = .success(FetchedResponse(status: http.statusCode, body: data ?? Data(), headers: fields))
            } else {
                outcome = .failure(URLError(.badServerResponse))
            }
            let waiting = self.lock.withLock { () -> [CheckedContinuation<FetchedResponse, any Error>] in
                self.result = outcome
                defer { self.waiters = [] }
                return self.waiters
            }
            for waiter in waiting { waiter.resume(with: outcome) }
        }.resume()
    }

    func value() async throws -> FetchedResponse {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<FetchedResponse, any Error>? = lock.withLock {
                if result == nil { waiters.append(continuation) }
                return result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// Runs long blocking test work (a scenario driving processes) on a thread of its own, so the
/// cooperative pool stays free for the async tests running beside it.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
