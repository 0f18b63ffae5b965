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
/// Network failures become `SyncError.unreachable` (nothing lost; sync again later); a refusal
/// by the central node becomes a `SyncRefusal` with its status, code and message.
public final class HTTPSyncTransport: Sendable {
    public let baseURL: URL
    private let token: String
    private let timeoutSeconds: Double
    private let session: URLSession

    public init(baseURL: URL, token: String, timeoutSeconds: Double = 60, session: URLSession = .shared) {
        self.baseURL = baseURL
        self.token = token
        self.timeoutSeconds = timeoutSeconds
        self.session = session
    }

    /// One exchange. Blocks the calling thread until the reply (or the timeout).
    public func exchange(_ request: SyncRequest) throws -> SyncResponse {
        var http = URLRequest(url: baseURL.appendingPathComponent("v1/sync"), timeoutInterval: timeoutSeconds)
        http.httpMethod = "POST"
        http.setValue("application/json", forHTTPHeaderField: "Content-Type")
        http.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        http.httpBody = try SyncProtocol.encode(request)
        let (data, status) = try send(http)
        guard status == 200 else {
            if let reply = try? JSONDecoder().decode(SyncErrorReply.self, from: data) {
                throw SyncRefusal(status: status, reply: reply)
            }
            if status == 429 || status >= 500 {
                throw SyncError(.unreachable, "the central node at \(baseURL.absoluteString) is overloaded or failing (HTTP \(status)); your changes are kept on this device and will be sent at the next sync")
            }
            throw SyncRefusal(status: status, reply: SyncErrorReply(code: "http\(status)", message: String(decoding: data.prefix(300), as: UTF8.self)))
        }
        return try SyncProtocol.decode(SyncResponse.self, from: data)
    }

    private final class Box: @unchecked Sendable {
        // @unchecked: written once by the URLSession completion handler before `done` is
        // signalled, and read only after waiting on `done`.
        var result: Result<(Data, Int), any Error> = .failure(SyncError(.unreachable, "no reply"))
        let done = DispatchSemaphore(value: 0)
    }

    private func send(_ request: URLRequest) throws -> (Data, Int) {
        let box = Box()
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else {
                box.result = .success((data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
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
