/// What a task asks a collector to do.
///
/// ```swift
/// TaskDraft(kind: .visitHousehold, target: .household(id), cell: cell, dueOn: day)
/// ```
public enum TaskKind: String, Sendable, Hashable, CaseIterable {
    case visitHousehold = "visit_household"
    case installDoorplate = "install_doorplate"
    case verifyDoorplate = "verify_doorplate"
    case followUp = "follow_up"
}
