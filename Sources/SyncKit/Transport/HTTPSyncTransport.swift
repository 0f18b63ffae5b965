import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Carries sync messages to a central node over HTTP(S): `POST <base>/v1/sync` with the
/// device's token as a bearer token and canonical JSON bodies.
///
///     let transport = HTTPSyncTransport(baseURL: URL(string: "https://central.example:8443")!, token: token)
///     try SyncSession(replica: replica).run(exchange: transport.exchange)
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
    public func exchange(body: Data) throws -> Data {
        var attempt = 0
        while true {
            do {
                return try exchangeOnce(body)
            } catch let busy as Busy where attempt < retriesMax {
                // The node said when to come back (Retry-After on 503 or 429): at least that long,
                // plus the random part, so that devices told together do not return together.
                pause(attempt, atLeast: min(Self.retryAfterMaxSeconds, busy.retryAfterSeconds ?? 0), reason: "HTTP \(busy.status)")
                attempt += 1
            } catch let busy as Busy {
                throw busy.error
            } catch let error as SyncError where error.code == .unreachable && attempt < retriesMax {
                pause(attempt, atLeast: 0, reason: "unreachable")
                attempt += 1
            }
        }
    }

    /// Waits before retry `attempt`: `atLeast`, plus full jitter (a random wait up to the
    /// exponential bound), so that devices that lost the node together do not all come back at
    /// the same instant.
    private func pause(_ attempt: Int, atLeast: Double, reason: String) {
        let bound = min(backoffMaxSeconds, backoffBaseSeconds * Double(1 << min(attempt, 20)))
        let wait = atLeast + Double.random(in: 0...bound)
        onRetry?(reason, wait)
        Thread.sleep(forTimeInterval: wait)
    }

    private func exchangeOnce(_ body: Data) throws -> Data {
        var http = URLRequest(url: baseURL.appendingPathComponent("v1/sync"), timeoutInterval: timeoutSeconds)
        http.httpMethod = "POST"
        http.setValue("application/json", forHTTPHeaderField: "Content-Type")
        http.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        http.httpBody = body
        let (data, status, retryAfter) = try send(http)
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
                let http = response as? HTTPURLResponse
                let retryAfter = (http?.value(forHTTPHeaderField: "Retry-After")).map { Double($0.trimmingCharacters(in: .whitespaces)) ?? Self.retryAfterMaxSeconds }
                box.result = .success((data ?? Data(), http?.statusCode ?? 0, retryAfter.map { max(0, $0) }))
            }
            box.done.signal()
        }
        task.resume()
        box.done.wait()
        switch box.result {
        case .success(let value): return value
        case .failure(let error):
            throw SyncError(.unreachable,
                "cannot reach the central node at \(baseURL.absoluteString) (\(error.localizedDescription)); your changes are kept on this device and will be sent at the next sync")
        }
    }
}
