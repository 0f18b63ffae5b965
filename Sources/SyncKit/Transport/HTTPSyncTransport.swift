import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Carries sync messages to a central node over HTTP(S): `POST <base>/v1/sync` with the
/// device's token as a bearer token and canonical JSON bodies.
///
///     let transport = HTTPSyncTransport(baseURL: URL(string: "https://central.example:8443")!, token: token)
///     try SyncSession(replica: replica).run(exchange: transport.exchange)             // blocking
///     try await SyncSession(replica: replica).run(async: transport.send(body:))      // async
///
/// An exchange is idempotent, so a network error, a 5xx or a 429 is retried with exponential
/// backoff and full jitter (`retriesMax` times, waits from `backoffBaseSeconds` doubling up to
/// `backoffMaxSeconds`); a 4xx never is. When retries run out the error is
/// `SyncError.unreachable` (nothing lost; sync again later); a refusal by the central node is a
/// `SyncRefusal` with its status, code and message.
public final class HTTPSyncTransport: Sendable {
    public let baseURL: URL
    private let token: String
    private let timeoutSeconds: Double
    private let session: URLSession
    public let retriesMax: Int
    public let backoffBaseSeconds: Double
    public let backoffMaxSeconds: Double
    /// Told of every retry before its wait: why (`HTTP 503`, `unreachable`) and how long it
    /// waits, so that an app can show "the office is busy" and a benchmark can count retries.
    private let onRetry: (@Sendable (_ reason: String, _ waitSeconds: Double) -> Void)?

    public init(baseURL: URL, token: String, timeoutSeconds: Double = 60, session: URLSession = .shared,
                retriesMax: Int = 4, backoffBaseSeconds: Double = 0.5, backoffMaxSeconds: Double = 30,
                onRetry: (@Sendable (_ reason: String, _ waitSeconds: Double) -> Void)? = nil) {
        self.baseURL = baseURL
        self.token = token
        self.timeoutSeconds = timeoutSeconds
        self.session = session
        self.retriesMax = retriesMax
        self.backoffBaseSeconds = backoffBaseSeconds
        self.backoffMaxSeconds = backoffMaxSeconds
        self.onRetry = onRetry
    }

    /// One exchange, retried on transient failures. Blocks the calling thread until the reply.
    public func exchange(_ request: SyncRequest) throws -> SyncResponse {
        try SyncProtocol.decode(SyncResponse.self, from: exchange(body: SyncProtocol.encode(request)))
    }

    /// One exchange of encoded bodies (for `SyncSession.run(bodies:)`, which counts bytes).
    /// Blocks the calling thread, also while it waits to retry.
    public func exchange(body: Data) throws -> Data {
        var attempt = 0
        while true {
            do {
                return try reply(send(request(body)))
            } catch let error where attempt < retriesMax {
                guard let wait = retryWait(after: error, attempt: attempt) else { throw error }
                Thread.sleep(forTimeInterval: wait)
                attempt += 1
            } catch let busy as Busy {
                throw busy.error
            }
        }
    }

    /// One exchange, retried on transient failures, for `async` code: nothing blocks a thread,
    /// neither the request nor the wait before a retry (the node's `Retry-After` included).
    /// Cancelling the task stops it.
    public func send(_ request: SyncRequest) async throws -> SyncResponse {
        try SyncProtocol.decode(SyncResponse.self, from: await send(body: SyncProtocol.encode(request)))
    }

    /// One exchange of encoded bodies, `async` (for `SyncSession.run(async:)`).
    public func send(body: Data) async throws -> Data {
        var attempt = 0
        while true {
            do {
                return try reply(await sendAsync(request(body)))
            } catch let error where attempt < retriesMax {
                guard let wait = retryWait(after: error, attempt: attempt) else { throw error }
                try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
                attempt += 1
            } catch let busy as Busy {
                throw busy.error
            }
        }
    }

