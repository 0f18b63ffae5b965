import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps slow or idle clients from holding the server's connection slots, and lets a client
/// read an early answer (401, 413) before the connection closes.
///
///     let warden = ConnectionWarden(limits)
///     warden.opened(id, socket: fd, address: "10.0.0.7")   // from libmicrohttpd's callbacks
///     warden.headersReceived(id, bodyExpected: true)
///     warden.closed(id)
///
/// libmicrohttpd's idle timeout restarts on every byte, so a client that trickles a header line
/// every few seconds holds a slot for ever, and one host with a few hundred such connections
/// takes them all. The warden cuts (shuts the socket down, so the library closes it):
/// - a connection that has not sent complete request headers within `headerTimeout` of
///   connecting or of the request line of a later request on a kept-alive connection;
/// - a kept-alive connection idle for `idleTimeout` between requests;
/// - a body arriving slower than `bodyBytesPerSecondMin` on average after `bodyGrace`;
/// - the oldest connection of an address still waiting for its headers, when that address has
///   more than `pendingPerAddressMax` such connections (many collectors share one carrier
///   address: only connections in the middle of sending a request count against it, not those
///   between requests, so a busy carrier address is never locked out);
/// - the oldest connection without a request in progress (waiting for headers, or idle between
///   requests), when fewer than `headroom` slots are free.
/// A request whose headers are in is never cut while its handler runs.
///
/// Every socket is shut down under the lock that `closed` takes before libmicrohttpd closes the
/// descriptor, so a descriptor number is never acted on after it was reused.
final class ConnectionWarden: Sendable {
    struct Limits: Sendable {
        var headerTimeout: Duration
        /// How long a kept-alive connection may wait for its next request line.
        var idleTimeout: Duration
        var bodyGrace: Duration
        var bodyBytesPerSecondMin: Int
        var pendingPerAddressMax: Int
        var connectionsMax: Int
        var lingerTimeout: Duration
        /// Slots kept free for new connections by cutting the oldest waiting one.
        var headroom: Int { max(2, connectionsMax / 16) }
    }

    /// Why a connection was cut (counted for tests and metrics).
    enum Cut: String, CaseIterable, Sendable {
        case headerTimeout, idleTimeout, slowBody, addressPending, serverFull
    }

    private enum Phase {
        /// Connected, no complete request headers yet.
        case connecting
        /// Between two requests of a kept-alive connection, before the next request line.
        case idle
        /// The request line of a later request is in, its headers are not.
        case awaitingHeaders
        case receivingBody
        case handling

        /// Waiting for a client that has not sent a complete request (what the per-address
        /// limit counts; an idle kept-alive connection does not).
        var isWaitingForHeaders: Bool { self == .connecting || self == .awaitingHeaders }
    }

    private struct Entry {
        let socket: Int32
        let address: String
        var phase: Phase = .connecting
        var since: ContinuousClock.Instant
        var bodyBytes = 0
        var cut = false
        var lingerOnClose = false
    }

    private struct Lingering {
        let socket: Int32
        let deadline: ContinuousClock.Instant
        var drained = 0
    }

    private struct State {
        var entries: [UInt: Entry] = [:]
        var lingering: [Lingering] = []
        var cuts: [Cut: Int] = [:]
        var lingered = 0
        var stopped = false
    }

    /// Sockets drained at once after an early answer; past this, closed straight away.
    static let lingeringMax = 256
    /// Bytes read and dropped from one lingering socket before it is closed.
    static let lingerBytesMax = 64 * 1024 * 1024

    private let limits: Limits
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    init(_ limits: Limits) {
        self.limits = limits
        let thread = Thread { [self] in run() }
        thread.name = "fieldsync-http-warden"
        thread.start()
    }

    // MARK: Events (libmicrohttpd's pool threads)

