/// How urgent a task is; tasks due the same day list the most urgent first.
///
/// ```swift
/// TaskPriority.urgent > TaskPriority.normal   // true
/// ```
public enum TaskPriority: String, Sendable, Hashable, CaseIterable, Comparable {
    case low, normal, high, urgent

    private var rank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .urgent: 3
        }
    }

    public static func < (lhs: TaskPriority, rhs: TaskPriority) -> Bool { lhs.rank < rhs.rank }
}
