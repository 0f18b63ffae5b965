/// A household that a new one may duplicate, and why.
///
/// ```swift
/// if case .suspects(let suspects) = try store.addHousehold(draft) {
///     for suspect in suspects { print(suspect.household.headName, suspect.reasons) }
/// }
/// ```
public struct DuplicateSuspect: Sendable, Hashable {
    /// Why two households look like one.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Same doorplate, and the same unit and room after normalization.
        case sameDwelling = "same_dwelling"
        /// Same head-of-household name after normalization, in the same grid cell.
        case sameHeadNameInCell = "same_head_name_in_cell"
    }

    public let household: Household
    public let reasons: [Reason]
}
