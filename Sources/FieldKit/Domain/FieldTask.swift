import SyncKit

/// A task as the replica shows it, with its whole history.
///
/// ```swift
/// for task in try store.tasks(assignee: "collector-17") {      // due date first
///     print(task.dueOn, task.kind, task.status, task.history.count)
/// }
/// ```
public struct FieldTask: Sendable, Hashable {
    public let id: EntityID
    public var kind: TaskKind
    public var target: TaskTarget
    public var cell: GridCell
    public var dueOn: CalendarDay
    public var assignee: String?
    public var priority: TaskPriority
    /// The merged status: among concurrent ones, the highest by `TaskStatus.lifecycleOrder`.
    public var status: TaskStatus
    /// The device that marked the task done (kept even if it was reassigned meanwhile).
    public var completedBy: String?
    /// Every note, oldest first.
    public var notes: [TaskNote]
    /// Every status change from every device, oldest first.
    public var history: [TaskHistoryEntry]
    /// Stored field names whose concurrent values differ (e.g. `status` after a reassignment
    /// that crossed finished work).
    public var conflictedFields: [String]
}
