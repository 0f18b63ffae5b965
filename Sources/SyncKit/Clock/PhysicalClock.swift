import Foundation
import Synchronization

/// Where a replica reads physical time. Injected, so tests and the simulator control time.
///
///     let clock = ManualClock(millis: 1_700_000_000_000)
///     clock.advance(byMillis: 500)
public protocol PhysicalClock: Sendable {
    /// Milliseconds since 1970-01-01 UTC, as this device believes.
    func nowMillis() -> Int64
}

/// The system's wall clock.
public struct SystemClock: PhysicalClock {
    public init() {}
    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// A clock that moves only when told to: for tests and simulations.
public final class ManualClock: PhysicalClock {
    private let millis: Mutex<Int64>

    public init(millis: Int64) { self.millis = Mutex(millis) }

    public func nowMillis() -> Int64 { millis.withLock { $0 } }
    public func set(millis value: Int64) { millis.withLock { $0 = value } }
    public func advance(byMillis delta: Int64) { millis.withLock { $0 += delta } }
}
