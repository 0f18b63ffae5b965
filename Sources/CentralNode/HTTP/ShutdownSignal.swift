import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGINT or SIGTERM so `serve` can stop the server gracefully; ignores SIGPIPE.
///
///     let signal = ShutdownSignal()
///     let received = await signal.wait()   // e.g. SIGTERM from systemd
///     await server.stop()
///
/// Creating one replaces the default action of its signals (terminate) with delivery to this
/// object; `cancel()` restores the default.
public final class ShutdownSignal: Sendable {
    private struct State {
        var sources: [DispatchSourceSignal] = []
        var received: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let signals: [Int32]
    private let state: Mutex<State>

    public init(signals: [Int32] = [SIGINT, SIGTERM]) {
        self.signals = signals
        // A client that disconnects mid-response must not kill the process.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        let queue = DispatchQueue(label: "fieldsync.shutdown-signal")
        var sources: [DispatchSourceSignal] = []
        for signalNumber in signals {
            // The dispatch source only sees the signal once its default action is ignored.
            _ = Glibc.signal(signalNumber, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: signalNumber, queue: queue))
        }
        state = Mutex(State(sources: sources))
        // A signal that arrives before libdispatch has registered a source is ignored (SIG_IGN),
        // so wait, briefly and boundedly, until every source is registered.
        let registered = DispatchGroup()
        state.withLock { state in
            for (source, signalNumber) in zip(state.sources, signals) {
                registered.enter()
                source.setRegistrationHandler { registered.leave() }
                source.setEventHandler { [weak self] in self?.deliver(signalNumber) }
                source.resume()
            }
        }
        _ = registered.wait(timeout: .now() + .seconds(2))
    }

    /// Returns the first signal received (at once if one already arrived).
    public func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let received = state.withLock { state -> Int32? in
                if let received = state.received { return received }
                state.waiters.append(continuation)
                return nil
            }
            if let received { continuation.resume(returning: received) }
        }
    }

    /// The first signal received so far.
    var receivedSignal: Int32? { state.withLock { $0.received } }

    /// Stops listening and restores the signals' default actions.
    public func cancel() {
        let sources = state.withLock { state in
            defer { state.sources = [] }
            return state.sources
        }
        guard !sources.isEmpty else { return }
        for source in sources { source.cancel() }
        for signalNumber in signals { _ = Glibc.signal(signalNumber, SIG_DFL) }
    }

    deinit {
        cancel()
    }

    private func deliver(_ signalNumber: Int32) {
        let waiters = state.withLock { state in
            if state.received == nil { state.received = signalNumber }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: signalNumber) }
    }
}
