/// A Chinese street address split into the parts that identify a dwelling.
///
/// ```swift
/// let address = Address(street: "幸福路", buildingNumber: "88号", block: "3栋", unit: "2单元", room: "501室")
/// AddressNormalizer.matchingKey(for: address) == AddressNormalizer.matchingKey(forText: "幸福路８８號3棟2單元501")
/// ```
///
/// Parts hold text as the collector typed it (or as `AddressNormalizer.parse` found it); matching
/// goes through `AddressNormalizer`, which never changes the address it is given.
public struct Address: Codable, Sendable, Hashable {
    /// The district (区/县), with any city or province written before it, e.g. "朝阳区".
    public var district: String?
    /// The street, lane or village the number belongs to, e.g. "幸福路", "杏花胡同", "李家村".
    public var street: String?
    /// The building number on the street (门牌号), e.g. "88号", "88号之一", "12-3号".
    public var buildingNumber: String?
    /// The block within the building number's compound (栋/幢/座/号楼), e.g. "3栋", "A座".
    public var block: String?
    /// The stairwell entrance (单元), e.g. "2单元".
    public var unit: String?
    /// The floor (楼/层), e.g. "5楼".
    public var floor: String?
    /// The room or flat (室/房), e.g. "501室".
    public var room: String?
    /// Everything else: a compound name (幸福小区), a sub-district (街道), notes.
    public var remainder: String?

    public init(
        district: String? = nil, street: String? = nil, buildingNumber: String? = nil, block: String? = nil,
        unit: String? = nil, floor: String? = nil, room: String? = nil, remainder: String? = nil
    ) {
        self.district = district
        self.street = street
        self.buildingNumber = buildingNumber
        self.block = block
        self.unit = unit
        self.floor = floor
        self.room = room
        self.remainder = remainder
    }
}
