/// What a doorplate holds, as a form fills it in: for creating a plate and for editing one.
///
/// ```swift
/// var draft = DoorplateDraft(code: try DoorplateCode(parsing: "JS0412-00088"),
///                            address: AddressNormalizer.parse("金山区幸福路88号3栋2单元501室"))
/// draft.status = .installed
/// draft.installedOn = try CalendarDay(parsing: "2026-01-15")
/// let plate = try store.addDoorplate(draft)
/// ```
///
/// The address parts are kept exactly as typed; the store computes the matching key.
public struct DoorplateDraft: Sendable, Hashable {
    /// The plate's code; it names the plate's grid cell and is its natural key.
    public var code: DoorplateCode
    public var address: Address
    /// WGS-84 degrees, when the device had a fix.
    public var latitude: Double?
    public var longitude: Double?
    public var status: DoorplateStatus
    public var installedOn: CalendarDay?
    public var notes: String

    public init(code: DoorplateCode, address: Address = Address(), latitude: Double? = nil, longitude: Double? = nil,
                status: DoorplateStatus = .issued, installedOn: CalendarDay? = nil, notes: String = "") {
        self.code = code
        self.address = address
        self.latitude = latitude
        self.longitude = longitude
        self.status = status
        self.installedOn = installedOn
        self.notes = notes
    }

    /// The plate's grid cell (from its code).
    public var cell: GridCell { GridCell(of: code) }
}
