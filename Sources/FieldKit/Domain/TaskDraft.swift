/// A new task, as the office or a collector creates it.
///
/// ```swift
/// let task = try store.addTask(TaskDraft(kind: .visitHousehold, target: .household(id),
///                                        cell: household.cell, dueOn: try CalendarDay(parsing: "2026-03-01"),
///                                        assignee: "collector-17"))
/// ```
///
/// With an assignee the task starts `assigned`, else `open`.
public struct TaskDraft: Sendable, Hashable {
    public var kind: TaskKind
    public var target: TaskTarget
    public var cell: GridCell
    public var dueOn: CalendarDay
    public var assignee: String?
    public var priority: TaskPriority

    public init(kind: TaskKind, target: TaskTarget, cell: GridCell, dueOn: CalendarDay, assignee: String? = nil,
                priority: TaskPriority = .normal) {
        self.kind = kind
        self.target = target
        self.cell = cell
        self.dueOn = dueOn
        self.assignee = assignee
        self.priority = priority
    }
}
