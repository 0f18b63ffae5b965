/// Whether a household still lives at its doorplate.
///
/// ```swift
/// draft.status = .movedOut    // stored as "moved_out"
/// ```
///
/// A plain register, not a lifecycle: any status may follow any other (people move back), and
/// concurrent different statuses are a conflict for an operator, not something a rule can decide.
public enum HouseholdStatus: String, Sendable, Hashable, CaseIterable {
    case active
    case movedOut = "moved_out"
    case vacant
}
