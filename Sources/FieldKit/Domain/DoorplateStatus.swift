import SyncKit

/// Where a doorplate is in its life: issued by the office, installed, damaged, retired.
///
/// ```swift
/// DoorplateStatus.issued.allows(.installed)   // true
/// DoorplateStatus.retired.allows(.installed)  // false: a retired code is never reused
/// ```
///
/// A new plate may be registered in any status (a district onboarded from CSV has damaged and
/// retired plates; a collector may find a broken plate the office never recorded). Legal moves
/// (checked on every local write):
///
///     issued    -> installed, retired
///     installed -> damaged, retired
///     damaged   -> installed (repaired or replaced with the same code), retired
///     retired   -> (final)
///
/// Precedence for concurrent writes, lowest first: issued < installed < damaged < retired.
/// Retired is an office decision (renumbering, demolition) that a stale field state must not
/// undo. A damage report beats a concurrent "installed": a false alarm costs one visit, a hidden
/// broken plate costs every later scan. Anything seen in the field beats office paperwork (issued).
public enum DoorplateStatus: String, Sendable, Hashable, CaseIterable {
    case issued, installed, damaged, retired

    /// The lifecycle declared in the schema.
    static let lifecycle: Lifecycle = {
        do {
            return try Lifecycle(
                initial: ["issued", "installed", "damaged", "retired"],
                transitions: [
                    "issued": ["installed", "retired"],
                    "installed": ["damaged", "retired"],
                    "damaged": ["installed", "retired"],
                ],
                precedence: ["issued", "installed", "damaged", "retired"])
        } catch {
            preconditionFailure("doorplate lifecycle table is malformed: \(error)")
        }
    }()

    /// Whether a local write may move a plate from this status to `next`.
    public func allows(_ next: DoorplateStatus) -> Bool {
        Self.lifecycle.allows(from: rawValue, to: next.rawValue)
    }
}