    /// How long to wait before retry `attempt` after `error`, or nil when it is not retried (a
    /// refusal). The node's `Retry-After` (on 503 or 429) is waited at least; to it is added full
    /// jitter (a random wait up to the exponential bound), so that devices that lost the node
    /// together, or were told the same time, do not all come back at the same instant.
    private func retryWait(after error: any Error, attempt: Int) -> Double? {
        let atLeast: Double, reason: String
        switch error {
        case let busy as Busy:
            (atLeast, reason) = (min(Self.retryAfterMaxSeconds, busy.retryAfterSeconds ?? 0), "HTTP \(busy.status)")
        case let error as SyncError where error.code == .unreachable:
            (atLeast, reason) = (0, "unreachable")
        default:
            return nil
        }
        let bound = min(backoffMaxSeconds, backoffBaseSeconds * Double(1 << min(attempt, 20)))
        let wait = atLeast + Double.random(in: 0...bound)
        onRetry?(reason, wait)
        return wait
    }

    private func request(_ body: Data) -> URLRequest {
        var http = URLRequest(url: baseURL.appendingPathComponent("v1/sync"), timeoutInterval: timeoutSeconds)
        http.httpMethod = "POST"
        http.setValue("application/json", forHTTPHeaderField: "Content-Type")
        http.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        http.httpBody = body
        return http
    }

    /// The reply's body, or the error its status means.
    private func reply(_ received: (Data, Int, Double?)) throws -> Data {
        let (data, status, retryAfter) = received
        guard status == 200 else {
            if status == 429 || status >= 500 {
                throw Busy(status: status, retryAfterSeconds: retryAfter, error: SyncError(.unreachable, "the central node at \(baseURL.absoluteString) is overloaded or failing (HTTP \(status)); your changes are kept on this device and will be sent at the next sync"))
            }
            if let reply = try? SyncProtocol.decode(SyncErrorReply.self, from: data) {
                throw SyncRefusal(status: status, reply: reply)
            }
            throw SyncRefusal(status: status, reply: SyncErrorReply(code: "http\(status)", message: String(decoding: data.prefix(300), as: UTF8.self)))
        }
        return data
    }

    /// A 5xx or 429 reply: retried, after the node's `Retry-After` (seconds) when it gave one.
    private struct Busy: Error {
        var status: Int
        var retryAfterSeconds: Double?
        var error: SyncError
    }

    /// The longest `Retry-After` honoured; a longer one (or an HTTP date) waits this long.
    static let retryAfterMaxSeconds: Double = 60

    private final class Box: @unchecked Sendable {
        // @unchecked: written once by the URLSession completion handler before `done` is
        // signalled, and read only after waiting on `done`.
        var result: Result<(Data, Int, Double?), any Error> = .failure(SyncError(.unreachable, "no reply"))
        let done = DispatchSemaphore(value: 0)
    }

    private func send(_ request: URLRequest) throws -> (Data, Int, Double?) {
        let box = Box()
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else {
                box.result = .success(Self.received(data ?? Data(), response))
            }
            box.done.signal()
        }
        task.resume()
        box.done.wait()
        switch box.result {
        case .success(let value): return value
        case .failure(let error): throw unreachable(error)
        }
    }

    private func sendAsync(_ request: URLRequest) async throws -> (Data, Int, Double?) {
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw unreachable(error)
        }
        return Self.received(data, response)
    }

    /// Body, status and `Retry-After` (seconds; an HTTP date counts as the longest wait honoured).
    private static func received(_ data: Data, _ response: URLResponse?) -> (Data, Int, Double?) {
        let http = response as? HTTPURLResponse
        let retryAfter = (http?.value(forHTTPHeaderField: "Retry-After")).map { Double($0.trimmingCharacters(in: .whitespaces)) ?? Self.retryAfterMaxSeconds }
        return (data, http?.statusCode ?? 0, retryAfter.map { max(0, $0) })
    }

    private func unreachable(_ error: any Error) -> SyncError {
        SyncError(.unreachable,
            "cannot reach the central node at \(baseURL.absoluteString) (\(error.localizedDescription)); your changes are kept on this device and will be sent at the next sync")
    }
}
