import CMicroHTTPD
import CMicroHTTPDShim
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP or HTTPS server on libmicrohttpd: a pool of threads, each polling its own
/// connections with poll() and running the synchronous handler for them.
///
///     var router = Router()
///     router.add("GET", "/healthz") { _ in .text("ok") }
///     let server = try HTTPServer.start(.init(host: "127.0.0.1", port: 0), router: router)
///     print("listening on port \(server.boundPort)")
///     await server.stop()
///
/// A handler must not call `stop()`: stopping waits for every pool thread, including its own.
public final class HTTPServer: Sendable {
    /// The port the server listens on (the kernel's pick when the configuration said 0).
    public let boundPort: Int

    private let context: ServerContext
    private let running: Mutex<Running?>

    /// What must stay alive until `MHD_stop_daemon` has returned.
    private struct Running {
        let daemon: OpaquePointer
        let contextReference: Unmanaged<ServerContext>
        let logger: UnsafeMutablePointer<fs_mhd_logger>
        let tls: TLSCredentials?
        /// The listening socket handed back by `MHD_quiesce_daemon`, closed after the daemon stops.
        var quiescedListenSocket: Int32?
    }

    private init(boundPort: Int, context: ServerContext, running: sending Running) {
        self.boundPort = boundPort
        self.context = context
        self.running = Mutex(running)
    }

    /// A server for a router: its routes' preflight checks run once a request's headers are in,
    /// before the body is read.
    public static func start(_ configuration: Configuration, router: Router) throws -> HTTPServer {
        try start(configuration, handler: router.respondAfterPreflight(to:), preflight: router.preflight)
    }

    /// Binds, starts the thread pool and returns a server that is accepting connections.
    /// `preflight` judges each request from its head, before any of its body is read.
    public static func start(_ configuration: Configuration, handler: @escaping HTTPHandler,
                             preflight: HTTPPreflight? = nil) throws -> HTTPServer {
        try configuration.validate()
        if configuration.tls != nil && fs_mhd_supports_tls() == 0 {
            throw HTTPServerError(.tlsUnsupported, "this libmicrohttpd was built without TLS; HTTPS is unavailable")
        }
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        let tls = try configuration.tls.map(TLSCredentials.init)

        let context = ServerContext(configuration: configuration, handler: handler, preflight: preflight)
        let contextReference = Unmanaged.passRetained(context)
        let cls = contextReference.toOpaque()
        let logger = UnsafeMutablePointer<fs_mhd_logger>.allocate(capacity: 1)
        logger.initialize(to: fs_mhd_logger(function: httpLogCallback, context: cls))

        // GnuTLS parses the priority string while the daemon starts; it need not outlive this call.
        let daemon = address.withSockaddrPointer { sockaddr in Configuration.TLS.priorities.withCString { priorities in
            var daemonConfiguration = fs_mhd_daemon_config(
                address: sockaddr,
                thread_pool_size: UInt32(configuration.threadCount),
                connection_limit: UInt32(configuration.connectionsMax),
                connection_timeout_seconds: UInt32(configuration.connectionTimeoutSeconds),
                connection_memory_limit: configuration.connectionMemoryBytes,
                tls_certificate_pem: tls.map { UnsafePointer($0.certificate) },
                tls_key_pem: tls.map { UnsafePointer($0.key) },
                access_handler: httpAccessCallback,
                completed_handler: httpCompletedCallback,
                uri_handler: httpURICallback,
                connection_handler: httpConnectionCallback,
                context: cls,
                logger: logger,
                tls_priorities: tls == nil ? nil : priorities)
            return fs_mhd_start_daemon(&daemonConfiguration)
        } }
        let messages = context.finishStartup()
        guard let daemon else {
            context.warden.stop()
            logger.deallocate()
            tls?.release()
            contextReference.release()
            throw startFailure(configuration, messages: messages)
        }
        let running = Running(daemon: daemon, contextReference: contextReference, logger: logger, tls: tls)
        return HTTPServer(boundPort: Int(fs_mhd_daemon_port(daemon)), context: context, running: running)
    }