    func opened(_ connection: UInt, socket: Int32, address: String) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.entries[connection] = Entry(socket: socket, address: address, since: now)
            let fromAddress = state.entries.filter { !$0.value.cut && $0.value.phase.isWaitingForHeaders && $0.value.address == address }
            if fromAddress.count > limits.pendingPerAddressMax, let oldest = fromAddress.min(by: { $0.value.since < $1.value.since }) {
                Self.cut(oldest.key, .addressPending, &state)
            }
            let open = state.entries.values.filter { !$0.cut }.count
            // When slots run short, the connection waiting longest without a request in progress
            // goes (an idle kept-alive one as well: its client opens another when it needs one).
            if open > limits.connectionsMax - limits.headroom,
               let oldest = state.entries.filter({ !$0.value.cut && ($0.value.phase.isWaitingForHeaders || $0.value.phase == .idle) && $0.key != connection })
                .min(by: { $0.value.since < $1.value.since }) {
                Self.cut(oldest.key, .serverFull, &state)
            }
        }
    }

    /// A request line arrived: on a kept-alive connection, its headers are now awaited.
    func requestLineReceived(_ connection: UInt) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard state.entries[connection]?.phase == .idle else { return }
            state.entries[connection]?.phase = .awaitingHeaders
            state.entries[connection]?.since = now
        }
    }

    func headersReceived(_ connection: UInt, bodyExpected: Bool) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.entries[connection]?.phase = bodyExpected ? .receivingBody : .handling
            state.entries[connection]?.since = now
            state.entries[connection]?.bodyBytes = 0
        }
    }

    func bodyReceived(_ connection: UInt, bytes: Int) {
        state.withLock { $0.entries[connection]?.bodyBytes += bytes }
    }

    func bodyComplete(_ connection: UInt) {
        state.withLock { $0.entries[connection]?.phase = .handling }
    }

    /// The request's response went out (or it ended otherwise): the next request is awaited.
    func requestEnded(_ connection: UInt) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.entries[connection]?.phase = .idle
            state.entries[connection]?.since = now
        }
    }

    /// The server answered before reading the body: when the connection closes, the socket is
    /// drained for a while instead of being closed with unread data (which makes the kernel
    /// send a reset that can destroy the answer before the client reads it).
    func lingerOnClose(_ connection: UInt) {
        state.withLock { $0.entries[connection]?.lingerOnClose = true }
    }

    /// Called before libmicrohttpd closes the socket.
    func closed(_ connection: UInt) {
        let deadline = ContinuousClock.now.advanced(by: limits.lingerTimeout)
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: connection) else { return }
            guard entry.lingerOnClose, !state.stopped, state.lingering.count < Self.lingeringMax else { return }
            // Our own descriptor keeps the socket open after the library closes its one.
            let own = dup(entry.socket)
            guard own >= 0 else { return }
            _ = shutdown(own, Int32(SHUT_WR))
            state.lingering.append(Lingering(socket: own, deadline: deadline))
            state.lingered += 1
        }
    }

    // MARK: Observation

    var cuts: [Cut: Int] { state.withLock { $0.cuts } }
    var lingered: Int { state.withLock { $0.lingered } }
    var connectionsTracked: Int { state.withLock { $0.entries.count } }

    /// Stops the warden's thread and closes the sockets it drains. Call after the daemon stopped.
    func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if wasRunning { finished.wait() }
    }

    // MARK: The warden's thread

    private static func cut(_ connection: UInt, _ reason: Cut, _ state: inout State) {
        guard let entry = state.entries[connection], !entry.cut else { return }
        // The library sees end of file, closes the connection and reports it `closed`.
        _ = shutdown(entry.socket, Int32(SHUT_RDWR))
        state.entries[connection]!.cut = true
        state.cuts[reason, default: 0] += 1
    }

    private static let tick: Duration = .milliseconds(100)

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lastSweep = ContinuousClock.now
        while true {
            let (stopped, sockets) = state.withLock { ($0.stopped, $0.lingering.map(\.socket)) }
            if stopped { break }
            var polled = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if polled.isEmpty {
                Thread.sleep(forTimeInterval: 0.1)
            } else {
                _ = poll(&polled, nfds_t(polled.count), 100)
            }
            let now = ContinuousClock.now
            var done: Set<Int32> = []
            var drained: [Int32: Int] = [:]
            for entry in polled where entry.revents != 0 {
                let count = recv(entry.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count > 0 { drained[entry.fd] = count } else if count == 0 || (errno != EAGAIN && errno != EINTR) { done.insert(entry.fd) }
            }
            state.withLock { state in
                var kept: [Lingering] = []
                for var lingering in state.lingering {
                    lingering.drained += drained[lingering.socket] ?? 0
                    if done.contains(lingering.socket) || now >= lingering.deadline || lingering.drained > Self.lingerBytesMax {
                        close(lingering.socket)
                    } else {
                        kept.append(lingering)
                    }
                }
                state.lingering = kept
                if now - lastSweep >= Self.tick { sweep(now, &state) }
            }
            if now - lastSweep >= Self.tick { lastSweep = now }
        }
        state.withLock { state in
            for lingering in state.lingering { close(lingering.socket) }
            state.lingering = []
        }
        finished.signal()
    }

    private func sweep(_ now: ContinuousClock.Instant, _ state: inout State) {
        let rate = Double(limits.bodyBytesPerSecondMin)
        for (connection, entry) in state.entries where !entry.cut {
            let elapsed = now - entry.since
            switch entry.phase {
            case .connecting where elapsed > limits.headerTimeout, .awaitingHeaders where elapsed > limits.headerTimeout:
                Self.cut(connection, .headerTimeout, &state)
            case .idle where elapsed > limits.idleTimeout:
                Self.cut(connection, .idleTimeout, &state)
            case .receivingBody where elapsed > limits.bodyGrace:
                let owed = (elapsed - limits.bodyGrace) / .seconds(1) * rate
                if Double(entry.bodyBytes) < owed { Self.cut(connection, .slowBody, &state) }
            default:
                break
            }
        }
    }
}
