/// What a collector types for a household: for creating one and for editing one.
///
/// ```swift
/// var draft = HouseholdDraft(doorplate: code, headName: "张伟", memberCount: 3)
/// draft.phone = "138 0013 8000"
/// draft.tags = ["elderly"]
/// switch try store.addHousehold(draft) { ... }
/// ```
///
/// `unit` and `room` narrow a building-level plate down to a dwelling (leave them nil when the
/// plate is on the dwelling's own door). Text is stored as typed; the phone is stored as digits.
public struct HouseholdDraft: Sendable, Hashable {
    /// The doorplate of the dwelling; the household belongs to its grid cell.
    public var doorplate: DoorplateCode
    public var unit: String?
    public var room: String?
    public var headName: String
    /// 0...99.
    public var memberCount: Int
    /// Typed digits, spaces and dashes (full-width accepted); nil when the household gave none.
    public var phone: String?
    public var status: HouseholdStatus
    public var tags: Set<String>
    public var notes: String

    public init(doorplate: DoorplateCode, unit: String? = nil, room: String? = nil, headName: String, memberCount: Int,
                phone: String? = nil, status: HouseholdStatus = .active, tags: Set<String> = [], notes: String = "") {
        self.doorplate = doorplate
        self.unit = unit
        self.room = room
        self.headName = headName
        self.memberCount = memberCount
        self.phone = phone
        self.status = status
        self.tags = tags
        self.notes = notes
    }

    public var cell: GridCell { GridCell(of: doorplate) }
}
