import Synchronization
import SyncKit

/// A crash waiting to happen: armed by the simulator, it throws at the n-th fault point a
/// replica passes (inside a local write, an ingest, or the hub's handling of an exchange), and
/// then disarms. The simulator treats the throw as the process dying: it drops every in-memory
/// object of that replica and reopens it from its file.
///
///     let crash = FaultSwitch()
///     options.faultInjector = { try crash.hit($0) }
///     crash.arm(afterHits: 3, at: .afterLogInsert)
final class FaultSwitch: Sendable {
    private struct Plan {
        var remaining: Int
        var point: FaultPoint?
    }

    private let plan = Mutex<Plan?>(nil)

    /// Throws at the `hits`-th passage of `point` (of any point when nil).
    func arm(afterHits hits: Int, at point: FaultPoint?) {
        plan.withLock { $0 = Plan(remaining: max(1, hits), point: point) }
    }

    func disarm() {
        plan.withLock { $0 = nil }
    }

    var isArmed: Bool { plan.withLock { $0 != nil } }

    /// Called by the replica at every fault point.
    func hit(_ point: FaultPoint) throws {
        let fire: Bool = plan.withLock { plan in
            guard var current = plan, current.point == nil || current.point == point else { return false }
            current.remaining -= 1
            if current.remaining > 0 {
                plan = current
                return false
            }
            plan = nil
            return true
        }
        if fire { throw SyncError(.injectedFault, "simulated crash at \(point)") }
    }
}

extension Error {
    /// A crash the simulator injected (as opposed to an error the code raised by itself).
    var isSimulatedCrash: Bool {
        (self as? SyncError)?.code == .injectedFault
    }
}