    private static func startFailure(_ configuration: Configuration, messages: [String]) -> HTTPServerError {
        let detail = messages.isEmpty ? "libmicrohttpd gave no reason" : messages.joined(separator: "; ")
        if let tls = configuration.tls,
           messages.contains(where: { $0.localizedCaseInsensitiveContains("certificate") || $0.contains("TLS") }) {
            return HTTPServerError(
                .tlsCredentialsRejected,
                "TLS certificate \(tls.certificatePath) and key \(tls.keyPath) were refused (is the key the one for this certificate?): \(detail)")
        }
        return HTTPServerError(
            .listenFailed, "cannot serve HTTP on \(configuration.host):\(configuration.port): \(detail)")
    }

    /// Stops accepting connections at once, waits up to `drainTimeout` for requests in flight to
    /// finish and their responses to be sent, then closes every connection and returns.
    /// Responses sent while draining close their connections. Safe to call more than once;
    /// a cancelled task skips the wait.
    ///
    /// - Returns: how many requests were still in flight when the drain timeout passed (zero when
    ///   every request finished in time). Their handlers still run to completion before the daemon
    ///   stops, but their responses are not sent.
    @discardableResult
    public func stop(drainTimeout: Duration = .seconds(10)) async -> Int {
        beginDraining()
        let deadline = ContinuousClock.now.advanced(by: drainTimeout)
        while context.requestsInFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline,
              !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let abandoned = context.requestsInFlight.load(ordering: .acquiring)
        context.requestsAbandonedAtStop.store(abandoned, ordering: .releasing)
        stopDaemon()
        return abandoned
    }

    deinit {
        stopDaemon()
    }

    /// Requests started and not yet completed (tests and metrics).
    var requestsInFlight: Int { context.requestsInFlight.load(ordering: .relaxed) }

    /// Per-request states not yet released; zero when the server is idle.
    var requestStatesAlive: Int { context.requestStatesAlive.load(ordering: .relaxed) }

    var isDraining: Bool { context.isDraining.load(ordering: .relaxed) }

    /// Connections the server cut for being slow or idle, by reason (tests and metrics).
    var connectionsCut: [ConnectionWarden.Cut: Int] { context.warden.cuts }

    /// Connections open now, as the server tracks them (tests).
    var connectionsOpen: Int { context.warden.connectionsTracked }

    /// Connections drained after an answer sent before their body was read (tests).
    var connectionsLingered: Int { context.warden.lingered }

    /// Set by `stop` when its drain wait ends, before it stops the daemon (tests).
    var requestsAbandonedAtStop: Int? {
        let count = context.requestsAbandonedAtStop.load(ordering: .acquiring)
        return count < 0 ? nil : count
    }

    private func beginDraining() {
        running.withLock { running in
            guard running != nil, running!.quiescedListenSocket == nil else { return }
            context.isDraining.store(true, ordering: .relaxed)
            let listenSocket = MHD_quiesce_daemon(running!.daemon)
            guard listenSocket >= 0 else { return }
            // Quiescing only stops accept(); the kernel would still complete handshakes into the
            // backlog. Shutting the socket down makes new connections fail at once (refused), while
            // the descriptor stays open until the daemon has stopped, as libmicrohttpd requires.
            _ = Glibc.shutdown(listenSocket, Int32(SHUT_RDWR))
            running!.quiescedListenSocket = listenSocket
        }
    }

    private func stopDaemon() {
        running.withLock { running in
            guard let stopping = running else { return }
            running = nil
            context.isDraining.store(true, ordering: .relaxed)
            // Joins the pool threads; no callback runs after this returns.
            MHD_stop_daemon(stopping.daemon)
            context.warden.stop()
            if let listenSocket = stopping.quiescedListenSocket { _ = Glibc.close(listenSocket) }
            stopping.logger.deallocate()
            stopping.tls?.release()
            stopping.contextReference.release()
        }
    }
}
