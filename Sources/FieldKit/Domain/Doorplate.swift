/// A doorplate as the replica shows it: its details, and which of them are in conflict.
///
/// ```swift
/// if let plate = try store.doorplate(code) {
///     print(plate.address.street ?? "", plate.status)        // 幸福路 installed
///     if !plate.conflictedFields.isEmpty { showConflictBadge() }
/// }
/// ```
public struct Doorplate: Sendable, Hashable {
    /// Every detail, as a form would edit it.
    public var details: DoorplateDraft
    /// Stored field names whose concurrent values differ (e.g. `street`); the visible value is
    /// the merge winner, and an operator may pick another.
    public var conflictedFields: [String]

    public init(details: DoorplateDraft, conflictedFields: [String] = []) {
        self.details = details
        self.conflictedFields = conflictedFields
    }

    public var code: DoorplateCode { details.code }
    public var cell: GridCell { details.cell }
    public var address: Address { details.address }
    public var status: DoorplateStatus { details.status }
}
