/// One head of a multi-value register: a write that no write seen so far has superseded.
struct Head: Hashable, Sendable {
    var op: OpID
    var hlc: HLCTimestamp
    var value: Value

    var stamp: Stamp { Stamp(hlc: hlc, op: op) }
}

/// How the heads of a register are ordered; the first head is the visible value.
enum HeadOrder: Sendable {
    /// Greatest stamp first (`register`).
    case stamp
    /// Highest precedence first, then greatest stamp (`lifecycle`).
    case precedence(Lifecycle)
    /// `true` (exists) before `false` (deleted), then greatest stamp: an edit concurrent with a
    /// delete keeps the record visible, and the conflict is flagged for review.
    case existence

    func precedes(_ a: Head, _ b: Head) -> Bool {
        switch self {
        case .stamp:
            return a.stamp > b.stamp
        case .precedence(let lifecycle):
            let ra = lifecycle.rank(of: a.value), rb = lifecycle.rank(of: b.value)
            return ra != rb ? ra > rb : a.stamp > b.stamp
        case .existence:
            let ea = a.value == .bool(true), eb = b.value == .bool(true)
            return ea != eb ? ea : a.stamp > b.stamp
        }
    }
}

/// A multi-value register: the set of writes not superseded by any write seen.
///
///     var register = RegisterState()
///     register.write(op: a, hlc: t1, value: "x", prev: [], order: .stamp) { _ in false }
///     register.write(op: b, hlc: t2, value: "y", prev: [], order: .stamp) { _ in false }
///     register.isConflict  // true: two concurrent heads with different values
///
/// The heads are a function of the set of writes seen, never of their order: a write that
/// arrives after a write that superseded it is recognized through `supersededPending`, the ids
/// named in some `prev` that had not arrived yet.
struct RegisterState: Sendable, Equatable {
    /// Ordered by `HeadOrder`: the first head is the visible value.
    var heads: [Head] = []
    /// Ops named in a `prev` before they arrived: when one arrives it is not a head.
    var supersededPending: [OpID] = []

    var winner: Head? { heads.first }

    /// Two or more heads hold different values.
    var isConflict: Bool {
        guard let first = heads.first else { return false }
        return heads.dropFirst().contains { $0.value != first.value }
    }

    var headIDs: [OpID] { heads.map(\.op) }

    /// Applies one write. `isApplied` tells whether an op id has already been applied to this
    /// replica (a superseded op that has been applied needs no note: it can never arrive again).
    mutating func write(op: OpID, hlc: HLCTimestamp, value: Value, prev: [OpID], order: HeadOrder,
                        isApplied: (OpID) throws -> Bool) rethrows {
        for superseded in prev where superseded != op {
            if let index = heads.firstIndex(where: { $0.op == superseded }) {
                heads.remove(at: index)
            } else if !supersededPending.contains(superseded), try !isApplied(superseded) {
                supersededPending.append(superseded)
            }
        }
        if let index = supersededPending.firstIndex(of: op) {
            supersededPending.remove(at: index)
            return
        }
        guard !heads.contains(where: { $0.op == op }) else { return }
        let head = Head(op: op, hlc: hlc, value: value)
        let position = heads.firstIndex { order.precedes(head, $0) } ?? heads.endIndex
        heads.insert(head, at: position)
    }
}
