/// What `FieldStore.addHousehold` did: created the household, or stopped because it may
/// already exist.
///
/// ```swift
/// switch try store.addHousehold(draft) {
/// case .created(let household): show(household)
/// case .suspects(let suspects):  // let the collector pick one, or confirm it is new:
///     _ = try store.addHousehold(draft, ifSuspected: .createAnyway)
/// }
/// ```
public enum HouseholdCapture: Sendable, Hashable {
    case created(Household)
    case suspects([DuplicateSuspect])

    /// What to do when suspects are found.
    public enum SuspectPolicy: Sendable, Hashable {
        /// Create nothing and return the suspects.
        case stop
        /// The collector saw the suspects and confirms a new household: create it and record the
        /// suspects as distinct from it, so duplicate detection does not raise them again.
        case createAnyway
    }
}
