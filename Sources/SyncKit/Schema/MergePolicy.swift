/// How concurrent writes to one field merge. See Design.md, "Merge semantics".
///
///     .register               // multi-value register: greatest stamp shows, concurrent values conflict
///     .counter                // sum of all increments
///     .set                    // add-wins observed-remove set
///     .lifecycle(taskStatus)  // register with legal transitions and a precedence
public enum MergePolicy: Sendable, Hashable {
    case register
    case counter
    case set
    case lifecycle(Lifecycle)

    public var name: String {
        switch self {
        case .register: return "register"
        case .counter: return "counter"
        case .set: return "set"
        case .lifecycle: return "lifecycle"
        }
    }

    /// True for the policies whose state is a multi-value register (heads, conflicts).
    var isRegister: Bool {
        switch self {
        case .register, .lifecycle: return true
        case .counter, .set: return false
        }
    }
}
