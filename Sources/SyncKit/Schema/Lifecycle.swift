/// A state machine for a lifecycle field: its states, legal transitions, and the precedence that
/// orders concurrent states.
///
///     let status = try Lifecycle(
///         initial: ["open"],
///         transitions: ["open": ["assigned", "cancelled"], "assigned": ["done", "cancelled"]],
///         precedence: ["open", "assigned", "cancelled", "done"])   // lowest first
///
/// Transitions are checked on local writes only: a remote write was legal where it was made.
/// Concurrent heads are ordered by precedence before stamps, so a state that records finished
/// work is not hidden by a concurrent stale state whose device clock ran ahead (Design.md).
public struct Lifecycle: Sendable, Hashable {
    /// Every state, lowest precedence first.
    public let precedence: [String]
    /// States a new record may start in.
    public let initial: Set<String>
    /// Legal moves: from a state to the states it may become.
    public let transitions: [String: Set<String>]

    private let ranks: [String: Int]

    public init(initial: [String], transitions: [String: [String]], precedence: [String]) throws {
        let states = Set(precedence)
        guard states.count == precedence.count, !precedence.isEmpty else {
            throw SyncError(.invalidInput, "lifecycle precedence must list every state once")
        }
        for state in initial where !states.contains(state) {
            throw SyncError(.invalidInput, "lifecycle initial state \"\(state)\" is not in the precedence list")
        }
        for (from, targets) in transitions {
            for state in [from] + targets where !states.contains(state) {
                throw SyncError(.invalidInput, "lifecycle transition names unknown state \"\(state)\"; list it in the precedence")
            }
        }
        self.precedence = precedence
        self.initial = Set(initial)
        self.transitions = transitions.mapValues(Set.init)
        var ranks: [String: Int] = [:]
        for (index, state) in precedence.enumerated() { ranks[state] = index }
        self.ranks = ranks
    }

    /// The precedence rank of a value; values that are not states (from a newer schema) rank
    /// below every state.
    public func rank(of value: Value) -> Int {
        guard case .text(let state) = value else { return -1 }
        return ranks[state] ?? -1
    }

    public func isState(_ text: String) -> Bool { ranks[text] != nil }

    /// Whether a local write may move the field from `from` (nil: not set yet) to `to`.
    public func allows(from: String?, to: String) -> Bool {
        guard let from else { return initial.contains(to) }
        if from == to { return true }
        return transitions[from]?.contains(to) ?? false
    }
}
