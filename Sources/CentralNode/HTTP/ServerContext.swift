import Foundation
import Synchronization

/// What the C callbacks need, shared by every pool thread of one daemon.
///
/// The daemon holds one retained reference (as the callbacks' `cls`) from start until
/// `MHD_stop_daemon` has returned, after which no callback can run.
final class ServerContext: Sendable {
    let handler: HTTPHandler
    /// Judges a request once its headers are in, before its body is read (nil: none).
    let preflight: HTTPPreflight?
    let warden: ConnectionWarden
    let bodyBytesMax: Int
    let headerBytesMax: Int
    let libraryMessageHandler: (@Sendable (String) -> Void)?

    /// Requests whose request line has arrived and whose completion has not yet been reported.
    let requestsInFlight = Atomic<Int>(0)
    /// RequestState objects alive; tests check that it returns to zero.
    let requestStatesAlive = Atomic<Int>(0)
    /// Set by `stop`: every response from now on closes its connection.
    let isDraining = Atomic<Bool>(false)
    /// Requests still in flight when `stop`'s drain wait ended; -1 until then.
    let requestsAbandonedAtStop = Atomic<Int>(-1)
    /// Messages logged while the daemon starts, to explain a failure; nil once it runs.
    private let startupMessages = Mutex<[String]?>([])

    init(configuration: HTTPServer.Configuration, handler: @escaping HTTPHandler, preflight: HTTPPreflight?) {
        self.handler = handler
        self.preflight = preflight
        self.warden = ConnectionWarden(configuration.wardenLimits)
        self.bodyBytesMax = configuration.bodyBytesMax
        self.headerBytesMax = configuration.headerBytesMax
        self.libraryMessageHandler = configuration.libraryMessageHandler
    }

    func log(_ message: String) {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let kept = startupMessages.withLock { messages -> Bool in
            guard messages != nil else { return false }
            if messages!.count < 32 { messages!.append(trimmed) }
            return true
        }
        if !kept { libraryMessageHandler?(trimmed) }
    }

    /// Ends startup; returns what the library logged while starting.
    func finishStartup() -> [String] {
        startupMessages.withLock { messages in
            defer { messages = nil }
            return messages ?? []
        }
    }
}
