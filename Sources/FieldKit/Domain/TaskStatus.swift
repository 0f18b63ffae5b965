import SyncKit

/// Where a task is: open, assigned, in progress, done, verified, cancelled.
///
/// ```swift
/// TaskStatus.inProgress.allows(.done)   // true
/// TaskStatus.verified.allows(.open)     // false
/// TaskStatus.lifecycleOrder.last        // .verified: wins over every concurrent state
/// ```
///
/// Legal moves (checked on every local write; staying in a state is always allowed, which is how
/// a task is reassigned without changing its status):
///
///     (new)       -> open, assigned
///     open        -> assigned, cancelled
///     assigned    -> in_progress, open (unassigned), cancelled
///     in_progress -> done, assigned (handed back or over), cancelled
///     done        -> verified, in_progress (supervisor sends it back)
///     cancelled   -> open (reopened by the office)
///     verified    -> (final)
///
/// Precedence for concurrent writes, lowest first:
/// open < assigned < in_progress < cancelled < done < verified.
/// Concurrent heads mean two people acted without seeing each other. The state that records
/// more finished field work must show, because it describes what really happened at the door:
/// a visit that was done stays done even if the office cancelled or reassigned the task meanwhile
/// (the other head stays visible as a conflict for review). Verified implies done, so it ranks
/// highest. A cancellation beats stale progress states (in_progress, assigned, open): the office
/// decided the work is not needed and nothing was finished. Progress beats assignment, and
/// assignment beats open, since each is the later step of the same path. Device clocks never
/// decide between different states, only between equal ones.
public enum TaskStatus: String, Sendable, Hashable, CaseIterable {
    case open
    case assigned
    case inProgress = "in_progress"
    case done
    case verified
    case cancelled

    /// Every status, lowest precedence first.
    public static let lifecycleOrder: [TaskStatus] = [.open, .assigned, .inProgress, .cancelled, .done, .verified]

    /// Statuses that need no more field work.
    public var isFinished: Bool { self == .done || self == .verified || self == .cancelled }

    static let lifecycle: Lifecycle = {
        do {
            return try Lifecycle(
                initial: ["open", "assigned"],
                transitions: [
                    "open": ["assigned", "cancelled"],
                    "assigned": ["in_progress", "open", "cancelled"],
                    "in_progress": ["done", "assigned", "cancelled"],
                    "done": ["verified", "in_progress"],
                    "cancelled": ["open"],
                ],
                precedence: lifecycleOrder.map(\.rawValue))
        } catch {
            preconditionFailure("task lifecycle table is malformed: \(error)")
        }
    }()

    /// Whether a local write may move a task from this status to `next`.
    public func allows(_ next: TaskStatus) -> Bool {
        Self.lifecycle.allows(from: rawValue, to: next.rawValue)
    }

    /// The statuses this one may move to, for messages and menus.
    public var legalNext: [TaskStatus] {
        Self.allCases.filter { $0 != self && allows($0) }
    }
}
