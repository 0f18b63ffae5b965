import SyncKit

/// A household as the replica shows it.
///
/// ```swift
/// let household = try store.household(id)
/// household?.details.headName    // "张伟" (as typed)
/// household?.visitCount          // 2 (every device's visits added up)
/// ```
public struct Household: Sendable, Hashable {
    public let id: EntityID
    /// Everything a form edits.
    public var details: HouseholdDraft
    /// Visits counted on every device (a counter: concurrent visits add up).
    public var visitCount: Int
    /// Every day a visit was recorded on, earliest first (a set: visits merge without loss).
    public var visitDays: [CalendarDay]
    /// Households the collector saw as suspected duplicates and declared distinct when creating
    /// this one; duplicate detection skips these pairs.
    public var distinctFrom: Set<EntityID>
    /// Stored field names whose concurrent values differ.
    public var conflictedFields: [String]
    /// An operator erased its personal values (SyncKit's erasure): the head name reads as "" and
    /// the member count as 0 until someone writes them again.
    public var isErased = false

    public init(id: EntityID, details: HouseholdDraft, visitCount: Int = 0, visitDays: [CalendarDay] = [],
                distinctFrom: Set<EntityID> = [], conflictedFields: [String] = []) {
        self.id = id
        self.details = details
        self.visitCount = visitCount
        self.visitDays = visitDays.sorted()
        self.distinctFrom = distinctFrom
        self.conflictedFields = conflictedFields
    }

    /// The latest visit day.
    public var lastVisitOn: CalendarDay? { visitDays.last }
    public var cell: GridCell { details.cell }
    public var doorplate: DoorplateCode { details.doorplate }
    public var headName: String { details.headName }
}
